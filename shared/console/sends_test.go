package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/console"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/spreadsheet"
	"github.com/heraldhq/herald/shared/upload"
)

// sendsEnv is newEnv's console with spreadsheet uploads: files in a
// blob store, the keys of stored files on received, and an ingester to
// run on them.
type sendsEnv struct {
	*env
	blobs    *blobfs.Store
	uploads  *upload.Service
	received chan string
	ingester *ingest.Ingester
	// campaigns runs the sends the console scheduled (the Undo's grace).
	campaigns *campaign.Service
}

// uploadMax is the largest file the tests' uploads take.
const uploadMax = 4 << 10

func newSendsEnv(t *testing.T, grace time.Duration) *sendsEnv {
	t.Helper()
	e := &sendsEnv{env: newEnv(t, grace), received: make(chan string, 10)}
	blobs, err := blobfs.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	e.blobs = blobs
	ids := &notify.IDs{}
	log := slog.New(slog.DiscardHandler)
	sends := &send.Sender{Store: e.store, Dispatch: e.queue, Steps: e.steps, IDs: ids, Now: e.clock.Now, Log: log}
	e.uploads = &upload.Service{Store: e.store, Blobs: blobs, URLSecret: []byte("test secret"), PublicURL: "http://herald.test",
		Ingest: ingest.Config{MaxBytes: uploadMax, DefaultRegion: "ES"}, IDs: ids, Now: e.clock.Now,
		Received: func(_ context.Context, key string) error { e.received <- key; return nil }}
	e.ingester = &ingest.Ingester{Store: e.store, Blobs: blobs, Dispatch: ingestQueue{e.queue}, Config: e.uploads.Ingest, IDs: ids, Now: e.clock.Now, Log: log}
	e.campaigns = &campaign.Service{Store: e.store, Scheduler: e.sched, Sender: sends, IDs: ids, Now: e.clock.Now, Log: log}
	svc := console.Services{Store: e.store, Operators: e.ops, Users: e.users, Sends: sends, Campaigns: e.campaigns,
		Reports: ingest.Reporter{Store: e.store, Blobs: blobs}, Uploads: e.uploads}
	if grace == 0 {
		grace = -1
	}
	e.srv.Close()
	e.srv = httptest.NewServer(console.New(svc, console.Options{Now: e.clock.Now, Log: log, Grace: grace,
		Prices: map[notify.Channel]float64{notify.ChannelSMS: 0.01}, UploadOrigin: "https://uploads.example"}))
	t.Cleanup(e.srv.Close)
	return e
}

// ingestQueue is the test queue as the ingester's dispatch queue, which
// only sends.
type ingestQueue struct{ *queue }

func (q ingestQueue) SendDelayed(ctx context.Context, bodies [][]byte, _ time.Duration) error {
	return q.Send(ctx, bodies)
}
func (ingestQueue) Receive(context.Context, int, time.Duration) ([]notify.QueueMessage, error) {
	return nil, errors.New("not a consumer")
}
func (ingestQueue) Delete(context.Context, string) error { return nil }
func (ingestQueue) ChangeVisibility(context.Context, string, time.Duration) error {
	return nil
}

