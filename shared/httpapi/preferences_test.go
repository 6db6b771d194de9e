package httpapi

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/unsubscribe"
)

// testLinkSecret signs the preference links of newEnv's server.
var testLinkSecret = []byte("link-secret-0123456789")

// TestPreferencesByCategory: the channels of each category go in and
// come back, as the document says, and a channel that is none is refused.
func TestPreferencesByCategory(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/c1", e.admin, map[string]any{"name": "Ana"})
	r := e.must(200, "GET", "/v1/users/c1/preferences", e.admin, nil)
	if got, ok := r.body["categoryChannels"]; ok {
		t.Errorf("categoryChannels of a new user = %v, want none (all on)", got)
	}
	in := map[string]any{"channels": map[string]bool{"push": false}, "categoryChannels": map[string]any{
		"switching": map[string]bool{"sms": false, "email": true}, "bills": map[string]bool{"whatsapp": false}}}
	put := e.must(200, "PUT", "/v1/users/c1/preferences", e.admin, in)
	get := e.must(200, "GET", "/v1/users/c1/preferences", e.admin, nil)
	want := map[string]any{"switching": map[string]any{"sms": false, "email": true}, "bills": map[string]any{"whatsapp": false}}
	for name, r := range map[string]response{"PUT": put, "GET": get} {
		if diff := cmp.Diff(want, r.body["categoryChannels"]); diff != "" {
			t.Errorf("%s categoryChannels (-want +got):\n%s", name, diff)
		}
	}
	doc := loadOpenAPI(t)
	v := newSchemaValidator(doc)
	if bad := v.validate(map[string]any{"$ref": "#/components/schemas/Preferences"}, decodeJSON(t, get.raw), "answer"); bad != nil {
		t.Errorf("the answer is not the document's Preferences: %v", bad)
	}
	schema := schemaOf(t, doc, "PUT", "/v1/users/{id}/preferences")
	for _, tc := range []struct {
		body  string
		valid bool
		field string
	}{
		{`{"categoryChannels": {"offers": {"sms": false}}}`, true, ""},
		{`{"categoryChannels": {"offers": {"fax": false}}}`, false, "categoryChannels.offers.fax"},
		{`{"categoryChannels": {"offers": {"sms": "off"}}}`, false, "categoryChannels"},
		{`{"categoryChannels": {"offers": true}}`, false, "categoryChannels"},
		{`{"categoryChannels": {"offers": null}}`, false, "categoryChannels.offers"},
	} {
		if valid := v.validate(schema, decodeJSON(t, tc.body), "body") == nil; valid != tc.valid {
			t.Errorf("%s: the document says valid = %v, want %v", tc.body, valid, tc.valid)
		}
		r := e.do("PUT", "/v1/users/c1/preferences", e.admin, tc.body)
		if tc.valid && r.status != 200 || !tc.valid && (r.status != 422 || r.errField() != tc.field) {
			t.Errorf("PUT %s = %d %s, want %v (field %q)", tc.body, r.status, r.raw, tc.valid, tc.field)
		}
	}
}

// TestPreferenceLink: the link names the user of the key's workspace,
// ends when asked, and is refused for a user that is not there.
func TestPreferenceLink(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/c1", e.admin, map[string]any{"name": "Ana"})
	e.must(200, "PUT", "/v1/users/c2", e.other, map[string]any{"name": "Other workspace's"})
	sender := e.key("ws1", "k-send", notify.ScopeSend)
	host := strings.TrimPrefix(e.srv.URL, "http://")
	check := func(r response, ttl time.Duration) {
		t.Helper()
		token, ok := strings.CutPrefix(r.body["url"].(string), "https://"+host+"/preferences/")
		if !ok {
			t.Fatalf("url = %v, want it under https://%s/preferences/", r.body["url"], host)
		}
		ws, user, _, expires, ok := unsubscribe.ParsePreferences(testLinkSecret, token)
		if !ok || ws != "ws1" || user != "c1" {
			t.Fatalf("the link's token names %q %q (%v), want ws1 c1", ws, user, ok)
		}
		at, err := time.Parse(time.RFC3339, r.body["expiresAt"].(string))
		if err != nil || !at.Equal(expires) {
			t.Errorf("expiresAt = %v, want the token's end %v", r.body["expiresAt"], expires)
		}
		if d := time.Until(expires) - ttl; d > time.Minute || d < -time.Minute {
			t.Errorf("the link ends in %v, want %v", time.Until(expires), ttl)
		}
	}
	check(e.must(200, "POST", "/v1/users/c1/preference-link", sender, nil), 30*24*time.Hour)
	check(e.must(200, "POST", "/v1/users/c1/preference-link", sender, map[string]any{"ttlSeconds": 3600}), time.Hour)
	for _, ttl := range []int{59, 31536001} {
		if r := e.do("POST", "/v1/users/c1/preference-link", sender, map[string]any{"ttlSeconds": ttl}); r.status != 422 || r.errField() != "ttlSeconds" {
			t.Errorf("ttlSeconds %d = %d %s, want 422 ttlSeconds", ttl, r.status, r.raw)
		}
	}
	e.must(422, "POST", "/v1/users/c1/preference-link", sender, map[string]any{"userId": "c2"})
	if r := e.do("POST", "/v1/users/c2/preference-link", sender, nil); r.status != 404 {
		t.Errorf("another workspace's user = %d %s, want 404", r.status, r.raw)
	}
	if r := e.do("POST", "/v1/users/nobody/preference-link", sender, nil); r.status != 404 {
		t.Errorf("a user that is not there = %d %s, want 404", r.status, r.raw)
	}
	reader := e.key("ws1", "k-read", notify.ScopeRead)
	if r := e.do("POST", "/v1/users/c1/preference-link", reader, nil); r.status != 403 {
		t.Errorf("a read key = %d %s, want 403", r.status, r.raw)
	}
	doc := loadOpenAPI(t)
	if bad := newSchemaValidator(doc).validate(map[string]any{"$ref": "#/components/schemas/PreferenceLink"},
		decodeJSON(t, e.must(200, "POST", "/v1/users/c1/preference-link", sender, nil).raw), "answer"); bad != nil {
		t.Errorf("the answer is not the document's PreferenceLink: %v", bad)
	}
}

// TestPreferenceLinkPublicURL: with a public URL the link starts with it;
// without the secret there is no link to make.
func TestPreferenceLinkPublicURL(t *testing.T) {
	for _, tc := range []struct {
		cfg    Config
		status int
		prefix string
	}{
		{Config{LinkSecret: testLinkSecret, PublicURL: "https://herald.example.com"}, 200, "https://herald.example.com/preferences/"},
		{Config{}, 503, ""},
	} {
		store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		srv := httptest.NewServer(testServer(store, &fakeQueue{}, deps{}, Options{Config: tc.cfg}))
		defer srv.Close()
		e := &env{t: t, srv: srv, store: store}
		k := e.key("ws1", "k", notify.ScopeAdmin)
		e.must(200, "PUT", "/v1/users/c1", k, map[string]any{"name": "Ana"})
		r := e.must(tc.status, "POST", "/v1/users/c1/preference-link", k, nil)
		if url, _ := r.body["url"].(string); tc.status == 200 && !strings.HasPrefix(url, tc.prefix) {
			t.Errorf("url = %q, want it under %s", url, tc.prefix)
		}
		if tc.status == 503 && r.errCode() != notify.CodeNotConfigured {
			t.Errorf("without a secret: %s, want not_configured", r.raw)
		}
	}
}
