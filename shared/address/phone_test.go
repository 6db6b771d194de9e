package address

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/shared/heavytest"
	"github.com/nyaruka/phonenumbers"
)

// The tests here hold package address to what it did with
// github.com/nyaruka/phonenumbers before phone.go replaced it: the old
// implementation is kept below as the oracle, and every input must get
// the same E.164 or the same error from both.

// oracleParse is the parse address.go had.
func oracleParse(v, region string) (string, bool) {
	num, err := phonenumbers.Parse(v, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// oraclePhone is Phone as it was, on oracleParse.
func oraclePhone(v, region string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errors.New("is empty")
	}
	if strings.HasPrefix(v, "+") || region == "" {
		if !strings.HasPrefix(v, "+") {
			if e164, ok := oracleParse("+"+v, ""); ok && digitsOnly(v) {
				return e164, nil
			}
			return "", errors.New("must be in international format, such as +34600000000")
		}
		if e164, ok := oracleParse(v, ""); ok {
			return e164, nil
		}
		return "", errors.New("not a valid phone number")
	}
	if e164, ok := oracleParse(v, region); ok {
		return e164, nil
	}
	if digitsOnly(v) {
		if e164, ok := oracleParse("+"+v, ""); ok {
			return e164, nil
		}
	}
	return "", errors.New("not a valid phone number")
}

// checkSame fails t when Phone and parse answer v in region differently
// from the oracle; it reports whether the oracle found v valid.
func checkSame(t testing.TB, v, region string) bool {
	t.Helper()
	want, wantErr := oraclePhone(v, region)
	got, err := Phone(v, region)
	if got != want || fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Errorf("Phone(%q, %q) = %q, %v; phonenumbers: %q, %v", v, region, got, err, want, wantErr)
	}
	wantP, wantOK := oracleParse(v, region)
	gotP, ok := parse(v, region)
	if gotP != wantP || ok != wantOK {
		t.Errorf("parse(%q, %q) = %q, %v; phonenumbers: %q, %v", v, region, gotP, ok, wantP, wantOK)
	}
	return wantErr == nil
}

// someRegions are the regions inputs are read in (the invalid ones in all
// of them, the others in "", their own and some of these in turn): the ones
// Herald's users are in, those with national prefixes that change the
// number (AR's 15 to 9, MX, BR's carrier codes), IT's kept leading zero,
// shared calling codes (GB, US, RU), and unknown or odd codes.
var someRegions = []string{
	"", "ES", "US", "GB", "DE", "FR", "BR", "MX", "IN", "AR", "IT", "PT", "NL", "CA",
	"AU", "RU", "KZ", "CN", "JP", "NG", "ZA", "CO", "CL", "PE", "VA", "JE", "SM", "CI",
	"XX", "es", "ZZ", "001",
}

// exampleNumbers is every example number of the metadata: of every region
// and calling code of no country, of every number type.
func exampleNumbers(t testing.TB) []*phonenumbers.PhoneNumber {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	var nums []*phonenumbers.PhoneNumber
	for _, m := range coll.GetMetadata() {
		for _, d := range []*phonenumbers.PhoneNumberDesc{
			m.GetFixedLine(), m.GetMobile(), m.GetTollFree(), m.GetPremiumRate(),
			m.GetSharedCost(), m.GetVoip(), m.GetPersonalNumber(), m.GetPager(),
			m.GetUan(), m.GetVoicemail(), m.GetNoInternationalDialling(),
			m.GetGeneralDesc(),
		} {
			ex := d.GetExampleNumber()
			if ex == "" {
				continue
			}
			n, err := phonenumbers.Parse("+"+strconv.Itoa(int(m.GetCountryCode()))+ex, "")
			if err != nil {
				t.Fatalf("example %s of %s: %v", ex, m.GetId(), err)
			}
			nums = append(nums, n)
		}
	}
	if len(nums) < 1000 {
		t.Fatalf("%d example numbers; the metadata has more than 1,000", len(nums))
	}
	return nums
}

