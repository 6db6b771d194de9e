package console_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/console"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/send"
)

// settingsEnv is newEnv's store and operators behind a console with what
// Settings needs: the key service (on the test's clock), channels as the
// wiring describes them, the deployment's destinations and a rate limit.
func settingsEnv(t *testing.T) (*env, *apikey.Keys) {
	t.Helper()
	e := newEnv(t, 0)
	keys := &apikey.Keys{Store: e.store, IDs: &notify.IDs{}, Now: e.clock.Now}
	log := slog.New(slog.DiscardHandler)
	sends := &send.Sender{Store: e.store, Dispatch: e.queue, Steps: e.steps, IDs: &notify.IDs{}, Now: e.clock.Now, Log: log}
	svc := console.Services{Store: e.store, Operators: e.ops, Users: e.users, Sends: sends, Keys: keys}
	opts := console.Options{Now: e.clock.Now, Log: log, Grace: -1, ComposeRate: 20,
		Destinations: []console.Destination{{Route: "home", Label: "Home"}, {Route: "offers", Label: "Offers"}},
		Channels: []console.ChannelSetup{
			{Channel: notify.ChannelEmail, Provider: "SES", Configured: true, Identity: []console.Setting{{Name: "From", Value: "Acme <news@acme.example>"}},
				Env: []console.Setting{{Name: "HERALD_SES_FROM", Value: "the verified sender"}}},
			{Channel: notify.ChannelSMS, Provider: "local outbox", Env: []console.Setting{{Name: "HERALD_SNS_ENABLED", Value: "1 to send SMS through SNS"}}},
		}}
	e.srv = httptest.NewServer(console.New(svc, opts))
	t.Cleanup(e.srv.Close)
	return e, keys
}

// newKeyRE finds the secret of a key just made on the keys page.
var newKeyRE = regexp.MustCompile(`id="new-key" readonly value="([^"]+)"`)

func auditText(t *testing.T, e *env, ws string) string {
	t.Helper()
	es, _, err := e.store.ListAudit(context.Background(), ws, notify.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, a := range es {
		b.WriteString(a.Actor + " " + a.Action + " " + a.Target + " " + a.Detail + "\n")
	}
	return b.String()
}

// Every Settings page and change is an admin's: an editor and a viewer are
// refused, and nothing changes.
func TestSettingsAdminOnly(t *testing.T) {
	e, keys := settingsEnv(t)
	k, _, err := keys.Create(context.Background(), "ws_a", "backend", []notify.Scope{notify.ScopeSend})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"editor@a.example", "viewer@a.example"} {
		b := e.as(who)
		for _, path := range []string{"/settings", "/settings/keys", "/settings/keys/" + k.ID + "/revoke", "/settings/channels", "/settings/ai", "/settings/destinations"} {
			want(t, b.get(path), http.StatusForbidden, "cannot do this; ask an admin")
		}
		want(t, b.post("/settings/keys", url.Values{"name": {"mine"}, "scope": {"admin"}}), http.StatusForbidden)
		want(t, b.post("/settings/keys/"+k.ID+"/revoke", nil), http.StatusForbidden)
		want(t, b.post("/settings/ai", url.Values{"cat1.id": {"mine"}, "cat1.name": {"Mine"}, "cat1.description": {"Mine."}}), http.StatusForbidden)
		want(t, b.post("/settings/destinations", url.Values{"dest1.route": {"evil"}, "dest1.label": {"Evil"}}), http.StatusForbidden)
		if p := b.get("/users"); strings.Contains(p.body, `href="/settings"`) {
			t.Errorf("%s is offered Settings", who)
		}
	}
	list, _ := keys.List(context.Background(), "ws_a")
	if len(list) != 1 || list[0].RevokedAt != nil {
		t.Errorf("keys after refused requests: %+v", list)
	}
	if _, err := e.store.GetConsoleSettings(context.Background(), "ws_a"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("destinations saved by a refused request: %v", err)
	}
	if _, err := e.store.GetComposeSettings(context.Background(), "ws_a"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("AI settings saved by a refused request: %v", err)
	}
	// The admin has every tab, the operators and audit pages included.
	admin := e.as("admin@a.example")
	tabs := []string{`href="/settings/keys"`, `href="/settings/operators"`, `href="/settings/audit"`, `href="/settings/channels"`, `href="/settings/ai"`, `href="/settings/destinations"`}
	for _, path := range []string{"/settings", "/settings/keys", "/settings/operators", "/settings/audit", "/settings/channels", "/settings/ai", "/settings/destinations"} {
		p := admin.get(path)
		want(t, p, http.StatusOK, tabs...)
		if path != "/settings" && !strings.Contains(p.body, `<a href="`+path+`" aria-current="page">`) {
			t.Errorf("%s does not mark its own tab", path)
		}
	}
}

