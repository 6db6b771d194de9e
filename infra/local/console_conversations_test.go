package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Journey 7 (seed 002): the WhatsApp contacts whose window expired or who
// never wrote, a template sent from the console to reopen one
// conversation, and the answer that came back, visible in the console.
func TestConsoleConversations(t *testing.T) {
	const appSecret = "meta-app-secret-for-console"
	graph := newFakeGraph(t)
	s := consoleServer(t, map[string]string{"HERALD_CONSOLE_UNDO": "0s", "HERALD_WHATSAPP_ACCESS_TOKEN": "EAAtoken",
		"HERALD_WHATSAPP_PHONE_NUMBER_ID": "1055", "HERALD_WHATSAPP_BASE_URL": graph.srv.URL, "HERALD_WHATSAPP_APP_SECRET": appSecret})
	s.users(map[string]any{"id": "ana", "name": "Ana", "phone": "+34600000001"},
		map[string]any{"id": "bea", "name": "Bea", "phone": "+34600000002"},
		map[string]any{"id": "cris", "name": "Cris", "phone": "+34600000003"})
	webhook := func(value map[string]any) {
		t.Helper()
		body := waCallback(t, value)
		req, _ := http.NewRequest("POST", s.base+"/webhooks/whatsapp", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hub-Signature-256", metaSignature(appSecret, body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("webhook answered %d", res.StatusCode)
		}
	}
	text := func(from string, at time.Time) map[string]any {
		return map[string]any{"messages": []any{map[string]any{"from": from, "id": fmt.Sprintf("wamid.in.%s.%d", from, at.Unix()),
			"timestamp": fmt.Sprint(at.Unix()), "type": "text", "text": map[string]string{"body": "hola"}}}}
	}
	webhook(text("34600000002", time.Now().Add(-49*time.Hour))) // Bea wrote two days ago
	webhook(text("34600000003", time.Now().Add(-time.Hour)))    // Cris an hour ago
	s.must(201, "POST", "/v1/templates", map[string]any{"name": "Reactivar", "channel": "whatsapp", "body": "Hola {{1}}, ¿te seguimos ayudando?",
		"whatsapp": map[string]any{"name": "reactivar", "language": "es", "category": "marketing", "parameters": []string{"name"},
			"buttons": []any{map[string]string{"id": "yes", "label": "Sí"}, map[string]string{"id": "no", "label": "No"}}}})

	b := signIn(t, s, adminEmail, adminPassword)
	b.ClickLink("Conversations")
	b.WaitText("Never wrote", 0)
	text0 := b.Text()
	if !strings.Contains(text0, "Ana") || !strings.Contains(text0, "Bea") || strings.Contains(text0, "Cris") {
		t.Fatalf("the closed conversations:\n%s", text0)
	}
	screen(t, b, "console-conversations")
	b.Select("Show", "Never wrote")
	b.ClickButton("Filter")
	b.WaitText("Ana", 0)
	if strings.Contains(b.Text(), "Bea") {
		t.Error("Bea wrote once, yet is listed as never wrote")
	}
	b.Select("Show", "Expired or never wrote")
	b.ClickButton("Filter")
	b.ClickLink("Send a template to Ana")
	b.WaitText("Send a template to reopen the conversation", 0)
	b.Select("Template", "Reactivar (es)")
	b.ClickButton("Preview")
	b.WaitText("Hola Ana, ¿te seguimos ayudando?", 0)
	screen(t, b, "console-conversation-preview")
	b.ClickButton("Send template")
	b.WaitText("This template goes to Ana (+34600000001)", 0)
	b.WaitText("Once sent, this action cannot be undone.", 0)
	b.ClickButton("Send template")
	b.WaitText("Accepted", 0)
	nid := historyID.FindStringSubmatch(b.URL())[1]

	// The template reaches WhatsApp with its quick replies; Ana presses "Sí".
	var payload string
	deadline := time.Now().Add(10 * time.Second)
	for payload == "" && time.Now().Before(deadline) {
		for _, m := range graph.messages() {
			if m.Body["to"] != "+34600000001" {
				continue
			}
			raw, _ := json.Marshal(m.Body["template"])
			var tp struct {
				Components []struct {
					Type, Index string
					Parameters  []struct{ Payload string } `json:"parameters"`
				} `json:"components"`
			}
			_ = json.Unmarshal(raw, &tp)
			for _, c := range tp.Components {
				if c.Type == "button" && c.Index == "0" && len(c.Parameters) == 1 {
					payload = c.Parameters[0].Payload
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if payload == "" {
		t.Fatalf("WhatsApp never got the template with its buttons: %+v", graph.messages())
	}
	webhook(map[string]any{"messages": []any{map[string]any{"from": "34600000001", "id": "wamid.press.1", "timestamp": fmt.Sprint(time.Now().Unix()),
		"type": "button", "button": map[string]string{"payload": payload, "text": "Sí"}}}})
	b.Visit(s.base + "/conversations?state=all")
	b.WaitText("“Sí”", 0)
	screen(t, b, "console-conversations-answered")
	d := s.must(200, "GET", "/v1/notifications/"+nid+"/deliveries", nil)["items"].([]any)[0].(map[string]any)
	if d["answer"] != "yes" && d["answer"] != "Sí" {
		t.Errorf("the delivery's answer = %v", d["answer"])
	}

}
