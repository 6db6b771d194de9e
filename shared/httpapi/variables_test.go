package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// TestSendNeedsEveryVariable: a send whose template needs a variable that
// neither the request nor any recipient supplies would fail every
// delivery, so it is refused (and so is its dry run) naming the variable;
// a variable some recipients supply is their own business.
func TestSendNeedsEveryVariable(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/ana", e.admin, map[string]any{"name": "Ana", "email": "ana@example.com", "attributes": map[string]string{"plan": "Solar"}, "status": "active"})
	e.must(200, "PUT", "/v1/users/eva", e.admin, map[string]any{"email": "eva@example.com", "status": "active"})
	tpl := e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "Offer", "channel": "email",
		"title": "Save {{offer}}", "body": "Hi {{name}}, plan {{plan}}: {{offer}} off. {{code}}"}).body["id"].(string)
	users := map[string]any{"userIds": []string{"ana", "eva"}}
	filter := map[string]any{"filter": map[string]any{"status": []string{"active"}}}
	tests := []struct {
		name     string
		body     map[string]any
		path     string
		wantBad  []string // the variables named, in order
		accepted int      // the status when nothing is missing
	}{
		{"list send lacking offer and code", map[string]any{"channel": "email", "templateId": tpl, "audience": users}, "/v1/notifications", []string{"variables.code", "variables.offer"}, 0},
		{"list dry run lacking code", map[string]any{"channel": "email", "templateId": tpl, "variables": map[string]string{"offer": "10%"}, "audience": users}, "/v1/notifications:dryRun", []string{"variables.code"}, 0},
		{"filter dry run lacking code", map[string]any{"channel": "email", "templateId": tpl, "variables": map[string]string{"offer": "10%"}, "audience": filter}, "/v1/notifications:dryRun", []string{"variables.code"}, 0},
		{"filter send lacking code", map[string]any{"channel": "email", "templateId": tpl, "variables": map[string]string{"offer": "10%"}, "audience": map[string]any{"filter": map[string]any{"status": []string{"active"}}, "expectedCount": 2}}, "/v1/notifications", []string{"variables.code"}, 0},
		{"addresses have no profile", map[string]any{"channel": "email", "templateId": tpl, "variables": map[string]string{"offer": "10%", "code": "X"}, "audience": map[string]any{"addresses": []string{"x@example.com"}}}, "/v1/notifications", []string{"variables.name", "variables.plan"}, 0},
		{"inline content to addresses", map[string]any{"channel": "sms", "content": map[string]any{"body": "Hola {{name}}"}, "audience": map[string]any{"addresses": []string{"+34600000001"}}}, "/v1/notifications", []string{"variables.name"}, 0},
		// plan and name come from Ana's profile (Eva lacks them: her delivery fails alone).
		{"list with everything", map[string]any{"channel": "email", "templateId": tpl, "variables": map[string]string{"offer": "10%", "code": "X"}, "audience": users}, "/v1/notifications", nil, 202},
		{"filter with everything", map[string]any{"channel": "email", "templateId": tpl, "variables": map[string]string{"offer": "10%", "code": "X"}, "audience": map[string]any{"filter": map[string]any{"status": []string{"active"}}, "expectedCount": 2}}, "/v1/notifications", nil, 202},
		{"addresses with everything", map[string]any{"channel": "email", "templateId": tpl, "variables": map[string]string{"offer": "10%", "code": "X", "name": "client", "plan": "any"}, "audience": map[string]any{"addresses": []string{"x@example.com"}}}, "/v1/notifications", nil, 202},
	}
	for _, tt := range tests {
		r := e.do("POST", tt.path, e.admin, tt.body)
		if tt.wantBad == nil {
			if r.status != tt.accepted {
				t.Errorf("%s = %d %s, want %d", tt.name, r.status, r.raw, tt.accepted)
			}
			continue
		}
		if r.status != 422 || r.errCode() != "validation_failed" {
			t.Errorf("%s = %d %s, want 422", tt.name, r.status, r.raw)
			continue
		}
		var got []string
		for _, d := range r.body["error"].(map[string]any)["details"].([]any) {
			got = append(got, d.(map[string]any)["field"].(string))
		}
		if strings.Join(got, ",") != strings.Join(tt.wantBad, ",") {
			t.Errorf("%s named %v, want %v (%s)", tt.name, got, tt.wantBad, r.raw)
		}
	}
	// Only the three accepted sends were queued.
	if r := e.must(200, "GET", "/v1/notifications", e.admin, nil); len(r.body["items"].([]any)) != 3 {
		t.Errorf("notifications = %s, want the three accepted sends", r.raw)
	}
}

// TestErrorDetailsAreBounded: a body with thousands of bad items gets the
// first problems and their number, not an answer as long as the request.
func TestErrorDetailsAreBounded(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/u1", e.admin, map[string]any{"name": "U"})
	channels := map[string]bool{}
	for i := range 10000 {
		channels[fmt.Sprintf("fax%d", i)] = true
	}
	r := e.must(422, "PUT", "/v1/users/u1/preferences", e.admin, map[string]any{"channels": channels})
	details := r.body["error"].(map[string]any)["details"].([]any)
	msg := r.body["error"].(map[string]any)["message"].(string)
	if len(details) != maxDetails || !strings.Contains(msg, "and 9999 more problems") || len(r.raw) > 10000 {
		t.Errorf("10,000 bad channels = %d details, message %q, %d bytes; want %d details and the count", len(details), msg, len(r.raw), maxDetails)
	}
}

