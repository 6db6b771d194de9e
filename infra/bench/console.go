package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/apikey"
)

// The console's budget (issue 15): with 100,000 users and 10,000
// notifications, each page served in ≤ 150 ms locally and ≤ 150 KB
// transferred.
const (
	consoleBudgetTime  = 150 * time.Millisecond
	consoleBudgetBytes = 150 << 10
)

// consoleOptions size and tune part console.
type consoleOptions struct {
	users, sends, samples int
	// profileDir, when set, receives a CPU profile of the server for each
	// page over its time budget.
	profileDir string
}

const (
	consoleAdminEmail    = "bench@example.com"
	consoleAdminPassword = "bench-console-password"
)

// Names of the seeded users: first name and two surnames, 40 × 50 × 50 =
// 100,000 combinations, so that a full name finds about one person, as an
// operator's search for a customer would.
var (
	benchFirstNames = strings.Fields("Lucia Sofia Martina Maria Julia Paula Valeria Emma Daniela Carla Alba Noa Alma Sara Carmen " +
		"Hugo Martin Lucas Mateo Leo Daniel Alejandro Pablo Manuel Alvaro Adrian David Mario Enzo Diego " +
		"Marcos Izan Javier Marco Alex Bruno Oliver Miguel Thiago Antonio")
	benchSurnames = strings.Fields("Garcia Rodriguez Gonzalez Fernandez Lopez Martinez Sanchez Perez Gomez Martin " +
		"Jimenez Ruiz Hernandez Diaz Moreno Munoz Alvarez Romero Alonso Gutierrez Navarro Torres Dominguez Vazquez Ramos " +
		"Gil Ramirez Serrano Blanco Molina Morales Suarez Ortega Delgado Castro Ortiz Rubio Marin Sanz Nunez " +
		"Iglesias Medina Garrido Cortes Castillo Santos Lozano Guerrero Cano Prieto")
	benchTags      = []string{"vip", "solar", "ev", "b2b", "promo", "beta"}
	benchLanguages = []string{"es", "es", "es", "es", "en", "en", "ca", "fr", "pt", "de"}
	benchPlans     = []string{"basic", "plus", "pro"}
	benchCities    = []string{"Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Malaga", "Zaragoza"}
	// benchTitles are the sends' titles; the history search looks for one
	// of their words.
	benchTitles = []string{"Your invoice is ready", "Payment received", "Energy saving tip", "Your solar report",
		"Maintenance visit tomorrow", "New offer for you", "Meter reading reminder", "Your monthly summary",
		"Charging session finished", "Contract renewal", "Welcome to Herald Energy", "Price update",
		"Storm alert in your area", "Referral reward", "Survey: how did we do?", "Appointment confirmed"}
)

// consoleUserName is user i's name (benchFirstNames, then two surnames).
func consoleUserName(i int) string {
	nf, ns := len(benchFirstNames), len(benchSurnames)
	return benchFirstNames[i%nf] + " " + benchSurnames[(i/nf)%ns] + " " + benchSurnames[(i/(nf*ns))%ns]
}

// consoleUser is user i as part console seeds it: varied status, type,
// tags, language and attributes; most with an email, many with a phone.
func consoleUser(i int) map[string]any {
	u := map[string]any{"id": harness.UserID(i), "name": consoleUserName(i),
		"language": benchLanguages[i%len(benchLanguages)], "timezone": "Europe/Madrid",
		"attributes": map[string]string{"plan": benchPlans[i%len(benchPlans)], "city": benchCities[i%len(benchCities)]}}
	switch r := i % 20; {
	case r < 12:
		u["status"] = "active"
	case r < 16:
		u["status"] = "lead"
	case r < 19:
		u["status"] = "inactive"
	default:
		u["status"] = "churned"
	}
	if i%5 == 4 {
		u["type"] = "newsletter"
	} else {
		u["type"] = "client"
	}
	if i%7 != 3 {
		first, last, _ := strings.Cut(strings.ToLower(consoleUserName(i)), " ")
		u["email"] = fmt.Sprintf("%s.%s.%d@example.com", first, strings.ReplaceAll(last, " ", "."), i)
	}
	if i%5 < 3 {
		u["phone"] = fmt.Sprintf("+346%08d", i)
	}
	var tags []string
	for j, t := range benchTags {
		if (i/(j+1))%(j+3) == 0 {
			tags = append(tags, t)
		}
	}
	if tags != nil {
		u["tags"] = tags
	}
	return u
}