// A key made in the console is the API's: shown once with a Copy button,
// never again, working with its scopes; its revocation asks first, and
// the last admin key stays with the service's words.
func TestSettingsKeyShownOnce(t *testing.T) {
	e, keys := settingsEnv(t)
	ctx := context.Background()
	b := e.as("admin@a.example")
	want(t, b.get("/settings/keys"), http.StatusOK, "No keys yet.", `<label for="scope-send">send</label>`, `<label for="scope-read">read</label>`, `<label for="scope-admin">admin</label>`)

	p := b.post("/settings/keys", url.Values{"name": {"billing server"}})
	want(t, p, http.StatusUnprocessableEntity, "at least one of send, read, admin", `value="billing server"`)
	p = b.post("/settings/keys", url.Values{"name": {"billing server"}, "scope": {"send", "read"}})
	want(t, p, http.StatusCreated, `API key “billing server” created with send, read`, "shown only this once", `class="copy-button" data-copy="new-key"`, `<label for="new-key">New API key</label>`)
	m := newKeyRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no key on the page:\n%s", p.body)
	}
	secret := m[1]
	k, err := apikey.Authenticate(ctx, e.store, "Bearer "+secret)
	if err != nil || k.WorkspaceID != "ws_a" || !cmp.Equal(k.Scopes, []notify.Scope{notify.ScopeSend, notify.ScopeRead}) {
		t.Fatalf("the console's key authenticates as %+v, %v", k, err)
	}
	// Never again: not on the list, not on its revocation page.
	list := b.get("/settings/keys")
	want(t, list, http.StatusOK, "billing server", "<code>"+k.Prefix+"…</code>", "send, read", "Never", "Active")
	for _, pg := range []page{list, b.get("/settings/keys/" + k.ID + "/revoke")} {
		if strings.Contains(pg.body, secret) || strings.Contains(pg.body, `id="new-key"`) {
			t.Fatal("the key's secret is shown a second time")
		}
	}

	want(t, b.get("/settings/keys/"+k.ID+"/revoke"), http.StatusOK, "Revoke “billing server”", "refused at once", "Revoke key", `href="/settings/keys">Cancel`)
	p = b.post("/settings/keys/"+k.ID+"/revoke", nil)
	if p.status != http.StatusSeeOther || p.loc != "/settings/keys?done=key_revoked" {
		t.Fatalf("revoke: %d %q", p.status, p.loc)
	}
	want(t, b.get(p.loc), http.StatusOK, "API key revoked", "Revoked ")
	if _, err := apikey.Authenticate(ctx, e.store, "Bearer "+secret); !notify.IsCode(err, notify.CodeUnauthorized) {
		t.Errorf("a revoked key authenticates: %v", err)
	}

	// The workspace's only admin key cannot go.
	p = b.post("/settings/keys", url.Values{"name": {"ops"}, "scope": {"admin"}})
	want(t, p, http.StatusCreated)
	all, _ := keys.List(ctx, "ws_a")
	adminKey := all[len(all)-1]
	want(t, b.post("/settings/keys/"+adminKey.ID+"/revoke", nil), http.StatusConflict, "the workspace&#39;s last admin key: create another admin key before revoking it")
	if got, _ := keys.List(ctx, "ws_a"); got[len(got)-1].RevokedAt != nil {
		t.Error("the last admin key was revoked")
	}
	audit := auditText(t, e, "ws_a")
	for _, line := range []string{"operator admin@a.example key.create " + k.ID + " billing server (send, read)", "operator admin@a.example key.revoke " + k.ID + " billing server", "key.create " + adminKey.ID + " ops (admin)"} {
		if !strings.Contains(audit, line) {
			t.Errorf("audit trail lacks %q:\n%s", line, audit)
		}
	}
}

