package httpapi

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// piiMarkers are what the scope fixture's user and sends hold that only a
// key with the read scope may see.
var piiMarkers = []string{"Zelda Pii", "zelda.pii@example.com", "+34611223344", "PiiAttr123", "+34611223355", "+34611223366", "fcm-pii-token"}

// scopeFixture is a workspace holding one of everything, with a key of
// each scope set.
type scopeFixture struct {
	e                                           *env
	keys                                        map[string]string
	tpl, notification, campaign, upload, device string
	message                                     string
	victimKey                                   string
}

var scopeSets = map[string][]notify.Scope{
	"send":      {notify.ScopeSend},
	"read":      {notify.ScopeRead},
	"send+read": {notify.ScopeSend, notify.ScopeRead},
	"admin":     {notify.ScopeAdmin},
}

func newScopeFixture(t *testing.T) *scopeFixture {
	t.Helper()
	e := newEnv(t)
	f := &scopeFixture{e: e, keys: map[string]string{}}
	for name, scopes := range scopeSets {
		f.keys[name] = e.key("ws1", "key_"+strings.ReplaceAll(name, "+", "_"), scopes...)
	}
	e.key("ws1", "key_victim", notify.ScopeAdmin)
	f.victimKey = "key_victim"
	e.must(200, "PUT", "/v1/users/pii", e.admin, map[string]any{"name": "Zelda Pii", "email": "zelda.pii@example.com", "phone": "+34611223344",
		"attributes": map[string]string{"secret": "PiiAttr123"}, "status": "active"})
	f.device = e.must(201, "POST", "/v1/users/pii/devices", e.admin, map[string]any{"kind": "fcm", "token": "fcm-pii-token"}).body["id"].(string)
	f.tpl = e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "T", "channel": "sms", "body": "Hi {{name}}"}).body["id"].(string)
	f.notification = e.must(202, "POST", "/v1/notifications", e.admin, map[string]any{"channel": "sms", "content": map[string]any{"body": "Hi"},
		"audience": map[string]any{"addresses": []string{"+34611223355"}}}).body["id"].(string)
	f.campaign = e.must(201, "POST", "/v1/campaigns", e.admin, map[string]any{"name": "C", "schedule": "cron(0 9 ? * MON *)", "timezone": "Europe/Madrid",
		"notification": map[string]any{"channel": "sms", "content": map[string]any{"body": "Hi"}, "audience": map[string]any{"addresses": []string{"+34611223366"}}}}).body["id"].(string)
	f.upload = e.must(201, "POST", "/v1/uploads", e.admin, map[string]any{"templateId": f.tpl, "channel": "sms", "filename": "x.csv"}).body["id"].(string)
	at := time.Now().UTC().Truncate(time.Millisecond)
	m, _, err := e.store.PutInbox(t.Context(), notify.InboxMessage{WorkspaceID: "ws1", UserID: "pii", ID: (&notify.IDs{}).New(at), NotificationID: f.notification,
		Title: "Hola Zelda Pii", Body: "Your code PiiAttr123", CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	f.message = m.ID
	return f
}

// scopeCase is one request of a route, made with every scope set.
type scopeCase struct {
	path func(f *scopeFixture) string
	body any
}

func fixed(p string) func(*scopeFixture) string { return func(*scopeFixture) string { return p } }

// scopeCases has a request for every route that needs a key.
var scopeCases = map[string]scopeCase{
	"POST /v1/keys":                            {fixed("/v1/keys"), map[string]any{"name": "x", "scopes": []string{"read"}}},
	"GET /v1/keys":                             {fixed("/v1/keys"), nil},
	"DELETE /v1/keys/{id}":                     {func(f *scopeFixture) string { return "/v1/keys/" + f.victimKey }, nil},
	"PUT /v1/users/{id}":                       {fixed("/v1/users/pii"), map[string]any{}},
	"POST /v1/users:batch":                     {fixed("/v1/users:batch"), map[string]any{"users": []any{map[string]any{"id": "pii"}}}},
	"GET /v1/users/{id}":                       {fixed("/v1/users/pii"), nil},
	"DELETE /v1/users/{id}":                    {fixed("/v1/users/pii"), nil},
	"GET /v1/users":                            {fixed("/v1/users"), nil},
	"POST /v1/users/{id}/devices":              {fixed("/v1/users/pii/devices"), map[string]any{"kind": "fcm", "token": "another-token"}},
	"DELETE /v1/users/{id}/devices/{deviceId}": {func(f *scopeFixture) string { return "/v1/users/pii/devices/" + f.device }, nil},
	"PUT /v1/users/{id}/push-permission":       {fixed("/v1/users/pii/push-permission"), map[string]any{"status": "allowed"}},
	"GET /v1/users/{id}/preferences":           {fixed("/v1/users/pii/preferences"), nil},
	"PUT /v1/users/{id}/preferences":           {fixed("/v1/users/pii/preferences"), map[string]any{"channels": map[string]bool{"sms": true}}},
	"POST /v1/users/{id}/presence":             {fixed("/v1/users/pii/presence"), map[string]any{"active": true}},
	"POST /v1/users/{id}/preference-link":      {fixed("/v1/users/pii/preference-link"), map[string]any{"ttlSeconds": 3600}},
	"GET /v1/users/{id}/conversation":          {fixed("/v1/users/pii/conversation"), nil},
	"POST /v1/users/{id}/sdk-token":            {fixed("/v1/users/pii/sdk-token"), map[string]any{"ttlSeconds": 600}},
	"GET /v1/sdk/settings":                     {fixed("/v1/sdk/settings"), nil},
	"PUT /v1/sdk/settings":                     {fixed("/v1/sdk/settings"), map[string]any{"allowedOrigins": []string{"https://shop.example"}}},
	"GET /v1/sdk/signing-key":                  {fixed("/v1/sdk/signing-key"), nil},
	"GET /v1/users/{id}/inbox":                 {fixed("/v1/users/pii/inbox"), nil},
	"POST /v1/users/{id}/inbox/{messageId}":    {func(f *scopeFixture) string { return "/v1/users/pii/inbox/" + f.message }, map[string]any{"read": true}},
	"POST /v1/templates":                       {fixed("/v1/templates"), map[string]any{"name": "N", "channel": "sms", "body": "b"}},
	"GET /v1/templates":                        {fixed("/v1/templates"), nil},
	"GET /v1/templates/{id}":                   {func(f *scopeFixture) string { return "/v1/templates/" + f.tpl }, nil},
	"PUT /v1/templates/{id}":                   {func(f *scopeFixture) string { return "/v1/templates/" + f.tpl }, map[string]any{"name": "T2", "channel": "sms", "body": "b"}},
	"DELETE /v1/templates/{id}":                {func(f *scopeFixture) string { return "/v1/templates/" + f.tpl }, nil},
	"POST /v1/templates/{id}/preview":          {func(f *scopeFixture) string { return "/v1/templates/" + f.tpl + "/preview" }, map[string]any{"variables": map[string]string{"name": "x"}}},
	"POST /v1/notifications":                   {fixed("/v1/notifications"), map[string]any{"channel": "sms", "content": map[string]any{"body": "Hi {{name}}"}, "audience": map[string]any{"userIds": []string{"pii"}}}},
	"POST /v1/notifications:dryRun":            {fixed("/v1/notifications:dryRun"), map[string]any{"channel": "sms", "content": map[string]any{"body": "Hi {{name}}"}, "audience": map[string]any{"userIds": []string{"pii"}}}},
	"GET /v1/notifications":                    {fixed("/v1/notifications"), nil},
	"GET /v1/notifications/{id}":               {func(f *scopeFixture) string { return "/v1/notifications/" + f.notification }, nil},
	"GET /v1/notifications/{id}/deliveries":    {func(f *scopeFixture) string { return "/v1/notifications/" + f.notification + "/deliveries" }, nil},
	"POST /v1/notifications/{id}/cancel":       {func(f *scopeFixture) string { return "/v1/notifications/" + f.notification + "/cancel" }, nil},
	"POST /v1/campaigns": {fixed("/v1/campaigns"), map[string]any{"name": "C2", "schedule": "rate(1 day)",
		"notification": map[string]any{"channel": "sms", "content": map[string]any{"body": "Hi"}, "audience": map[string]any{"userIds": []string{"pii"}}}}},
	"GET /v1/campaigns":      {fixed("/v1/campaigns"), nil},
	"GET /v1/campaigns/{id}": {func(f *scopeFixture) string { return "/v1/campaigns/" + f.campaign }, nil},
	"PUT /v1/campaigns/{id}": {func(f *scopeFixture) string { return "/v1/campaigns/" + f.campaign }, map[string]any{"name": "C3", "schedule": "rate(1 day)",
		"notification": map[string]any{"channel": "sms", "content": map[string]any{"body": "Hi"}, "audience": map[string]any{"userIds": []string{"pii"}}}}},
	"DELETE /v1/campaigns/{id}":         {func(f *scopeFixture) string { return "/v1/campaigns/" + f.campaign }, nil},
	"POST /v1/campaigns/{id}/pause":     {func(f *scopeFixture) string { return "/v1/campaigns/" + f.campaign + "/pause" }, nil},
	"POST /v1/campaigns/{id}/resume":    {func(f *scopeFixture) string { return "/v1/campaigns/" + f.campaign + "/resume" }, nil},
	"GET /v1/campaigns/{id}/runs":       {func(f *scopeFixture) string { return "/v1/campaigns/" + f.campaign + "/runs" }, nil},
	"GET /v1/notifications/{id}/report": {func(f *scopeFixture) string { return "/v1/notifications/" + f.notification + "/report" }, nil},
	"POST /v1/uploads":                  {fixed("/v1/uploads"), map[string]any{"purpose": "users", "filename": "u.csv"}},
	"GET /v1/uploads":                   {fixed("/v1/uploads"), nil},
	"GET /v1/uploads/{id}":              {func(f *scopeFixture) string { return "/v1/uploads/" + f.upload }, nil},
	"POST /v1/compose":                  {fixed("/v1/compose"), map[string]any{"tone": "activation", "category": "energy_savings", "channel": "sms", "language": "es"}},
	"GET /v1/compose/options":           {fixed("/v1/compose/options"), nil},
	"PUT /v1/compose/options":           {fixed("/v1/compose/options"), map[string]any{"brand": "b"}},
	"GET /v1/compose/usage":             {fixed("/v1/compose/usage"), nil},
	"GET /v1/outbox":                    {fixed("/v1/outbox"), nil},
	"GET /v1/metrics":                   {fixed("/v1/metrics"), nil},
	"GET /v1/webpush/vapid-public-key":  {fixed("/v1/webpush/vapid-public-key"), nil},
}

// TestScopesOnEveryRoute holds every route to its scope, with every scope
// set: a key without the route's scope is refused with 403 and changes
// nothing; a key with it is served; and whatever a key without the read
// scope is answered (a write's answer, a dry run, an error) holds none of
// the workspace's personal data.
func TestScopesOnEveryRoute(t *testing.T) {
	for _, rt := range (&Server{}).routes() {
		if rt.public {
			continue
		}
		tc, ok := scopeCases[rt.pattern]
		if !ok {
			t.Errorf("%s: no case in scopeCases; every route needs one", rt.pattern)
			continue
		}
		method, _, _ := strings.Cut(rt.pattern, " ")
		for name, scopes := range scopeSets {
			f := newScopeFixture(t)
			k := notify.APIKey{Scopes: scopes}
			r := f.e.do(method, tc.path(f), f.keys[name], tc.body)
			if !k.Allows(rt.scope) {
				if r.status != 403 || r.errCode() != "forbidden" {
					t.Errorf("%s with a %s key = %d %s, want 403 forbidden", rt.pattern, name, r.status, r.raw)
				}
				continue
			}
			if r.status == 401 || r.status == 403 || r.status >= 500 && r.status != 503 {
				t.Errorf("%s with a %s key = %d %s, want it served", rt.pattern, name, r.status, r.raw)
			}
			if reads(k) {
				continue
			}
			for _, m := range piiMarkers {
				if strings.Contains(r.raw, m) {
					t.Errorf("%s with a %s key answered %q, which only a key with read may see: %s", rt.pattern, name, m, r.raw)
				}
			}
		}
	}
	for pattern := range scopeCases {
		found := false
		for _, rt := range (&Server{}).routes() {
			found = found || rt.pattern == pattern
		}
		if !found {
			t.Errorf("scopeCases has %s, which is no route", pattern)
		}
	}
}

// TestWritesAnswerReadersInFull: the markers are real, since a key that
// may read gets them back from the same writes.
func TestWritesAnswerReadersInFull(t *testing.T) {
	f := newScopeFixture(t)
	for _, pattern := range []string{"PUT /v1/users/{id}", "PUT /v1/users/{id}/push-permission", "POST /v1/notifications:dryRun", "POST /v1/campaigns/{id}/pause"} {
		tc := scopeCases[pattern]
		method, _, _ := strings.Cut(pattern, " ")
		r := f.e.must(200, method, tc.path(f), f.keys["send+read"], tc.body)
		hit := false
		for _, m := range piiMarkers {
			hit = hit || strings.Contains(r.raw, m)
		}
		if !hit {
			t.Errorf("%s with a send+read key = %s, want the stored data", pattern, r.raw)
		}
	}
}
