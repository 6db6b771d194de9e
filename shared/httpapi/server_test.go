package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/memmetrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedulertest"
)

// fakeQueue records what the API enqueues.
type fakeQueue struct {
	mu     sync.Mutex
	bodies [][]byte
	err    error
}

func (q *fakeQueue) Send(_ context.Context, bodies [][]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.bodies = append(q.bodies, bodies...)
	return nil
}

func (q *fakeQueue) messages(t *testing.T) []notify.DispatchMessage {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]notify.DispatchMessage, len(q.bodies))
	for i, b := range q.bodies {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatalf("queued body %d: %v", i, err)
		}
	}
	return out
}

type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *boltstore.Store
	queue *fakeQueue
	steps *fakeQueue // the audience queue
	blobs *blobfs.Store
	// received are the object keys of files stored through the local
	// upload route.
	received chan string
	admin    string // key of workspace ws1
	other    string // key of workspace ws2
	// sched keeps the schedules campaigns and scheduled sends put.
	sched *schedulertest.Memory
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	q, steps := &fakeQueue{}, &fakeQueue{}
	blobs, err := blobfs.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	received := make(chan string, 100)
	uploads := &Uploads{Blobs: blobs, URLSecret: []byte("test-secret"), Ingest: ingest.Config{MaxBytes: 1 << 20, DefaultRegion: "ES"},
		Received: func(_ context.Context, key string) error { received <- key; return nil }}
	sched := schedulertest.NewMemory()
	api := testServer(store, q, deps{Audience: steps, Scheduler: sched, DefaultRegion: "ES"}, Options{Outbox: store, Uploads: uploads, Metrics: memmetrics.New(time.Now()),
		Config: Config{MaxBodyBytes: 1 << 20, LinkSecret: testLinkSecret}})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	uploads.PublicURL = srv.URL
	e := &env{t: t, srv: srv, store: store, queue: q, steps: steps, blobs: blobs, received: received, sched: sched}
	e.admin = e.key("ws1", "k1", notify.ScopeAdmin)
	e.other = e.key("ws2", "k2", notify.ScopeAdmin)
	return e
}

func (e *env) key(ws, id string, scopes ...notify.Scope) string {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.store.GetWorkspace(ctx, ws); err != nil {
		if err := e.store.CreateWorkspace(ctx, notify.Workspace{ID: ws, Name: ws, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}); err != nil {
			e.t.Fatal(err)
		}
	}
	secret := apikey.New()
	if err := e.store.CreateAPIKey(ctx, notify.APIKey{ID: id, WorkspaceID: ws, Name: id, Scopes: scopes, Hash: apikey.Hash(secret), Prefix: apikey.Display(secret), CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) errCode() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func (r response) errField() string {
	e, _ := r.body["error"].(map[string]any)
	details, _ := e["details"].([]any)
	if len(details) == 0 {
		return ""
	}
	d, _ := details[0].(map[string]any)
	s, _ := d["field"].(string)
	return s
}

func (e *env) do(method, path, key string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
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
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, raw)
		}
		if r.status >= 400 && r.errCode() == "" {
			e.t.Fatalf("%s %s: error answer without the error shape: %s", method, path, raw)
		}
	}
	return r
}