// writings are the ways people and spreadsheets write the number n.
func writings(n *phonenumbers.PhoneNumber) []string {
	cc := strconv.Itoa(int(n.GetCountryCode()))
	nsn := phonenumbers.GetNationalSignificantNumber(n)
	intl := phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	national := phonenumbers.Format(n, phonenumbers.NATIONAL)
	ws := []string{
		phonenumbers.Format(n, phonenumbers.E164),
		intl,
		national,
		phonenumbers.Format(n, phonenumbers.RFC3966),
		strings.ReplaceAll(intl, " ", "."),
		strings.ReplaceAll(intl, " ", "-"),
		strings.ReplaceAll(national, " ", ""),
		strings.ReplaceAll(national, " ", "."),
		strings.ReplaceAll(national, " ", "-"),
		nsn,
		"0" + nsn,
		cc + nsn,
		"00" + cc + nsn,
		"011" + cc + nsn,
		"0011" + cc + nsn,
		"+" + cc + " (" + nsn[:min(3, len(nsn))] + ") " + nsn[min(3, len(nsn)):],
		"(" + nsn[:min(3, len(nsn))] + ") " + nsn[min(3, len(nsn)):],
		"+" + cc + "0" + nsn,
		"+" + cc + " " + nsn + " ext. 123",
		national + " x45",
		"tel:+" + cc + nsn + ";ext=7",
		"00 " + intl[1:],
		" " + intl + " ",
		nsn[:len(nsn)-1],
		nsn + "5",
		"+" + cc + nsn[:len(nsn)-1],
		"+" + cc + nsn + "5",
	}
	if n.GetItalianLeadingZero() {
		ws = append(ws, strings.TrimLeft(nsn, "0"), "+"+cc+strings.TrimLeft(nsn, "0"))
	}
	return ws
}

// regionOf is the region phonenumbers gives n ("" when invalid).
func regionOf(n *phonenumbers.PhoneNumber) string {
	return phonenumbers.GetRegionCodeForNumber(n)
}

func TestPhoneMatchesPhonenumbersOnExamples(t *testing.T) {
	valid := 0
	nums := exampleNumbers(t)
	others := 4 // of someRegions, in turn, besides "" and n's own
	if testing.Short() {
		others = 1
	}
	stride := heavytest.Stride() // all of them in make test's pass without -race
	for i, n := range nums {
		if i%stride != 0 {
			continue
		}
		regions := []string{"", regionOf(n)}
		for k := range others {
			regions = append(regions, someRegions[(i*others+k)%len(someRegions)])
		}
		for _, w := range writings(n) {
			for _, region := range regions {
				if checkSame(t, w, region) {
					valid++
				}
			}
		}
	}
	// The comparison means something only if many inputs are valid.
	if valid < len(nums)/stride*10 {
		t.Errorf("%d valid answers for %d example numbers; the writings should give more", valid, len(nums))
	}
}

// TestPhoneMatchesPhonenumbersOnRandomDigits reads random digit strings of
// each region's possible lengths and one digit more or less, and example
// numbers with their last digits changed, in that region and as
// international numbers.
func TestPhoneMatchesPhonenumbersOnRandomDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2026))
	perLength := 8
	if testing.Short() {
		perLength = 2
	}
	valid, total := 0, 0
	check := func(v, region string) {
		total++
		if checkSame(t, v, region) {
			valid++
		}
	}
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	stride := heavytest.Stride() // all of them in make test's pass without -race
	for mi, m := range phoneMetas {
		if mi%stride != 0 {
			continue
		}
		cc := strconv.Itoa(m.cc)
		region := m.id
		if region == nonGeoRegion {
			region = ""
		}
		for l := lowestLength(m.lengths) - 1; l <= highestLength(m.lengths)+1; l++ {
			for range perLength {
				d := digits(l)
				check(d, region)
				check("0"+d, region)
				check("+"+cc+d, "")
				check(cc+d, region)
				check("00"+cc+d, region)
				check(d, someRegions[rng.IntN(len(someRegions))])
			}
		}
	}
	for ni, n := range exampleNumbers(t) {
		if ni%stride != 0 {
			continue
		}
		nsn := phonenumbers.GetNationalSignificantNumber(n)
		cc := strconv.Itoa(int(n.GetCountryCode()))
		for range perLength {
			k := 1 + rng.IntN(min(4, len(nsn)))
			d := nsn[:len(nsn)-k] + digits(k)
			check(d, regionOf(n))
			check("+"+cc+d, "")
			check(cc+d, someRegions[rng.IntN(len(someRegions))])
		}
	}
	if valid < total/10 {
		t.Errorf("%d of %d random inputs valid; too few for the comparison to mean much", valid, total)
	}
}