// Another workspace's admin cannot see, confirm or revoke a key.
func TestSettingsKeysOfAnotherWorkspace(t *testing.T) {
	e, keys := settingsEnv(t)
	k, _, err := keys.Create(context.Background(), "ws_a", "a's server", []notify.Scope{notify.ScopeSend})
	if err != nil {
		t.Fatal(err)
	}
	b := e.as("admin@b.example")
	if p := b.get("/settings/keys"); strings.Contains(p.body, "a&#39;s server") || strings.Contains(p.body, k.Prefix) {
		t.Error("another workspace's key is listed")
	}
	want(t, b.get("/settings/keys/"+k.ID+"/revoke"), http.StatusNotFound)
	want(t, b.post("/settings/keys/"+k.ID+"/revoke", nil), http.StatusNotFound)
	if list, _ := keys.List(context.Background(), "ws_a"); list[0].RevokedAt != nil {
		t.Error("another workspace revoked the key")
	}
}

// The keys page shows when a key was last used, which authentication
// records at most once an hour.
func TestSettingsKeyLastUseHourly(t *testing.T) {
	e, keys := settingsEnv(t)
	ctx := context.Background()
	_, secret, err := keys.Create(ctx, "ws_a", "backend", []notify.Scope{notify.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	b := e.as("admin@a.example")
	lastUsed := regexp.MustCompile(`<td data-label="Last used">([^<]*)</td>`)
	shown := func() string {
		t.Helper()
		m := lastUsed.FindStringSubmatch(b.get("/settings/keys").body)
		if m == nil {
			t.Fatal("no Last used column")
		}
		return m[1]
	}
	use := func() {
		t.Helper()
		k, err := apikey.Authenticate(ctx, e.store, "Bearer "+secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := keys.Used(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if got := shown(); got != "Never" {
		t.Fatalf("Last used of a new key = %q, want Never", got)
	}
	first := e.clock.Now().UTC().Format("2006-01-02 15:04 UTC")
	use()
	e.clock.Add(59 * time.Minute)
	use()
	if got := shown(); got != first {
		t.Errorf("Last used after uses 59 minutes apart = %q, want the first, %q", got, first)
	}
	e.clock.Add(2 * time.Minute)
	use()
	if got, want := shown(), e.clock.Now().UTC().Format("2006-01-02 15:04 UTC"); got != want {
		t.Errorf("Last used an hour later = %q, want %q", got, want)
	}
}

// The channels page says what delivers each channel, which ones reach
// nobody, and what to set.
func TestSettingsChannels(t *testing.T) {
	e, _ := settingsEnv(t)
	p := e.as("admin@a.example").get("/settings/channels")
	want(t, p, http.StatusOK, "1 of 2 channels reach nobody yet", "SMS → local outbox",
		"Delivered by <strong>SES</strong>", "Acme &lt;news@acme.example&gt;", "<code>HERALD_SES_FROM</code>",
		"Written to <strong>local outbox</strong>", "<code>HERALD_SNS_ENABLED</code>: 1 to send SMS through SNS")
}

// The AI tab shows the tones, the categories (editable as PUT
// /v1/compose/options edits them), the rate limit and 30 days of usage.
func TestSettingsAI(t *testing.T) {
	e, _ := settingsEnv(t)
	ctx := context.Background()
	today := e.clock.Now().UTC().Format(time.DateOnly)
	old := e.clock.Now().UTC().AddDate(0, 0, -40).Format(time.DateOnly)
	for _, u := range []notify.ComposeUsage{
		{WorkspaceID: "ws_a", Day: today, Model: "model-x", Requests: 3, InputTokens: 1200, OutputTokens: 345},
		{WorkspaceID: "ws_a", Day: old, Model: "model-old", Requests: 9, InputTokens: 9, OutputTokens: 9},
		{WorkspaceID: "ws_b", Day: today, Model: "model-b", Requests: 7, InputTokens: 7, OutputTokens: 7},
	} {
		if err := e.store.AddComposeUsage(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	b := e.as("admin@a.example")
	p := b.get("/settings/ai")
	want(t, p, http.StatusOK, "AI writing is off", "20 requests a minute", "Activation", "Fun fact", "Herald's default categories",
		`id="cat1-id" name="cat1.id" value="self_consumption"`, `<label class="visually-hidden" for="cat6-name">Category 6 name</label>`,
		`<td data-label="Model">model-x</td><td data-label="Requests">3</td><td data-label="Input tokens">1200</td><td data-label="Output tokens">345</td>`)
	for _, not := range []string{"model-old", "model-b"} {
		if strings.Contains(p.body, not) {
			t.Errorf("the AI tab shows usage of %s (too old or another workspace's)", not)
		}
	}

	form := url.Values{"cat1.id": {"tariffs"}, "cat1.name": {"Tariffs"}, "cat1.description": {"Prices by the hour."},
		"cat2.id": {"energy_savings"}, "cat2.name": {"Energy savings"}, "cat2.description": {"Using less."}, "cat2.remove": {"1"},
		"cat3.id": {""}, "cat3.name": {""}, "cat3.description": {""},
		"cat4.id": {"Bad Id"}, "cat4.name": {"Bad"}, "cat4.description": {"Bad."}, "brand": {"Luz Clara"}}
	p = b.post("/settings/ai", form)
	want(t, p, http.StatusUnprocessableEntity, "id: 1–40 lowercase letters", `value="Bad Id"`, `value="tariffs"`, "Luz Clara")
	form.Set("cat4.id", "bad_id")
	p = b.post("/settings/ai", form)
	if p.status != http.StatusSeeOther {
		t.Fatalf("save AI settings: %d\n%s", p.status, p.body)
	}
	set, err := e.store.GetComposeSettings(ctx, "ws_a")
	if err != nil {
		t.Fatal(err)
	}
	wantCats := []notify.ComposeChoice{{ID: "tariffs", Name: "Tariffs", Description: "Prices by the hour."}, {ID: "bad_id", Name: "Bad", Description: "Bad."}}
	if d := cmp.Diff(wantCats, set.Categories); d != "" || set.Brand != "Luz Clara" {
		t.Errorf("saved categories (-want +got):\n%s\nbrand %q", d, set.Brand)
	}
	want(t, b.get(p.loc), http.StatusOK, "AI settings saved", "This workspace's own categories", `value="tariffs"`)
	if _, err := e.store.GetComposeSettings(ctx, "ws_b"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("ws_b's AI settings changed: %v", err)
	}
	want(t, b.post("/settings/ai", url.Values{"defaults": {"1"}, "brand": {"Luz Clara"}}), http.StatusSeeOther)
	if set, _ := e.store.GetComposeSettings(ctx, "ws_a"); len(set.Categories) != 0 {
		t.Errorf("after Restore the default categories: %v", set.Categories)
	}
	audit := auditText(t, e, "ws_a")
	for _, line := range []string{"compose.options  categories tariffs, bad_id; brand set", "compose.options  default categories; brand set"} {
		if !strings.Contains(audit, line) {
			t.Errorf("audit trail lacks %q:\n%s", line, audit)
		}
	}
}

// The destinations an admin saves are the ones the workspace's send form
// offers and accepts; another workspace keeps the deployment's.
func TestSettingsDestinationsInTheSendForm(t *testing.T) {
	e, _ := settingsEnv(t)
	ctx := context.Background()
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	e.putUser("ws_b", "u1", person{Name: "Bea", Email: "bea@example.com"})
	admin := e.as("admin@a.example")
	// The SDK's origins, saved through the API, are no list of destinations
	// of the workspace's own, and saving destinations keeps them.
	origins := []string{"https://shop.example"}
	if err := e.store.PutConsoleSettings(ctx, notify.ConsoleSettings{WorkspaceID: "ws_a", SDKOrigins: origins}); err != nil {
		t.Fatal(err)
	}
	want(t, admin.get("/settings/destinations"), http.StatusOK, "The default list of this Herald", `name="dest2.route" value="offers"`)

	bad := url.Values{"dest1.label": {"Bills"}, "dest1.route": {"my bills"}, "dest2.label": {"Home"}, "dest2.route": {"home"}}
	want(t, admin.post("/settings/destinations", bad), http.StatusUnprocessableEntity, "route: no spaces or control characters", `value="my bills"`)
	form := url.Values{"dest1.label": {"My bills"}, "dest1.route": {"bills"}, "dest2.label": {"Home"}, "dest2.route": {"home"},
		"dest3.label": {"Offers"}, "dest3.route": {"offers"}, "dest3.remove": {"1"}, "dest4.label": {""}, "dest4.route": {""}}
	p := admin.post("/settings/destinations", form)
	if p.status != http.StatusSeeOther {
		t.Fatalf("save destinations: %d\n%s", p.status, p.body)
	}
	want(t, admin.get(p.loc), http.StatusOK, "Destinations saved", "This workspace's own list.")
	cs, err := e.store.GetConsoleSettings(ctx, "ws_a")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]notify.Destination{{Route: "bills", Label: "My bills"}, {Route: "home", Label: "Home"}}, cs.Destinations); d != "" {
		t.Errorf("saved destinations (-want +got):\n%s", d)
	}
	if d := cmp.Diff(origins, cs.SDKOrigins); d != "" {
		t.Errorf("SDK origins after saving destinations (-want +got):\n%s", d)
	}

	editor := e.as("editor@a.example")
	p = editor.get("/send?user=u1")
	want(t, p, http.StatusOK, `<option value="bills" selected>My bills</option>`, `<option value="home">Home</option>`)
	if strings.Contains(p.body, `value="offers"`) {
		t.Error("the send form still offers a removed destination")
	}
	send := url.Values{"user": {"u1"}, "channel": {"push"}, "title": {"Hi"}, "body": {"Your bill"}, "expectedCount": {"1"}}
	send.Set("route", "offers")
	want(t, editor.post("/send/confirm", send), http.StatusUnprocessableEntity, "must be one of the workspace")
	send.Set("route", "bills")
	want(t, editor.post("/send/confirm", send), http.StatusSeeOther)

	// ws_b still has the deployment's list.
	other := e.as("admin@b.example")
	p = other.get("/send?user=u1")
	want(t, p, http.StatusOK, `<option value="home" selected>Home</option>`, `<option value="offers">Offers</option>`)
	if strings.Contains(p.body, "My bills") {
		t.Error("another workspace's destinations are offered")
	}
	if !strings.Contains(auditText(t, e, "ws_a"), "console.destinations  bills=My bills, home=Home") {
		t.Errorf("audit trail lacks the destinations:\n%s", auditText(t, e, "ws_a"))
	}
}

// TestWorkspaceDestinationsEverywhere: the workspace's own destinations
// are offered, and accepted, by every screen that opens a route: the
// campaign editor and the template editor as well as the send form.
func TestWorkspaceDestinationsEverywhere(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	if err := e.store.PutConsoleSettings(ctx, notify.ConsoleSettings{WorkspaceID: "ws_a", Destinations: []notify.Destination{{Route: "bills", Label: "My bills"}},
		UpdatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	b := e.as("editor@a.example")
	for _, path := range []string{"/send?status=active", "/campaigns/new", "/templates/new"} {
		p := b.get(path)
		if !strings.Contains(p.body, `<option value="bills"`) || !strings.Contains(p.body, "My bills") {
			t.Errorf("%s does not offer the workspace's destination:\n%s", path, p.body)
		}
	}
}