// template saves a published template in ws.
func (e *sendsEnv) template(ws, id string, ch notify.Channel, body string, vars ...string) notify.Template {
	e.t.Helper()
	t := notify.Template{WorkspaceID: ws, ID: id, Name: "Template " + id, Channel: ch, Body: body, Version: 1, Variables: vars,
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if ch == notify.ChannelEmail {
		t.Email = &notify.EmailExtras{Subject: "Subject of " + id}
	}
	if err := e.store.SaveTemplate(context.Background(), t); err != nil {
		e.t.Fatal(err)
	}
	return t
}

// ingest runs the ingester on the next stored file.
func (e *sendsEnv) ingest() {
	e.t.Helper()
	select {
	case key := <-e.received:
		if err := e.ingester.Ingest(context.Background(), key); err != nil {
			e.t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		e.t.Fatal("no file was stored for ingestion")
	}
}

// postJSON posts a form as the script does (the token in a header) and
// asks for JSON.
func (b *browser) postJSON(path string, form url.Values) page {
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	return b.do(req)
}

func (b *browser) getJSON(path string) page {
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	req.Header.Set("Accept", "application/json")
	return b.do(req)
}

// postFile posts New send's file form without the script: its fields in
// order (name, value), then the file.
func (b *browser) postFile(path string, fields [][2]string, filename string, file []byte) page {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	if filename != "-" {
		fw, err := mw.CreateFormFile("file", filename)
		if err != nil {
			b.e.t.Fatal(err)
		}
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func TestSendsSampleSheetHeaders(t *testing.T) {
	e := newSendsEnv(t, 0)
	e.template("ws_a", "tsms", notify.ChannelSMS, "Hola {{name}}, tu cita es el {{date}}", "name", "date")
	e.template("ws_a", "tmail", notify.ChannelEmail, "Your bill is ready")
	e.template("ws_a", "twa", notify.ChannelWhatsApp, "Code {{code}}", "code")
	e.template("ws_a", "tpush", notify.ChannelPush, "Hi {{name}}", "name")
	e.template("ws_b", "tother", notify.ChannelSMS, "Hi {{name}}", "name")
	b := e.as("viewer@a.example")

	tests := []struct {
		template string
		want     [][]string
	}{
		{"tsms", [][]string{{"phone", "date", "name"}, {"34600000000", "Example date", "Example name"}}},
		{"tmail", [][]string{{"email"}, {"ana@example.com"}}},
		{"twa", [][]string{{"phone", "code"}, {"34600000000", "Example code"}}},
	}
	for _, tt := range tests {
		for _, format := range []spreadsheet.Format{spreadsheet.CSV, spreadsheet.XLSX} {
			p := b.get("/sends/sample." + string(format) + "?template=" + tt.template)
			if p.status != http.StatusOK || !strings.Contains(p.header.Get("Content-Disposition"), "herald-sample-template-"+tt.template+"."+string(format)) {
				t.Fatalf("sample %s of %s = %d %v", format, tt.template, p.status, p.header)
			}
			r, err := spreadsheet.Open(bytes.NewReader([]byte(p.body)), int64(len(p.body)), spreadsheet.Limits{})
			if err != nil {
				t.Fatalf("sample %s of %s: %v", format, tt.template, err)
			}
			got := [][]string{r.Header()}
			for {
				cells, _, err := r.Next()
				if err != nil {
					break
				}
				got = append(got, cells)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sample %s of %s (-want +got):\n%s", format, tt.template, diff)
			}
		}
	}
	// The page says the same columns, and offers both files.
	want(t, b.get("/sends/new?template=tsms"), http.StatusOK, "<code>phone</code>", "<td>B</td><td><code>date</code>", "<td>C</td><td><code>name</code>",
		`href="/sends/sample.csv?template=tsms"`, `href="/sends/sample.xlsx?template=tsms"`, "Template tsms", "Hola {{name}}, tu cita es el {{date}}")
	// A push template is not sent here; another workspace's is not found.
	want(t, b.get("/sends/sample.csv?template=tpush"), http.StatusUnprocessableEntity, "send it from Users")
	want(t, b.get("/sends/sample.csv?template=tother"), http.StatusNotFound)
	want(t, b.get("/sends/new?template=tother"), http.StatusNotFound)
	if p := b.get("/sends/new"); strings.Contains(p.body, "tpush") || strings.Contains(p.body, "tother") || !strings.Contains(p.body, "Template twa") {
		t.Errorf("the gallery shows a push template or another workspace's, or lacks WhatsApp's:\n%s", p.body)
	}
}

func TestSendsNumberList(t *testing.T) {
	e := newSendsEnv(t, 10*time.Second)
	e.template("ws_a", "tsms", notify.ChannelSMS, "Hola, tu cita es el {{date}}", "date")
	b := e.as("editor@a.example")
	b.get("/sends/new?template=tsms")

	// Problems come back on the form with what was typed.
	tests := []struct {
		name      string
		addresses string
		date      string
		texts     []string
	}{
		{"empty", " \n ,; ", "lunes", []string{"type at least one"}},
		{"not a number", "+34600000001, +34600000002;\nhola\n\n+34600000003", "lunes",
			[]string{"“hola” (3rd in the list): must be in international format", "+34600000002;\nhola", "Some of the numbers cannot be sent to"}},
		{"no value", "+34600000001", "", []string{"the message needs {{date}}"}},
	}
	for _, tt := range tests {
		p := b.post("/sends/review", url.Values{"template": {"tsms"}, "addresses": {tt.addresses}, "var.date": {tt.date}})
		wantText(t, p, http.StatusUnprocessableEntity, tt.texts...)
	}

	// Two numbers (one typed twice, spelt differently) and a value.
	p := b.post("/sends/review", url.Values{"template": {"tsms"}, "addresses": {"+34600000001; +34 600 000 001\n+34600000002"}, "var.date": {"lunes"}})
	wantText(t, p, http.StatusOK, "This message goes to 2 recipients", "+34600000001, +34600000002", "Hola, tu cita es el lunes",
		"Once sent, this action cannot be undone.", "You have 10 seconds after confirming to Undo it.", "Send to 2 recipients")
	// Edit the list: it comes back as typed.
	wantText(t, b.post("/sends/review", hiddenFields(t, p.body, "edit", "1")), http.StatusOK, "+34600000001; +34 600 000 001\n+34600000002", `value="lunes"`)

	p = b.post("/send/confirm", hiddenFields(t, p.body))
	m := firstGroup(`^/history/([0-9A-Z]{26})\?sent=1$`, p.loc)
	if p.status != http.StatusSeeOther || m == "" {
		t.Fatalf("confirm = %d %q\n%s", p.status, p.loc, p.body)
	}
	n, err := e.store.GetNotification(context.Background(), "ws_a", m)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != notify.StatusScheduled || n.Audience.Count != 2 || n.Audience.Kind != "addresses" || n.TemplateID != "tsms" ||
		n.Origin != notify.OriginConsole || n.Variables["date"] != "lunes" || n.CreatedBy != "operator editor@a.example" {
		t.Errorf("the list's send: %+v", n)
	}
	want(t, b.get(p.loc), http.StatusOK, "Undo")
	// The grace period over, the send runs, to both numbers.
	e.clock.Add(11 * time.Second)
	run, err := e.campaigns.Run(context.Background(), campaign.Invocation{WorkspaceID: "ws_a", CampaignID: campaign.SendCampaignID(n.ID), ScheduledAt: *n.ScheduleAt})
	if err != nil || run.Status != notify.RunSucceeded || run.Recipients != 2 {
		t.Fatalf("the scheduled run: %+v %v", run, err)
	}
	a := b.signedInAudit(t)
	if !strings.Contains(a, "notification.send") || !strings.Contains(a, "to 3 typed addresses") {
		t.Errorf("the audit log lacks the send:\n%s", a)
	}
}

// signedInAudit is the workspace's audit log as its admin sees it.
func (b *browser) signedInAudit(t *testing.T) string {
	t.Helper()
	p := b.e.as("admin@a.example").get("/settings/audit")
	want(t, p, http.StatusOK)
	return p.body
}

// hiddenFields are the hidden inputs of the page's confirming form, and
// extra name, value pairs.
func hiddenFields(t *testing.T, body string, extra ...string) url.Values {
	t.Helper()
	start := strings.Index(body, `action="/send/confirm"`)
	if start < 0 {
		t.Fatalf("no confirming form:\n%s", body)
	}
	form := body[start : start+strings.Index(body[start:], "</form>")]
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(form, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func TestSendsUploadGoesThroughTheService(t *testing.T) {
	e := newSendsEnv(t, 0)
	e.template("ws_a", "tsms", notify.ChannelSMS, "Hola {{name}}", "name")
	e.template("ws_b", "tother", notify.ChannelSMS, "Hi {{name}}", "name")
	b := e.as("editor@a.example")
	b.get("/sends/new?template=tsms")

	p := b.postJSON("/sends/uploads", url.Values{"template": {"tsms"}, "filename": {"clientes.csv"}})
	var got struct{ ID, UploadURL, StatusURL string }
	if err := json.Unmarshal([]byte(p.body), &got); p.status != http.StatusCreated || err != nil {
		t.Fatalf("POST /sends/uploads = %d %s (%v)", p.status, p.body, err)
	}
	up, err := e.store.GetUpload(context.Background(), "ws_a", got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if up.Status != notify.UploadWaiting || up.TemplateID != "tsms" || up.Channel != notify.ChannelSMS || up.Filename != "clientes.csv" ||
		up.CreatedBy != "operator editor@a.example" || got.StatusURL != "/sends/uploads/"+got.ID {
		t.Errorf("the upload: %+v, answer %+v", up, got)
	}
	// The URL is the service's: signed with its secret, for this upload.
	u, err := url.Parse(got.UploadURL)
	if err != nil || u.Host != "herald.test" || u.Path != "/v1/uploads/"+got.ID+"/file" ||
		u.Query().Get("signature") != e.uploads.Signature("ws_a", got.ID, u.Query().Get("expires")) {
		t.Errorf("upload URL %q is not the service's", got.UploadURL)
	}
	if a := b.signedInAudit(t); !strings.Contains(a, "sends.upload") || !strings.Contains(a, "clientes.csv") {
		t.Errorf("the audit log lacks the upload:\n%s", a)
	}
	// The service's validation, in the API's words; another workspace's
	// template is not found.
	want(t, b.postJSON("/sends/uploads", url.Values{"template": {"tsms"}, "filename": {"a/b.csv"}}), http.StatusUnprocessableEntity, `"field":"filename"`)
	want(t, b.postJSON("/sends/uploads", url.Values{"template": {"tother"}, "filename": {"b.csv"}}), http.StatusNotFound)
	// The CSP lets the script PUT to the uploads' origin.
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://uploads.example;") {
		t.Errorf("CSP %q does not let the script reach the uploads' origin", csp)
	}
}

func TestSendsViewerRefused(t *testing.T) {
	e := newSendsEnv(t, 0)
	e.template("ws_a", "tsms", notify.ChannelSMS, "Hola {{name}}", "name")
	b := e.as("viewer@a.example")
	p := b.get("/sends/new?template=tsms")
	want(t, p, http.StatusOK, "can look but not send", "Download CSV")
	if strings.Contains(p.body, "Send now") {
		t.Errorf("a viewer is offered Send now:\n%s", p.body)
	}
	want(t, b.postJSON("/sends/uploads", url.Values{"template": {"tsms"}, "filename": {"a.csv"}}), http.StatusForbidden)
	want(t, b.postFile("/sends/uploads", [][2]string{{"csrf", b.csrf}, {"template", "tsms"}}, "a.csv", []byte("phone,name\n+34600000001,Ana\n")), http.StatusForbidden)
	want(t, b.post("/sends/review", url.Values{"template": {"tsms"}, "addresses": {"+34600000001"}, "var.name": {"Ana"}}), http.StatusForbidden)
	if len(e.received) != 0 || e.queue.len() != 0 {
		t.Errorf("a viewer's requests stored %d files and queued %d messages", len(e.received), e.queue.len())
	}
}

func TestSendsAnotherWorkspacesUploadIsNotFound(t *testing.T) {
	e := newSendsEnv(t, 0)
	e.template("ws_a", "tsms", notify.ChannelSMS, "Hola {{name}}", "name")
	a := e.as("editor@a.example")
	a.get("/sends/new?template=tsms")
	p := a.postJSON("/sends/uploads", url.Values{"template": {"tsms"}, "filename": {"a.csv"}})
	var got struct{ ID string }
	if err := json.Unmarshal([]byte(p.body), &got); err != nil || got.ID == "" {
		t.Fatalf("POST /sends/uploads = %d %s", p.status, p.body)
	}
	want(t, a.get("/sends/uploads/"+got.ID), http.StatusOK, "a.csv", "Waiting for the file.")
	other := e.as("admin@b.example")
	want(t, other.get("/sends/uploads/"+got.ID), http.StatusNotFound)
	want(t, other.getJSON("/sends/uploads/"+got.ID), http.StatusNotFound, `"code":"not_found"`)
}

func TestSendsFileWithoutScript(t *testing.T) {
	e := newSendsEnv(t, 0)
	e.template("ws_a", "tsms", notify.ChannelSMS, "Hola {{name}}", "name")
	b := e.as("editor@a.example")
	b.get("/sends/new?template=tsms")
	file := []byte("phone,name\n+34600000001,Ana\n+34600000002,Luis\n12345,Eva\n")

	// Without the token first, or with a wrong one, nothing is stored.
	for _, fields := range [][][2]string{
		{{"template", "tsms"}},
		{{"csrf", "not the token"}, {"template", "tsms"}},
	} {
		want(t, b.postFile("/sends/uploads", fields, "clientes.csv", file), http.StatusForbidden, "security token")
	}
	// No file chosen: the form says so.
	want(t, b.postFile("/sends/uploads", [][2]string{{"csrf", b.csrf}, {"template", "tsms"}}, "-", nil), http.StatusUnprocessableEntity, "choose the spreadsheet to send")
	// A flood of fields before the file is refused, not kept.
	flood := [][2]string{{"csrf", b.csrf}}
	for i := range 20 {
		flood = append(flood, [2]string{fmt.Sprintf("f%d", i), strings.Repeat("x", 4000)})
	}
	want(t, b.postFile("/sends/uploads", flood, "clientes.csv", file), http.StatusBadRequest, "more fields")
	// Over the largest file: refused, in words.
	big := append([]byte("phone,name\n"), bytes.Repeat([]byte("+34600000001,Ana\n"), uploadMax/16)...)
	want(t, b.postFile("/sends/uploads", [][2]string{{"csrf", b.csrf}, {"template", "tsms"}}, "big.csv", big), http.StatusRequestEntityTooLarge, "split it")
	if len(e.received) != 0 {
		t.Fatalf("refused forms stored %d files", len(e.received))
	}

	p := b.postFile("/sends/uploads", [][2]string{{"csrf", b.csrf}, {"template", "tsms"}}, `C:\fakepath\clientes.csv`, file)
	id := firstGroup(`^/sends/uploads/([0-9A-Z]{26})$`, p.loc)
	if p.status != http.StatusSeeOther || id == "" {
		t.Fatalf("the file form = %d %q\n%s", p.status, p.loc, p.body)
	}
	e.ingest()
	var v struct {
		Filename     string
		Status       string
		Rows         notify.UploadRows
		Errors       []notify.RowError
		Notification *struct{ Status string }
		History      string
	}
	p = b.getJSON("/sends/uploads/" + id)
	if err := json.Unmarshal([]byte(p.body), &v); err != nil {
		t.Fatalf("%v in %s", err, p.body)
	}
	if v.Filename != "clientes.csv" || v.Status != "queued" || v.Rows != (notify.UploadRows{Total: 3, Valid: 2, Invalid: 1}) ||
		len(v.Errors) != 1 || v.Errors[0].Row != 4 || v.Errors[0].Column != "phone" || v.Notification == nil || v.History == "" {
		t.Errorf("the upload's view: %s", p.body)
	}
	want(t, b.get("/sends/uploads/"+id), http.StatusOK, "Accepted: the valid rows are queued", "<td>4</td><td>phone</td>", "Refresh")
	n, err := e.store.GetNotification(context.Background(), "ws_a", strings.TrimPrefix(v.History, "/history/"))
	if err != nil || n.Audience.Count != 2 || n.CreatedBy != "operator editor@a.example" || n.Origin != notify.OriginConsole {
		t.Errorf("the file's send: %+v %v", n, err)
	}
}

// A file rejected as a whole says so.
func TestSendsFileRejected(t *testing.T) {
	e := newSendsEnv(t, 0)
	e.template("ws_a", "tsms", notify.ChannelSMS, "Hola {{name}}", "name")
	b := e.as("editor@a.example")
	b.get("/sends/new?template=tsms")
	p := b.postFile("/sends/uploads", [][2]string{{"csrf", b.csrf}, {"template", "tsms"}}, "sin-nombre.csv", []byte("phone\n+34600000001\n"))
	id := firstGroup(`^/sends/uploads/([0-9A-Z]{26})$`, p.loc)
	e.ingest()
	want(t, b.get("/sends/uploads/"+id), http.StatusOK, "The file was rejected as a whole: nothing was sent.", "Why the file was rejected", "no column for the template")
}

// firstGroup is the first group of pattern in s, or "".
func firstGroup(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// wantText is want over the page's text with its character references
// read (html/template writes + as &#43;).
func wantText(t *testing.T, p page, status int, texts ...string) {
	t.Helper()
	p.body = html.UnescapeString(p.body)
	want(t, p, status, texts...)
}
