package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

const ws = "ws_test"

// recQueue records what is sent; failAfter > 0 fails every Send once that
// many messages went.
type recQueue struct {
	mu        sync.Mutex
	bodies    [][]byte
	failAfter int
}

func (q *recQueue) Send(_ context.Context, bodies [][]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failAfter > 0 && len(q.bodies)+len(bodies) > q.failAfter {
		return errors.New("queue unavailable")
	}
	q.bodies = append(q.bodies, bodies...)
	return nil
}
func (q *recQueue) SendDelayed(ctx context.Context, bodies [][]byte, _ time.Duration) error {
	return q.Send(ctx, bodies)
}
func (q *recQueue) Receive(context.Context, int, time.Duration) ([]notify.QueueMessage, error) {
	return nil, nil
}
func (q *recQueue) Delete(context.Context, string) error                          { return nil }
func (q *recQueue) ChangeVisibility(context.Context, string, time.Duration) error { return nil }

func (q *recQueue) messages(t *testing.T) []notify.DispatchMessage {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]notify.DispatchMessage, len(q.bodies))
	for i, b := range q.bodies {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (q *recQueue) recipients(t *testing.T) []notify.Recipient {
	var out []notify.Recipient
	for _, m := range q.messages(t) {
		out = append(out, m.Recipients...)
	}
	return out
}

type fixture struct {
	t      *testing.T
	store  *boltstore.Store
	blobs  *blobfs.Store
	queue  *recQueue
	g      *Ingester
	ids    *notify.IDs
	now    time.Time
	tplSMS notify.Template
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	blobs, err := blobfs.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: store, blobs: blobs, queue: &recQueue{}, ids: &notify.IDs{},
		now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	f.g = &Ingester{Store: store, Blobs: f.blobs, Dispatch: f.queue, IDs: f.ids, Now: func() time.Time { return f.now },
		Config: Config{DefaultRegion: "ES", TempDir: t.TempDir()}}
	f.tplSMS = notify.Template{WorkspaceID: ws, ID: "tpl_offer", Name: "Offer", Channel: notify.ChannelSMS,
		Body: "Hola {{name}}, tienes un {{offer}} de descuento", Variables: []string{"name", "offer"}, Version: 1,
		CreatedAt: f.now, UpdatedAt: f.now}
	if err := store.SaveTemplate(t.Context(), f.tplSMS); err != nil {
		t.Fatal(err)
	}
	return f
}

// upload creates an upload of purpose (send with the SMS template, or
// users) and stores file as its object; it does not ingest.
func (f *fixture) upload(purpose string, file []byte) notify.Upload {
	f.t.Helper()
	id := f.ids.New(f.now)
	up := notify.Upload{WorkspaceID: ws, ID: id, Purpose: purpose, Filename: "list.csv", Status: notify.UploadWaiting,
		ObjectKey: ObjectKey(ws, id), CreatedBy: "test", CreatedAt: f.now, UpdatedAt: f.now, ExpiresAt: f.now.Add(time.Hour)}
	if purpose == notify.UploadPurposeSend {
		up.TemplateID, up.Channel = f.tplSMS.ID, notify.ChannelSMS
	}
	if err := f.store.CreateUpload(f.t.Context(), up); err != nil {
		f.t.Fatal(err)
	}
	f.put(up, file)
	return up
}

func (f *fixture) put(up notify.Upload, file []byte) {
	f.t.Helper()
	if _, err := f.blobs.Put(f.t.Context(), up.ObjectKey, bytes.NewReader(file), int64(len(file))); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) ingest(up notify.Upload) notify.Upload {
	f.t.Helper()
	if err := f.g.Ingest(f.t.Context(), up.ObjectKey); err != nil {
		f.t.Fatalf("Ingest: %v", err)
	}
	got, err := f.store.GetUpload(f.t.Context(), ws, up.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

func TestSendQueuesValidRowsAndReportsTheOthers(t *testing.T) {
	f := newFixture(t)
	csv := "\ufeffTeléfono;Name;Offer;Notes\r\n" +
		"600 000 001;Ana;10%;\r\n" +
		"+34600000002;\"Luis; el grande\";20%;vip\r\n" +
		"12345;Eva;5%;\r\n" + // invalid phone
		"600000003;;5%;\r\n" + // empty variable
		"+34 600 000 001;Ana again;10%;\r\n" + // duplicate of row 2
		"\r\n" + // blank: not a row
		"600000004;Marta;15%;x;extra\r\n" + // more cells than the header
		"34600000005;Pablo;=1+1;\r\n" // phone stored as a number; a formula as a value
	up := f.ingest(f.upload(notify.UploadPurposeSend, []byte(csv)))

	if up.Status != notify.UploadQueued {
		t.Fatalf("status = %s, errors %+v; want queued", up.Status, up.Errors)
	}
	if want := (notify.UploadRows{Total: 7, Valid: 3, Invalid: 4}); up.Rows != want {
		t.Errorf("rows = %+v, want %+v", up.Rows, want)
	}
	wantErrs := []struct {
		row    int
		column string
		has    string
	}{
		{4, "Teléfono", "not a valid phone number"},
		{5, "Name", "is empty"},
		{6, "Teléfono", "duplicate of row 2"},
		{8, "E", "has 5 cells but the header has 4 columns"},
	}
	if len(up.Errors) != len(wantErrs) {
		t.Fatalf("errors = %+v", up.Errors)
	}
	for i, w := range wantErrs {
		e := up.Errors[i]
		if e.Row != w.row || e.Column != w.column || !strings.Contains(e.Message, w.has) {
			t.Errorf("error %d = %+v, want row %d column %q containing %q", i, e, w.row, w.column, w.has)
		}
	}

	rs := f.queue.recipients(t)
	want := []notify.Recipient{
		{Address: "+34600000001", Variables: map[string]string{"name": "Ana", "offer": "10%"}},
		{Address: "+34600000002", Variables: map[string]string{"name": "Luis; el grande", "offer": "20%"}},
		{Address: "+34600000005", Variables: map[string]string{"name": "Pablo", "offer": "=1+1"}},
	}
	if fmt.Sprint(rs) != fmt.Sprint(want) {
		t.Errorf("queued %+v, want %+v", rs, want)
	}
	msgs := f.queue.messages(t)
	if len(msgs) != 1 || msgs[0].Chunk != up.NotificationID+":0" || msgs[0].WorkspaceID != ws || msgs[0].NotificationID != up.NotificationID {
		t.Errorf("messages = %+v", msgs)
	}

	n, err := f.store.GetNotification(t.Context(), ws, up.NotificationID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Source != notify.SourceSpreadsheet || n.Origin != notify.OriginAPI || n.Audience.UploadID != up.ID || n.Audience.Kind != "upload" || n.Audience.Count != 3 ||
		n.Counts.Total != 3 || n.Counts.Queued != 3 || n.TemplateID != f.tplSMS.ID || n.Content.Body != f.tplSMS.Body || n.Channel != notify.ChannelSMS {
		t.Errorf("notification = %+v", n)
	}

	// A second event for the same file changes nothing.
	again := f.ingest(up)
	if again.Status != notify.UploadQueued || again.NotificationID != up.NotificationID || len(f.queue.bodies) != 1 {
		t.Errorf("second event: upload %+v, %d messages", again, len(f.queue.bodies))
	}
}

func TestRecipientsArePackedInChunks(t *testing.T) {
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("phone,name,offer\n")
	for i := range 250 {
		fmt.Fprintf(&b, "+346%08d,User %d,%d%%\n", i, i, i%50)
	}
	up := f.ingest(f.upload(notify.UploadPurposeSend, []byte(b.String())))
	if up.Status != notify.UploadQueued || up.Rows.Valid != 250 {
		t.Fatalf("upload = %+v", up)
	}
	msgs := f.queue.messages(t)
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	for i, m := range msgs {
		if m.Chunk != fmt.Sprintf("%s:%d", up.NotificationID, i) {
			t.Errorf("chunk %d = %s", i, m.Chunk)
		}
	}
	if len(msgs[0].Recipients) != 100 || len(msgs[2].Recipients) != 50 || msgs[2].Recipients[49].Address != "+34600000249" {
		t.Errorf("sizes %d, %d; last %+v", len(msgs[0].Recipients), len(msgs[2].Recipients), msgs[2].Recipients[len(msgs[2].Recipients)-1])
	}
}

func TestRejectedFilesSendNothing(t *testing.T) {
	huge := "phone" + strings.Repeat(",c", 100_000) + "\n+34600000001" + strings.Repeat(",x", 100_000) + "\n"
	cases := []struct {
		name string
		file []byte
		has  string
	}{
		{"missing variable column", []byte("phone,name\n+34600000001,Ana\n"), "{{offer}}"},
		{"empty", nil, "empty"},
		{"header only", []byte("phone,name,offer\n"), "no rows"},
		{"binary named csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"), "binary"},
		{"old xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + strings.Repeat("\x00", 600)), ".xls"},
		{"utf-16", append([]byte{0xff, 0xfe}, []byte("p\x00h\x00o\x00n\x00e\x00")...), "UTF-16"},
		{"windows-1252", []byte("phone,name,offer\n+34600000001,Mu\xf1oz,10%\n"), "UTF-8"},
		{"100,000 columns", []byte(huge), "columns"},
		{"repeated header", []byte("phone,name,Name,offer\n+34600000001,a,b,c\n"), "both named"},
		{"no valid row", []byte("phone,name,offer\nnope,Ana,1\n,Eva,2\n"), "none of the 2 rows"},
		{"bare quote", []byte("phone,name,offer\n+34600000001,An\"a,1\n"), "row 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			up := f.ingest(f.upload(notify.UploadPurposeSend, c.file))
			if up.Status != notify.UploadRejected {
				t.Fatalf("status = %s, want rejected", up.Status)
			}
			if len(up.Errors) == 0 || !strings.Contains(up.Errors[0].Message, c.has) {
				t.Errorf("errors = %+v, want the first to mention %q", up.Errors, c.has)
			}
			if up.NotificationID != "" || len(f.queue.bodies) != 0 {
				t.Errorf("notification %q, %d messages queued", up.NotificationID, len(f.queue.bodies))
			}
			ns, _, err := f.store.ListNotifications(t.Context(), ws, notify.NotificationQuery{}, notify.Page{})
			if err != nil || len(ns) != 0 {
				t.Errorf("notifications = %v, %v", ns, err)
			}
		})
	}
}

func TestRejectedUploadTakesAFixedFile(t *testing.T) {
	f := newFixture(t)
	up := f.upload(notify.UploadPurposeSend, []byte("phone,name\n+34600000001,Ana\n"))
	if got := f.ingest(up); got.Status != notify.UploadRejected {
		t.Fatalf("first file: %s", got.Status)
	}
	f.put(up, []byte("phone,name,offer\n+34600000001,Ana,10%\n"))
	got := f.ingest(up)
	if got.Status != notify.UploadQueued || got.Rows.Valid != 1 || len(got.Errors) != 0 || got.NotificationID == "" {
		t.Fatalf("fixed file: %+v", got)
	}
	if rs := f.queue.recipients(t); len(rs) != 1 || rs[0].Address != "+34600000001" {
		t.Errorf("queued %+v", rs)
	}
}

func TestLimits(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(*Config)
		file string
		has  string
	}{
		{"size", func(c *Config) { c.MaxBytes = 40 }, "phone,name,offer\n+34600000001,Ana,10%\n+34600000002,Eva,5%\n", "at most 0.0 MB"},
		{"rows", func(c *Config) { c.Limits.MaxRows = 1 }, "phone,name,offer\n+34600000001,Ana,10%\n+34600000002,Eva,5%\n", "rows"},
		{"columns", func(c *Config) { c.Limits.MaxColumns = 3 }, "phone,name,offer,x\n+34600000001,Ana,10%,y\n", "columns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			c.cfg(&f.g.Config)
			up := f.ingest(f.upload(notify.UploadPurposeSend, []byte(c.file)))
			if up.Status != notify.UploadRejected || !strings.Contains(up.Errors[0].Message, c.has) {
				t.Errorf("upload = %s %+v, want rejected mentioning %q", up.Status, up.Errors, c.has)
			}
			if len(f.queue.bodies) != 0 {
				t.Errorf("%d messages queued", len(f.queue.bodies))
			}
		})
	}
}

func TestCrashedRunResumesWithTheSameChunks(t *testing.T) {
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("phone,name,offer\n")
	for i := range 250 {
		fmt.Fprintf(&b, "+346%08d,U%d,1%%\n", i, i)
	}
	up := f.upload(notify.UploadPurposeSend, []byte(b.String()))
	// The queue fails after the first message: the run stops midway.
	f.queue.failAfter = 1
	f.g.Config.Limits = spreadsheet.Limits{}
	oldGroup := sendGroupSize
	sendGroupSize = 1
	t.Cleanup(func() { sendGroupSize = oldGroup })
	if err := f.g.Ingest(t.Context(), up.ObjectKey); err == nil {
		t.Fatal("Ingest succeeded with a failing queue")
	}
	mid, _ := f.store.GetUpload(t.Context(), ws, up.ID)
	if mid.Status != notify.UploadValidating || mid.NotificationID == "" {
		t.Fatalf("after the crash: %+v", mid)
	}
	f.queue.failAfter = 0
	done := f.ingest(up)
	if done.Status != notify.UploadQueued || done.NotificationID != mid.NotificationID {
		t.Fatalf("resumed: %+v (notification was %s)", done, mid.NotificationID)
	}
	// Chunk 0 went twice (once per run), with the same id and recipients:
	// dispatch records and counts a chunk once.
	var chunks []string
	for _, m := range f.queue.messages(t) {
		chunks = append(chunks, m.Chunk)
	}
	want := []string{mid.NotificationID + ":0", mid.NotificationID + ":0", mid.NotificationID + ":1", mid.NotificationID + ":2"}
	if !slices.Equal(chunks, want) {
		t.Errorf("chunks = %v, want %v", chunks, want)
	}
	ns, _, _ := f.store.ListNotifications(t.Context(), ws, notify.NotificationQuery{}, notify.Page{})
	if len(ns) != 1 {
		t.Errorf("%d notifications, want 1", len(ns))
	}
}

func TestStaleClaimIsTakenOver(t *testing.T) {
	f := newFixture(t)
	up := f.upload(notify.UploadPurposeSend, []byte("phone,name,offer\n+34600000001,Ana,10%\n"))
	// Another version was being validated by a run that died long ago.
	if _, err := f.store.UpdateUpload(t.Context(), ws, up.ID, func(u *notify.Upload) error {
		u.Status, u.ETag, u.UpdatedAt = notify.UploadValidating, "old", f.now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	if got := f.ingest(up); got.Status != notify.UploadValidating {
		t.Fatalf("a fresh claim was taken over: %+v", got)
	}
	f.now = f.now.Add(20 * time.Minute)
	if got := f.ingest(up); got.Status != notify.UploadQueued {
		t.Fatalf("a stale claim was not taken over: %+v", got)
	}
}

func TestWhatsAppTemplateNeedsItsParameterColumns(t *testing.T) {
	f := newFixture(t)
	tpl := notify.Template{WorkspaceID: ws, ID: "tpl_wa", Name: "Reminder", Channel: notify.ChannelWhatsApp,
		Body: "Hola {{1}}, tu cita es el {{2}}", Variables: []string{"1", "2"}, Version: 1,
		WhatsApp:  &notify.WhatsAppTemplate{Name: "reminder", Language: "es", Category: "UTILITY", Parameters: []string{"name", "date"}},
		CreatedAt: f.now, UpdatedAt: f.now}
	if err := f.store.SaveTemplate(t.Context(), tpl); err != nil {
		t.Fatal(err)
	}
	mk := func(file string) notify.Upload {
		up := f.upload(notify.UploadPurposeSend, nil)
		if _, err := f.store.UpdateUpload(t.Context(), ws, up.ID, func(u *notify.Upload) error {
			u.TemplateID, u.Channel = tpl.ID, notify.ChannelWhatsApp
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		f.put(up, []byte(file))
		return up
	}
	got := f.ingest(mk("phone,name\n+34600000001,Ana\n"))
	if got.Status != notify.UploadRejected || !strings.Contains(got.Errors[0].Message, "{{date}}") || strings.Contains(got.Errors[0].Message, "{{1}}") {
		t.Errorf("missing date column: %+v", got)
	}
	got = f.ingest(mk("phone,Name,DATE\n+34600000001,Ana,2026-12-01\n"))
	if got.Status != notify.UploadQueued {
		t.Fatalf("with both columns: %+v", got)
	}
	rs := f.queue.recipients(t)
	if len(rs) != 1 || rs[0].Variables["name"] != "Ana" || rs[0].Variables["date"] != "2026-12-01" {
		t.Errorf("queued %+v", rs)
	}
}

func TestUsersImport(t *testing.T) {
	f := newFixture(t)
	if _, err := f.store.PutUser(t.Context(), notify.User{WorkspaceID: ws, ID: "c1", Name: "Old", PushPermission: notify.PermissionAsk,
		Attributes: map[string]string{"keep": "yes", "plan": "basic"}, CreatedAt: f.now, UpdatedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	csv := "id,name,email,phone,language,tags,plan\n" +
		"c1,Ana,ANA@example.com,600000001,es,vip|beta,gold\n" +
		"c2,Luis,,+34600000002,,,\n" +
		"c3,Eva,not-an-email,,,,\n" +
		"c2,Luis again,,,,,\n" +
		"bad id,X,,,,,\n"
	up := f.ingest(f.upload(notify.UploadPurposeUsers, []byte(csv)))
	if up.Status != notify.UploadCompleted {
		t.Fatalf("status = %s %+v", up.Status, up.Errors)
	}
	if want := (notify.UploadRows{Total: 5, Valid: 2, Invalid: 3}); up.Rows != want {
		t.Errorf("rows = %+v, want %+v", up.Rows, want)
	}
	if len(up.Errors) != 3 || up.Errors[0].Row != 4 || up.Errors[0].Column != "email" || up.Errors[1].Row != 5 || !strings.Contains(up.Errors[1].Message, "row 3") || up.Errors[2].Row != 6 {
		t.Errorf("errors = %+v", up.Errors)
	}
	c1, err := f.store.GetUser(t.Context(), ws, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c1.Name != "Ana" || c1.Email != "ana@example.com" || c1.Phone != "+34600000001" || c1.Language != "es" ||
		!slices.Equal(c1.Tags, []string{"vip", "beta"}) || c1.Attributes["plan"] != "gold" || c1.Attributes["keep"] != "yes" || !c1.CreatedAt.Equal(f.now) {
		t.Errorf("c1 = %+v", c1)
	}
	c2, err := f.store.GetUser(t.Context(), ws, "c2")
	if err != nil || c2.Name != "Luis" || c2.Phone != "+34600000002" || c2.PushPermission != notify.PermissionAsk || len(c2.SealKey) == 0 {
		t.Errorf("c2 = %+v, %v", c2, err)
	}
	if _, err := f.store.GetUser(t.Context(), ws, "c3"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("c3 (invalid row) was imported: %v", err)
	}
	if len(f.queue.bodies) != 0 {
		t.Errorf("an import queued %d messages", len(f.queue.bodies))
	}

	noID := f.ingest(f.upload(notify.UploadPurposeUsers, []byte("name,email\nAna,a@example.com\n")))
	if noID.Status != notify.UploadRejected || !strings.Contains(noID.Errors[0].Message, "no id column") {
		t.Errorf("no id column: %+v", noID)
	}
}

func TestReport(t *testing.T) {
	f := newFixture(t)
	csv := "phone,name,offer\n" +
		"+34600000001,\"=HYPERLINK(\"\"http://evil\"\")\",10%\n" +
		"bad,Eva,5%\n" +
		"+34600000002,Luis,20%\n" +
		"+34600000003,Marta,@SUM(A1)\n"
	up := f.ingest(f.upload(notify.UploadPurposeSend, []byte(csv)))
	n, err := f.store.GetNotification(t.Context(), ws, up.NotificationID)
	if err != nil {
		t.Fatalf("%v; upload %+v", err, up)
	}
	// Dispatch's work, as it records it: one sent, one failed; the third
	// is still queued.
	if _, err := f.store.RecordDeliveries(t.Context(), []notify.Delivery{
		{WorkspaceID: ws, NotificationID: n.ID, Key: "addr#+34600000001", Address: "+34600000001", Channel: notify.ChannelSMS,
			Status: notify.DeliverySent, ProviderMessageID: "msg-1", Chunk: n.ID + ":0", CreatedAt: f.now, UpdatedAt: f.now},
		{WorkspaceID: ws, NotificationID: n.ID, Key: "addr#+34600000002", Address: "+34600000002", Channel: notify.ChannelSMS,
			Status: notify.DeliveryFailed, Reason: "opted_out", Chunk: n.ID + ":0", CreatedAt: f.now, UpdatedAt: f.now},
	}); err != nil {
		t.Fatal(err)
	}
	rp := &Reporter{Store: f.store, Blobs: f.blobs, Config: f.g.Config}
	want := [][]string{
		{"phone", "name", "offer", "status", "reason", "provider_message_id"},
		{"+34600000001", "'=HYPERLINK(\"http://evil\")", "10%", "sent", "", "msg-1"},
		{"bad", "Eva", "5%", "invalid", `"bad": not a valid phone number`, ""},
		{"+34600000002", "Luis", "20%", "failed", "opted_out", ""},
		{"+34600000003", "Marta", "'@SUM(A1)", "queued", "", ""},
	}
	for _, format := range []spreadsheet.Format{spreadsheet.CSV, spreadsheet.XLSX} {
		var buf bytes.Buffer
		if err := rp.Report(t.Context(), &buf, format, n); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		want := slices.Clone(want)
		if format == spreadsheet.CSV {
			// A CSV cell that starts with + and is followed by others
			// gets a quote: in a program that splits on another
			// delimiter, the cells after it are part of it.
			for i := 1; i < len(want); i++ {
				if strings.HasPrefix(want[i][0], "+") {
					want[i] = append([]string{"'" + want[i][0]}, want[i][1:]...)
				}
			}
		}
		got := readSheet(t, buf.Bytes())
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Errorf("%s report:\n got %q\nwant %q", format, got, want)
		}
	}
}

// TestReportInTheUploadsDelimiter checks that the CSV report of a file
// separated by semicolons is separated by semicolons, and that a cell whose
// pieces are formulas in some delimiter is neutralised in every piece.
func TestReportInTheUploadsDelimiter(t *testing.T) {
	for _, tt := range []struct {
		file  string
		delim rune
	}{
		{"phone;name;offer\n600000001;\"x,=1+1\";\"a;@SUM(A1)\"\n", ';'},
		{"phone,name,offer\n600000001,\"x,=1+1\",\"a;@SUM(A1)\"\n", ','},
		{"phone\tname\toffer\n600000001\t\"x,=1+1\"\t\"a;@SUM(A1)\"\n", ','},
	} {
		f := newFixture(t)
		up := f.ingest(f.upload(notify.UploadPurposeSend, []byte(tt.file)))
		n, err := f.store.GetNotification(t.Context(), ws, up.NotificationID)
		if err != nil {
			t.Fatalf("%v; upload %+v", err, up)
		}
		rp := &Reporter{Store: f.store, Blobs: f.blobs, Config: f.g.Config}
		var buf bytes.Buffer
		if err := rp.Report(t.Context(), &buf, spreadsheet.CSV, n); err != nil {
			t.Fatal(err)
		}
		cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF")))
		cr.Comma = tt.delim
		got, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("report of %q read with %q: %v\n%s", tt.file, tt.delim, err, buf.Bytes())
		}
		want := [][]string{
			{"phone", "name", "offer", "status", "reason", "provider_message_id"},
			{"600000001", "x,'=1+1", "a;'@SUM(A1)", "queued", "", ""},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("report of %q read with %q (-want +got):\n%s", tt.file, tt.delim, diff)
		}
	}
}

// readSheet reads every row of a sheet, header first.
func readSheet(t *testing.T, b []byte) [][]string {
	t.Helper()
	r, err := spreadsheet.Open(bytes.NewReader(b), int64(len(b)), spreadsheet.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	out := [][]string{slices.Clone(r.Header())}
	for {
		cells, _, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		// Readers may drop empty trailing cells.
		out = append(out, padTo(slices.Clone(cells), len(out[0])))
	}
}

// zipBomb is a workbook whose sheet is 64 MiB of empty rows in some 64 KB:
// it inflates a thousand times.
func zipBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("xl/workbook.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, `<workbook><sheets><sheet name="S" sheetId="1"/></sheets></workbook>`)
	if w, err = zw.Create("xl/worksheets/sheet1.xml"); err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "<worksheet><sheetData>"+strings.Repeat("<row/>", 4<<20/6)+"</sheetData></worksheet>")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestInflatedFileClosesTheUpload checks that a file that unpacks to far
// more than any spreadsheet closes its upload: the URL expires at the
// rejection, which says so, and a file stored after it is not read.
func TestInflatedFileClosesTheUpload(t *testing.T) {
	for _, purpose := range []string{notify.UploadPurposeSend, notify.UploadPurposeUsers} {
		t.Run(purpose, func(t *testing.T) {
			f := newFixture(t)
			up := f.upload(purpose, zipBomb(t))
			got := f.ingest(up)
			if got.Status != notify.UploadRejected || len(got.Errors) != 1 ||
				!strings.Contains(got.Errors[0].Message, "more than 100 times its size") ||
				!strings.Contains(got.Errors[0].Message, "This upload takes no other file: create a new upload") {
				t.Fatalf("bomb: %+v, want rejected with an error that says it takes no other file", got)
			}
			if !got.ExpiresAt.Equal(got.UpdatedAt) || !Closed(got) {
				t.Errorf("bomb: expiresAt %v, updatedAt %v, want the URL to expire at the rejection", got.ExpiresAt, got.UpdatedAt)
			}
			f.now = f.now.Add(time.Minute)
			f.put(up, []byte("phone,name,offer,id\n+34600000001,Ana,10%,u1\n"))
			again := f.ingest(up)
			if again.Status != notify.UploadRejected || again.Version != got.Version || again.NotificationID != "" || len(f.queue.bodies) != 0 {
				t.Errorf("a file after the bomb: %+v, want the upload left as the bomb left it", again)
			}
			if _, err := f.store.GetUser(t.Context(), ws, "u1"); !notify.IsCode(err, notify.CodeNotFound) {
				t.Errorf("a file after the bomb imported user u1 (%v)", err)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		up   notify.Upload
		want bool
	}{
		{"rejected, URL valid", notify.Upload{Status: notify.UploadRejected, UpdatedAt: at, ExpiresAt: at.Add(time.Hour)}, false},
		{"rejected by a bomb", notify.Upload{Status: notify.UploadRejected, UpdatedAt: at, ExpiresAt: at}, true},
		{"rejected after the URL expired", notify.Upload{Status: notify.UploadRejected, UpdatedAt: at, ExpiresAt: at.Add(-time.Second)}, true},
		{"waiting, URL expired", notify.Upload{Status: notify.UploadWaiting, UpdatedAt: at, ExpiresAt: at}, false},
	}
	for _, tt := range tests {
		if got := Closed(tt.up); got != tt.want {
			t.Errorf("Closed(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