// consolePushUser reports whether user i has a phone with push allowed
// (one in 25).
func consolePushUser(i int) bool { return i%25 == 1 }

// benchConsole seeds a local server with users and notifications, signs in
// to the console and times its pages.
func benchConsole(ctx context.Context, bin string, o consoleOptions) error {
	dir, err := os.MkdirTemp("", "herald-bench-console-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	env := []string{"HERALD_ADMIN_EMAIL=" + consoleAdminEmail, "HERALD_ADMIN_PASSWORD=" + consoleAdminPassword, "HERALD_CONSOLE_UNDO=0s"}
	var pprofAddr string
	if o.profileDir != "" {
		if pprofAddr, err = harness.FreeAddr(); err != nil {
			return err
		}
		env = append(env, "HERALD_PPROF_ADDR="+pprofAddr)
	}
	p, err := harness.Start(ctx, bin, dir, addr, apikey.New(), env...)
	if err != nil {
		return err
	}
	defer p.Kill()

	t0 := time.Now()
	if err := seedConsoleUsers(ctx, p, o.users); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	fmt.Printf("seeded %d users in %.1f s (users:batch, 1,000 per request; %d with a phone allowed to push)\n",
		o.users, time.Since(t0).Seconds(), (o.users+23)/25)
	t1 := time.Now()
	big, err := seedConsoleSends(ctx, p, o.users, o.sends)
	if err != nil {
		return fmt.Errorf("seed notifications: %w", err)
	}
	fmt.Printf("sent %d notifications in %.1f s; ", o.sends, time.Since(t1).Seconds())
	if err := waitQuiet(ctx, p, 5*time.Minute); err != nil {
		return err
	}
	fmt.Printf("all delivered %.1f s after the first send\n", time.Since(t1).Seconds())

	c := &consoleClient{base: p.Base, http: &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if err := c.signIn(ctx); err != nil {
		return err
	}
	someone := harness.UserID(1) // in the big send, single sends and small lists; allowed to push
	who := consoleUserName(54321 % o.users)
	pages := []struct{ name, path string }{
		{"users", "/users"},
		{"users filtered", "/users?status=active&channel=email"},
		{"users search", "/users?q=" + url.QueryEscape(who)},
		{"user", "/users/" + someone},
		{"send to a user", "/send?user=" + someone},
		{"send to a filter", "/send?status=active&channel=email"},
		{"users count", "/users/count?status=active&channel=email"},
		{"history", "/history"},
		{"history search", "/history?q=invoice"},
		{"notification", "/history/" + big},
	}
	fmt.Printf("%d requests per page after 2 warm-ups, one at a time over loopback; verdict on the median; budget ≤ %d ms, ≤ %d KB\n",
		o.samples, consoleBudgetTime.Milliseconds(), consoleBudgetBytes>>10)
	fmt.Printf("%-18s %-44s %9s %9s %9s  %-20s %s\n", "page", "path", "median ms", "p95 ms", "KB", "time", "size")
	var over []string
	for _, pg := range pages {
		m, err := c.measure(ctx, pg.path, o.samples)
		if err != nil {
			return fmt.Errorf("%s: %w", pg.name, err)
		}
		kb := fmt.Sprintf("%.1f", float64(m.wire)/1024)
		if m.wire != m.raw {
			kb += fmt.Sprintf(" (%.1f raw)", float64(m.raw)/1024)
		}
		tv, sv := "ok", "ok"
		if m.median > consoleBudgetTime {
			tv = fmt.Sprintf("over by %d ms", (m.median - consoleBudgetTime).Milliseconds())
			over = append(over, pg.path)
		}
		if m.wire > consoleBudgetBytes {
			sv = fmt.Sprintf("over by %.1f KB", float64(m.wire-consoleBudgetBytes)/1024)
		}
		fmt.Printf("%-18s %-44s %9.1f %9.1f %9s  %-20s %s\n", pg.name, clipPath(pg.path, 44), ms(m.median), ms(m.p95), kb, tv, sv)
	}
	if pprofAddr != "" {
		for _, path := range over {
			file, err := c.profile(ctx, pprofAddr, path, o.profileDir)
			if err != nil {
				return fmt.Errorf("profile %s: %w", path, err)
			}
			fmt.Printf("CPU profile of the server serving %s: %s (go tool pprof -top %s)\n", path, file, file)
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func clipPath(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// seedConsoleUsers upserts n users (consoleUser), 1,000 per batch, then
// gives one in 25 a phone (FCM token) with push allowed.
func seedConsoleUsers(ctx context.Context, p *harness.Proc, n int) error {
	const batch = 1000
	var starts []int
	for s := 0; s < n; s += batch {
		starts = append(starts, s)
	}
	err := parallel(4, len(starts), func(j int) error {
		users := make([]map[string]any, 0, batch)
		for i := starts[j]; i < min(starts[j]+batch, n); i++ {
			users = append(users, consoleUser(i))
		}
		var res struct {
			Upserted int `json:"upserted"`
			Errors   []struct {
				Index   int    `json:"index"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if err := p.Do(ctx, "POST", "/v1/users:batch", map[string]any{"users": users}, 200, &res); err != nil {
			return err
		}
		if res.Upserted != len(users) {
			return fmt.Errorf("users:batch upserted %d of %d: %+v", res.Upserted, len(users), res.Errors)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var push []int
	for i := range n {
		if consolePushUser(i) {
			push = append(push, i)
		}
	}
	return parallel(8, len(push), func(j int) error {
		id := harness.UserID(push[j])
		kind := "fcm"
		if j%3 == 0 {
			kind = "apns"
		}
		if err := p.Do(ctx, "POST", "/v1/users/"+id+"/devices", map[string]any{"kind": kind, "token": "bench-token-" + id}, 201, nil); err != nil {
			return err
		}
		return p.Do(ctx, "PUT", "/v1/users/"+id+"/push-permission", map[string]any{"status": "allowed"}, 200, nil)
	})
}

// seedConsoleSends makes n notifications through the API: first a list
// send to the first 10,000 users (the big one, whose id it returns), then
// single sends and small lists across email, SMS, push and Web Push (the
// last skipped: nobody has a browser subscribed), one in 100 scheduled for
// tomorrow and one in 200 of those cancelled.
func seedConsoleSends(ctx context.Context, p *harness.Proc, users, n int) (string, error) {
	type sent struct {
		ID string `json:"id"`
	}
	bigList := make([]string, 0, 10000)
	for i := range min(users, 10000) {
		bigList = append(bigList, harness.UserID(i))
	}
	var big sent
	body := map[string]any{"channel": "email", "content": map[string]any{"title": "Your monthly summary", "body": "Hello {{name}}, your summary is ready."},
		"audience": map[string]any{"userIds": bigList}}
	if err := p.Do(ctx, "POST", "/v1/notifications", body, 202, &big); err != nil {
		return "", err
	}
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	err := parallel(8, n-1, func(j int) error {
		var ch string
		var pick func(k int) int // the kth recipient of send j, among those the channel reaches
		switch j % 10 {
		case 0, 1, 2, 3:
			ch, pick = "email", func(k int) int { return (j*7919 + k*101) % users }
		case 4, 5, 6:
			ch, pick = "sms", func(k int) int { return ((j*7919+k*101)%users)/5*5 + k%3 }
		case 7, 8:
			ch, pick = "push", func(k int) int { return ((j*7919+k*101)%users)/25*25 + 1 }
		default:
			ch, pick = "webpush", func(k int) int { return (j*7919 + k*101) % users }
		}
		if j >= n-11 {
			pick = func(int) int { return 1 } // user 1's history, among the latest the user page reads
		}
		size := 1
		if j%4 == 3 {
			size = 2 + j%19
		}
		ids := make([]string, 0, size)
		for k := range size {
			if id := harness.UserID(pick(k) % users); !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		title := benchTitles[(j/10)%len(benchTitles)]
		b := map[string]any{"channel": ch, "content": map[string]any{"title": title, "body": "Hi {{name}}, " + strings.ToLower(title) + "."},
			"audience": map[string]any{"userIds": ids}}
		if j%100 == 50 {
			b["scheduleAt"] = tomorrow
		}
		var s sent
		if err := p.Do(ctx, "POST", "/v1/notifications", b, 202, &s); err != nil {
			return err
		}
		if j%200 == 50 {
			return p.Do(ctx, "POST", "/v1/notifications/"+s.ID+"/cancel", nil, 200, nil)
		}
		return nil
	})
	return big.ID, err
}

// parallel runs f(0..n-1) on workers goroutines and returns the first
// error; after one, the rest are not started.
func parallel(workers, n int, f func(int) error) error {
	next := make(chan int)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range workers {
		wg.Go(func() {
			for j := range next {
				if err := f(j); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for j := range n {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	return first
}

// waitQuiet waits until no notification is queued or sending, so the
// workers do not compete with the pages being timed.
func waitQuiet(ctx context.Context, p *harness.Proc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		busy := false
		for _, st := range []string{"queued", "sending"} {
			var page struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			if err := p.Do(ctx, "GET", "/v1/notifications?limit=1&status="+st, nil, 200, &page); err != nil {
				return err
			}
			busy = busy || len(page.Items) > 0
		}
		if !busy {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("notifications still queued or sending after %s", limit)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// consoleClient is a signed-in operator's browser, reduced to what the
// timing needs: the session cookie, no redirects followed.
type consoleClient struct {
	base   string
	http   *http.Client
	cookie string
}

// signIn posts the sign-in form as the browser would, from the same
// origin, and keeps the session cookie.
func (c *consoleClient) signIn(ctx context.Context) error {
	form := url.Values{"email": {consoleAdminEmail}, "password": {consoleAdminPassword}}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == "herald_session" && ck.Value != "" {
			c.cookie = ck.Name + "=" + ck.Value
		}
	}
	if res.StatusCode != http.StatusSeeOther || c.cookie == "" {
		return fmt.Errorf("sign in: status %d, no session cookie: %.300s", res.StatusCode, body)
	}
	return nil
}

// get fetches path as the browser would (accepting gzip) and returns the
// body as transferred and its size once decompressed.
func (c *consoleClient) get(ctx context.Context, path string) (wire, raw int, err error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Cookie", c.cookie)
	req.Header.Set("Accept-Encoding", "gzip")
	if strings.HasPrefix(path, "/users/count") {
		req.Header.Set("Accept", "application/json") // as the page's script asks
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s = %d: %.300s", path, res.StatusCode, body)
	}
	raw = len(body)
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return 0, 0, fmt.Errorf("GET %s: gzip: %w", path, err)
		}
		n, err := io.Copy(io.Discard, zr)
		if err != nil {
			return 0, 0, fmt.Errorf("GET %s: gzip: %w", path, err)
		}
		raw = int(n)
	}
	return len(body), raw, nil
}

// pageFigures are one page's timings and sizes.
type pageFigures struct {
	median, p95 time.Duration
	wire, raw   int
}

// measure requests path twice to warm up, then samples times, one at a
// time: from sending the request to the last byte of the body.
func (c *consoleClient) measure(ctx context.Context, path string, samples int) (pageFigures, error) {
	var f pageFigures
	for range 2 {
		if _, _, err := c.get(ctx, path); err != nil {
			return f, err
		}
	}
	times := make([]time.Duration, samples)
	for i := range times {
		t := time.Now()
		wire, raw, err := c.get(ctx, path)
		if err != nil {
			return f, err
		}
		times[i] = time.Since(t)
		f.wire, f.raw = wire, raw
	}
	slices.Sort(times)
	f.median = times[(len(times)-1)/2]
	f.p95 = times[(len(times)*95+99)/100-1]
	return f, nil
}

// profile records 5 s of the server's CPU while it serves path over and
// over, into dir, and returns the file's path.
func (c *consoleClient) profile(ctx context.Context, pprofAddr, path, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loadErr := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if _, _, err := c.get(ctx, path); err != nil && ctx.Err() == nil {
				loadErr <- err
				return
			}
		}
		loadErr <- nil
	}()
	res, err := http.Get("http://" + pprofAddr + "/debug/pprof/profile?seconds=5")
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("pprof: status %d", res.StatusCode)
	}
	name := strings.Trim(strings.NewReplacer("/", "-", "?", "-", "&", "-", "=", "-", "%", "", "+", "-").Replace(path), "-")
	file := filepath.Join(dir, "console-"+name+".pprof")
	out, err := os.Create(file)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, res.Body); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	cancel()
	if err := <-loadErr; err != nil && !errors.Is(err, context.Canceled) {
		return "", err
	}
	return file, nil
}
