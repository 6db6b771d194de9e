package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
)

func TestCreateUploadValidates(t *testing.T) {
	e := newEnv(t)
	sms := e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "T", "channel": "sms", "body": "Hi {{name}}"})
	push := e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "P", "channel": "push", "title": "t", "body": "b"})
	smsID, pushID := sms.body["id"].(string), push.body["id"].(string)
	cases := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"templateId": smsID, "channel": "push", "filename": "a.csv"}, "channel"},
		{map[string]any{"channel": "sms", "filename": "a.csv"}, "templateId"},
		{map[string]any{"templateId": "nope", "channel": "sms", "filename": "a.csv"}, "templateId"},
		{map[string]any{"templateId": pushID, "channel": "sms", "filename": "a.csv"}, "templateId"},
		{map[string]any{"templateId": smsID, "channel": "sms"}, "filename"},
		{map[string]any{"templateId": smsID, "channel": "sms", "filename": "../a.csv"}, "filename"},
		{map[string]any{"templateId": smsID, "channel": "sms", "filename": "a.csv", "defaultRegion": "Spain"}, "defaultRegion"},
		{map[string]any{"purpose": "users", "templateId": smsID, "filename": "a.csv"}, "purpose"},
		{map[string]any{"purpose": "everything", "filename": "a.csv"}, "purpose"},
	}
	for _, c := range cases {
		if r := e.do("POST", "/v1/uploads", e.admin, c.body); r.status != 422 || r.errField() != c.field {
			t.Errorf("POST %v = %d %q, want 422 on %s", c.body, r.status, r.errField(), c.field)
		}
	}
	// Another workspace's template is no template.
	if r := e.do("POST", "/v1/uploads", e.other, map[string]any{"templateId": smsID, "channel": "sms", "filename": "a.csv"}); r.status != 422 {
		t.Errorf("another workspace's template = %d", r.status)
	}
	if r := e.must(200, "GET", "/v1/uploads", e.admin, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("rejected requests created uploads: %s", r.raw)
	}
}

