package console_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/console"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/unsubscribe"
)

// prefSecret signs the preference links of newPrefEnv's console.
var prefSecret = []byte("preference-link-secret-0123456789")

// newPrefEnv is newEnv's workspaces and store served by a console that
// checks preference links, as the deployment's does.
func newPrefEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, 0)
	c := console.New(console.Services{Store: e.store, Operators: e.ops, Users: e.users},
		console.Options{Now: e.clock.Now, LinkSecret: prefSecret})
	e.srv = httptest.NewServer(c)
	t.Cleanup(e.srv.Close)
	return e
}

// prefUser stores a user with a language and, when given, preferences.
func (e *env) prefUser(ws, id, lang string, p person, prefs notify.Preferences) {
	e.t.Helper()
	e.putUser(ws, id, p)
	ctx := context.Background()
	if lang != "" {
		if _, err := e.users.Put(ctx, ws, id, profile.Input{Language: &lang}); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.users.SetPreferences(ctx, ws, id, prefs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) prefs(ws, id string) notify.Preferences {
	e.t.Helper()
	p, err := e.users.Preferences(context.Background(), ws, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// prefLink is the page of user id of ws, for a day.
func (e *env) prefLink(ws, id string) string {
	u, err := e.users.Get(context.Background(), ws, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return "/preferences/" + unsubscribe.PreferencesToken(prefSecret, ws, id, unsubscribe.Generation(u.SealKey), e.clock.Now().Add(24*time.Hour))
}

// isOn reports whether the page's switch id is on, failing when the page
// has no such switch.
func isOn(t *testing.T, p page, id string) bool {
	t.Helper()
	m := regexp.MustCompile(`<input type="checkbox" role="switch" id="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(p.body)
	if m == "" {
		t.Fatalf("the page has no switch %s:\n%s", id, p.body)
	}
	return strings.Contains(m, " checked")
}

// get opens path as a recipient's browser does: no session, the
// languages it asks for.
func (b *browser) getLang(path, acceptLanguage string) page {
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	req.Header.Set("Accept", "text/html")
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	return b.do(req)
}

// The default categories of a workspace that saved none (compose), in the
// page's order, name their switches by index (s<i>-<channel>): s1 is
// energy savings, s3 switching.

func TestPreferencesPageSwitchesSMSOffForOneKind(t *testing.T) {
	e := newPrefEnv(t)
	e.prefUser("ws_a", "u1", "es", person{Name: "Ana", Email: "ana@example.com", Phone: "+34600000001"}, notify.Preferences{})
	b := e.browser() // no session: a recipient, not an operator
	link := e.prefLink("ws_a", "u1")
	p := b.get(link)
	want(t, p, http.StatusOK, `<html lang="es">`, "Tus preferencias de notificación", "<legend>Energy savings</legend>", "<legend>Switching</legend>",
		"Correo electrónico", "WhatsApp", "Guardar preferencias", "Darme de baja de todo")
	if strings.Contains(p.body, "Notificaciones web") || strings.Contains(p.body, "Notificaciones en el móvil") {
		t.Error("the page offers push to a user without a device")
	}
	if strings.Contains(p.body, "ana@example.com") || strings.Contains(p.body, "+34600000001") {
		t.Error("the page shows the user's addresses")
	}
	for _, id := range []string{"s1-email", "s1-sms", "s3-sms", "s3-whatsapp"} {
		if !isOn(t, p, id) {
			t.Errorf("switch %s is off for a user who turned nothing off", id)
		}
	}
	if e.prefs("ws_a", "u1").CategoryChannels != nil {
		t.Fatal("opening the page changed the preferences")
	}

	// Switching's SMS off; everything else left on.
	form := url.Values{"action": {"save"}, "channels": {"email sms whatsapp"},
		"category": {"self_consumption", "energy_savings", "cross_selling", "switching", "energy_communities"},
		"c0":       {"email", "sms", "whatsapp"}, "c1": {"email", "sms", "whatsapp"}, "c2": {"email", "sms", "whatsapp"},
		"c3": {"email", "whatsapp"}, "c4": {"email", "sms", "whatsapp"}}
	p = b.post(link, form)
	if p.status != http.StatusSeeOther || p.loc != link+"?done=saved" {
		t.Fatalf("save: %d %q, want 303 back to the page", p.status, p.loc)
	}
	got := e.prefs("ws_a", "u1")
	if diff := cmp.Diff(map[string]map[notify.Channel]bool{"switching": {notify.ChannelSMS: false}}, got.CategoryChannels); diff != "" {
		t.Errorf("categoryChannels (-want +got):\n%s", diff)
	}
	u := notify.User{Preferences: got}
	for _, tt := range []struct {
		cat  string
		ch   notify.Channel
		want string
	}{
		{"switching", notify.ChannelSMS, notify.ReasonNoConsent},
		{"switching", notify.ChannelEmail, ""},
		{"energy_savings", notify.ChannelSMS, ""},
		{"", notify.ChannelSMS, ""},
	} {
		if r := notify.PreferenceSkip(notify.Notification{Category: tt.cat}, tt.ch, u); r != tt.want {
			t.Errorf("after the save, %s of %q: skip %q, want %q", tt.ch, tt.cat, r, tt.want)
		}
	}
	p = b.get(p.loc)
	want(t, p, http.StatusOK, "Tus preferencias se han guardado.")
	if isOn(t, p, "s3-sms") || !isOn(t, p, "s3-email") || !isOn(t, p, "s1-sms") {
		t.Error("the page does not show the switches as saved")
	}
	// The change is in the workspace's audit trail, by the user.
	entries, _, err := e.store.ListAudit(context.Background(), "ws_a", notify.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Action != "user.preferences" || entries[0].Actor != "user u1" {
		t.Errorf("audit trail = %+v, want the user's change", entries)
	}

	// Switched on again: nothing is kept off.
	form.Set("c3", "email")
	form.Add("c3", "sms")
	form.Add("c3", "whatsapp")
	want(t, b.post(link, form), http.StatusSeeOther)
	if cc := e.prefs("ws_a", "u1").CategoryChannels; len(cc) != 0 {
		t.Errorf("categoryChannels after switching back on = %v, want none", cc)
	}
}

// TestPreferencesPageKeepsWhatItDoesNotShow: a save writes the switches
// the page showed, no others: the quiet hours, a channel the person has
// no address for, and a category's own switch stay as they were.
func TestPreferencesPageKeepsWhatItDoesNotShow(t *testing.T) {
	e := newPrefEnv(t)
	quiet := &notify.QuietHours{Start: "22:00", End: "08:00"}
	e.prefUser("ws_a", "u1", "", person{Name: "Ana", Email: "ana@example.com"}, notify.Preferences{QuietHours: quiet,
		Categories:       map[string]bool{"bills": false},
		CategoryChannels: map[string]map[notify.Channel]bool{"switching": {notify.ChannelSMS: false}}})
	b := e.browser()
	link := e.prefLink("ws_a", "u1")
	p := b.get(link)
	// English by default; the user's own category comes after the
	// workspace's, off as they left it.
	want(t, p, http.StatusOK, `<html lang="en">`, "Your notification preferences", "<legend>bills</legend>", "Email")
	if strings.Contains(p.body, `value="sms"`) {
		t.Error("the page offers SMS to a user without a phone")
	}
	if isOn(t, p, "s5-email") {
		t.Error("the category the user turned off shows on")
	}
	want(t, b.post(link, url.Values{"action": {"save"}, "channels": {"email"}, "category": {"switching", "bills"}, "c0": {"email"}, "c1": {"email"}}), http.StatusSeeOther)
	wantPrefs := notify.Preferences{QuietHours: quiet, Categories: map[string]bool{"bills": true},
		CategoryChannels: map[string]map[notify.Channel]bool{"switching": {notify.ChannelSMS: false}}}
	if diff := cmp.Diff(wantPrefs, e.prefs("ws_a", "u1")); diff != "" {
		t.Errorf("preferences after the save (-want +got):\n%s", diff)
	}
}

func TestPreferencesPageUnsubscribeFromEverything(t *testing.T) {
	e := newPrefEnv(t)
	e.prefUser("ws_a", "u1", "pl", person{Name: "Ola", Email: "ola@example.com", Phone: "+48600000001"}, notify.Preferences{})
	b := e.browser()
	link := e.prefLink("ws_a", "u1")
	want(t, b.get(link), http.StatusOK, "Wypisz mnie ze wszystkiego")
	p := b.post(link, url.Values{"action": {"unsubscribe"}})
	if p.status != http.StatusSeeOther || p.loc != link+"?done=unsubscribed" {
		t.Fatalf("unsubscribe: %d %q", p.status, p.loc)
	}
	u := notify.User{Preferences: e.prefs("ws_a", "u1")}
	for _, ch := range notify.Channels {
		for _, cat := range []string{"", "switching"} {
			if r := notify.PreferenceSkip(notify.Notification{Category: cat}, ch, u); r != notify.ReasonNoConsent {
				t.Errorf("after unsubscribing from everything, %s of %q: skip %q, want no_consent", ch, cat, r)
			}
		}
	}
	p = b.get(p.loc)
	want(t, p, http.StatusOK, "Wypisano Cię ze wszystkiego.")
	for _, id := range []string{"s0-email", "s3-sms", "s4-whatsapp"} {
		if isOn(t, p, id) {
			t.Errorf("switch %s is on after unsubscribing from everything", id)
		}
	}
	// One kind's SMS back on: SMS reaches that kind again, nothing else.
	want(t, b.post(link, url.Values{"action": {"save"}, "channels": {"email sms whatsapp"}, "category": {"energy_savings", "switching"}, "c0": {"sms"}}), http.StatusSeeOther)
	u = notify.User{Preferences: e.prefs("ws_a", "u1")}
	for _, tt := range []struct {
		cat  string
		ch   notify.Channel
		want string
	}{
		{"energy_savings", notify.ChannelSMS, ""},
		{"switching", notify.ChannelSMS, notify.ReasonNoConsent},
		{"energy_savings", notify.ChannelEmail, notify.ReasonNoConsent},
		{"energy_savings", notify.ChannelPush, notify.ReasonNoConsent},
	} {
		if r := notify.PreferenceSkip(notify.Notification{Category: tt.cat}, tt.ch, u); r != tt.want {
			t.Errorf("after switching energy_savings' SMS on, %s of %q: skip %q, want %q", tt.ch, tt.cat, r, tt.want)
		}
	}
}

func TestPreferencesPageLanguages(t *testing.T) {
	e := newPrefEnv(t)
	e.prefUser("ws_a", "es", "es-MX", person{Email: "a@example.com"}, notify.Preferences{})
	e.prefUser("ws_a", "none", "", person{Email: "b@example.com"}, notify.Preferences{})
	e.prefUser("ws_a", "fi", "fi", person{Email: "c@example.com"}, notify.Preferences{})
	b := e.browser()
	tests := []struct {
		user, query, accept string
		lang, title, save   string
	}{
		{"es", "", "", "es", "Tus preferencias de notificación", "Guardar preferencias"},
		{"es", "?lang=pl", "", "pl", "Twoje ustawienia powiadomień", "Zapisz ustawienia"},
		{"es", "?lang=pt", "", "pt", "As suas preferências de notificação", "Guardar preferências"},
		{"es", "?lang=en", "", "en", "Your notification preferences", "Save preferences"},
		{"es", "?lang=xx", "", "es", "Tus preferencias de notificación", "Guardar preferencias"},
		{"none", "", "pt-BR,pt;q=0.9,en;q=0.8", "pt", "As suas preferências de notificação", "Guardar preferências"},
		{"none", "", "de-DE,pl;q=0.5", "pl", "Twoje ustawienia powiadomień", "Zapisz ustawienia"},
		{"fi", "", "", "en", "Your notification preferences", "Save preferences"},
	}
	for _, tt := range tests {
		p := b.getLang(e.prefLink("ws_a", tt.user)+tt.query, tt.accept)
		want(t, p, http.StatusOK, `<html lang="`+tt.lang+`">`, "<title>"+tt.title+"</title>", tt.save)
		if got := p.header.Get("Content-Language"); got != tt.lang {
			t.Errorf("%s%s: Content-Language %q, want %q", tt.user, tt.query, got, tt.lang)
		}
	}
	// A save keeps the language chosen.
	p := b.post(e.prefLink("ws_a", "none")+"?lang=pl", url.Values{"action": {"save"}, "channels": {"email"}, "category": {"switching"}, "c0": {"email"}})
	if p.status != http.StatusSeeOther || !strings.HasSuffix(p.loc, "?done=saved&lang=pl") {
		t.Fatalf("save in Polish: %d %q", p.status, p.loc)
	}
	want(t, b.get(p.loc), http.StatusOK, "Twoje ustawienia zostały zapisane.")
}

// TestPreferencesLinkNamesOneUser: a link opens its own user's page and
// no other: an altered token, one for another user or workspace made
// without the secret, an unsubscribe token, an ended one, and one whose
// user is gone all answer 404 and change nothing.
func TestPreferencesLinkNamesOneUser(t *testing.T) {
	e := newPrefEnv(t)
	for _, u := range []struct{ ws, id string }{{"ws_a", "u1"}, {"ws_a", "u2"}, {"ws_b", "u1"}} {
		e.prefUser(u.ws, u.id, "", person{Email: u.id + "@" + u.ws + ".example"}, notify.Preferences{})
	}
	end := e.clock.Now().Add(time.Hour)
	gen := func(ws, id string) string {
		u, err := e.users.Get(context.Background(), ws, id)
		if err != nil {
			return "none"
		}
		return unsubscribe.Generation(u.SealKey)
	}
	token := func(secret []byte, ws, id string, end time.Time) string {
		return unsubscribe.PreferencesToken(secret, ws, id, gen(ws, id), end)
	}
	tok := token(prefSecret, "ws_a", "u1", end)
	g := gen("ws_a", "u1")
	_, sig, _ := strings.Cut(tok, ".")
	withPayload := func(p string) string { return base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + sig }
	bad := map[string]string{
		"altered signature":                    tok[:len(tok)-2] + "AA",
		"altered payload":                      "A" + tok[1:],
		"another user, same signature":         withPayload(fmt.Sprintf("ws_a\x00%s\x00%d\x00u2", g, end.Unix())),
		"another workspace, same signature":    withPayload(fmt.Sprintf("ws_b\x00%s\x00%d\x00u1", g, end.Unix())),
		"a later end, same signature":          withPayload(fmt.Sprintf("ws_a\x00%s\x00%d\x00u1", g, end.Add(time.Hour).Unix())),
		"signed with another secret":           token([]byte("a guessed secret"), "ws_a", "u2", end),
		"an earlier person under the same id":  unsubscribe.PreferencesToken(prefSecret, "ws_a", "u2", unsubscribe.Generation([]byte("deleted person's key")), end),
		"an unsubscribe token":                 unsubscribe.Token(prefSecret, "ws_a", "u1"),
		"no signature":                         strings.Split(tok, ".")[0],
		"a user that is not there":             token(prefSecret, "ws_a", "ghost", end),
		"another workspace's token for nobody": token(prefSecret, "ws_b", "u2", end),
	}
	b := e.browser()
	for name, token := range bad {
		want(t, b.get("/preferences/"+token), http.StatusNotFound, "This link is not valid")
		p := b.post("/preferences/"+token, url.Values{"action": {"unsubscribe"}})
		if p.status != http.StatusNotFound {
			t.Errorf("%s: POST = %d, want 404", name, p.status)
		}
	}
	want(t, b.getLang("/preferences/"+bad["altered payload"], "es"), http.StatusNotFound, "Este enlace no es válido")
	for _, u := range []struct{ ws, id string }{{"ws_a", "u1"}, {"ws_a", "u2"}, {"ws_b", "u1"}} {
		if p := e.prefs(u.ws, u.id); p.Channels != nil {
			t.Errorf("%s/%s's preferences changed through a bad link: %+v", u.ws, u.id, p)
		}
	}
	// ws_b's u1 is its own user: its link changes it, not ws_a's u1.
	want(t, b.post("/preferences/"+token(prefSecret, "ws_b", "u1", end), url.Values{"action": {"unsubscribe"}}), http.StatusSeeOther)
	if e.prefs("ws_b", "u1").Channels == nil || e.prefs("ws_a", "u1").Channels != nil {
		t.Error("ws_b's link did not change ws_b's user alone")
	}
	// The link ends.
	want(t, b.get("/preferences/"+tok), http.StatusOK)
	e.clock.Add(time.Hour + time.Second)
	want(t, b.get("/preferences/"+tok), http.StatusNotFound, "This link has expired")
	want(t, b.post("/preferences/"+tok, url.Values{"action": {"unsubscribe"}}), http.StatusNotFound)
	if e.prefs("ws_a", "u1").Channels != nil {
		t.Error("an ended link unsubscribed")
	}
	// A console without the secret opens no link.
	plain := newEnv(t, 0)
	plain.prefUser("ws_a", "u1", "", person{Email: "u1@example.com"}, notify.Preferences{})
	want(t, plain.browser().get(plain.prefLink("ws_a", "u1")), http.StatusNotFound)
}

// TestPreferencesPageRefusesOtherSites: there is no session and so no
// CSRF token; the browser's cross-origin check refuses a form another
// site posts, and a form that is not the page's is refused too.
func TestPreferencesPageRefusesOtherSites(t *testing.T) {
	e := newPrefEnv(t)
	e.prefUser("ws_a", "u1", "", person{Email: "a@example.com", Phone: "+34600000001"}, notify.Preferences{})
	b := e.browser()
	link := e.prefLink("ws_a", "u1")
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+link, strings.NewReader(url.Values{"action": {"unsubscribe"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	want(t, b.do(req), http.StatusForbidden)
	for _, form := range []url.Values{
		{"action": {"save"}, "channels": {"fax"}, "category": {"switching"}},
		{"action": {"save"}, "channels": {"email"}, "category": {"switching"}, "c0": {"sms"}},
		{"action": {"delete"}},
		{"action": {"save"}, "channels": {"email"}, "category": {strings.Repeat("x", 65)}},
	} {
		p := b.post(link, form)
		if p.status != http.StatusBadRequest && p.status != http.StatusUnprocessableEntity {
			t.Errorf("form %v = %d, want 400 or 422", form, p.status)
		}
		want(t, p, p.status, "Your notification preferences")
	}
	if p := e.prefs("ws_a", "u1"); !cmp.Equal(p, notify.Preferences{}) {
		t.Errorf("refused requests changed the preferences: %+v", p)
	}
}

// TestOperatorSaveKeepsCategoryChannels: the operator's user page switches
// channels and categories as a whole; saving it leaves the channels the
// person chose for each kind on their own page as they are.
func TestOperatorSaveKeepsCategoryChannels(t *testing.T) {
	e := newPrefEnv(t)
	cc := map[string]map[notify.Channel]bool{"switching": {notify.ChannelSMS: false}}
	e.prefUser("ws_a", "u1", "", person{Name: "Ana", Email: "a@example.com"}, notify.Preferences{CategoryChannels: cc})
	editor := e.as("editor@a.example")
	want(t, editor.get("/users/u1"), http.StatusOK)
	want(t, editor.post("/users/u1/preferences", url.Values{"channel.email": {"on"}, "channel.sms": {"on"}}), http.StatusSeeOther)
	got := e.prefs("ws_a", "u1")
	if diff := cmp.Diff(cc, got.CategoryChannels); diff != "" {
		t.Errorf("categoryChannels after the operator's save (-want +got):\n%s", diff)
	}
	if !got.Channels[notify.ChannelEmail] || !got.Channels[notify.ChannelSMS] || got.Channels[notify.ChannelPush] || len(got.Channels) != len(notify.Channels) {
		t.Errorf("channels after the operator's save = %v, want email and SMS on, the others off", got.Channels)
	}
}