func (e *env) must(want int, method, path, key string, body any, headers ...string) response {
	e.t.Helper()
	r := e.do(method, path, key, body, headers...)
	if r.status != want {
		e.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	e.must(200, "GET", "/v1/health", "", nil)
	e.must(200, "GET", "/v1/openapi.json", "", nil)
	tests := []struct {
		name, key string
		want      int
		code      string
	}{
		{"no key", "", 401, "unauthorized"},
		{"unknown key", apikey.New(), 401, "unauthorized"},
		{"not a key", "hello", 401, "unauthorized"},
		{"read key on admin route", e.key("ws1", "reader", notify.ScopeRead), 403, "forbidden"},
	}
	for _, tt := range tests {
		r := e.do("GET", "/v1/keys", tt.key, nil)
		if r.status != tt.want || r.errCode() != tt.code {
			t.Errorf("%s: GET /v1/keys = %d %q, want %d %q", tt.name, r.status, r.errCode(), tt.want, tt.code)
		}
	}
	if r := e.do("GET", "/v1/keys", "", nil); r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}

	// A created key works with its scopes, and stops working when revoked.
	r := e.must(201, "POST", "/v1/keys", e.admin, map[string]any{"name": "backend", "scopes": []string{"send", "read"}})
	secret, id := r.body["key"].(string), r.body["id"].(string)
	e.must(200, "GET", "/v1/users", secret, nil)
	e.must(403, "POST", "/v1/keys", secret, map[string]any{"name": "x", "scopes": []string{"admin"}})
	list := e.must(200, "GET", "/v1/keys", e.admin, nil)
	if strings.Contains(list.raw, secret) {
		t.Errorf("GET /v1/keys shows a secret")
	}
	e.must(404, "DELETE", "/v1/keys/"+id, e.other, nil) // another workspace's key
	e.must(204, "DELETE", "/v1/keys/"+id, e.admin, nil)
	e.must(401, "GET", "/v1/users", secret, nil)
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, method, path string
		body               any
		want               int
		code, field        string
	}{
		{"malformed json", "PUT", "/v1/users/u1", `{"name": `, 400, "bad_request", ""},
		{"empty body", "PUT", "/v1/users/u1", ``, 400, "bad_request", ""},
		{"not an object", "PUT", "/v1/users/u1", `[1]`, 422, "validation_failed", "body"},
		{"unknown field", "PUT", "/v1/users/u1", `{"nme": "Ana"}`, 422, "validation_failed", "nme"},
		{"wrong type", "PUT", "/v1/users/u1", `{"name": 5}`, 422, "validation_failed", "name"},
		{"bad email", "PUT", "/v1/users/u1", `{"email": "nope"}`, 422, "validation_failed", "email"},
		{"bad phone", "PUT", "/v1/users/u1", `{"phone": "+3412"}`, 422, "validation_failed", "phone"},
		{"bad timezone", "PUT", "/v1/users/u1", `{"timezone": "Mars/Base"}`, 422, "validation_failed", "timezone"},
		{"bad id", "PUT", "/v1/users/a%23b", `{"name": "x"}`, 422, "validation_failed", "id"},
		{"too large", "PUT", "/v1/users/u1", `{"name": "` + strings.Repeat("a", 1100<<10) + `"}`, 413, "payload_too_large", ""},
		{"unknown user", "GET", "/v1/users/nobody", nil, 404, "not_found", ""},
		{"unknown template", "GET", "/v1/templates/tpl_x", nil, 404, "not_found", ""},
		{"unknown notification", "GET", "/v1/notifications/01X", nil, 404, "not_found", ""},
		{"unknown route", "GET", "/v1/nothing", nil, 404, "not_found", ""},
		{"bad limit", "GET", "/v1/users?limit=0", nil, 422, "validation_failed", "limit"},
		{"bad cursor", "GET", "/v1/notifications?cursor=garbage!!", nil, 422, "validation_failed", "cursor"},
		{"bad bool", "GET", "/v1/users?pushEnabled=maybe", nil, 422, "validation_failed", "pushEnabled"},
		{"bad date", "GET", "/v1/notifications?from=yesterday", nil, 422, "validation_failed", "from"},
		{"bad created after", "GET", "/v1/users?createdAfter=yesterday", nil, 422, "validation_failed", "createdAfter"},
		{"created range backwards", "GET", "/v1/users?createdAfter=2026-02-01T00:00:00Z&createdBefore=2026-01-01T00:00:00Z", nil, 422, "validation_failed", "createdBefore"},
	}
	for _, tt := range tests {
		r := e.do(tt.method, tt.path, e.admin, tt.body)
		if r.status != tt.want || r.errCode() != tt.code || (tt.field != "" && r.errField() != tt.field) {
			t.Errorf("%s: %s %s = %d %q field %q, want %d %q field %q", tt.name, tt.method, tt.path, r.status, r.errCode(), r.errField(), tt.want, tt.code, tt.field)
		}
	}
	// None of the bad requests wrote anything.
	if _, err := e.store.GetUser(context.Background(), "ws1", "u1"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("a rejected request stored user u1 (err %v)", err)
	}
	if r := e.do("PATCH", "/v1/users/u1", e.admin, nil); r.status != 405 || r.header.Get("Allow") == "" {
		t.Errorf("PATCH /v1/users/u1 = %d Allow %q, want 405 with Allow", r.status, r.header.Get("Allow"))
	}
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, "PUT", "/v1/users/c1", e.admin, map[string]any{
		"name": "Ana", "email": "Ana@Example.com", "phone": "600 000 001", "status": "active", "type": "client",
		"language": "es-es", "timezone": "Europe/Madrid", "attributes": map[string]string{"plan": "solar"}, "tags": []string{"vip", "vip"},
	})
	want := map[string]any{"id": "c1", "name": "Ana", "email": "ana@example.com", "phone": "+34600000001", "status": "active", "type": "client",
		"language": "es-ES", "timezone": "Europe/Madrid", "attributes": map[string]any{"plan": "solar"}, "tags": []any{"vip"},
		"pushPermission": "ask", "devices": []any{}}
	for k, v := range want {
		if !cmp.Equal(r.body[k], v) {
			t.Errorf("PUT user: %s = %v, want %v", k, r.body[k], v)
		}
	}
	// A partial upsert keeps the other fields; "" clears one.
	r = e.must(200, "PUT", "/v1/users/c1", e.admin, map[string]any{"status": "inactive", "tags": []string{}})
	if r.body["name"] != "Ana" || r.body["status"] != "inactive" || r.body["tags"] != nil {
		t.Errorf("partial PUT = %s", r.raw)
	}
	r = e.must(201, "POST", "/v1/users/c1/devices", e.admin, map[string]any{"kind": "fcm", "token": "tok-1"})
	devID := r.body["id"].(string)
	e.must(201, "POST", "/v1/users/c1/devices", e.admin, map[string]any{"kind": "fcm", "token": "tok-1"}) // same token: same device
	e.must(201, "POST", "/v1/users/c1/devices", e.admin, map[string]any{"kind": "webpush", "subscription": map[string]any{
		"endpoint": "https://push.example.com/abc", "keys": map[string]string{"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", "auth": "tBHItJI5svbpez7KI4CCXg"}}})
	e.must(422, "POST", "/v1/users/c1/devices", e.admin, map[string]any{"kind": "webpush", "subscription": map[string]any{"endpoint": "http://insecure", "keys": map[string]string{"p256dh": "x", "auth": "y"}}})
	e.must(422, "POST", "/v1/users/c1/devices", e.admin, map[string]any{"kind": "carrier-pigeon", "token": "x"})
	e.must(404, "POST", "/v1/users/nobody/devices", e.admin, map[string]any{"kind": "fcm", "token": "x"})
	r = e.must(200, "PUT", "/v1/users/c1/push-permission", e.admin, map[string]any{"status": "allowed"})
	if devs := r.body["devices"].([]any); len(devs) != 2 || r.body["pushPermission"] != "allowed" {
		t.Errorf("after devices and permission: %s", r.raw)
	}
	e.must(200, "GET", "/v1/users?pushEnabled=true", e.admin, nil)
	e.must(200, "PUT", "/v1/users/c2", e.admin, map[string]any{"name": "Bea", "attributes": map[string]string{"plan": "battery"}, "tags": []string{"vip", "solar"}})
	for query, want := range map[string]string{
		"attr.plan=solar":                  "c1",
		"attr.plan=battery&tags=vip,solar": "c2",
		"tags=vip":                         "c2", // c1's tags were cleared
		"createdAfter=2000-01-01T00:00:00Z&attr.plan=solar": "c1",
		"createdBefore=2000-01-01T00:00:00Z":                "",
	} {
		r := e.must(200, "GET", "/v1/users?"+query, e.admin, nil)
		var ids []string
		for _, u := range r.body["items"].([]any) {
			ids = append(ids, u.(map[string]any)["id"].(string))
		}
		if got := strings.Join(ids, ","); got != want {
			t.Errorf("GET /v1/users?%s = [%s], want [%s]", query, got, want)
		}
	}
	e.must(204, "DELETE", "/v1/users/c1/devices/"+devID, e.admin, nil)
	e.must(404, "DELETE", "/v1/users/c1/devices/"+devID, e.admin, nil)

	r = e.must(200, "PUT", "/v1/users/c1/preferences", e.admin, map[string]any{"channels": map[string]bool{"sms": false}, "categories": map[string]bool{"energy_savings": false}, "quietHours": map[string]string{"start": "22:00", "end": "08:00"}})
	e.must(422, "PUT", "/v1/users/c1/preferences", e.admin, map[string]any{"channels": map[string]bool{"fax": true}})
	e.must(422, "PUT", "/v1/users/c1/preferences", e.admin, map[string]any{"quietHours": map[string]string{"start": "25:00", "end": "08:00"}})
	r = e.must(200, "GET", "/v1/users/c1/preferences", e.admin, nil)
	if r.body["channels"].(map[string]any)["sms"] != false {
		t.Errorf("GET preferences = %s", r.raw)
	}
	r = e.must(200, "POST", "/v1/users/c1/presence", e.admin, map[string]any{"active": true, "ttlSeconds": 60})
	if r.body["until"] == nil {
		t.Errorf("presence = %s, want until", r.raw)
	}
	r = e.must(200, "GET", "/v1/users/c1/conversation", e.admin, nil)
	if r.body["whatsapp"].(map[string]any)["state"] != "none" {
		t.Errorf("conversation = %s, want state none", r.raw)
	}

	// Workspace isolation: the other workspace sees and changes nothing.
	e.must(404, "GET", "/v1/users/c1", e.other, nil)
	e.must(404, "DELETE", "/v1/users/c1", e.other, nil)
	e.must(404, "PUT", "/v1/users/c1/push-permission", e.other, map[string]any{"status": "blocked"})
	if r := e.must(200, "GET", "/v1/users", e.other, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("other workspace lists users: %s", r.raw)
	}
	e.must(204, "DELETE", "/v1/users/c1", e.admin, nil)
	e.must(404, "GET", "/v1/users/c1", e.admin, nil)
}

