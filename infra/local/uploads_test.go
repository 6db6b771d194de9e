package main

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/spreadsheet"
)

// sheetKey is the admin key the spreadsheet tests start the server with.
const sheetKey = "local-admin-key-123"

// sheetServer is the local server run in process on a data dir, with the
// calls the spreadsheet tests make of it.
type sheetServer struct {
	t    *testing.T
	base string
	stop func()
}

// startSheetServer runs the local server on data until stop is called (or
// the test ends), and prints its logs when the test fails.
func startSheetServer(t *testing.T, data string) *sheetServer {
	t.Helper()
	l := startLocal(t, data, nil)
	return &sheetServer{t: t, base: l.base, stop: l.stop}
}

// do makes a request to target (a path of the server or a whole URL) with
// the admin key and returns the status and body.
func (s *sheetServer) do(method, target string, body io.Reader, contentType string) (int, []byte) {
	s.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = s.base + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sheetKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res.StatusCode, b
}

// call sends body as JSON (none when nil), wants status want and decodes
// the answer into out (when not nil).
func (s *sheetServer) call(method, path string, body any, want int, out any) {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	status, b := s.do(method, path, r, "application/json")
	if status != want {
		s.t.Fatalf("%s %s = %d, want %d: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// sheetUpload is an upload as GET /v1/uploads/{id} shows it.
type sheetUpload struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	UploadURL      string `json:"uploadUrl"`
	NotificationID string `json:"notificationId"`
	Rows           struct {
		Total, Valid, Invalid int
	} `json:"rows"`
	Errors []sheetRowError `json:"errors"`
}

type sheetRowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

// sheetNotification is a notification as GET /v1/notifications/{id} shows it.
type sheetNotification struct {
	ID       string `json:"id"`
	Channel  string `json:"channel"`
	Source   string `json:"source"`
	Status   string `json:"status"`
	Audience struct {
		Kind     string `json:"kind"`
		Count    int    `json:"count"`
		UploadID string `json:"uploadId"`
	} `json:"audience"`
	Counts map[string]int `json:"counts"`
}

// sheetOutboxEntry is an entry of GET /v1/outbox.
type sheetOutboxEntry struct {
	NotificationID    string            `json:"notificationId"`
	Channel           string            `json:"channel"`
	Address           string            `json:"address"`
	Title             string            `json:"title"`
	Body              string            `json:"body"`
	Data              map[string]string `json:"data"`
	ProviderMessageID string            `json:"providerMessageId"`
	Attempts          int               `json:"attempts"`
}

// template creates a template and returns its id.
func (s *sheetServer) template(body map[string]any) string {
	s.t.Helper()
	var tpl struct{ ID string }
	s.call("POST", "/v1/templates", body, 201, &tpl)
	return tpl.ID
}

// upload creates an upload and PUTs file to its upload URL.
func (s *sheetServer) upload(in map[string]any, file []byte) sheetUpload {
	s.t.Helper()
	var up sheetUpload
	s.call("POST", "/v1/uploads", in, 201, &up)
	if up.Status != "waiting" || up.UploadURL == "" {
		s.t.Fatalf("POST /v1/uploads = %+v, want waiting with an uploadUrl", up)
	}
	s.putFile(up.UploadURL, file)
	return up
}

// putFile PUTs file to an upload URL, which takes it for ingestion (202),
// and returns the upload as the answer shows it.
func (s *sheetServer) putFile(uploadURL string, file []byte) sheetUpload {
	s.t.Helper()
	if u, err := url.Parse(uploadURL); err != nil || "http://"+u.Host != s.base {
		s.t.Fatalf("uploadUrl %q is not on this server (%s): %v", uploadURL, s.base, err)
	}
	status, b := s.do("PUT", uploadURL, bytes.NewReader(file), "application/octet-stream")
	if status != 202 {
		s.t.Fatalf("PUT %s = %d, want 202: %s", uploadURL, status, b)
	}
	var up sheetUpload
	if err := json.Unmarshal(b, &up); err != nil {
		s.t.Fatalf("PUT %s: %v in %s", uploadURL, err, b)
	}
	return up
}

// waitUpload polls the upload until its status is one of want, failing at
// once on another outcome of ingestion (rejected, queued or completed).
func (s *sheetServer) waitUpload(id string, want ...string) sheetUpload {
	s.t.Helper()
	var up sheetUpload
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		up = sheetUpload{} // fields the answer omits must not linger from the last one
		s.call("GET", "/v1/uploads/"+id, nil, 200, &up)
		for _, w := range want {
			if up.Status == w {
				return up
			}
		}
		if up.Status == "rejected" || up.Status == "completed" || up.Status == "queued" && !slices.Contains(want, "completed") {
			s.t.Fatalf("upload %s is %s, want %v: %+v", id, up.Status, want, up)
		}
	}
	s.t.Fatalf("upload %s is still %s after 30 s, want %v: %+v", id, up.Status, want, up)
	return up
}

// waitNotification polls the notification until it is done.
func (s *sheetServer) waitNotification(id string) sheetNotification {
	s.t.Helper()
	var n sheetNotification
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n = sheetNotification{}
		s.call("GET", "/v1/notifications/"+id, nil, 200, &n)
		if n.Status == "completed" || n.Status == "failed" || n.Status == "cancelled" {
			return n
		}
	}
	s.t.Fatalf("notification %s is still %s after 30 s: %+v", id, n.Status, n)
	return n
}

