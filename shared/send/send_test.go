package send_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/send"
)

const ws = "ws1"

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// fakeStore is send.Store over a few users and templates of one
// workspace. ListUsers splits the users into segments by their index, as
// the real stores split them by shard, and returns each segment as one page.
type fakeStore struct {
	mu        sync.Mutex
	templates map[string]notify.Template
	users     []notify.User
	fail      error // returned by every read when set

	created        []notify.Notification
	queuedAtCreate []int // len(dispatch.bodies) when each notification was created
	dispatch       *fakeQueue
	getUsers       int
	listUsers      int
}

func (s *fakeStore) GetTemplate(_ context.Context, workspaceID, id string) (notify.Template, error) {
	if s.fail != nil {
		return notify.Template{}, s.fail
	}
	t, ok := s.templates[id]
	if !ok || workspaceID != ws {
		return notify.Template{}, notify.NotFound("template", id)
	}
	return t, nil
}

func (s *fakeStore) GetUsers(_ context.Context, workspaceID string, ids []string) (map[string]notify.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.getUsers++
	if s.fail != nil {
		return nil, s.fail
	}
	out := map[string]notify.User{}
	for _, id := range ids {
		for _, u := range s.users {
			if u.ID == id && workspaceID == ws {
				out[id] = u
			}
		}
	}
	return out, nil
}

func (s *fakeStore) ListUsers(_ context.Context, workspaceID string, f notify.UserFilter, p notify.Page) ([]notify.User, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listUsers++
	if s.fail != nil {
		return nil, "", s.fail
	}
	var out []notify.User
	for i, u := range s.users {
		if workspaceID == ws && (p.Segments <= 1 || i%p.Segments == p.Segment) && f.Matches(u) {
			out = append(out, u)
		}
	}
	return out, "", nil
}

func (s *fakeStore) CreateNotification(_ context.Context, n notify.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, n)
	s.queuedAtCreate = append(s.queuedAtCreate, len(s.dispatch.bodies))
	return nil
}

// fakeQueue keeps what it is sent. With fail a *notify.SendError it keeps
// the bodies the error does not name, as a queue that enqueued some.
type fakeQueue struct {
	bodies [][]byte
	fail   error
}

func (q *fakeQueue) Send(_ context.Context, bodies [][]byte) error {
	lost := notify.NotEnqueued(q.fail, len(bodies))
	for i, b := range bodies {
		if !lost[i] {
			q.bodies = append(q.bodies, b)
		}
	}
	return q.fail
}

// users: u1 reachable by push, u2 never asked for push (no_consent), u3
// blocked it; all active. u4 is inactive, outside the filter sends'
// {"status": ["active"]}.
func testUsers() []notify.User {
	device := []notify.Device{{ID: "d1", Kind: notify.DeviceFCM, Token: "t"}}
	return []notify.User{
		{WorkspaceID: ws, ID: "u1", Name: "Ana", Phone: "+34600000001", Status: "active", PushPermission: notify.PermissionAllowed, Devices: device},
		{WorkspaceID: ws, ID: "u2", Status: "active", PushPermission: notify.PermissionAsk, Attributes: map[string]string{"plan": "pro"}},
		{WorkspaceID: ws, ID: "u3", Name: "Eva", Status: "active", PushPermission: notify.PermissionBlocked, Devices: device},
		{WorkspaceID: ws, ID: "u4", Name: "Leo", Status: "inactive", PushPermission: notify.PermissionAllowed, Devices: device},
	}
}

func newStore() *fakeStore {
	return &fakeStore{
		users: testUsers(),
		templates: map[string]notify.Template{
			"tpl_push":  {WorkspaceID: ws, ID: "tpl_push", Channel: notify.ChannelPush, Title: "Oferta", Body: "Hola {{name}}", Version: 2},
			"tpl_sms":   {WorkspaceID: ws, ID: "tpl_sms", Channel: notify.ChannelSMS, Body: "Hola", Version: 1},
			"tpl_draft": {WorkspaceID: ws, ID: "tpl_draft", Channel: notify.ChannelPush, Title: "Draft", Body: "Hola", Version: 1, Status: notify.TemplateDraft},
		},
	}
}