func TestUsersBatch(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"users": []map[string]any{
		{"id": "b1", "name": "One"}, {"id": "b2", "email": "bad"}, {"name": "no id"}, {"id": "b1"}, {"id": "b3", "phone": "+34600000003"},
	}}
	r := e.must(200, "POST", "/v1/users:batch", e.admin, body, "Idempotency-Key", "batch-1")
	if r.body["upserted"] != float64(2) {
		t.Fatalf("batch = %s, want 2 upserted", r.raw)
	}
	var idx []int
	for _, er := range r.body["errors"].([]any) {
		idx = append(idx, int(er.(map[string]any)["index"].(float64)))
	}
	if diff := cmp.Diff([]int{1, 2, 3}, idx); diff != "" {
		t.Errorf("batch error indexes (-want +got):\n%s", diff)
	}
	again := e.must(200, "POST", "/v1/users:batch", e.admin, body, "Idempotency-Key", "batch-1")
	if again.raw != r.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %s, want the first answer", again.raw)
	}
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprint("m", i)}
	}
	e.must(422, "POST", "/v1/users:batch", e.admin, map[string]any{"users": many})
}

func TestTemplates(t *testing.T) {
	e := newEnv(t)
	tpl := map[string]any{
		"name": "Savings", "channel": "push", "title": "Save {{offer}}", "body": "Hi {{name}}, save {{offer}}",
		"push":       map[string]any{"icon": "https://x/icon.png", "buttons": []map[string]string{{"id": "yes", "label": "Yes", "route": "offers"}}},
		"variations": map[string]any{"es": map[string]string{"title": "Ahorra {{offer}}", "body": "Hola {{name}}"}},
		"labels":     []string{"energy"},
	}
	r := e.must(201, "POST", "/v1/templates", e.admin, tpl)
	id := r.body["id"].(string)
	if r.body["version"] != float64(1) || !cmp.Equal(r.body["variables"], []any{"name", "offer"}) {
		t.Errorf("create template = %s", r.raw)
	}
	tpl["body"] = "Hi {{name}}, {{offer}} off on {{product}}"
	r = e.must(200, "PUT", "/v1/templates/"+id, e.admin, tpl)
	if r.body["version"] != float64(2) || !cmp.Equal(r.body["variables"], []any{"name", "offer", "product"}) {
		t.Errorf("update template = %s", r.raw)
	}
	r = e.must(200, "POST", "/v1/templates/"+id+"/preview", e.admin, map[string]any{"variables": map[string]string{"name": "Ana", "offer": "10%"}, "language": "es-MX"})
	if r.body["title"] != "Ahorra 10%" || r.body["body"] != "Hola Ana" || len(r.body["missing"].([]any)) != 0 {
		t.Errorf("preview es = %s", r.raw)
	}
	r = e.must(200, "POST", "/v1/templates/"+id+"/preview", e.admin, map[string]any{"variables": map[string]string{"name": "Ana"}})
	if !cmp.Equal(r.body["missing"], []any{"offer", "product"}) {
		t.Errorf("preview missing = %s", r.raw)
	}
	e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "Mail", "channel": "email", "title": "Bill", "body": "Your bill", "labels": []string{"billing"}})
	r = e.must(200, "GET", "/v1/templates?label=energy", e.admin, nil)
	items := r.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["preview"].(map[string]any)["title"] != "Save {{offer}}" {
		t.Errorf("gallery by label = %s", r.raw)
	}
	if r := e.must(200, "GET", "/v1/templates?channel=email", e.admin, nil); len(r.body["items"].([]any)) != 1 {
		t.Errorf("gallery by channel = %s", r.raw)
	}
	for _, bad := range []map[string]any{
		{"name": "", "channel": "push", "title": "t", "body": "b"},
		{"name": "x", "channel": "fax", "body": "b"},
		{"name": "x", "channel": "push", "body": "no title"},
		{"name": "x", "channel": "whatsapp", "whatsapp": map[string]any{"name": "promo", "language": "es", "category": "spam"}},
	} {
		e.must(422, "POST", "/v1/templates", e.admin, bad)
	}
	e.must(404, "GET", "/v1/templates/"+id, e.other, nil)
	e.must(404, "PUT", "/v1/templates/"+id, e.other, tpl)
	e.must(204, "DELETE", "/v1/templates/"+id, e.admin, nil)
	e.must(404, "GET", "/v1/templates/"+id, e.admin, nil)
}