func TestPhoneMatchesPhonenumbersOnInvalidInput(t *testing.T) {
	inputs := []string{
		"", " ", "+", "++", "+ ", "0", "00", "000", "+0", "+00", "+000", "1", "12", "123",
		"hello", "=1+1", "abc", "1-800-FLOWERS", "+1 800 FLOWERS", "+1 (800) FLOWERS ext 5",
		"+34 600 00 00 0a", "600 000 00a", "six hundred", "+34six00000000",
		"+999123456789", "+9991", "+2901234", "+80012345678", "+800 1234 5678",
		"+883 5100 1234 5678 9", "12345678901234567890", "+12345678901234567890",
		"+34 600 000 000 000 000 000", "0034", "00340", "0034600", "+34 0600000000",
		"++34600000000", "+＋34600000000", "＋34600000000", "+٣٤٦٠٠٠٠٠٠٠٠",
		"٦٠٠٠٠٠٠٠٠", "+३४६००००००००", "+34 600 000 000;ext=12", "tel:+34-600-000-000",
		"tel:600000000;phone-context=+34", "tel:600000000;phone-context=example.com",
		"tel:600000000;phone-context=", "600000000;isub=12", "+34 600/000/000",
		"+34 600 000 000 / x 12", "(600) 000-000", "600.000.000.", "600 000 000 #",
		"+34\n600000000", "+34\t600 000 000", "+34 600\u00a0000\u00a0000", "\x00600000000",
		"\xff\xfe600000000", "+34600000000\xff", strings.Repeat("6", 251),
		"+" + strings.Repeat("3", 249), "+1 (650) 253-0000 x302/x2303",
		"+54 9 11 1234-5678", "+54 11 15 1234-5678", "011 15 1234-5678", "0 11 15-1234-5678",
		"+39 06 1234 5678", "06 1234 5678", "+39 0612345678", "+39 612345678", "0039 06 12345678",
		"+52 1 55 1234 5678", "044 55 1234 5678", "+55 11 91234 5678", "0 21 11 91234 5678",
		"0xx11 91234 5678", "+7 700 123 45 67", "8 (700) 123-45-67", "+44 7700 900123",
		"+44 1624 456789", "07700 900123", "+1 242 357 1234", "1 242 357 1234",
		"+225 01 23 45 67 89", "+379 123", "+3906698", "06698",
	}
	for _, v := range inputs {
		for _, region := range someRegions {
			checkSame(t, v, region)
		}
	}
}

// FuzzPhone compares Phone with the phonenumbers implementation on any
// input; the seeds are in testdata/fuzz/FuzzPhone. Run it with
// go test -fuzz=FuzzPhone ./shared/address.
func FuzzPhone(f *testing.F) {
	f.Fuzz(func(t *testing.T, v string, r uint8) {
		checkSame(t, v, someRegions[int(r)%len(someRegions)])
	})
}

// TestNoPhonenumbersLinked: package address, which every function that
// reads addresses imports, must not bring phonenumbers (and its protobuf
// runtime) back into the bootstraps.
func TestNoPhonenumbersLinked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v: %s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/nyaruka/") || strings.HasPrefix(dep, "google.golang.org/protobuf") {
			t.Errorf("package address depends on %s", dep)
		}
	}
}

// benchInputs are the numbers of a spreadsheet of Spanish contacts: national
// numbers, international ones, some with their + lost, a few invalid.
var benchInputs = []struct{ v, region string }{
	{"600 000 000", "ES"},
	{"+34 612 345 678", "ES"},
	{"34612345678", "ES"},
	{"912345678", "ES"},
	{"+44 7700 900123", "ES"},
	{"0034 622 11 22 33", "ES"},
	{"not a phone", "ES"},
	{"+1 (650) 253-0000", ""},
}

// BenchmarkPhone compares Phone with the phonenumbers implementation it
// replaced (go test -bench Phone -benchmem ./shared/address).
func BenchmarkPhone(b *testing.B) {
	for _, impl := range []struct {
		name  string
		phone func(v, region string) (string, error)
	}{{"phonenumbers", oraclePhone}, {"address", Phone}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				in := benchInputs[i%len(benchInputs)]
				impl.phone(in.v, in.region)
			}
		})
	}
}

// TestPhoneMetas compiles every region's patterns (phone.go compiles them
// at first use, where a bad one would panic) and checks the order the
// lookups' binary searches rely on.
func TestPhoneMetas(t *testing.T) {
	for i := range phoneMetas {
		m := &phoneMetas[i]
		if re := m.regexps(); len(re.types) == 0 {
			t.Errorf("%s %d: no number types", m.id, m.cc)
		}
		if i > 0 && (m.id < phoneMetas[i-1].id || m.id == phoneMetas[i-1].id && m.cc <= phoneMetas[i-1].cc) {
			t.Errorf("phoneMetas[%d] (%s %d) out of order", i, m.id, m.cc)
		}
	}
	for i, c := range phoneCallingCodes {
		if i > 0 && c.cc <= phoneCallingCodes[i-1].cc {
			t.Errorf("phoneCallingCodes[%d] (%d) out of order", i, c.cc)
		}
		for _, r := range c.regions {
			if phoneMetas[r].cc != c.cc {
				t.Errorf("calling code %d lists %s, of %d", c.cc, phoneMetas[r].id, phoneMetas[r].cc)
			}
		}
	}
	if m := metaForRegion("ES"); m == nil || m.cc != 34 {
		t.Errorf("metaForRegion(ES) = %+v, want calling code 34", m)
	}
}