func newSender(store *fakeStore) (*send.Sender, *fakeQueue, *fakeQueue) {
	dispatch, steps := &fakeQueue{}, &fakeQueue{}
	store.dispatch = dispatch
	s := &send.Sender{Store: store, Dispatch: dispatch, Steps: steps, IDs: &notify.IDs{}, Now: func() time.Time { return now }, DefaultRegion: "ES"}
	return s, dispatch, steps
}

// input decodes a send's body as the API does.
func input(t *testing.T, body string) send.Input {
	t.Helper()
	var in send.Input
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return in
}

// fieldsOf returns the fields a validation error names, failing the test
// when err is not one.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var e *notify.Error
	if !errors.As(err, &e) || e.Code != notify.CodeValidation {
		t.Fatalf("error = %v, want a %s error", err, notify.CodeValidation)
	}
	var out []string
	for _, d := range e.Details {
		out = append(out, d.Field)
	}
	return out
}

// quoted makes a JSON list of n strings made by f.
func quoted(n int, f func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"` + f(i) + `"`
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestPrepareNamesEveryFieldAtFault(t *testing.T) {
	const push = `"channel": "push", "content": {"title": "T", "body": "B"}`
	tests := []struct {
		name    string
		body    string
		maxList int
		noSteps bool
		want    []string
	}{
		{name: "no audience", body: `{` + push + `}`, want: []string{"audience"}},
		{name: "two audiences", body: `{` + push + `, "audience": {"userIds": ["u1"], "filter": {}}}`, want: []string{"audience"}},
		{name: "an upload", body: `{` + push + `, "audience": {"uploadId": "upl_1"}}`, want: []string{"audience.uploadId"}},
		{name: "no user ids", body: `{` + push + `, "audience": {"userIds": []}}`, want: []string{"audience.userIds"}},
		{name: "more user ids than the limit", maxList: 2, body: `{` + push + `, "audience": {"userIds": ["u1", "u2", "u3"]}}`, want: []string{"audience.userIds"}},
		{name: "more addresses than the limit", maxList: 1, body: `{"channel": "sms", "content": {"body": "B"}, "audience": {"addresses": ["+34600000001", "+34600000002"]}}`, want: []string{"audience.addresses"}},
		{name: "bad user ids", body: `{` + push + `, "audience": {"userIds": ["u1", "no spaces", "no/slash"]}}`, want: []string{"audience.userIds[1]", "audience.userIds[2]"}},
		{name: "ten bad user ids are enough", body: `{` + push + `, "audience": {"userIds": ` + quoted(12, func(i int) string { return fmt.Sprintf("bad id %d", i) }) + `}}`,
			want: []string{"audience.userIds[0]", "audience.userIds[1]", "audience.userIds[2]", "audience.userIds[3]", "audience.userIds[4]", "audience.userIds[5]", "audience.userIds[6]", "audience.userIds[7]", "audience.userIds[8]", "audience.userIds[9]"}},
		{name: "addresses for push", body: `{` + push + `, "audience": {"addresses": ["+34600000001"]}}`, want: []string{"audience.addresses"}},
		{name: "a bad phone", body: `{"channel": "sms", "content": {"body": "B"}, "audience": {"addresses": ["+34600000001", "not a phone"]}}`, want: []string{"audience.addresses[1]"}},
		{name: "a filter with an unknown field", body: `{` + push + `, "audience": {"filter": {"colour": "red"}}}`, want: []string{"audience.filter"}},
		{name: "a filter with too many tags", body: `{` + push + `, "audience": {"filter": {"tags": ` + quoted(21, func(i int) string { return fmt.Sprint("t", i) }) + `}}}`, want: []string{"audience.filter.tags"}},
		{name: "a filter without the audience queue", noSteps: true, body: `{` + push + `, "audience": {"filter": {}}}`, want: []string{"audience.filter"}},
		{name: "an unknown channel", body: `{"channel": "pigeon", "content": {"body": "B"}, "audience": {"userIds": ["u1"]}}`, want: []string{"channel"}},
		{name: "fallbacks repeating a channel", body: `{` + push + `, "fallback": ["sms", "sms", "push"], "audience": {"userIds": ["u1"]}}`, want: []string{"fallback[1]", "fallback[2]"}},
		{name: "more than 100 variables", body: `{` + push + `, "variables": {` + strings.Trim(quoted(101, func(i int) string { return fmt.Sprintf(`v%d": "x`, i) }), "[]") + `}, "audience": {"userIds": ["u1"]}}`, want: []string{"variables"}},
		{name: "a variable too long", body: `{` + push + `, "variables": {"code": "` + strings.Repeat("x", 2000) + `"}, "audience": {"userIds": ["u1"]}}`, want: []string{"variables.code"}},
		{name: "a category too long", body: `{` + push + `, "category": "` + strings.Repeat("c", 65) + `", "audience": {"userIds": ["u1"]}}`, want: []string{"category"}},
		{name: "an unknown recipient type", body: `{` + push + `, "recipientType": "vip", "audience": {"userIds": ["u1"]}}`, want: []string{"recipientType"}},
		{name: "a template and content", body: `{` + push + `, "templateId": "tpl_push", "audience": {"userIds": ["u1"]}}`, want: []string{"templateId"}},
		{name: "neither template nor content", body: `{"channel": "push", "audience": {"userIds": ["u1"]}}`, want: []string{"templateId"}},
		{name: "no such template", body: `{"channel": "push", "templateId": "tpl_gone", "audience": {"userIds": ["u1"]}}`, want: []string{"templateId"}},
		{name: "a template of another channel", body: `{"channel": "push", "templateId": "tpl_sms", "audience": {"userIds": ["u1"]}}`, want: []string{"templateId"}},
		{name: "a draft template", body: `{"channel": "push", "templateId": "tpl_draft", "audience": {"userIds": ["u1"]}}`, want: []string{"templateId"}},
		{name: "a push without a title", body: `{"channel": "push", "content": {"body": "B"}, "audience": {"userIds": ["u1"]}}`, want: []string{"content.title"}},
		{name: "free-form WhatsApp to two users", body: `{"channel": "whatsapp", "content": {"body": "B"}, "audience": {"userIds": ["u1", "u2"]}}`, want: []string{"content"}},
		{name: "every problem at once, in order", body: `{"channel": "pigeon", "category": "` + strings.Repeat("c", 65) + `", "content": {"body": "B"}}`, want: []string{"channel", "category", "audience"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore()
			s, dispatch, _ := newSender(store)
			s.MaxListRecipients = tt.maxList
			if tt.noSteps {
				s.Steps = nil
			}
			_, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws, By: "ops"}, input(t, tt.body))
			if d := cmp.Diff(tt.want, fieldsOf(t, err)); d != "" {
				t.Errorf("fields at fault (-want +got):\n%s", d)
			}
			if len(store.created) != 0 || len(dispatch.bodies) != 0 {
				t.Errorf("a refused send created %d notifications and sent %d messages; want none", len(store.created), len(dispatch.bodies))
			}
		})
	}
}

func TestPrepareBoundsListsByDefault(t *testing.T) {
	s, _, _ := newSender(newStore())
	body := `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"userIds": ` + quoted(10001, func(i int) string { return fmt.Sprint("u", i) }) + `}}`
	_, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws}, input(t, body))
	if got := fieldsOf(t, err); len(got) != 1 || got[0] != "audience.userIds" || !strings.Contains(err.Error(), "1 to 10000") {
		t.Errorf("Prepare of 10,001 user ids = %v, want audience.userIds: 1 to 10000", err)
	}
	body = `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"userIds": ` + quoted(10000, func(i int) string { return fmt.Sprint("u", i) }) + `}}`
	if p, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws}, input(t, body)); err != nil || len(p.Recipients) != 10000 {
		t.Errorf("Prepare of 10,000 user ids = %d recipients, %v; want them all", len(p.Recipients), err)
	}
}

func TestPrepareListAudiences(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		want       []notify.Recipient
		wantSource notify.Source
		wantKind   string
	}{
		{
			name:       "user ids, each once",
			body:       `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"userIds": ["u1", "u2", "u1"]}}`,
			want:       []notify.Recipient{{UserID: "u1"}, {UserID: "u2"}},
			wantSource: notify.SourceList, wantKind: "userIds",
		},
		{
			name:       "one user",
			body:       `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"userIds": ["u1"]}}`,
			want:       []notify.Recipient{{UserID: "u1"}},
			wantSource: notify.SourceSingle, wantKind: "userIds",
		},
		{
			name:       "phones, normalized and each once",
			body:       `{"channel": "sms", "content": {"body": "B"}, "audience": {"addresses": ["+34 600 000 001", "600000001", "+34600000002"]}}`,
			want:       []notify.Recipient{{Address: "+34600000001"}, {Address: "+34600000002"}},
			wantSource: notify.SourceList, wantKind: "addresses",
		},
		{
			name:       "an email",
			body:       `{"channel": "email", "content": {"title": "Hi", "body": "B"}, "audience": {"addresses": ["ana@example.com"]}}`,
			want:       []notify.Recipient{{Address: "ana@example.com"}},
			wantSource: notify.SourceSingle, wantKind: "addresses",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newSender(newStore())
			p, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws}, input(t, tt.body))
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if d := cmp.Diff(tt.want, p.Recipients); d != "" {
				t.Errorf("recipients (-want +got):\n%s", d)
			}
			n := len(tt.want)
			if p.N.Source != tt.wantSource || p.N.Audience != (notify.Audience{Kind: tt.wantKind, Count: n}) ||
				p.N.Counts != (notify.Counts{Total: int64(n), Queued: int64(n)}) || p.Filter != nil {
				t.Errorf("notification source %s, audience %+v, counts %+v, filter %v; want %s, {%s %d}, %d queued, no filter",
					p.N.Source, p.N.Audience, p.N.Counts, p.Filter, tt.wantSource, tt.wantKind, n, n)
			}
		})
	}
}

func TestPrepareRefusesVariablesNobodyFills(t *testing.T) {
	tests := []struct {
		name string
		body string
		mode send.Mode
		want []string // the variables named; none: the send is accepted
	}{
		{name: "a user has it", body: `{"channel": "push", "content": {"title": "T", "body": "Hola {{name}}"}, "audience": {"userIds": ["u1", "u2"]}}`},
		{name: "no user has it", body: `{"channel": "push", "content": {"title": "T", "body": "Hola {{name}}"}, "audience": {"userIds": ["u2"]}}`, want: []string{"name"}},
		{name: "the send gives it", body: `{"channel": "push", "content": {"title": "T", "body": "Hola {{name}}"}, "variables": {"name": "tú"}, "audience": {"userIds": ["u2"]}}`},
		{name: "an attribute a user has", body: `{"channel": "push", "content": {"title": "T", "body": "Plan {{attributes.plan}}"}, "audience": {"userIds": ["u2"]}}`},
		{name: "an attribute no user has", body: `{"channel": "push", "content": {"title": "{{title}}", "body": "Plan {{attributes.plan}}"}, "audience": {"userIds": ["u1"]}}`, want: []string{"attributes.plan", "title"}},
		{name: "the template's variable", body: `{"channel": "push", "templateId": "tpl_push", "audience": {"userIds": ["u2"]}}`, want: []string{"name"}},
		{name: "users that do not exist say more as unknown users", body: `{"channel": "push", "content": {"title": "T", "body": "Hola {{name}}"}, "audience": {"userIds": ["u8", "u9"]}}`},
		{name: "addresses have no profile", body: `{"channel": "sms", "content": {"body": "Hola {{name}}"}, "audience": {"addresses": ["+34600000001"]}}`, want: []string{"name"}},
		{name: "no user of a filter has it", mode: send.ModeDryRun, body: `{"channel": "push", "content": {"title": "T", "body": "Plan {{attributes.tier}}"}, "audience": {"filter": {"status": ["active"]}}}`, want: []string{"attributes.tier"}},
		{name: "a user of a filter has it", mode: send.ModeDryRun, body: `{"channel": "push", "content": {"title": "T", "body": "Plan {{attributes.plan}}"}, "audience": {"filter": {"status": ["active"]}}}`},
		{name: "a filter of nobody has nobody to fail", mode: send.ModeDryRun, body: `{"channel": "push", "content": {"title": "T", "body": "Plan {{attributes.tier}}"}, "audience": {"filter": {"status": ["gone"]}}}`},
		{name: "a campaign's variables are checked when it runs", mode: send.ModeSave, body: `{"channel": "push", "content": {"title": "T", "body": "Hola {{name}}"}, "audience": {"userIds": ["u2"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newSender(newStore())
			_, err := s.Prepare(t.Context(), send.Options{Mode: tt.mode, WorkspaceID: ws}, input(t, tt.body))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Prepare = %v, want the send accepted", err)
				}
				return
			}
			var want []string
			for _, v := range tt.want {
				want = append(want, "variables."+v)
			}
			if d := cmp.Diff(want, fieldsOf(t, err)); d != "" {
				t.Errorf("fields at fault (-want +got):\n%s", d)
			}
			if !strings.Contains(err.Error(), "{{"+tt.want[0]+"}}") {
				t.Errorf("error %q does not name {{%s}}", err, tt.want[0])
			}
		})
	}
}

