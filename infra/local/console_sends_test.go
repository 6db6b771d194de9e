package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// Journeys 5 and 6 (seed 002): New send → a template from the gallery →
// a spreadsheet built after the sample the console offers, or typed
// numbers → Send now → the send's state on the same screen, to the
// result sheet.

// readCSV reads a CSV the console served, as the page's fetch decoded it
// (text() drops the byte order mark; a reader keeps none either way).
func readCSV(t *testing.T, text string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\uFEFF")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("read CSV %q: %v", text, err)
	}
	return recs
}

func TestConsoleNewSendSpreadsheet(t *testing.T) {
	s := consoleServer(t, nil)
	s.must(201, "POST", "/v1/templates", map[string]any{"name": "Recordatorio de cita", "channel": "sms", "body": "Hola {{name}}, tu cita es el {{date}}."})
	s.must(201, "POST", "/v1/templates", map[string]any{"name": "Factura", "channel": "email", "body": "Tu factura está lista.", "email": map[string]any{"subject": "Factura"}})
	b := signIn(t, s, adminEmail, adminPassword)
	b.ClickLink("New send")
	b.WaitText("Pick a template in the gallery", 0)
	screen(t, b, "console-sends-gallery")

	b.ClickLink("Recordatorio de cita")
	b.WaitText("How to build the spreadsheet", 0)
	b.WaitText("Hola {{name}}, tu cita es el {{date}}.", 0) // the preview, variables by name
	screen(t, b, "console-sends-template")

	// The sample sheet has the columns the page lists, in order.
	var sample string
	b.Eval(`fetch(document.getElementById("sample-csv").href).then(r => r.text())`, &sample)
	recs := readCSV(t, sample)
	if len(recs) != 2 || !slices.Equal(recs[0], []string{"phone", "date", "name"}) {
		t.Fatalf("the sample CSV = %q, want the header phone, date, name and an example row", recs)
	}
	var xlsx []int
	b.Eval(`fetch(document.getElementById("sample-xlsx").href).then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b).slice(0, 2)))`, &xlsx)
	if !slices.Equal(xlsx, []int{'P', 'K'}) {
		t.Errorf("the sample XLSX starts with %v, want a zip (PK)", xlsx)
	}

	// The sheet filled in: two good rows and a phone without its country.
	rows := [][]string{recs[0], {"+34600000001", "lunes", "Ana"}, {"+34600000002", "martes", "Luis"}, {"12345", "miércoles", "Eva"}}
	path := filepath.Join(t.TempDir(), "clientes.csv")
	var sheet strings.Builder
	w := csv.NewWriter(&sheet)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(sheet.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Check("Select file")
	if _, err := chromedp.Run(b.Context(), chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{path})); err != nil {
		t.Fatal(err)
	}
	screen(t, b, "console-sends-file-chosen")

	b.ClickButton("Send now")
	b.WaitText("Accepted: clientes.csv was received.", 0)
	b.WaitText("Rows with errors (not sent)", 10*time.Second)
	for _, want := range []string{"Valid 2", "Invalid 1", "clientes.csv · Recordatorio de cita"} {
		b.WaitText(want, 0)
	}
	var errRow []string
	b.Eval(`Array.from(document.querySelectorAll("#upload-errors tbody td")).map(td => td.textContent)`, &errRow)
	if len(errRow) != 3 || errRow[0] != "4" || errRow[1] != "phone" || !strings.Contains(errRow[2], "international format") {
		t.Errorf("the invalid row as shown: %q, want row 4, column phone and why", errRow)
	}
	screen(t, b, "console-sends-file-checked")

	b.WaitText("Completed: the valid rows were sent.", 30*time.Second)
	b.WaitText("Download the result spreadsheet", 0)
	screen(t, b, "console-sends-file-completed")

	var report string
	b.Eval(`fetch(document.querySelector("#upload-result a[download]").href).then(r => r.text())`, &report)
	got := readCSV(t, report)
	if len(got) != 4 || !slices.Equal(got[0], []string{"phone", "date", "name", "status", "reason", "provider_message_id"}) {
		t.Fatalf("the result sheet = %q", got)
	}
	for i, want := range [][]string{{"'+34600000001", "lunes", "Ana"}, {"'+34600000002", "martes", "Luis"}, {"12345", "miércoles", "Eva", "invalid"}} {
		if diff := cmp.Diff(want, got[i+1][:len(want)]); diff != "" {
			t.Errorf("result row %d (-want +got):\n%s", i+2, diff)
		}
	}
	for _, r := range got[1:3] {
		if r[3] != "sent" && r[3] != "delivered" {
			t.Errorf("a valid row's status is %q, want sent or delivered: %q", r[3], r)
		}
	}
	// Who sent it, from the outbox's side: two messages with their values.
	out := s.must(200, "GET", "/v1/outbox?channel=sms", nil)["items"].([]any)
	var bodies []string
	for _, it := range out {
		bodies = append(bodies, it.(map[string]any)["body"].(string))
	}
	slices.Sort(bodies)
	if !slices.Equal(bodies, []string{"Hola Ana, tu cita es el lunes.", "Hola Luis, tu cita es el martes."}) {
		t.Errorf("the outbox holds %q", bodies)
	}
}

func TestConsoleNewSendNumberList(t *testing.T) {
	s := consoleServer(t, nil)
	s.must(201, "POST", "/v1/templates", map[string]any{"name": "Aviso", "channel": "sms", "body": "Hola, tu cita es el {{date}}."})
	b := signIn(t, s, adminEmail, adminPassword)
	b.ClickLink("New send")
	b.ClickLink("Aviso")
	b.WaitText("Type the numbers", 0)
	b.FillLabel("Numbers", "+34600000011, +34600000012")
	b.FillLabel("date", "lunes")
	b.WaitText("2 typed.", 0)
	screen(t, b, "console-sends-list")

	b.ClickButton("Send now")
	b.WaitText("This message goes to 2 recipients", 0)
	b.WaitText("Once sent, this action cannot be undone.", 0)
	b.WaitText("Hola, tu cita es el lunes.", 0)
	screen(t, b, "console-sends-list-confirm")

	b.ClickButton("Send to 2 recipients")
	b.WaitText("Undo", 0)
	screen(t, b, "console-sends-list-undo")
	m := historyID.FindStringSubmatch(b.URL())
	if m == nil {
		t.Fatalf("after sending the page is %s, want /history/<id>", b.URL())
	}
	n := s.waitStatus(m[1], "completed")
	if n["audience"].(map[string]any)["count"] != 2.0 || n["origin"] != "console" || n["createdBy"] != "operator "+adminEmail {
		t.Errorf("the list's send: %v", n)
	}
	b.WaitText("completed", 10*time.Second)
	b.WaitText("+34600000012", 10*time.Second)
	screen(t, b, "console-sends-list-completed")
	if got := len(s.must(200, "GET", "/v1/outbox?channel=sms", nil)["items"].([]any)); got != 2 {
		t.Errorf("the outbox holds %d SMS, want 2", got)
	}
}
