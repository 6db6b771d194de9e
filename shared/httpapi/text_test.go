package httpapi

import (
	"strings"
	"testing"
)

// TestControlCharactersAreRefused: NUL, ESC, DEL and C1 controls, however
// JSON spells them, never reach a profile, a template, a send or a
// campaign; the answer names the field. Tabs and line breaks are text.
func TestControlCharactersAreRefused(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/u1", e.admin, map[string]any{"name": "U"})
	tests := []struct {
		method, path, body, field string
	}{
		{"PUT", "/v1/users/u2", `{"name": "Ana\u0000"}`, "name"},
		{"PUT", "/v1/users/u2", `{"attributes": {"plan": "x\u001b[31m"}}`, "attributes.plan"},
		{"PUT", "/v1/users/u2", `{"attributes": {"pl\u0007an": "x"}}`, "attributes.(a key)"},
		{"PUT", "/v1/users/u2", `{"tags": ["ok", "b\u007f"]}`, "tags[1]"},
		{"PUT", "/v1/users/u2", "{\"name\": \"C1 \u0085 here\"}", "name"},
		{"POST", "/v1/users:batch", `{"users": [{"id": "u3", "name": "\u0008"}]}`, "users[0].name"},
		{"POST", "/v1/templates", `{"name": "T", "channel": "sms", "body": "Hola\u0000{{name}}"}`, "body"},
		{"POST", "/v1/templates", `{"name": "T", "channel": "email", "title": "S", "body": "b", "email": {"html": "<p>\u000c</p>"}}`, "email.html"},
		{"POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi\u001b"}, "audience": {"userIds": ["u1"]}}`, "content.body"},
		{"POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi {{x}}"}, "variables": {"x": "\u0000"}, "audience": {"userIds": ["u1"]}}`, "variables.x"},
		{"POST", "/v1/notifications:dryRun", `{"channel": "sms", "content": {"body": "Hi\u0001"}, "audience": {"userIds": ["u1"]}}`, "content.body"},
		{"POST", "/v1/campaigns", `{"name": "C", "schedule": "rate(1 day)", "notification": {"channel": "sms", "content": {"body": "x\u0000"}, "audience": {"userIds": ["u1"]}}}`, "notification.content.body"},
		{"PUT", "/v1/users/u1/preferences", `{"categories": {"a\u0000": true}}`, "categories.(a key)"},
	}
	for _, tt := range tests {
		r := e.do(tt.method, tt.path, e.admin, tt.body)
		if r.status != 422 || r.errField() != tt.field || !strings.Contains(r.raw, "control character") {
			t.Errorf("%s %s %s = %d field %q, want 422 naming %q: %s", tt.method, tt.path, tt.body, r.status, r.errField(), tt.field, r.raw)
		}
	}
	e.must(404, "GET", "/v1/users/u2", e.admin, nil)
	// Tabs and line breaks are welcome.
	e.must(201, "POST", "/v1/templates", e.admin, `{"name": "T", "channel": "sms", "body": "Line 1\r\nLine 2\tcol"}`)
	if r := e.must(200, "GET", "/v1/notifications", e.admin, nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("refused sends were stored: %s", r.raw)
	}
}