func TestPrepareReadsUsersOnlyUntilEveryVariableIsFound(t *testing.T) {
	store := newStore()
	s, _, _ := newSender(store)
	ids := quoted(250, func(i int) string { return fmt.Sprint("u", i+1) }) // u1 first: it has a name
	if _, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws},
		input(t, `{"channel": "push", "content": {"title": "T", "body": "Hola {{name}}"}, "audience": {"userIds": `+ids+`}}`)); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if store.getUsers != 1 {
		t.Errorf("GetUsers calls = %d, want 1: the first 100 users supply the variable", store.getUsers)
	}
}

// activeFilter selects u1, u2 and u3, of whom only u1 can get a push.
const activeFilter = `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"filter": {"status": ["active"]}%s}}`

func TestPrepareHoldsAFilterToTheCountTheOperatorSaw(t *testing.T) {
	tests := []struct {
		name     string
		mode     send.Mode
		expected string // the expectedCount part of the audience
		filter   string
		wantCode string
		current  int // CurrentCount of audience_changed
	}{
		{name: "a send without expectedCount", mode: send.ModeSend, wantCode: notify.CodeAudienceChanged, current: 1},
		{name: "a send expecting every matched user", mode: send.ModeSend, expected: `, "expectedCount": 3`, wantCode: notify.CodeAudienceChanged, current: 1},
		{name: "a send expecting the recipients", mode: send.ModeSend, expected: `, "expectedCount": 1`},
		{name: "a schedule without expectedCount", mode: send.ModeSchedule, wantCode: notify.CodeAudienceChanged, current: 1},
		{name: "a schedule expecting the recipients", mode: send.ModeSchedule, expected: `, "expectedCount": 1`},
		{name: "a dry run expects nothing", mode: send.ModeDryRun},
		{name: "a campaign's run sends what there is", mode: send.ModeRun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newSender(newStore())
			p, err := s.Prepare(t.Context(), send.Options{Mode: tt.mode, WorkspaceID: ws}, input(t, fmt.Sprintf(activeFilter, tt.expected)))
			if tt.wantCode != "" {
				var e *notify.Error
				if !errors.As(err, &e) || e.Code != tt.wantCode || e.CurrentCount == nil || *e.CurrentCount != tt.current {
					t.Fatalf("Prepare = %v, want %s with the count now, %d", err, tt.wantCode, tt.current)
				}
				return
			}
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			want := audience.Count{Matched: 3, Recipients: 1, Skipped: map[string]int{notify.ReasonNoConsent: 1, notify.ReasonBlocked: 1}, Sample: testUsers()[:1]}
			want.BySegment[0], want.BySegment[1], want.BySegment[2] = 1, 1, 1
			if d := cmp.Diff(want, p.Count); d != "" {
				t.Errorf("count (-want +got):\n%s", d)
			}
			if p.Filter == nil || p.N.Audience != (notify.Audience{Kind: "filter", Count: 3}) || p.N.Source != notify.SourceFilter ||
				p.N.Counts != (notify.Counts{Total: 3, Queued: 3 + audience.Segments}) {
				t.Errorf("filter %v, audience %+v, source %s, counts %+v; want the filter, 3 matched, 3 + a walk per segment queued",
					p.Filter, p.N.Audience, p.N.Source, p.N.Counts)
			}
		})
	}
}