// outbox lists every message of channel in the local outbox, page by page.
func (s *sheetServer) outbox(channel string) []sheetOutboxEntry {
	s.t.Helper()
	var all []sheetOutboxEntry
	for cursor := ""; ; {
		var page struct {
			Items      []sheetOutboxEntry `json:"items"`
			NextCursor string             `json:"nextCursor"`
		}
		s.call("GET", "/v1/outbox?channel="+channel+"&limit=100&cursor="+url.QueryEscape(cursor), nil, 200, &page)
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// outboxByAddress lists the outbox of channel by address, failing unless
// every message is of notification nid and was handed over once.
func (s *sheetServer) outboxByAddress(channel, nid string) map[string][]sheetOutboxEntry {
	s.t.Helper()
	by := map[string][]sheetOutboxEntry{}
	for _, e := range s.outbox(channel) {
		if e.NotificationID != nid {
			s.t.Errorf("the outbox holds a %s message of notification %s, want only %s's: %+v", channel, e.NotificationID, nid, e)
		}
		if e.Attempts != 1 {
			s.t.Errorf("the %s message to %s was handed to the outbox %d times, want 1", channel, e.Address, e.Attempts)
		}
		by[e.Address] = append(by[e.Address], e)
	}
	return by
}

// notificationsOfUpload lists the ids of the notifications made of upload id.
func (s *sheetServer) notificationsOfUpload(id string) []string {
	s.t.Helper()
	var ids []string
	for cursor := ""; ; {
		var page struct {
			Items      []sheetNotification `json:"items"`
			NextCursor string              `json:"nextCursor"`
		}
		s.call("GET", "/v1/notifications?limit=100&cursor="+url.QueryEscape(cursor), nil, 200, &page)
		for _, n := range page.Items {
			if n.Audience.UploadID == id {
				ids = append(ids, n.ID)
			}
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

// report downloads the result sheet of notification nid in format.
func (s *sheetServer) report(nid, format string) []byte {
	s.t.Helper()
	status, b := s.do("GET", "/v1/notifications/"+nid+"/report?format="+format, nil, "")
	if status != 200 {
		s.t.Fatalf("GET report of %s as %s = %d: %s", nid, format, status, b)
	}
	return b
}

// readCSVReport reads a CSV report exactly as written: a UTF-8 byte order
// mark, then records separated by delim (the upload's, for a file
// separated by semicolons; else commas).
func readCSVReport(t *testing.T, b []byte, delim rune) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(b, []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Errorf("the CSV report does not start with a UTF-8 byte order mark: %q", b[:min(len(b), 20)])
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma = delim
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("read the CSV report: %v", err)
	}
	return recs
}

// readSheet reads a file with the product's own reader: the header, then
// every row that is not blank.
func readSheet(t *testing.T, b []byte, want spreadsheet.Format) [][]string {
	t.Helper()
	r, err := spreadsheet.Open(bytes.NewReader(b), int64(len(b)), spreadsheet.Limits{})
	if err != nil {
		t.Fatalf("open the %s sheet: %v", want, err)
	}
	if r.Format() != want {
		t.Errorf("the sheet is %s, want %s", r.Format(), want)
	}
	rows := [][]string{r.Header()}
	for {
		cells, _, err := r.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("read the %s sheet: %v", want, err)
		}
		rows = append(rows, append([]string(nil), cells...))
	}
}

// writeXLSX makes an XLSX file of rows with the product's writer.
func writeXLSX(t *testing.T, rows [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := spreadsheet.NewWriter(&b, spreadsheet.XLSX)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// semicolonCSV writes cells as a line of a ;-separated file, quoting the
// cells that need it.
func semicolonCSV(cells []string) string {
	out := make([]string, len(cells))
	for i, c := range cells {
		if strings.ContainsAny(c, "\";\r\n") {
			c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		out[i] = c
	}
	return strings.Join(out, ";")
}

// sheetRow is a data row of a test file and what must become of it.
type sheetRow struct {
	cells []string
	// row is the number a spreadsheet program shows (the header is 1).
	row int
	// address is the normalised address of a valid row.
	address string
	// errColumn and errSays describe the error of an invalid row.
	errColumn, errSays string
	// report is what the report's original columns must hold; cells,
	// trimmed, when nil.
	report []string
}

func (r sheetRow) valid() bool { return r.errSays == "" }

// smsOffersFile is a ;-separated CSV with a byte order mark, CRLF line ends,
// n rows of national and international Spanish numbers, a blank row, cells
// with quotes, delimiters and line breaks, and a few bad rows.
func smsOffersFile(n int) ([]byte, []sheetRow) {
	var b strings.Builder
	b.WriteString("\xEF\xBB\xBFtelefono;name;offer\r\n")
	var rows []sheetRow
	row := 1
	for i := range n {
		digits := strconv.Itoa(612000000 + i)
		r := sheetRow{address: "+34" + digits}
		phone := digits
		switch i % 3 {
		case 0:
			phone = "+34 " + digits[:3] + " " + digits[3:6] + " " + digits[6:]
		case 2:
			phone = digits[:3] + " " + digits[3:5] + " " + digits[5:7] + " " + digits[7:]
		}
		r.cells = []string{phone, fmt.Sprintf("Cliente %d Núñez", i), fmt.Sprintf("%d%%", 5+i%40)}
		switch i {
		case 10:
			r.cells[0], r.address, r.errColumn, r.errSays = "12ab34", "", "telefono", `"12ab34"`
		case 20:
			r.cells[1], r.address, r.errColumn, r.errSays = "", "", "name", "{{name}}"
		case 30: // the number of row i=5, written with the 00 prefix
			r.cells[0], r.address, r.errColumn, r.errSays = "0034612000005", "", "telefono", "duplicate of row 7"
		case 40:
			r.cells, r.address, r.errColumn, r.errSays = append(r.cells, "extra"), "", "D", "4 cells"
		case 50:
			r.cells[1] = `=HYPERLINK("http://evil.example/","Gana")`
			r.report = []string{csvCell(r.cells[0]), `'=HYPERLINK("http://evil.example/","Gana")`, r.cells[2]}
		case 60:
			r.cells[2] = "2x1\nen tienda"
		case 70:
			r.cells[2] = "-20"
		case 80:
			r.cells[1] = `Pérez; Ana "la jefa"`
		case 90:
			r.cells[1] = "   Lola   "
		case 95:
			r.cells[1] = "@lucia"
			r.report = []string{csvCell(r.cells[0]), "'@lucia", r.cells[2]}
		case n - 50: // a row without a number
			r.cells[0], r.address, r.errColumn, r.errSays = "", "", "telefono", "empty"
		}
		if i == 101 {
			b.WriteString(";;\r\n") // an empty row between rows, as Excel saves one
			row++
		}
		row++
		r.row = row
		b.WriteString(semicolonCSV(r.cells))
		if i < n-1 {
			b.WriteString("\r\n")
		}
		rows = append(rows, r)
	}
	return []byte(b.String()), rows
}

// checkRowErrors compares an upload's errors to those the rows must have.
func checkRowErrors(t *testing.T, got []sheetRowError, rows []sheetRow) {
	t.Helper()
	var want []sheetRowError
	for _, r := range rows {
		if !r.valid() {
			want = append(want, sheetRowError{Row: r.row, Column: r.errColumn})
		}
	}
	var shown []sheetRowError
	for _, e := range got {
		shown = append(shown, sheetRowError{Row: e.Row, Column: e.Column})
	}
	if diff := cmp.Diff(want, shown); diff != "" {
		t.Errorf("upload errors (row, column) (-want +got):\n%s\nerrors: %+v", diff, got)
		return
	}
	i := 0
	for _, r := range rows {
		if !r.valid() {
			if !strings.Contains(got[i].Message, r.errSays) {
				t.Errorf("the error of row %d says %q, want it to say %q", r.row, got[i].Message, r.errSays)
			}
			i++
		}
	}
}

// checkReport checks a CSV report against the rows of the file and the
// messages the outbox holds: the header, then every row in file order with
// its original cells (neutralised), its status, reason and provider id.
func checkReport(t *testing.T, recs [][]string, header []string, rows []sheetRow, sent map[string][]sheetOutboxEntry) {
	t.Helper()
	wantHeader := append(append([]string(nil), header...), "status", "reason", "provider_message_id")
	if len(recs) == 0 || !cmp.Equal(recs[0], wantHeader) {
		t.Fatalf("report header = %q, want %q", recs[:min(len(recs), 1)], wantHeader)
	}
	if len(recs) != len(rows)+1 {
		t.Errorf("the report has %d rows, want the header and %d rows", len(recs), len(rows))
	}
	cols := len(header)
	for i, r := range rows {
		if i+1 >= len(recs) {
			break
		}
		rec := recs[i+1]
		if len(rec) < cols+3 {
			t.Errorf("report row %d (file row %d) has %d cells, want %d: %q", i+2, r.row, len(rec), cols+3, rec)
			continue
		}
		want := r.report
		if want == nil {
			for _, c := range r.cells[:cols] {
				want = append(want, csvCell(strings.TrimSpace(c)))
			}
		}
		if !cmp.Equal(rec[:cols], want) {
			t.Errorf("report row %d (file row %d) = %q, want the file's cells %q", i+2, r.row, rec[:cols], want)
		}
		status, reason, pid := rec[cols], rec[cols+1], rec[cols+2]
		if !r.valid() {
			if status != "invalid" || !strings.Contains(reason, r.errSays) || pid != "" {
				t.Errorf("report row %d (file row %d) = %q, want status invalid, a reason that says %q and no provider id", i+2, r.row, rec, r.errSays)
			}
			continue
		}
		msgs := sent[r.address]
		if (status != "delivered" && status != "sent") || reason != "" || len(msgs) != 1 || pid != msgs[0].ProviderMessageID {
			t.Errorf("report row %d (file row %d) = %q, want status sent (or delivered), no reason and the provider id of the outbox message to %s %+v",
				i+2, r.row, rec, r.address, msgs)
		}
	}
}

// signedNumber is a number that starts with + or -, as a phone number may.
var signedNumber = regexp.MustCompile(`^[+-][0-9][0-9 .,]*$`)

// csvCell is a file's cell as a CSV report holds it in any column but the
// last: a number that starts with + or - gets a quote, as a formula does
// (in a program that splits on another delimiter, the cells after it are
// part of it).
func csvCell(c string) string {
	if signedNumber.MatchString(c) {
		return "'" + c
	}
	return c
}

// normalise trims every cell of a CSV report and drops empty trailing
// cells, as spreadsheet.Reader reads rows, and takes off the quote numbers
// get in CSV only (see csvCell).
func normalise(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		var cells []string
		for _, c := range r {
			if n, ok := strings.CutPrefix(c, "'"); ok && signedNumber.MatchString(n) {
				c = n
			}
			cells = append(cells, strings.TrimSpace(c))
		}
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		out[i] = cells
	}
	return out
}

// TestSpreadsheetCSVSend: an operator's ;-separated CSV of 200 rows, saved
// by Excel with national numbers, is validated (bad rows reported by the
// row number Excel shows), sent once to every valid row with that row's
// values, and reported row by row, alike as CSV and XLSX.
func TestSpreadsheetCSVSend(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	s := startSheetServer(t, t.TempDir())
	tpl := s.template(map[string]any{"name": "Oferta", "channel": "sms", "body": "Hola {{name}}, tu descuento: {{offer}}"})
	file, rows := smsOffersFile(200)
	valid := 0
	for _, r := range rows {
		if r.valid() {
			valid++
		}
	}
	up := s.upload(map[string]any{"templateId": tpl, "channel": "sms", "filename": "clientes.csv", "defaultRegion": "ES"}, file)
	got := s.waitUpload(up.ID, "queued", "completed")
	if got.Rows.Total != 200 || got.Rows.Valid != valid || got.Rows.Invalid != 200-valid || got.NotificationID == "" {
		t.Fatalf("upload = %+v, want rows {200 %d %d} and a notification", got, valid, 200-valid)
	}
	checkRowErrors(t, got.Errors, rows)

	n := s.waitNotification(got.NotificationID)
	if n.Status != "completed" || n.Source != "spreadsheet" || n.Channel != "sms" || n.Audience.Kind != "upload" ||
		n.Audience.UploadID != up.ID || n.Audience.Count != valid {
		t.Errorf("notification = %+v, want a completed sms send from spreadsheet upload %s to %d rows", n, up.ID, valid)
	}
	if c := n.Counts; c["total"] != valid || c["queued"] != 0 || c["failed"] != 0 || c["skipped"] != 0 || c["sent"]+c["delivered"] != valid {
		t.Errorf("counts = %v, want %d sent or delivered and nothing else", c, valid)
	}
	if done := s.waitUpload(up.ID, "completed"); done.Rows != got.Rows {
		t.Errorf("the completed upload = %+v, want the rows of the queued one %+v", done, got.Rows)
	}
	if ids := s.notificationsOfUpload(up.ID); len(ids) != 1 || ids[0] != n.ID {
		t.Errorf("notifications of the upload = %v, want only %s", ids, n.ID)
	}

	sent := s.outboxByAddress("sms", n.ID)
	if len(sent) != valid {
		t.Errorf("the outbox holds sms to %d numbers, want %d (each valid row)", len(sent), valid)
	}
	for _, r := range rows {
		msgs := sent[r.address]
		if !r.valid() {
			continue
		}
		want := fmt.Sprintf("Hola %s, tu descuento: %s", strings.TrimSpace(r.cells[1]), r.cells[2])
		if len(msgs) != 1 || msgs[0].Body != want {
			t.Errorf("row %d: the outbox holds %+v for %s, want one sms %q", r.row, msgs, r.address, want)
		}
	}

	report := s.report(n.ID, "csv")
	recs := readCSVReport(t, report, ';')
	checkReport(t, recs, []string{"telefono", "name", "offer"}, rows, sent)
	xlsx := readSheet(t, s.report(n.ID, "xlsx"), spreadsheet.XLSX)
	if diff := cmp.Diff(normalise(recs), xlsx); diff != "" {
		t.Errorf("the XLSX report differs from the CSV one (-csv +xlsx):\n%s", diff)
	}
}

// TestSpreadsheetXLSXSends: XLSX files, as the product's writer makes
// them, send email (addresses told apart ignoring case) and WhatsApp
// templates (numbers as digits or national with the upload's region).
func TestSpreadsheetXLSXSends(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	s := startSheetServer(t, t.TempDir())

	t.Run("email", func(t *testing.T) {
		tpl := s.template(map[string]any{"name": "Plan", "channel": "email", "title": "Hola {{name}}", "body": "Tu plan {{plan}} ya está activo."})
		cells := [][]string{{"Email", "Name", "Plan"}}
		var rows []sheetRow
		for i := range 40 {
			r := sheetRow{cells: []string{fmt.Sprintf("cliente%d@example.com", i), fmt.Sprintf("Cliente %d", i), []string{"Oro", "Plata", "Bronce"}[i%3]}, row: i + 2}
			r.address = r.cells[0]
			switch i {
			case 9:
				r.cells[0], r.address, r.errColumn, r.errSays = "cliente9(at)example.com", "", "Email", "not a valid email"
			case 19:
				r.cells[0], r.address, r.errColumn, r.errSays = "Cliente4@Example.com", "", "Email", "duplicate of row 6"
			case 29:
				r.cells[2], r.address, r.errColumn, r.errSays = "", "", "Plan", "{{plan}}"
			}
			cells = append(cells, r.cells)
			rows = append(rows, r)
		}
		up := s.upload(map[string]any{"templateId": tpl, "channel": "email", "filename": "planes.xlsx"}, writeXLSX(t, cells))
		got := s.waitUpload(up.ID, "completed")
		if got.Rows.Total != 40 || got.Rows.Valid != 37 || got.Rows.Invalid != 3 {
			t.Errorf("upload = %+v, want rows {40 37 3}", got)
		}
		checkRowErrors(t, got.Errors, rows)
		n := s.waitNotification(got.NotificationID)
		if n.Status != "completed" || n.Source != "spreadsheet" || n.Audience.UploadID != up.ID || n.Counts["total"] != 37 {
			t.Errorf("notification = %+v, want a completed spreadsheet send of 37", n)
		}
		sent := s.outboxByAddress("email", n.ID)
		if len(sent) != 37 {
			t.Errorf("the outbox holds email to %d addresses, want 37", len(sent))
		}
		for _, r := range rows {
			if !r.valid() {
				continue
			}
			msgs := sent[r.address]
			title, body := "Hola "+r.cells[1], "Tu plan "+r.cells[2]+" ya está activo."
			if len(msgs) != 1 || msgs[0].Title != title || !strings.Contains(msgs[0].Body, body) {
				t.Errorf("row %d: the outbox holds %+v for %s, want one email %q: %q", r.row, msgs, r.address, title, body)
			}
		}
		checkReport(t, readCSVReport(t, s.report(n.ID, "csv"), ','), []string{"Email", "Name", "Plan"}, rows, sent)
	})

	t.Run("whatsapp", func(t *testing.T) {
		tpl := s.template(map[string]any{"name": "Cita", "channel": "whatsapp", "body": "Hola {{1}}, tu cita es el {{2}}",
			"whatsapp": map[string]any{"name": "cita", "language": "es", "category": "utility", "parameters": []string{"name", "date"}}})
		cells := [][]string{{"phone", "name", "date"}}
		var rows []sheetRow
		for i := range 30 {
			digits := strconv.Itoa(622000000 + i)
			r := sheetRow{cells: []string{digits, fmt.Sprintf("Paciente %d", i), fmt.Sprintf("%d de mayo", 1+i)}, row: i + 2, address: "+34" + digits}
			if i%2 == 0 {
				r.cells[0] = "34" + digits // as a spreadsheet keeps +34… typed as a number
			}
			if i == 7 {
				r.cells[0], r.address, r.errColumn, r.errSays = "123", "", "phone", `"123"`
			}
			cells = append(cells, r.cells)
			rows = append(rows, r)
		}
		up := s.upload(map[string]any{"templateId": tpl, "channel": "whatsapp", "filename": "citas.xlsx", "defaultRegion": "ES"}, writeXLSX(t, cells))
		got := s.waitUpload(up.ID, "completed")
		if got.Rows.Total != 30 || got.Rows.Valid != 29 || got.Rows.Invalid != 1 {
			t.Errorf("upload = %+v, want rows {30 29 1}", got)
		}
		checkRowErrors(t, got.Errors, rows)
		n := s.waitNotification(got.NotificationID)
		if n.Status != "completed" || n.Counts["total"] != 29 || n.Counts["failed"] != 0 {
			t.Errorf("notification = %+v, want a completed send of 29", n)
		}
		sent := s.outboxByAddress("whatsapp", n.ID)
		if len(sent) != 29 {
			t.Errorf("the outbox holds WhatsApp messages to %d numbers, want 29", len(sent))
		}
		for _, r := range rows {
			if !r.valid() {
				continue
			}
			msgs := sent[r.address]
			want := map[string]string{"template": "cita", "language": "es", "1": r.cells[1], "2": r.cells[2]}
			if len(msgs) != 1 || !cmp.Equal(msgs[0].Data, want) {
				t.Errorf("row %d: the outbox holds %+v for %s, want one template message %v", r.row, msgs, r.address, want)
			}
		}
		checkReport(t, readCSVReport(t, s.report(n.ID, "csv"), ','), []string{"phone", "name", "date"}, rows, sent)
	})
}

// TestSpreadsheetUploadRejectedThenFixed: a file without a column the
// template needs sends nothing and says which; the same upload URL then
// takes the fixed file, which is sent, and after that no other file.
func TestSpreadsheetUploadRejectedThenFixed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	s := startSheetServer(t, t.TempDir())
	tpl := s.template(map[string]any{"name": "Oferta", "channel": "sms", "body": "Hola {{name}}, tu descuento: {{offer}}"})
	bad := "telefono,name\r\n+34612000001,Ana\r\n+34612000002,Bea\r\n"
	up := s.upload(map[string]any{"templateId": tpl, "channel": "sms", "filename": "sin-oferta.csv"}, []byte(bad))
	got := s.waitUpload(up.ID, "rejected")
	if len(got.Errors) == 0 || !strings.Contains(got.Errors[0].Message, "{{offer}}") || got.NotificationID != "" {
		t.Errorf("rejected upload = %+v, want an error that names {{offer}} and no notification", got)
	}
	if ids := s.notificationsOfUpload(up.ID); len(ids) != 0 {
		t.Errorf("a rejected file made notifications %v", ids)
	}
	if sms := s.outbox("sms"); len(sms) != 0 {
		t.Errorf("a rejected file sent %+v", sms)
	}

	// Until the new file is judged, the upload must not show the verdict
	// on the old one: a client polling for the outcome would take the
	// stale rejection for the fixed file's.
	fixed := "telefono,name,offer\r\n+34612000001,Ana,10%\r\n+34612000002,Bea,20%\r\n"
	if put := s.putFile(up.UploadURL, []byte(fixed)); put.Status == "rejected" || len(put.Errors) != 0 {
		t.Errorf("PUT of the fixed file answered %+v, want it waiting or validating, without the old file's errors", put)
	}
	got = s.waitUpload(up.ID, "completed")
	if got.Rows.Total != 2 || got.Rows.Valid != 2 || len(got.Errors) != 0 {
		t.Errorf("fixed upload = %+v, want 2 valid rows and no errors", got)
	}
	n := s.waitNotification(got.NotificationID)
	sent := s.outboxByAddress("sms", n.ID)
	want := map[string]string{"+34612000001": "Hola Ana, tu descuento: 10%", "+34612000002": "Hola Bea, tu descuento: 20%"}
	for addr, body := range want {
		if msgs := sent[addr]; len(msgs) != 1 || msgs[0].Body != body {
			t.Errorf("the outbox holds %+v for %s, want one sms %q", msgs, addr, body)
		}
	}
	if len(sent) != len(want) {
		t.Errorf("the outbox holds sms to %d numbers, want %d", len(sent), len(want))
	}
	if ids := s.notificationsOfUpload(up.ID); len(ids) != 1 {
		t.Errorf("notifications of the upload = %v, want one", ids)
	}
	if status, b := s.do("PUT", up.UploadURL, strings.NewReader(fixed), "text/csv"); status != 409 {
		t.Errorf("PUT of another file to a sent upload = %d %s, want 409", status, b)
	}
}

// TestSpreadsheetUsersImport: a users import creates new users and merges
// into existing ones (an empty cell keeps the value, other columns become
// attributes), skipping and reporting an invalid row.
func TestSpreadsheetUsersImport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	s := startSheetServer(t, t.TempDir())
	s.call("PUT", "/v1/users/u1", map[string]any{"name": "Ana Old", "email": "old@example.com", "attributes": map[string]string{"city": "Bilbao"}, "tags": []string{"old"}}, 200, nil)
	file := "id,name,email,phone,tags,plan\r\n" +
		"u1,,ana@example.com,+34612000001,vip|beta,gold\r\n" +
		"u2,Bea,bea@example.com,612000002,,silver\r\n" +
		"u3,Carl,not-an-email,,,bronze\r\n"
	for i := 4; i <= 25; i++ {
		file += fmt.Sprintf("u%d,User %d,u%d@example.com,,news,free\r\n", i, i, i)
	}
	var up sheetUpload
	s.call("POST", "/v1/uploads", map[string]any{"purpose": "users", "filename": "users.csv", "defaultRegion": "ES"}, 201, &up)
	s.putFile(up.UploadURL, []byte(file))
	got := s.waitUpload(up.ID, "completed")
	if got.Rows.Total != 25 || got.Rows.Valid != 24 || got.Rows.Invalid != 1 || got.NotificationID != "" {
		t.Errorf("import = %+v, want rows {25 24 1} and no notification", got)
	}
	if len(got.Errors) != 1 || got.Errors[0].Row != 4 || got.Errors[0].Column != "email" {
		t.Errorf("import errors = %+v, want one on row 4, column email", got.Errors)
	}

	type user struct {
		Name       string            `json:"name"`
		Email      string            `json:"email"`
		Phone      string            `json:"phone"`
		Tags       []string          `json:"tags"`
		Attributes map[string]string `json:"attributes"`
	}
	tests := []struct {
		id   string
		want user
	}{
		{"u1", user{Name: "Ana Old", Email: "ana@example.com", Phone: "+34612000001", Tags: []string{"vip", "beta"}, Attributes: map[string]string{"city": "Bilbao", "plan": "gold"}}},
		{"u2", user{Name: "Bea", Email: "bea@example.com", Phone: "+34612000002", Attributes: map[string]string{"plan": "silver"}}},
		{"u25", user{Name: "User 25", Email: "u25@example.com", Tags: []string{"news"}, Attributes: map[string]string{"plan": "free"}}},
	}
	for _, tt := range tests {
		var u user
		s.call("GET", "/v1/users/"+tt.id, nil, 200, &u)
		if diff := cmp.Diff(tt.want, u); diff != "" {
			t.Errorf("GET /v1/users/%s (-want +got):\n%s", tt.id, diff)
		}
	}
	if status, b := s.do("GET", "/v1/users/u3", nil, ""); status != 404 {
		t.Errorf("the invalid row's user u3 = %d %s, want 404", status, b)
	}
}

// TestSpreadsheetUploadSurvivesRestart stops the server as soon as an
// upload's file is stored, before ingestion can have finished, and starts
// it again on the same data: the upload is ingested and every valid row
// gets exactly one message.
func TestSpreadsheetUploadSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	data := t.TempDir()
	s := startSheetServer(t, data)
	tpl := s.template(map[string]any{"name": "Oferta", "channel": "sms", "body": "Hola {{name}}, tu descuento: {{offer}}"})
	file, rows := smsOffersFile(600)
	valid := 0
	for _, r := range rows {
		if r.valid() {
			valid++
		}
	}
	up := s.upload(map[string]any{"templateId": tpl, "channel": "sms", "filename": "clientes.csv", "defaultRegion": "ES"}, file)
	s.stop()

	s = startSheetServer(t, data)
	var first sheetUpload
	s.call("GET", "/v1/uploads/"+up.ID, nil, 200, &first)
	t.Logf("after the restart the upload was %s", first.Status)
	got := s.waitUpload(up.ID, "completed")
	if got.Rows.Total != 600 || got.Rows.Valid != valid {
		t.Errorf("upload after the restart = %+v, want rows {600 %d}", got.Rows, valid)
	}
	n := s.waitNotification(got.NotificationID)
	if n.Status != "completed" || n.Counts["total"] != valid || n.Counts["sent"]+n.Counts["delivered"] != valid {
		t.Errorf("notification after the restart = %+v, want %d delivered", n, valid)
	}
	if ids := s.notificationsOfUpload(up.ID); len(ids) != 1 {
		t.Errorf("notifications of the upload = %v, want one", ids)
	}
	sms := s.outbox("sms")
	if len(sms) != valid {
		t.Errorf("the outbox holds %d sms, want %d: one per valid row", len(sms), valid)
	}
	seen := map[string]int{}
	for _, e := range sms {
		seen[e.Address]++
	}
	for _, r := range rows {
		if r.valid() && seen[r.address] != 1 {
			t.Errorf("row %d: %s got %d sms, want 1", r.row, r.address, seen[r.address])
		}
	}
}

// TestSpreadsheetUploadURLIsThePublicURL: the upload URL, a credential,
// starts with HERALD_PUBLIC_URL (by default the listen address) whatever
// Host the request that created the upload names.
func TestSpreadsheetUploadURLIsThePublicURL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	for _, public := range []string{"", "https://herald.example.com"} {
		l := startLocal(t, t.TempDir(), map[string]string{"HERALD_PUBLIC_URL": public})
		s := &sheetServer{t: t, base: l.base, stop: l.stop}
		want := public
		if want == "" {
			want = l.base
		}
		tpl := s.template(map[string]any{"name": "T", "channel": "sms", "body": "Hola {{name}}"})
		body, err := json.Marshal(map[string]any{"templateId": tpl, "channel": "sms", "filename": "a.csv"})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest("POST", l.base+"/v1/uploads", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "evil.example"
		req.Header.Set("Authorization", "Bearer "+sheetKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var up sheetUpload
		err = json.NewDecoder(res.Body).Decode(&up)
		res.Body.Close()
		if err != nil || res.StatusCode != 201 || !strings.HasPrefix(up.UploadURL, want+"/v1/uploads/"+up.ID+"/file?") {
			t.Errorf("HERALD_PUBLIC_URL %q: POST /v1/uploads with Host evil.example = %d %+v (%v), want an upload URL under %s", public, res.StatusCode, up, err, want)
		}
		l.stop()
	}
}

// TestSpreadsheetZipBombClosesTheUpload: a workbook whose sheet inflates a
// thousand times is refused at once, and its upload takes no other file:
// the same URL cannot be used to make the server read bomb after bomb.
func TestSpreadsheetZipBombClosesTheUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	s := startSheetServer(t, t.TempDir())
	tpl := s.template(map[string]any{"name": "Oferta", "channel": "sms", "body": "Hola {{name}}"})
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	for name, body := range map[string]string{
		"xl/workbook.xml":          `<workbook><sheets><sheet name="S" sheetId="1"/></sheets></workbook>`,
		"xl/worksheets/sheet1.xml": "<worksheet><sheetData>" + strings.Repeat("<row/>", 4<<20/6) + "</sheetData></worksheet>",
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	up := s.upload(map[string]any{"templateId": tpl, "channel": "sms", "filename": "bomba.xlsx"}, bomb.Bytes())
	got := s.waitUpload(up.ID, "rejected")
	if len(got.Errors) != 1 || !strings.Contains(got.Errors[0].Message, "more than 100 times its size") || !strings.Contains(got.Errors[0].Message, "takes no other file") {
		t.Errorf("rejected upload = %+v, want one error saying the file inflates too much and the upload takes no other file", got)
	}
	fixed := "telefono,name\r\n+34612000001,Ana\r\n"
	if status, b := s.do("PUT", up.UploadURL, strings.NewReader(fixed), "text/csv"); status != 409 || !strings.Contains(string(b), "takes no other file") {
		t.Errorf("PUT of another file after the bomb = %d %s, want 409 saying the upload takes no other file", status, b)
	}
	if again := s.waitUpload(up.ID, "rejected"); again.NotificationID != "" {
		t.Errorf("upload after the refused PUT = %+v, want it rejected as the bomb left it", again)
	}
}