func TestSend(t *testing.T) {
	e := newEnv(t)
	ids := make([]string, 250)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%03d", i)
	}
	send := map[string]any{"channel": "push", "content": map[string]any{"title": "Ahorra energía", "body": "Hola {{name}}"}, "audience": map[string]any{"userIds": append(ids, "u000")}}
	r := e.must(202, "POST", "/v1/notifications", e.admin, send, "Idempotency-Key", "k-1")
	nid := r.body["id"].(string)
	if r.body["status"] != "queued" || r.body["recipients"] != float64(250) {
		t.Fatalf("send = %s", r.raw)
	}
	msgs := e.queue.messages(t)
	if len(msgs) != 3 {
		t.Fatalf("enqueued %d messages, want 3 (100 recipients each)", len(msgs))
	}
	var got []string
	chunks := map[string]bool{}
	for _, m := range msgs {
		if m.NotificationID != nid || m.WorkspaceID != "ws1" {
			t.Errorf("message for %s/%s, want ws1/%s", m.WorkspaceID, m.NotificationID, nid)
		}
		chunks[m.Chunk] = true
		for _, rc := range m.Recipients {
			got = append(got, rc.UserID)
		}
	}
	sort.Strings(got)
	if diff := cmp.Diff(ids, got); diff != "" || len(chunks) != 3 {
		t.Errorf("recipients enqueued (-want +got):\n%s (chunks %v)", diff, chunks)
	}
	// Same key and body: the first answer, nothing enqueued again.
	again := e.must(202, "POST", "/v1/notifications", e.admin, send, "Idempotency-Key", "k-1")
	if again.raw != r.raw || len(e.queue.messages(t)) != 3 {
		t.Errorf("idempotent replay = %s with %d messages", again.raw, len(e.queue.messages(t)))
	}
	send["channel"] = "webpush"
	if r := e.must(409, "POST", "/v1/notifications", e.admin, send, "Idempotency-Key", "k-1"); r.errCode() != "conflict" {
		t.Errorf("reused key = %s", r.raw)
	}
	// The same key in another workspace is another key.
	e.must(202, "POST", "/v1/notifications", e.other, send, "Idempotency-Key", "k-1")

	n := e.must(200, "GET", "/v1/notifications/"+nid, e.admin, nil)
	wantFields := map[string]any{"id": nid, "channel": "push", "source": "list", "title": "Ahorra energía", "body": "Hola {{name}}", "route": "home", "status": "queued"}
	for k, v := range wantFields {
		if n.body[k] != v {
			t.Errorf("notification %s = %v, want %v", k, n.body[k], v)
		}
	}
	if c := n.body["counts"].(map[string]any); c["total"] != float64(250) || c["queued"] != float64(250) {
		t.Errorf("counts = %v", c)
	}
	e.must(404, "GET", "/v1/notifications/"+nid, e.other, nil)

	// History: a word of the title finds it, in any case and without accents.
	if r := e.must(200, "GET", "/v1/notifications?q=ENERGIA", e.admin, nil); len(r.body["items"].([]any)) != 1 {
		t.Errorf("search = %s", r.raw)
	}
	if r := e.must(200, "GET", "/v1/notifications?q=energia&channel=sms", e.admin, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("search with another channel = %s", r.raw)
	}
	if r := e.must(200, "GET", "/v1/notifications?q=energia", e.other, nil); len(r.body["items"].([]any)) != 1 {
		t.Errorf("other workspace search = %s, want only its own", r.raw)
	}

	r = e.must(200, "POST", "/v1/notifications/"+nid+"/cancel", e.admin, nil)
	if r.body["status"] != "cancelled" {
		t.Errorf("cancel = %s", r.raw)
	}
	e.must(409, "POST", "/v1/notifications/"+nid+"/cancel", e.admin, nil)
	e.must(404, "POST", "/v1/notifications/"+nid+"/cancel", e.other, nil)
}