func TestPrepareFilterOfNobody(t *testing.T) {
	body := `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"filter": {"status": ["gone"]}, "expectedCount": 0}}`
	s, _, _ := newSender(newStore())
	_, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws}, input(t, body))
	if d := cmp.Diff([]string{"audience.filter"}, fieldsOf(t, err)); d != "" {
		t.Errorf("a send to nobody: fields at fault (-want +got):\n%s", d)
	}
	p, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeDryRun, WorkspaceID: ws}, input(t, body))
	if err != nil || p.Count.Matched != 0 || p.Count.Recipients != 0 {
		t.Errorf("a dry run of nobody = %+v, %v; want a count of 0", p.Count, err)
	}
}

func TestPrepareSaveCountsNothing(t *testing.T) {
	store := newStore()
	s, _, _ := newSender(store)
	p, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSave, WorkspaceID: ws}, input(t, fmt.Sprintf(activeFilter, "")))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if p.Filter == nil || p.Filter.Status[0] != "active" || p.Count.Matched != 0 || store.listUsers != 0 {
		t.Errorf("a saved campaign's filter %v, count %+v, %d ListUsers calls; want the filter, uncounted", p.Filter, p.Count, store.listUsers)
	}
}

func TestPrepareBuildsTheNotification(t *testing.T) {
	s, _, _ := newSender(newStore())
	body := `{"channel": "push", "fallback": ["sms"], "templateId": "tpl_push", "variables": {"name": "tú"}, "category": "promo",
		"recipientType": "client", "urgent": true, "ignorePresence": true, "audience": {"userIds": ["u1", "u2"]}}`
	p, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws, By: "key (k1)", ID: "ntf_1", Source: notify.SourceCampaign, Origin: notify.OriginCampaign}, input(t, body))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	content := newStore().templates["tpl_push"]
	content.Route = "home"
	want := notify.Notification{
		WorkspaceID: ws, ID: "ntf_1", Channel: notify.ChannelPush, Fallback: []notify.Channel{notify.ChannelSMS},
		Source: notify.SourceCampaign, Origin: notify.OriginCampaign, RecipientType: "client", Title: "Oferta", Body: "Hola {{name}}", Route: "home",
		TemplateID: "tpl_push", TemplateVersion: 2, Variables: map[string]string{"name": "tú"}, Category: "promo",
		Urgent: true, IgnorePresence: true, Audience: notify.Audience{Kind: "userIds", Count: 2},
		Status: notify.StatusQueued, Counts: notify.Counts{Total: 2, Queued: 2},
		CreatedAt: now, UpdatedAt: now, CreatedBy: "key (k1)", Content: content,
	}
	if d := cmp.Diff(want, p.N); d != "" {
		t.Errorf("notification (-want +got):\n%s", d)
	}
}

