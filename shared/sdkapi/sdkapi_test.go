package sdkapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/usertoken"
)

// The fixture: workspace ws1 allows https://shop.example and has users u1
// and u2; ws2 allows https://other.example and has its own u1; ws3 lists
// no origins.
const (
	shop  = "https://shop.example"
	other = "https://other.example"
)

var testSecret = []byte("sdk-test-secret")

type env struct {
	t     *testing.T
	store *boltstore.Store
	srv   *httptest.Server
	clock *clock
}

// clock is the server's time, moved by the tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &clock{now: time.Now().UTC().Truncate(time.Millisecond)}
	users := &profile.Service{Store: store, Now: c.Now}
	ctx := context.Background()
	for _, u := range []struct{ ws, id string }{{"ws1", "u1"}, {"ws1", "u2"}, {"ws2", "u1"}, {"ws3", "u1"}} {
		if _, err := users.Put(ctx, u.ws, u.id, profile.Input{Name: ptr("User " + u.id)}); err != nil {
			t.Fatal(err)
		}
	}
	for ws, origin := range map[string]string{"ws1": shop, "ws2": other} {
		if err := store.PutConsoleSettings(ctx, notify.ConsoleSettings{WorkspaceID: ws, SDKOrigins: []string{origin}, UpdatedAt: c.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if o.Secret == nil {
		o.Secret = testSecret
	}
	o.Now = c.Now
	srv := httptest.NewServer(New(Services{Users: users, Store: store}, o))
	t.Cleanup(srv.Close)
	return &env{t: t, store: store, srv: srv, clock: c}
}

func ptr[T any](v T) *T { return &v }

// token mints a user token of ws for user, valid for an hour.
func (e *env) token(ws, user string) string {
	return usertoken.Mint(usertoken.SigningKey(testSecret, ws), usertoken.Claims{WorkspaceID: ws, UserID: user, Expires: e.clock.Now().Add(time.Hour)})
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// corsHeaders are the Access-Control-* headers of an answer.
func (r response) corsHeaders() []string {
	var out []string
	for k := range r.header {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k)
		}
	}
	return out
}

// req is one request of a page: its origin, client id and token ("" for
// none), then header name, value pairs.
type req struct {
	method, path, origin, client, token string
	body                                any
	headers                             []string
}

func (e *env) do(q req) response {
	e.t.Helper()
	var rd io.Reader
	switch b := q.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = strings.NewReader(string(raw))
	}
	r, err := http.NewRequest(q.method, e.srv.URL+q.path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if q.origin != "" {
		r.Header.Set("Origin", q.origin)
	}
	if q.client != "" {
		r.Header.Set("X-Herald-Client", q.client)
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	for i := 0; i+1 < len(q.headers); i += 2 {
		r.Header.Set(q.headers[i], q.headers[i+1])
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// as is a page of ws1's shop signed in as user.
func (e *env) as(user string) func(method, path string, body any) response {
	tok := e.token("ws1", user)
	return func(method, path string, body any) response {
		e.t.Helper()
		return e.do(req{method: method, path: path, origin: shop, client: "ws1", token: tok, body: body})
	}
}

func (e *env) user(ws, id string) notify.User {
	e.t.Helper()
	u, err := e.store.GetUser(context.Background(), ws, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// TestCORS: the workspace's origins get CORS answers naming them exactly;
// any other origin, a request without one, or without a client id, is
// refused with 403 and no CORS header, before any route acts.
func TestCORS(t *testing.T) {
	e := newEnv(t, Options{VAPIDPublicKey: "BPublicKey"})
	r := e.do(req{method: "GET", path: "/sdk/v1/config", origin: shop, client: "ws1"})
	if r.status != 200 || r.body["vapidPublicKey"] != "BPublicKey" || r.body["clientId"] != "ws1" || r.body["inboxPollMs"] != 10000.0 {
		t.Errorf("config from the shop = %d %s", r.status, r.raw)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != shop {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, shop)
	}
	if got := r.header.Get("Vary"); got != "Origin" {
		t.Errorf("Vary = %q, want Origin", got)
	}
	if got := r.header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "ETag") {
		t.Errorf("Access-Control-Expose-Headers = %q, want ETag among them", got)
	}

	refused := []struct {
		name           string
		origin, client string
	}{
		{"another origin", "https://evil.example", "ws1"},
		{"another workspace's origin", other, "ws1"},
		{"the shop over http", "http://shop.example", "ws1"},
		{"a subdomain of the shop", "https://www.shop.example", "ws1"},
		{"no Origin (curl)", "", "ws1"},
		{"the null origin", "null", "ws1"},
		{"no client id", shop, ""},
		{"a client id that is no id", shop, "ws1/../ws2"},
		{"an unknown client id", shop, "ws9"},
		{"a workspace without origins on AWS", "http://localhost:3000", "ws3"},
	}
	tok := e.token("ws1", "u1")
	for _, tt := range refused {
		for _, path := range []string{"/sdk/v1/config", "/sdk/v1/me/preferences"} {
			r := e.do(req{method: "GET", path: path, origin: tt.origin, client: tt.client, token: tok})
			if r.status != 403 || r.errCode() != "forbidden" || len(r.corsHeaders()) > 0 {
				t.Errorf("%s: GET %s = %d %v %s, want 403 forbidden without CORS headers", tt.name, path, r.status, r.corsHeaders(), r.raw)
			}
		}
	}
	// A refused origin acts on nothing.
	if r := e.do(req{method: "PUT", path: "/sdk/v1/me/push-permission", origin: "https://evil.example", client: "ws1", token: tok, body: map[string]any{"status": "blocked"}}); r.status != 403 {
		t.Errorf("push permission from another origin = %d %s, want 403", r.status, r.raw)
	}
	if p := e.user("ws1", "u1").PushPermission; p != notify.PermissionAsk {
		t.Errorf("push permission after a refused request = %s, want ask", p)
	}

	// The preflight says what the SDK may send, for the origin that asks.
	r = e.do(req{method: "OPTIONS", path: "/sdk/v1/me/push-permission", origin: shop,
		headers: []string{"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,content-type,X-Herald-Client,if-none-match"}})
	want := map[string]string{
		"Access-Control-Allow-Origin":  shop,
		"Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
		"Access-Control-Allow-Headers": "authorization, content-type, x-herald-client, if-none-match",
		"Access-Control-Max-Age":       "600",
		"Vary":                         "Origin",
	}
	if r.status != 204 {
		t.Errorf("preflight = %d %s, want 204", r.status, r.raw)
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}
	for _, tt := range []struct {
		name    string
		headers []string
		origin  string
	}{
		{"no Origin", []string{"Access-Control-Request-Method", "GET"}, ""},
		{"a file's null origin", []string{"Access-Control-Request-Method", "GET"}, "null"},
		{"a method the SDK does not use", []string{"Access-Control-Request-Method", "PATCH"}, shop},
		{"a header the SDK does not send", []string{"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization, x-api-key"}, shop},
	} {
		r := e.do(req{method: "OPTIONS", path: "/sdk/v1/config", origin: tt.origin, headers: tt.headers})
		if r.status != 403 || len(r.corsHeaders()) > 0 {
			t.Errorf("preflight with %s = %d %v, want 403 without CORS headers", tt.name, r.status, r.corsHeaders())
		}
	}
	// Unknown routes answer in the API's shape, readable by the page.
	if r := e.do(req{method: "GET", path: "/sdk/v1/nothing", origin: shop, client: "ws1"}); r.status != 404 || r.errCode() != "not_found" || r.header.Get("Access-Control-Allow-Origin") != shop {
		t.Errorf("unknown route = %d %v %s, want 404 with CORS", r.status, r.header, r.raw)
	}
	if r := e.do(req{method: "DELETE", path: "/sdk/v1/me/preferences", origin: shop, client: "ws1", token: tok}); r.status != 405 || r.header.Get("Allow") != "GET, PUT" {
		t.Errorf("DELETE preferences = %d Allow %q, want 405 GET, PUT", r.status, r.header.Get("Allow"))
	}
}

// TestLocalOrigins: in the local mode a workspace that lists no origins
// allows the pages of this machine over http, and no other; one that
// lists some allows those only.
func TestLocalOrigins(t *testing.T) {
	e := newEnv(t, Options{Local: true})
	tests := []struct {
		origin, client string
		want           int
	}{
		{"http://localhost:5173", "ws3", 200},
		{"http://127.0.0.1:8080", "ws3", 200},
		{"http://localhost", "ws3", 200},
		{"https://localhost:8443", "ws3", 403},
		{"http://192.168.1.10:8080", "ws3", 403},
		{"https://shop.example", "ws3", 403},
		{"http://localhost:5173", "ws1", 403}, // ws1 lists its own
		{shop, "ws1", 200},
	}
	for _, tt := range tests {
		if r := e.do(req{method: "GET", path: "/sdk/v1/config", origin: tt.origin, client: tt.client}); r.status != tt.want {
			t.Errorf("local mode, %s for %s = %d %s, want %d", tt.origin, tt.client, r.status, r.raw, tt.want)
		}
	}
}

// TestOriginsCache: with OriginsTTL the origins are read again once it
// has passed, so a change reaches the SDK within it.
func TestOriginsCache(t *testing.T) {
	e := newEnv(t, Options{OriginsTTL: 30 * time.Second})
	get := func() int {
		return e.do(req{method: "GET", path: "/sdk/v1/config", origin: "https://new.example", client: "ws1"}).status
	}
	if got := get(); got != 403 {
		t.Fatalf("a new origin before it is allowed = %d, want 403", got)
	}
	if err := e.store.PutConsoleSettings(context.Background(), notify.ConsoleSettings{WorkspaceID: "ws1", SDKOrigins: []string{"https://new.example"}}); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != 403 {
		t.Errorf("a new origin within the cache's time = %d, want 403 (cached)", got)
	}
	e.clock.Add(31 * time.Second)
	if got := get(); got != 200 {
		t.Errorf("a new origin after the cache's time = %d, want 200", got)
	}
}

// TestUserTokens: /sdk/v1/me needs a live user token of the client's
// workspace, unaltered; the API's keys are no tokens.
func TestUserTokens(t *testing.T) {
	e := newEnv(t, Options{})
	now := e.clock.Now()
	key1 := usertoken.SigningKey(testSecret, "ws1")
	good := e.token("ws1", "u1")
	_, sig, _ := strings.Cut(strings.TrimPrefix(good, usertoken.Prefix), ".")
	alteredPayload := usertoken.Prefix + base64.RawURLEncoding.EncodeToString([]byte(`{"w":"ws1","u":"u2","exp":`+itoa(now.Add(time.Hour).Unix())+`}`)) + "." + sig
	tests := []struct {
		name           string
		client, origin string
		token          string
		want           int
	}{
		{"the user's token", "ws1", shop, good, 200},
		{"no token", "ws1", shop, "", 401},
		{"an expired token", "ws1", shop, usertoken.Mint(key1, usertoken.Claims{WorkspaceID: "ws1", UserID: "u1", Expires: now.Add(-time.Second)}), 401},
		{"a token made out to another user", "ws1", shop, alteredPayload, 401},
		{"another workspace's token", "ws1", shop, e.token("ws2", "u1"), 401},
		{"a token used with another workspace's client id", "ws2", other, good, 401},
		{"a token signed with another workspace's key", "ws1", shop, usertoken.Mint(usertoken.SigningKey(testSecret, "ws2"), usertoken.Claims{WorkspaceID: "ws1", UserID: "u1", Expires: now.Add(time.Hour)}), 401},
		{"an API key", "ws1", shop, "hk_live_0123456789abcdef", 401},
		{"a token of a user who does not exist", "ws1", shop, e.token("ws1", "ghost"), 404},
	}
	for _, tt := range tests {
		r := e.do(req{method: "GET", path: "/sdk/v1/me/preferences", origin: tt.origin, client: tt.client, token: tt.token})
		if r.status != tt.want {
			t.Errorf("%s = %d %s, want %d", tt.name, r.status, r.raw, tt.want)
		}
		// A refused token is told to the page, which can read why.
		if r.status == 401 && (r.errCode() != "unauthorized" || r.header.Get("Access-Control-Allow-Origin") != tt.origin) {
			t.Errorf("%s: %v %s, want unauthorized readable by %s", tt.name, r.header, r.raw, tt.origin)
		}
	}
	// Without Herald's secret there are no tokens.
	e2 := newEnv(t, Options{Secret: []byte{}})
	if r := e2.do(req{method: "GET", path: "/sdk/v1/me/preferences", origin: shop, client: "ws1", token: good}); r.status != 503 || r.errCode() != "not_configured" {
		t.Errorf("no secret = %d %s, want 503 not_configured", r.status, r.raw)
	}
	// The config route needs none.
	if r := e2.do(req{method: "GET", path: "/sdk/v1/config", origin: shop, client: "ws1"}); r.status != 200 {
		t.Errorf("config without a secret = %d %s, want 200", r.status, r.raw)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