func TestSendValidation(t *testing.T) {
	e := newEnv(t)
	big := make([]string, 10001)
	for i := range big {
		big[i] = fmt.Sprint("u", i)
	}
	content := map[string]any{"title": "T", "body": "B"}
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no channel", map[string]any{"content": content, "audience": map[string]any{"userIds": []string{"u1"}}}, "channel"},
		{"no audience", map[string]any{"channel": "push", "content": content}, "audience"},
		{"both content and template", map[string]any{"channel": "push", "content": content, "templateId": "t", "audience": map[string]any{"userIds": []string{"u1"}}}, "templateId"},
		{"unknown template", map[string]any{"channel": "push", "templateId": "tpl_nope", "audience": map[string]any{"userIds": []string{"u1"}}}, "templateId"},
		{"too many users", map[string]any{"channel": "push", "content": content, "audience": map[string]any{"userIds": big}}, "audience.userIds"},
		{"bad phone", map[string]any{"channel": "sms", "content": content, "audience": map[string]any{"addresses": []string{"+34600000001", "12"}}}, "audience.addresses[1]"},
		{"addresses for push", map[string]any{"channel": "push", "content": content, "audience": map[string]any{"addresses": []string{"+34600000001"}}}, "audience.addresses"},
		{"two audiences", map[string]any{"channel": "sms", "content": content, "audience": map[string]any{"userIds": []string{"u1"}, "addresses": []string{"+34600000001"}}}, "audience"},
		{"push without title", map[string]any{"channel": "push", "content": map[string]any{"body": "B"}, "audience": map[string]any{"userIds": []string{"u1"}}}, "content.title"},
		{"bad fallback", map[string]any{"channel": "push", "fallback": []string{"push"}, "content": content, "audience": map[string]any{"userIds": []string{"u1"}}}, "fallback[0]"},
	}
	for _, tt := range tests {
		r := e.do("POST", "/v1/notifications", e.admin, tt.body)
		if r.status != 422 || r.errField() != tt.field {
			t.Errorf("%s: = %d field %q, want 422 field %q (%s)", tt.name, r.status, r.errField(), tt.field, r.raw)
		}
	}
	if n := len(e.queue.messages(t)); n != 0 {
		t.Errorf("rejected sends enqueued %d messages", n)
	}
	if r := e.must(200, "GET", "/v1/notifications", e.admin, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("rejected sends stored notifications: %s", r.raw)
	}
	// Addresses are normalised and deduplicated.
	r := e.must(202, "POST", "/v1/notifications", e.admin, map[string]any{"channel": "sms", "content": map[string]any{"body": "Hi"}, "audience": map[string]any{"addresses": []string{"+34 600 000 001", "600000001", "+34600000002"}}})
	if r.body["recipients"] != float64(2) {
		t.Errorf("address send = %s, want 2 recipients", r.raw)
	}
	// A failing queue fails the send without leaving a live notification.
	e.queue.err = fmt.Errorf("queue down")
	r = e.do("POST", "/v1/notifications", e.admin, map[string]any{"channel": "sms", "content": map[string]any{"body": "Hi"}, "audience": map[string]any{"addresses": []string{"+34600000009"}}})
	if r.status != 500 || r.errCode() != "internal" || strings.Contains(r.raw, "queue down") {
		t.Errorf("send with queue down = %d %s, want 500 internal without details", r.status, r.raw)
	}
	list := e.must(200, "GET", "/v1/notifications?status=queued", e.admin, nil)
	if len(list.body["items"].([]any)) != 1 {
		t.Errorf("queued notifications after a failed enqueue = %s, want only the earlier one", list.raw)
	}
	// It is recorded as failed, so anything that did reach the queue is
	// not sent.
	if failed := e.must(200, "GET", "/v1/notifications?status=failed", e.admin, nil); len(failed.body["items"].([]any)) != 1 {
		t.Errorf("failed notifications = %s, want the one whose enqueue failed", failed.raw)
	}
}