// TestPrepareIsRepeatable: a campaign's run that is retried prepares the
// same send again (the id its scheduled time gives, the template version
// it was scheduled with), and so makes the same dispatch messages.
func TestPrepareIsRepeatable(t *testing.T) {
	s, _, _ := newSender(newStore())
	fixed := notify.Template{WorkspaceID: ws, ID: "tpl_push", Channel: notify.ChannelPush, Title: "Old", Body: "Old text", Version: 1}
	o := send.Options{Mode: send.ModeRun, WorkspaceID: ws, By: "campaign", ID: "ntf_run", Template: &fixed}
	in := input(t, `{"channel": "push", "templateId": "tpl_push", "audience": {"userIds": ["u1", "u2"]}}`)
	first, err := s.Prepare(t.Context(), o, in)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if first.N.ID != "ntf_run" || first.N.TemplateVersion != 1 || first.N.Body != "Old text" {
		t.Errorf("notification %s of template version %d, %q; want ntf_run of the fixed version 1, Old text", first.N.ID, first.N.TemplateVersion, first.N.Body)
	}
	again, err := s.Prepare(t.Context(), o, in)
	if err != nil {
		t.Fatalf("Prepare again: %v", err)
	}
	if d := cmp.Diff(first, again); d != "" {
		t.Errorf("the same send prepared twice differs (-first +again):\n%s", d)
	}
	if d := cmp.Diff(send.Messages(first.N, first.Recipients), send.Messages(again.N, again.Recipients)); d != "" {
		t.Errorf("the same send's messages differ (-first +again):\n%s", d)
	}
	fresh, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws}, in)
	if err != nil || fresh.N.ID == "" || fresh.N.ID == first.N.ID || fresh.N.TemplateVersion != 2 {
		t.Errorf("a send without an id = %s of version %d, %v; want a new id and the stored version 2", fresh.N.ID, fresh.N.TemplateVersion, err)
	}
}