// TestLastAdminKeyStays: the workspace's last admin key cannot be revoked
// (not even by itself), so the workspace is never locked out.
func TestLastAdminKeyStays(t *testing.T) {
	e := newEnv(t)
	e.key("ws1", "k_send", notify.ScopeSend)
	if r := e.do("DELETE", "/v1/keys/k1", e.admin, nil); r.status != 409 || !strings.Contains(r.raw, "last admin key") {
		t.Errorf("revoking the last admin key = %d %s, want 409", r.status, r.raw)
	}
	e.must(200, "GET", "/v1/keys", e.admin, nil)
	// With a second admin key, either may go, but not both.
	second := e.must(201, "POST", "/v1/keys", e.admin, map[string]any{"name": "second", "scopes": []string{"admin"}})
	e.must(204, "DELETE", "/v1/keys/k1", e.admin, nil)
	secret := second.body["key"].(string)
	e.must(409, "DELETE", "/v1/keys/"+second.body["id"].(string), secret, nil)
	e.must(204, "DELETE", "/v1/keys/k_send", secret, nil)
}

// TestAudienceErrorsNameEveryForm: a send without an audience, or with two,
// learns every form an audience takes; counts read as words do.
func TestAudienceErrorsNameEveryForm(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{
		`{"channel": "sms", "content": {"body": "x"}}`,
		`{"channel": "sms", "content": {"body": "x"}, "audience": {}}`,
		`{"channel": "sms", "content": {"body": "x"}, "audience": {"userIds": ["a"], "addresses": ["+34600000001"]}}`,
	} {
		r := e.must(422, "POST", "/v1/notifications", e.admin, body)
		for _, form := range []string{`"userIds"`, `"addresses"`, `"filter"`, `expectedCount`, `/v1/uploads`} {
			if !strings.Contains(r.raw, strings.ReplaceAll(form, `"`, `\"`)) {
				t.Errorf("%s = %s, want it to name %s", body, r.raw, form)
			}
		}
	}
	e.must(200, "PUT", "/v1/users/u1", e.admin, map[string]any{"name": "U", "status": "active", "phone": "+34600000001"})
	r := e.must(409, "POST", "/v1/notifications", e.admin, `{"channel": "sms", "content": {"body": "x"}, "audience": {"filter": {"status": ["active"]}, "expectedCount": 5}}`)
	if !strings.Contains(r.raw, "reaches 1 user now") {
		t.Errorf("audience changed = %s, want \"reaches 1 user now\"", r.raw)
	}
}

// TestRootsPointToTheDocs: whoever opens the server's address, or /v1,
// learns where the API is described, without a key.
func TestRootsPointToTheDocs(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/", "/v1"} {
		r := e.must(200, "GET", path, "", nil)
		if r.body["openapi"] != "/v1/openapi.json" || r.body["health"] != "/v1/health" {
			t.Errorf("GET %s = %s, want links to /v1/openapi.json and /v1/health", path, r.raw)
		}
	}
	e.must(404, "GET", "/nothing", "", nil)
}

// TestFailedEnqueueCountsWhatWent: a send whose enqueue failed partway is
// stored failed, counting only the recipients whose messages did go (they
// will be settled as skipped); the others never reach a queue and must not
// stay queued for ever.
func TestFailedEnqueueCountsWhatWent(t *testing.T) {
	e := newEnv(t)
	ids := make([]string, 250)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%03d", i)
	}
	tests := []struct {
		name string
		err  error
		want notify.Counts
	}{
		{"the second of three messages lost", fmt.Errorf("send: %w", &notify.SendError{Failed: []int{1}, Err: fmt.Errorf("throttled")}), notify.Counts{Total: 150, Queued: 150}},
		{"nothing went", fmt.Errorf("queue down"), notify.Counts{}},
	}
	for _, tt := range tests {
		e.queue.err = tt.err
		r := e.do("POST", "/v1/notifications", e.admin, map[string]any{"channel": "push", "content": map[string]any{"title": "T", "body": "B"}, "audience": map[string]any{"userIds": ids}})
		if r.status != 500 {
			t.Fatalf("%s: send = %d %s, want 500", tt.name, r.status, r.raw)
		}
		list := e.must(200, "GET", "/v1/notifications?status=failed&limit=1", e.admin, nil)
		n := list.body["items"].([]any)[0].(map[string]any)
		c := n["counts"].(map[string]any)
		got := notify.Counts{Total: int64(c["total"].(float64)), Queued: int64(c["queued"].(float64))}
		if got != tt.want {
			t.Errorf("%s: counts %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestUnencodableAnswerIsAnError: an answer that cannot be encoded (a
// time past year 9999, say) is a 500 in the error shape, not a 2xx with an
// empty body.
func TestUnencodableAnswerIsAnError(t *testing.T) {
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusCreated, map[string]any{"at": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":"internal"`) {
		t.Errorf("writeJSON of a year-10000 time = %d %q, want 500 internal", rec.Code, rec.Body.String())
	}
}