// TestOpenAPIMatchesRoutes keeps the published document and the code in
// step: every route is documented and every documented operation exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "patch":
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	var routed []string
	for _, rt := range (&Server{}).routes() {
		// "/{$}" is the path "/" and nothing under it.
		routed = append(routed, strings.TrimSuffix(rt.pattern, "{$}"))
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if diff := cmp.Diff(routed, documented); diff != "" {
		t.Errorf("routes (-code +openapi.json):\n%s", diff)
	}
}

// TestLogsCarryNoPersonalData sends personal data through the API and checks
// that the JSON logs carry ids only.
func TestLogsCarryNoPersonalData(t *testing.T) {
	var logs syncBuffer
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	api := testServer(store, &fakeQueue{}, deps{}, Options{Outbox: store, Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	srv := httptest.NewServer(api)
	defer srv.Close()
	e := &env{t: t, srv: srv, store: store, queue: &fakeQueue{}}
	key := e.key("ws1", "k1", notify.ScopeAdmin)
	e.must(200, "PUT", "/v1/users/p1", key, map[string]any{"name": "Secret Name", "email": "secret.person@example.com", "phone": "+34600111222"})
	e.must(422, "PUT", "/v1/users/p1", key, map[string]any{"email": "not-an-email@", "phone": "+34999"})
	e.must(202, "POST", "/v1/notifications", key, map[string]any{"channel": "sms", "content": map[string]any{"body": "Secret body text"}, "audience": map[string]any{"addresses": []string{"+34600333444"}}})
	e.must(202, "POST", "/v1/notifications", key, map[string]any{"channel": "email", "content": map[string]any{"title": "Secret title", "body": "Secret body text"}, "audience": map[string]any{"userIds": []string{"p1"}}})
	out := logs.String()
	if !strings.Contains(out, `"msg":"request"`) {
		t.Fatalf("no request logs captured: %s", out)
	}
	for _, secret := range []string{"secret.person", "example.com", "600111222", "600333444", "Secret", "not-an-email"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestPathIDsAndTypeErrors(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/v1/notifications/01ABC%23D%2301", "/v1/users/a%23b", "/v1/templates/..", "/v1/users/u1/devices/x%20y"} {
		method := "GET"
		if strings.Contains(path, "devices") {
			method = "DELETE"
		}
		if r := e.do(method, path, e.admin, nil); r.status != 404 || r.errCode() != "not_found" {
			t.Errorf("%s %s = %d %s, want 404 not_found", method, path, r.status, r.raw)
		}
	}
	tests := []struct {
		body, field, problem string
	}{
		{`{"channel": 5, "content": {"body": "x"}, "audience": {"userIds": ["u1"]}}`, "channel", "must be a string"},
		{`{"channel": "sms", "urgent": "yes", "content": {"body": "x"}, "audience": {"userIds": ["u1"]}}`, "urgent", "must be a boolean"},
		{`{"channel": "sms", "content": {"body": "x"}, "audience": {"userIds": "u1"}}`, "audience.userIds", "must be an array"},
		{`{"channel": "sms", "scheduleAt": "tomorrow", "content": {"body": "x"}, "audience": {"userIds": ["u1"]}}`, "body", "a time is not in RFC 3339 format, such as 2026-12-01T09:00:00Z"},
	}
	for _, tt := range tests {
		r := e.do("POST", "/v1/notifications", e.admin, tt.body)
		details, _ := r.body["error"].(map[string]any)["details"].([]any)
		var problem string
		if len(details) > 0 {
			problem, _ = details[0].(map[string]any)["problem"].(string)
		}
		if r.status != 422 || r.errField() != tt.field || problem != tt.problem {
			t.Errorf("POST %s = %d field %q problem %q, want 422 %q %q", tt.body, r.status, r.errField(), problem, tt.field, tt.problem)
		}
	}
}

func TestTemplateSizeLimits(t *testing.T) {
	e := newEnv(t)
	variations := map[string]any{}
	for i := 0; i < 30; i++ {
		variations[fmt.Sprintf("x-l%d", i)] = map[string]string{"body": strings.Repeat("é", 9000)}
	}
	tpl := map[string]any{"name": "Big", "channel": "sms", "body": "b", "variations": variations}
	if r := e.do("POST", "/v1/templates", e.admin, tpl); r.status != 422 || r.errField() != "body" {
		t.Errorf("oversized template = %d field %q, want 422 on body", r.status, r.errField())
	}
	many := map[string]any{}
	for i := 0; i < 51; i++ {
		many[fmt.Sprintf("x-l%d", i)] = map[string]string{"body": "b"}
	}
	if r := e.do("POST", "/v1/templates", e.admin, map[string]any{"name": "Many", "channel": "sms", "body": "b", "variations": many}); r.status != 422 {
		t.Errorf("51 variations = %d, want 422", r.status)
	}
}

// TestEveryRoute checks the error contract on every route of the table: no
// key → 401; for routes that take a body, malformed JSON → 400 and an
// oversized body → 413, writing nothing; unknown ids → 404.
func TestEveryRoute(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/known", e.admin, map[string]any{"name": "K"})
	tpl := e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "T", "channel": "sms", "body": "b"})
	before := e.must(200, "GET", "/v1/users/known", e.admin, nil).raw
	ids := map[string]string{"id": "known", "deviceId": "dev_1"}
	big := `{"name": "` + strings.Repeat("a", 1100<<10) + `"}`
	for _, rt := range (&Server{}).routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		if strings.Contains(path, "/templates/") {
			ids["id"] = tpl.body["id"].(string)
		} else {
			ids["id"] = "known"
		}
		concrete := path
		unknown := path
		for name, v := range ids {
			concrete = strings.ReplaceAll(concrete, "{"+name+"}", v)
			unknown = strings.ReplaceAll(unknown, "{"+name+"}", "nope-"+name)
		}
		if !rt.public {
			if r := e.do(method, concrete, "", nil); r.status != 401 || r.errCode() != "unauthorized" {
				t.Errorf("%s without a key = %d %q, want 401", rt.pattern, r.status, r.errCode())
			}
		}
		takesBody := (method == "POST" || method == "PUT") && !strings.HasSuffix(path, "/cancel") && !strings.HasSuffix(path, "/pause") && !strings.HasSuffix(path, "/resume")
		if strings.HasSuffix(path, "/file") {
			// A file, not JSON, to a signed URL: without the signature
			// nothing is looked at.
			if r := e.do(method, unknown, e.admin, big); r.status != 403 {
				t.Errorf("%s unsigned = %d %q, want 403", rt.pattern, r.status, r.errCode())
			}
			continue
		}
		if takesBody {
			if r := e.do(method, concrete, e.admin, `{"name": `); r.status != 400 || r.errCode() != "bad_request" {
				t.Errorf("%s with malformed JSON = %d %q, want 400", rt.pattern, r.status, r.errCode())
			}
			if r := e.do(method, concrete, e.admin, big); r.status != 413 || r.errCode() != "payload_too_large" {
				t.Errorf("%s with an oversized body = %d %q, want 413", rt.pattern, r.status, r.errCode())
			}
		}
		if unknown != path && rt.pattern != "PUT /v1/users/{id}" && strings.Contains(path, "{") {
			body := any(nil)
			if method == "POST" || method == "PUT" {
				body = map[string]any{}
			}
			r := e.do(method, unknown, e.admin, body)
			if r.status != 404 && !(r.status == 422 && method != "GET" && method != "DELETE") {
				t.Errorf("%s with an unknown id = %d %q, want 404 (or 422 for an invalid body)", rt.pattern, r.status, r.errCode())
			}
		}
	}
	if after := e.must(200, "GET", "/v1/users/known", e.admin, nil).raw; after != before {
		t.Errorf("rejected requests changed the user:\n%s\n%s", before, after)
	}
	if r := e.must(200, "GET", "/v1/notifications", e.admin, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("rejected requests created notifications: %s", r.raw)
	}
}