func TestPrepareStoreError(t *testing.T) {
	store := newStore()
	store.fail = errors.New("table unavailable")
	s, _, _ := newSender(store)
	_, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws}, input(t, `{"channel": "push", "templateId": "tpl_push", "audience": {"userIds": ["u1"]}}`))
	if err == nil || notify.ErrorCode(err) != notify.CodeInternal || !errors.Is(err, store.fail) {
		t.Errorf("Prepare with the store down = %v, want the store's error, internal", err)
	}
}

// recipients makes n user recipients, u1 to un.
func recipients(n int) []notify.Recipient {
	out := make([]notify.Recipient, n)
	for i := range out {
		out[i] = notify.Recipient{UserID: fmt.Sprint("u", i+1)}
	}
	return out
}

func TestMessagesPackAHundredToAMessage(t *testing.T) {
	n := notify.Notification{WorkspaceID: ws, ID: "ntf_1"}
	rs := recipients(250)
	bodies := send.Messages(n, rs)
	var got []notify.DispatchMessage
	for _, b := range bodies {
		var m notify.DispatchMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	want := []notify.DispatchMessage{
		{WorkspaceID: ws, NotificationID: "ntf_1", Chunk: "ntf_1:0", Recipients: rs[:100]},
		{WorkspaceID: ws, NotificationID: "ntf_1", Chunk: "ntf_1:1", Recipients: rs[100:200]},
		{WorkspaceID: ws, NotificationID: "ntf_1", Chunk: "ntf_1:2", Recipients: rs[200:]},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
	if got := send.Messages(n, nil); len(got) != 0 {
		t.Errorf("Messages of no recipients = %d bodies, want none", len(got))
	}
}

// prepareList prepares a list send to n users.
func prepareList(t *testing.T, s *send.Sender, n int) send.Prepared {
	t.Helper()
	ids := quoted(n, func(i int) string { return fmt.Sprint("u", i+1) })
	p, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws, ID: "ntf_1"},
		input(t, `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"userIds": `+ids+`}}`))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return p
}