func TestUploadLifecycle(t *testing.T) {
	e := newEnv(t)
	tpl := e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "T", "channel": "sms", "body": "Hi {{name}}"})
	up := e.must(201, "POST", "/v1/uploads", e.admin, map[string]any{
		"templateId": tpl.body["id"], "channel": "sms", "filename": "clientes.csv", "defaultRegion": "es", "category": "billing"})
	id := up.body["id"].(string)
	if up.body["status"] != "waiting" || up.body["defaultRegion"] != "ES" || up.body["purpose"] != "send" || up.body["filename"] != "clientes.csv" {
		t.Errorf("created upload = %s", up.raw)
	}
	u, err := url.Parse(up.body["uploadUrl"].(string))
	if err != nil || u.Path != "/v1/uploads/"+id+"/file" || u.Host != strings.TrimPrefix(e.srv.URL, "http://") || u.Query().Get("signature") == "" {
		t.Fatalf("uploadUrl = %v (%v)", up.body["uploadUrl"], err)
	}
	fileURL := u.RequestURI()
	if exp, _ := time.Parse(time.RFC3339, up.body["expiresAt"].(string)); time.Until(exp) < 50*time.Minute {
		t.Errorf("expiresAt = %v, want about an hour away", exp)
	}

	// The file goes to the upload URL, which is its own credential (as
	// S3's presigned URLs are); altered, it is refused.
	file := "phone,name\n600000001,Ana\n"
	for _, bad := range []string{u.Path, strings.Replace(fileURL, "ws1", "ws2", 1), fileURL[:len(fileURL)-1] + "0"} {
		if r := e.do("PUT", bad, "", file); r.status != 403 {
			t.Errorf("PUT %s = %d, want 403", bad, r.status)
		}
	}
	if len(e.received) != 0 {
		t.Fatal("a refused PUT started ingestion")
	}
	r := e.do("PUT", fileURL, "", file, "Content-Type", "text/csv")
	if r.status != 202 || r.body["id"] != id {
		t.Fatalf("PUT file = %d %s", r.status, r.raw)
	}
	select {
	case key := <-e.received:
		if key != ingest.ObjectKey("ws1", id) {
			t.Errorf("received %q", key)
		}
		body, _, err := e.blobs.Open(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(body)
		body.Close()
		if string(b) != file {
			t.Errorf("stored %q", b)
		}
	default:
		t.Fatal("ingestion was not started")
	}

	// Ingestion's outcome shows on GET; a queued send reads completed once
	// its notification is done.
	n := notify.Notification{WorkspaceID: "ws1", ID: "N1", Channel: notify.ChannelSMS, Source: notify.SourceSpreadsheet,
		Body: "Hi {{name}}", Route: "home", Status: notify.StatusQueued, Audience: notify.Audience{Kind: "upload", Count: 1, UploadID: id},
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond), UpdatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := e.store.CreateNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateUpload(context.Background(), "ws1", id, func(u *notify.Upload) error {
		u.Status, u.NotificationID, u.Rows = notify.UploadQueued, "N1", notify.UploadRows{Total: 2, Valid: 1, Invalid: 1}
		u.Errors = []notify.RowError{{Row: 3, Column: "phone", Message: "not a valid phone number"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := e.must(200, "GET", "/v1/uploads/"+id, e.admin, nil)
	if got.body["status"] != "queued" || got.body["notificationId"] != "N1" || got.body["rows"].(map[string]any)["invalid"] != 1.0 ||
		len(got.body["errors"].([]any)) != 1 || got.body["uploadUrl"] != nil {
		t.Errorf("GET = %s", got.raw)
	}
	if r := e.do("PUT", fileURL, "", file); r.status != 409 {
		t.Errorf("a second file for a queued upload = %d, want 409", r.status)
	}
	if _, err := e.store.SetNotificationStatus(context.Background(), "ws1", "N1", notify.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	if got := e.must(200, "GET", "/v1/uploads/"+id, e.admin, nil); got.body["status"] != "completed" {
		t.Errorf("after the send completed: %s", got.raw)
	}
	list := e.must(200, "GET", "/v1/uploads", e.admin, nil)
	if items := list.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["status"] != "completed" {
		t.Errorf("list = %s", list.raw)
	}
	if r := e.must(200, "GET", "/v1/uploads", e.other, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("another workspace lists %s", r.raw)
	}
}

func TestUploadFileLimits(t *testing.T) {
	e := newEnv(t)
	up := e.must(201, "POST", "/v1/uploads", e.admin, map[string]any{"purpose": "users", "filename": "users.xlsx"})
	id := up.body["id"].(string)
	u, _ := url.Parse(up.body["uploadUrl"].(string))
	fileURL := u.RequestURI()
	big := strings.Repeat("x", 1<<20+1)
	if r := e.do("PUT", fileURL, "", big); r.status != 413 || !strings.Contains(r.body["error"].(map[string]any)["message"].(string), "MB") {
		t.Errorf("oversized file = %d %s", r.status, r.raw)
	}
	if len(e.received) != 0 {
		t.Error("an oversized file started ingestion")
	}
	if _, err := e.blobs.Stat(context.Background(), ingest.ObjectKey("ws1", id)); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("an oversized file was stored: %v", err)
	}
	// Past its expiry an upload takes no file.
	if _, err := e.store.UpdateUpload(context.Background(), "ws1", id, func(u *notify.Upload) error {
		u.ExpiresAt = time.Now().Add(-time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("PUT", fileURL, "", "id\nc1\n"); r.status != 409 {
		t.Errorf("expired upload = %d %s", r.status, r.raw)
	}
}

func TestReportOfAnAPISend(t *testing.T) {
	e := newEnv(t)
	sent := e.must(202, "POST", "/v1/notifications", e.admin, map[string]any{
		"channel": "sms", "content": map[string]any{"body": "Code 1"}, "audience": map[string]any{"addresses": []string{"+34600000001", "+34600000002"}}})
	nid := sent.body["id"].(string)
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := e.store.RecordDeliveries(context.Background(), []notify.Delivery{
		{WorkspaceID: "ws1", NotificationID: nid, Key: "addr#+34600000001", Address: "+34600000001", Channel: notify.ChannelSMS,
			Status: notify.DeliverySent, ProviderMessageID: "=cmd", Chunk: nid + ":0", CreatedAt: now, UpdatedAt: now},
	}); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/v1/notifications/"+nid+"/report?format=csv", e.admin, nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(r.header.Get("Content-Disposition"), "herald-"+nid+".csv") {
		t.Fatalf("report = %d %v", r.status, r.header)
	}
	// A number that starts with + and is followed by other cells gets a
	// quote too: a program that splits on ; reads the cells after it as
	// part of it.
	want := "\ufeffuser_id,address,channel,status,reason,provider_message_id,updated_at\r\n,'+34600000001,sms,sent,,'=cmd," + now.Format(time.RFC3339) + "\r\n"
	if strings.ReplaceAll(r.raw, "\r\n", "\n") != strings.ReplaceAll(want, "\r\n", "\n") {
		t.Errorf("report:\n%q\nwant\n%q", r.raw, want)
	}
	if r := e.do("GET", "/v1/notifications/"+nid+"/report?format=pdf", e.admin, nil); r.status != 422 || r.errField() != "format" {
		t.Errorf("format=pdf = %d %q", r.status, r.errField())
	}
	if r := e.do("GET", "/v1/notifications/"+nid+"/report", e.other, nil); r.status != 404 {
		t.Errorf("another workspace's report = %d", r.status)
	}
	x := e.do("GET", "/v1/notifications/"+nid+"/report?format=xlsx", e.admin, nil)
	if x.status != 200 || !strings.HasPrefix(x.raw, "PK") {
		t.Errorf("xlsx report = %d %q", x.status, x.raw[:min(len(x.raw), 20)])
	}
}

func TestUploadAudienceExplainsTheUploadRoute(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/notifications", e.admin, map[string]any{"channel": "sms", "content": map[string]any{"body": "x"}, "audience": map[string]any{"uploadId": "U1"}})
	if r.status != 422 || r.errField() != "audience.uploadId" || !strings.Contains(r.raw, "POST /v1/uploads") {
		t.Errorf("uploadId audience = %d %s", r.status, r.raw)
	}
}

// TestUploadURLIsThePublicURL checks that the local route's upload URLs,
// which are credentials, start with the configured public URL whatever
// the request says its host is: a forged Host would otherwise have them
// point at the forger's server.
func TestUploadURLIsThePublicURL(t *testing.T) {
	e := newEnv(t)
	tpl := e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "T", "channel": "sms", "body": "Hi {{name}}"})
	body := `{"templateId": "` + tpl.body["id"].(string) + `", "channel": "sms", "filename": "a.csv"}`
	create := func(srv string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", srv+"/v1/uploads", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "evil.example"
		req.Header.Set("Authorization", "Bearer "+e.admin)
		req.Header.Set("X-Forwarded-Host", "evil.example")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("Forwarded", "host=evil.example;proto=https")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			UploadURL string `json:"uploadUrl"`
		}
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, out.UploadURL
	}
	if status, got := create(e.srv.URL); status != 201 || !strings.HasPrefix(got, e.srv.URL+"/v1/uploads/") {
		t.Errorf("POST /v1/uploads with Host evil.example = %d, uploadUrl %q, want one under %s", status, got, e.srv.URL)
	}

	// Another public URL, with a path (a reverse proxy's), is used as
	// configured; none is a configuration error, not the Host.
	for _, tt := range []struct {
		public, want string
		status       int
	}{
		{"https://herald.example.com/api/", "https://herald.example.com/api/v1/uploads/", 201},
		{"", "", 503},
	} {
		api := testServer(e.store, e.queue, deps{}, Options{Uploads: &Uploads{Blobs: e.blobs, URLSecret: []byte("s"), PublicURL: tt.public}})
		srv := httptest.NewServer(api)
		status, got := create(srv.URL)
		srv.Close()
		if status != tt.status || !strings.HasPrefix(got, tt.want) {
			t.Errorf("POST /v1/uploads, public URL %q = %d, uploadUrl %q, want %d and one under %q", tt.public, status, got, tt.status, tt.want)
		}
	}
}

// TestClosedUploadTakesNoFile checks that an upload ingestion closed (a
// file that unpacked to far more than any spreadsheet) refuses another
// file with a message, and starts no ingestion, while an upload rejected
// for anything else takes a fixed one.
func TestClosedUploadTakesNoFile(t *testing.T) {
	e := newEnv(t)
	for _, closed := range []bool{false, true} {
		up := e.must(201, "POST", "/v1/uploads", e.admin, map[string]any{"purpose": "users", "filename": "users.xlsx"})
		id := up.body["id"].(string)
		u, err := url.Parse(up.body["uploadUrl"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.UpdateUpload(context.Background(), "ws1", id, func(u *notify.Upload) error {
			u.Status, u.UpdatedAt = notify.UploadRejected, time.Now().UTC().Truncate(time.Millisecond)
			if closed {
				u.ExpiresAt = u.UpdatedAt
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for len(e.received) > 0 {
			<-e.received
		}
		r := e.do("PUT", u.RequestURI(), "", "id\nu1\n")
		switch {
		case closed && (r.status != 409 || !strings.Contains(r.raw, "takes no other file") || len(e.received) != 0):
			t.Errorf("PUT to a closed upload = %d %s (%d ingestions started), want 409 saying it takes no other file, and none", r.status, r.raw, len(e.received))
		case !closed && (r.status != 202 || len(e.received) != 1):
			t.Errorf("PUT to a rejected upload = %d %s (%d ingestions started), want 202 and one", r.status, r.raw, len(e.received))
		}
	}
}

// closingStore closes an upload (as a file refused as a whole does) just
// before the next UpdateUpload of it, standing for a PUT that loses a race
// with another PUT's zip bomb.
type closingStore struct {
	*boltstore.Store
	close string
}

func (s *closingStore) UpdateUpload(ctx context.Context, ws, id string, fn func(*notify.Upload) error) (notify.Upload, error) {
	if id == s.close {
		s.close = ""
		if _, err := s.Store.UpdateUpload(ctx, ws, id, func(u *notify.Upload) error {
			u.Status, u.UpdatedAt = notify.UploadRejected, time.Now().UTC().Truncate(time.Millisecond)
			u.ExpiresAt = u.UpdatedAt
			return nil
		}); err != nil {
			return notify.Upload{}, err
		}
	}
	return s.Store.UpdateUpload(ctx, ws, id, fn)
}

// TestUploadClosedWhilePut: a file put to a rejected upload that another
// file closes meanwhile is refused, and the upload stays closed rather
// than going back to waiting for this file.
func TestUploadClosedWhilePut(t *testing.T) {
	e := newEnv(t)
	store := &closingStore{Store: e.store}
	ingested := 0
	uploads := &Uploads{Blobs: e.blobs, URLSecret: []byte("test-secret"), Ingest: ingest.Config{MaxBytes: 1 << 20},
		Received: func(context.Context, string) error { ingested++; return nil }}
	srv := httptest.NewServer(testServer(store, e.queue, deps{}, Options{Uploads: uploads}))
	defer srv.Close()
	uploads.PublicURL = srv.URL
	e.srv = srv
	up := e.must(201, "POST", "/v1/uploads", e.admin, map[string]any{"purpose": "users", "filename": "users.csv"})
	id := up.body["id"].(string)
	u, err := url.Parse(up.body["uploadUrl"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateUpload(context.Background(), "ws1", id, func(u *notify.Upload) error {
		u.Status, u.UpdatedAt = notify.UploadRejected, time.Now().UTC().Truncate(time.Millisecond)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	store.close = id
	r := e.do("PUT", u.RequestURI(), "", "id\nu1\n")
	if r.status != 409 || !strings.Contains(r.raw, "takes no other file") || ingested != 0 {
		t.Errorf("PUT while another file closes the upload = %d %s (%d ingestions), want 409 saying it takes no other file, and none", r.status, r.raw, ingested)
	}
	got, err := e.store.GetUpload(context.Background(), "ws1", id)
	if err != nil {
		t.Fatal(err)
	}
	if !ingest.Closed(got) {
		t.Errorf("upload after the PUT = %s (expires %s, updated %s), want still closed", got.Status, got.ExpiresAt, got.UpdatedAt)
	}
}