func TestVAPIDPublicKey(t *testing.T) {
	e := newEnv(t)
	if r := e.do("GET", "/v1/webpush/vapid-public-key", e.admin, nil); r.status != 503 || r.errCode() != "not_configured" || !strings.Contains(r.raw, "HERALD_VAPID_PUBLIC_KEY") {
		t.Errorf("unconfigured = %d %s, want 503 saying how to configure it", r.status, r.raw)
	}
	srv := httptest.NewServer(testServer(e.store, e.queue, deps{}, Options{Config: Config{VAPIDPublicKey: "BPub"}}))
	defer srv.Close()
	e.srv = srv
	if r := e.must(200, "GET", "/v1/webpush/vapid-public-key", e.admin, nil); r.body["publicKey"] != "BPub" {
		t.Errorf("configured = %s", r.raw)
	}
}

// TestUncleanPaths: a path a ServeMux would clean (//v1/…, dot segments)
// answers 404 in the API's error shape, from the API itself and from a
// mux in front of it wrapped in CleanPathsOnly (the local server's), never
// an HTML 307 that a client would follow, resending its key and body.
func TestUncleanPaths(t *testing.T) {
	e := newEnv(t)
	root := http.NewServeMux()
	root.Handle("/webhooks/whatsapp", http.NotFoundHandler())
	root.Handle("/", e.srv.Config.Handler)
	handlers := map[string]http.Handler{"api": e.srv.Config.Handler, "local root": CleanPathsOnly(root)}
	for name, h := range handlers {
		for _, tt := range []struct{ method, path string }{
			{"GET", "//v1/health"},
			{"GET", "/v1//health"},
			{"GET", "/v1/./health"},
			{"GET", "/x/../v1/health"},
			{"POST", "//v1/notifications"},
			{"DELETE", "/v1/users/../keys/k1"},
			{"POST", "//webhooks/whatsapp"},
		} {
			req := httptest.NewRequest(tt.method, "http://herald.example"+tt.path, strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer "+e.admin)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var body struct {
				Error struct{ Code, Message string }
			}
			err := json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != http.StatusNotFound || err != nil || body.Error.Code != notify.CodeNotFound || rec.Header().Get("Location") != "" {
				t.Errorf("%s: %s %s = %d %v %s, want 404 %s and no redirect", name, tt.method, tt.path, rec.Code, rec.Header(), rec.Body, notify.CodeNotFound)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://herald.example/v1/health", nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: GET /v1/health = %d, want 200", name, rec.Code)
		}
	}
}