func TestExecuteEnqueuesBeforeItCreates(t *testing.T) {
	store := newStore()
	s, dispatch, _ := newSender(store)
	n, err := s.Execute(t.Context(), prepareList(t, s, 250))
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if len(dispatch.bodies) != 3 {
		t.Errorf("messages = %d, want 3 of at most 100 recipients", len(dispatch.bodies))
	}
	if len(store.created) != 1 || store.queuedAtCreate[0] != 3 {
		t.Fatalf("notifications created %d, with %v messages sent before; want one, after its 3 messages", len(store.created), store.queuedAtCreate)
	}
	if d := cmp.Diff(n, store.created[0]); d != "" || n.Status != notify.StatusQueued || n.Counts != (notify.Counts{Total: 250, Queued: 250}) {
		t.Errorf("notification %s %+v, stored (-returned +stored):\n%s; want queued, 250 queued", n.Status, n.Counts, d)
	}
}

func TestExecuteFilterSendsItsWalk(t *testing.T) {
	store := newStore()
	s, dispatch, steps := newSender(store)
	p, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws}, input(t, fmt.Sprintf(activeFilter, `, "expectedCount": 1`)))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if _, err := s.Execute(t.Context(), p); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if len(steps.bodies) != audience.Segments || len(dispatch.bodies) != 0 || len(store.created) != 1 {
		t.Errorf("audience steps %d, dispatch messages %d, notifications %d; want a step per segment (%d), no messages, one notification",
			len(steps.bodies), len(dispatch.bodies), len(store.created), audience.Segments)
	}
}

// TestExecuteCountsOnlyWhatWasEnqueued: when some messages did not reach
// the queue, the notification is recorded failed with the recipients of
// the messages that did (dispatch skips them), so its counts add up.
func TestExecuteCountsOnlyWhatWasEnqueued(t *testing.T) {
	down := errors.New("queue unavailable")
	tests := []struct {
		name    string
		filter  bool
		fail    error
		retried bool
		want    *notify.Counts // nil: no notification is recorded
	}{
		{name: "the middle message lost", fail: &notify.SendError{Failed: []int{1}, Err: down}, want: &notify.Counts{Total: 150, Queued: 150}},
		{name: "the last, short message lost", fail: &notify.SendError{Failed: []int{2}, Err: down}, want: &notify.Counts{Total: 200, Queued: 200}},
		{name: "every message lost", fail: &notify.SendError{Failed: []int{0, 1, 2}, Err: down}, want: &notify.Counts{}},
		{name: "a failure of the whole send", fail: down, want: &notify.Counts{}},
		// u1, u2 and u3 are in segments 0, 1 and 2; each segment that went
		// counts its users and its walk.
		{name: "a filter's first segment lost", filter: true, fail: &notify.SendError{Failed: []int{0}, Err: down}, want: &notify.Counts{Total: 2, Queued: 2 + audience.Segments - 1}},
		{name: "a retried run records nothing", fail: &notify.SendError{Failed: []int{1}, Err: down}, retried: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore()
			s, dispatch, steps := newSender(store)
			dispatch.fail, steps.fail = tt.fail, tt.fail
			p := prepareList(t, s, 250)
			if tt.filter {
				var err error
				if p, err = s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws}, input(t, fmt.Sprintf(activeFilter, `, "expectedCount": 1`))); err != nil {
					t.Fatalf("Prepare: %v", err)
				}
			}
			p.Retried = tt.retried
			_, err := s.Execute(t.Context(), p)
			if !errors.Is(err, down) {
				t.Fatalf("Execute = %v, want the queue's error", err)
			}
			if tt.want == nil {
				if len(store.created) != 0 {
					t.Errorf("notifications created = %d, want none: the retry creates it", len(store.created))
				}
				return
			}
			if len(store.created) != 1 {
				t.Fatalf("notifications created = %d, want the failed one", len(store.created))
			}
			if n := store.created[0]; n.Status != notify.StatusFailed || n.Counts != *tt.want {
				t.Errorf("recorded %s with %+v, want failed with %+v", n.Status, n.Counts, *tt.want)
			}
		})
	}
}

func TestEnqueueIsRepeatable(t *testing.T) {
	s, dispatch, _ := newSender(newStore())
	p := prepareList(t, s, 120)
	for range 2 {
		if err := s.Enqueue(t.Context(), p); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	if len(dispatch.bodies) != 4 || string(dispatch.bodies[0]) != string(dispatch.bodies[2]) || string(dispatch.bodies[1]) != string(dispatch.bodies[3]) {
		t.Errorf("two Enqueues sent %d messages; want the same 2 twice", len(dispatch.bodies))
	}
}

// TestCountList: a dry run of a list applies the standing rules to its
// users, and reaches every raw address.
func TestCountList(t *testing.T) {
	many := `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"userIds": ` + quoted(12, func(i int) string { return fmt.Sprint("r", i) }) + `}}`
	manyUsers := func() []notify.User {
		var us []notify.User
		for i := range 12 {
			u := testUsers()[0]
			u.ID = fmt.Sprint("r", i)
			us = append(us, u)
		}
		return us
	}
	tests := []struct {
		name  string
		body  string
		users []notify.User
		want  audience.Count
	}{
		{
			name: "users by the rules",
			body: `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"userIds": ["u1", "u2", "u3", "u9"]}}`,
			want: audience.Count{Matched: 4, Recipients: 1, Sample: testUsers()[:1],
				Skipped: map[string]int{notify.ReasonNoConsent: 1, notify.ReasonBlocked: 1, notify.ReasonUnknownUser: 1}},
		},
		{
			name: "addresses all reached",
			body: `{"channel": "sms", "content": {"body": "B"}, "audience": {"addresses": ["+34600000001", "+34600000002"]}}`,
			want: audience.Count{Matched: 2, Recipients: 2, Skipped: map[string]int{}},
		},
		{
			name: "a sample of ten", body: many, users: manyUsers(),
			want: audience.Count{Matched: 12, Recipients: 12, Sample: manyUsers()[:audience.SampleSize], Skipped: map[string]int{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore()
			if tt.users != nil {
				store.users = tt.users
			}
			s, _, _ := newSender(store)
			p, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeDryRun, WorkspaceID: ws}, input(t, tt.body))
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			got, err := s.CountList(t.Context(), p)
			if err != nil {
				t.Fatalf("CountList: %v", err)
			}
			if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("count (-want +got):\n%s", d)
			}
		})
	}
}

// TestPrepareRefusesControlCharacters: the send service holds the API's
// rule on control characters itself, for callers that are not the API.
func TestPrepareRefusesControlCharacters(t *testing.T) {
	s, _, _ := newSender(newStore())
	_, err := s.Prepare(t.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: ws}, input(t, `{"channel": "sms", "content": {"body": "Hi\u0085"}, "audience": {"addresses": ["+34600000000"]}}`))
	if got := fieldsOf(t, err); len(got) != 1 || got[0] != "content.body" {
		t.Errorf("Prepare with C1 in the body names %v, want [content.body]", got)
	}
}
