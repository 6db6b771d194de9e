package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/embedded"
	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/boltscheduler"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch/dispatchtest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
	"github.com/heraldhq/herald/shared/seal"
)

// What the sample events name: the workspace, key, notification and user
// they refer to, the campaign of the scheduler's, the SES event topic and
// the dispatch dead-letter queue, the SNS message id of the SMS the logs
// event reports, and the WhatsApp app secret the status is signed with.
const (
	sampleWS        = "ws_example"
	sampleKey       = "hk_example"
	sampleKeyID     = "key_example"
	sampleNotif     = "01M7YWX24G4TFF59TDWH9EDD1R"
	sampleCampaign  = "01JR3D6W8X9Y0Z1A2B3C4D5E6F"
	sampleUpload    = "01M8A3K5Q7R9T1V3X5Z7B9D1F3"
	sampleSESTopic  = "arn:aws:sns:us-east-1:123456789012:herald-SesEventsTopic-Q1w2E3r4T5y6"
	sampleDLQ       = "arn:aws:sqs:eu-west-1:123456789012:herald-dispatch-dlq"
	sampleSMSID     = "34d9b400-c6dd-5444-820d-fbeb0f1f54cf"
	sampleAppSecret = "example-app-secret"
	// sampleFile is the users file events/ingest-upload.json announces
	// (its size and ETag are this file's).
	sampleFile = "id,name,email\nc1,Ana,ana@example.com\nc2,Luis,luis@example.com\n"
	// sampleSend is the send of the scheduler's campaign.
	sampleSend = `{"channel":"push","content":{"title":"Hola","body":"Hola {{name}}"},"audience":{"userIds":["u1","u2"]}}`
)

// seeded is when the seeded data was written: now, so that nothing is
// expired when the function reads it.
var seeded = time.Now().UTC().Truncate(time.Millisecond)

// sample is one file of events/ as make invoke runs it: the function it
// is for, the configuration the deployed function has that the sample
// relies on, the data it refers to, and what the function answers with
// that data.
type sample struct {
	fn  string
	env map[string]string
	// seed writes the data the sample refers to; nil when it needs none.
	seed func(t *testing.T, b *embedded.Backend)
	// check judges the answer (run's stdout) and what the invocation left
	// in the data directory.
	check func(t *testing.T, out []byte, b *embedded.Backend)
}

// TestSamples runs every sample event of events/ through run with the
// embedded backend, on a data directory seeded with what the sample refers
// to, and checks that it answers what the deployed function answers with
// that data. A sample without a case here fails: make invoke of every
// sample must show the function at work.
func TestSamples(t *testing.T) {
	samples := map[string]sample{
		"api-health.json": {fn: "api", check: func(t *testing.T, out []byte, _ *embedded.Backend) {
			if res := httpAnswer(t, out); res.StatusCode != 200 || res.Body != "{\"status\":\"ok\"}\n" {
				t.Errorf("health = %d %q, want 200 ok", res.StatusCode, res.Body)
			}
		}},
		"api-console-login.json": {fn: "api", seed: seedOperator, check: func(t *testing.T, out []byte, b *embedded.Backend) {
			res := httpAnswer(t, out)
			if res.StatusCode != 303 || res.Headers["Location"] != "/history" {
				t.Fatalf("console sign-in = %d %v %s, want 303 to /history", res.StatusCode, res.Headers, res.Body)
			}
			var session string
			for _, c := range res.Cookies {
				if strings.HasPrefix(c, "herald_session=") {
					session = c
				}
			}
			// API Gateway takes cookies from the answer's cookies, not its headers.
			if !strings.Contains(session, "HttpOnly") || !strings.Contains(session, "Secure") || !strings.Contains(session, "SameSite=Lax") {
				t.Errorf("session cookie %q (cookies %q), want HttpOnly, Secure and SameSite=Lax", session, res.Cookies)
			}
		}},
		"api-bad-base64.json": {fn: "api", seed: seedKey, check: func(t *testing.T, out []byte, b *embedded.Backend) {
			res := httpAnswer(t, out)
			if res.StatusCode != 400 || errorCode(t, res) != notify.CodeBadRequest {
				t.Errorf("bad base64 = %d %s, want 400 %s", res.StatusCode, res.Body, notify.CodeBadRequest)
			}
			if msgs := queued(t, b.Dispatch); len(msgs) != 0 {
				t.Errorf("a refused request enqueued %+v", msgs)
			}
		}},
		"api-send-notification.json": {fn: "api", seed: seedSendable, check: func(t *testing.T, out []byte, b *embedded.Backend) {
			res := httpAnswer(t, out)
			var sent struct {
				ID         string
				Status     notify.Status
				Recipients int
			}
			if err := json.Unmarshal([]byte(res.Body), &sent); err != nil || res.StatusCode != 202 || sent.Status != notify.StatusQueued || sent.Recipients != 2 {
				t.Fatalf("send = %d %s (%v), want 202 queued to 2 recipients", res.StatusCode, res.Body, err)
			}
			n, err := b.Store.GetNotification(t.Context(), sampleWS, sent.ID)
			if err != nil || n.Channel != notify.ChannelPush || n.Counts.Total != 2 {
				t.Errorf("notification %s = %+v, %v; want the push to 2 stored", sent.ID, n, err)
			}
			checkQueued(t, b, sent.ID, "u1", "u2")
		}},
		"authorizer-request.json": {fn: "authorizer", seed: seedKey, check: func(t *testing.T, out []byte, _ *embedded.Backend) {
			var got events.APIGatewayV2CustomAuthorizerSimpleResponse
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("answer %s: %v", out, err)
			}
			want := events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{
				"workspaceId": sampleWS, "keyId": sampleKeyID, "keyName": "backend", "scopes": "send,read", "verified": "true"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("authorizer answer for the seeded key (-want +got):\n%s", diff)
			}
		}},
		"compose-generate.json": {fn: "compose", seed: seedKey, check: func(t *testing.T, out []byte, _ *embedded.Backend) {
			// The stack without a ComposeModelId: no model.
			res := httpAnswer(t, out)
			if res.StatusCode != 503 || errorCode(t, res) != notify.CodeNotConfigured {
				t.Errorf("compose without a model = %d %s, want 503 %s", res.StatusCode, res.Body, notify.CodeNotConfigured)
			}
		}},
		"dispatch-batch.json": {fn: "dispatch", env: map[string]string{"HERALD_MAX_RECEIVES": "5", "HERALD_DISPATCH_DLQ_ARN": sampleDLQ},
			seed: func(t *testing.T, b *embedded.Backend) {
				seedWorkspace(t, b)
				seedUsers(t, b, "u1", "u2", "u3", "u4")
				seedNotification(t, b, notify.SourceList, notify.StatusQueued, 4)
			},
			check: func(t *testing.T, out []byte, b *embedded.Backend) {
				// The embedded backend's provider of every channel is the
				// local outbox, which delivers at once (the sandbox or a
				// provider on AWS leaves them sent, for its reports).
				checkNoFailures(t, out)
				checkSettled(t, b, notify.Counts{Total: 4, Delivered: 4})
				users := []string{"u1", "u2", "u3", "u4"}
				ds, err := b.Store.GetDeliveries(t.Context(), sampleWS, sampleNotif, users)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range users {
					if d, ok := ds[u]; !ok || d.Status != notify.DeliveryDelivered || d.Channel != notify.ChannelSMS || d.ProviderMessageID == "" {
						t.Errorf("delivery of %s = %+v (recorded %v), want an SMS delivered by the outbox", u, d, ok)
					}
				}
				entries, _, err := b.Store.ListOutbox(t.Context(), sampleWS, notify.ChannelSMS, "", notify.Page{Limit: 10})
				var got []string
				for _, e := range entries {
					got = append(got, e.UserID)
				}
				slices.Sort(got)
				if diff := cmp.Diff(users, got); diff != "" || err != nil {
					t.Errorf("outbox (%v), users (-want +got):\n%s", err, diff)
				}
			}},
		"dispatch-deadletter.json": {fn: "dispatch", env: map[string]string{"HERALD_MAX_RECEIVES": "5", "HERALD_DISPATCH_DLQ_ARN": sampleDLQ},
			seed: func(t *testing.T, b *embedded.Backend) {
				seedWorkspace(t, b)
				seedNotification(t, b, notify.SourceSpreadsheet, notify.StatusSending, 3)
			},
			check: func(t *testing.T, out []byte, b *embedded.Backend) {
				// The records of the dead-letter queue are settled, not sent.
				checkNoFailures(t, out)
				checkSettled(t, b, notify.Counts{Total: 3, Failed: 3})
				if entries, _, err := b.Store.ListOutbox(t.Context(), sampleWS, "", "", notify.Page{Limit: 10}); err != nil || len(entries) != 0 {
					t.Errorf("settling the dead-letter queue sent %d messages (%v)", len(entries), err)
				}
			}},
		"audience-step.json": {fn: "audience", seed: seedAudience, check: func(t *testing.T, out []byte, b *embedded.Backend) {
			checkNoFailures(t, out)
			j := sampleStep(t)
			n, err := b.Store.GetNotification(t.Context(), sampleWS, sampleNotif)
			if err != nil {
				t.Fatal(err)
			}
			c, err := audience.CountFilter(t.Context(), b.Store, sampleWS, j.Filter, n)
			if err != nil {
				t.Fatal(err)
			}
			inSegment := c.BySegment[j.Segment]
			var got int
			for _, m := range queued(t, b.Dispatch) {
				got += len(m.Recipients)
			}
			if got != inSegment || inSegment == 0 {
				t.Errorf("enqueued %d recipients, want the segment's %d (not 0)", got, inSegment)
			}
			// The step walked its segment to the end and reconciled its
			// count (the sample expected x) against what it found.
			d := int64(inSegment - j.Expected)
			want := notify.Counts{Total: int64(c.Matched) + d, Queued: int64(c.Matched+audience.Segments) + d - 1}
			if diff := cmp.Diff(want, n.Counts); diff != "" {
				t.Errorf("counts after the step (-want +got):\n%s", diff)
			}
		}},
		"ingest-upload.json": {fn: "ingest", seed: seedUpload, check: func(t *testing.T, out []byte, b *embedded.Backend) {
			if string(bytes.TrimSpace(out)) != "null" {
				t.Errorf("answer = %s, want null", out)
			}
			up, err := b.Store.GetUpload(t.Context(), sampleWS, sampleUpload)
			if err != nil {
				t.Fatal(err)
			}
			if up.Status != notify.UploadCompleted || up.Rows != (notify.UploadRows{Total: 2, Valid: 2}) {
				t.Errorf("upload = %s %+v %+v, want completed with 2 valid rows", up.Status, up.Rows, up.Errors)
			}
			if u, err := b.Store.GetUser(t.Context(), sampleWS, "c2"); err != nil || u.Email != "luis@example.com" {
				t.Errorf("user c2 = %+v, %v; want imported", u, err)
			}
		}},
		"callbacks-sms-status.json": {fn: "callbacks",
			seed: func(t *testing.T, b *embedded.Backend) {
				seedDelivery(t, b, notify.ChannelSMS, sampleSMSID, "+34600000001")
			},
			check: func(t *testing.T, out []byte, b *embedded.Backend) {
				if string(bytes.TrimSpace(out)) != "null" {
					t.Errorf("answer = %s, want null", out)
				}
				checkDelivery(t, b, "delivered/", notify.Counts{Total: 1, Delivered: 1})
			}},
		"callbacks-ses-bounce.json": {fn: "callbacks", env: map[string]string{"HERALD_SES_EVENTS_TOPIC_ARNS": sampleSESTopic},
			seed: func(t *testing.T, b *embedded.Backend) {
				seedDelivery(t, b, notify.ChannelEmail, "", "ana@example.com")
			},
			check: func(t *testing.T, out []byte, b *embedded.Backend) {
				if string(bytes.TrimSpace(out)) != "null" {
					t.Errorf("answer = %s, want null", out)
				}
				checkDelivery(t, b, "failed/bounce", notify.Counts{Total: 1, Failed: 1})
				u, err := b.Store.GetUser(t.Context(), sampleWS, "u1")
				if err != nil {
					t.Fatal(err)
				}
				if on, set := u.Preferences.Channels[notify.ChannelEmail]; !set || on {
					t.Errorf("after the bounce, u1's email preference is %v (set %v), want off", on, set)
				}
			}},
		"callbacks-ses-queue.json": {fn: "callbacks", env: map[string]string{"HERALD_SES_EVENTS_TOPIC_ARNS": sampleSESTopic},
			seed: func(t *testing.T, b *embedded.Backend) {
				seedDelivery(t, b, notify.ChannelEmail, "", "ana@example.com")
			},
			check: func(t *testing.T, out []byte, b *embedded.Backend) {
				var res events.SQSEventResponse
				if err := json.Unmarshal(out, &res); err != nil || res.BatchItemFailures == nil || len(res.BatchItemFailures) > 0 {
					t.Errorf("answer = %s, want no batch item failures", out)
				}
				checkDelivery(t, b, "failed/bounce", notify.Counts{Total: 1, Failed: 1})
			}},
		"callbacks-whatsapp-status.json": {fn: "callbacks", env: map[string]string{"HERALD_WHATSAPP_APP_SECRET": sampleAppSecret},
			seed: func(t *testing.T, b *embedded.Backend) {
				seedDelivery(t, b, notify.ChannelWhatsApp, "", "+34600000001")
			},
			check: func(t *testing.T, out []byte, b *embedded.Backend) {
				if res := httpAnswer(t, out); res.StatusCode != 200 {
					t.Errorf("whatsapp status = %d %q, want 200", res.StatusCode, res.Body)
				}
				checkDelivery(t, b, "delivered/", notify.Counts{Total: 1, Delivered: 1})
			}},
		"scheduler-run.json": {fn: "scheduler",
			seed: func(t *testing.T, b *embedded.Backend) {
				seedWorkspace(t, b)
				seedUsers(t, b, "u1", "u2")
				c := seedCampaign(t, b, notify.SyncSynced)
				// EventBridge Scheduler holds the schedule that invokes.
				if err := b.Scheduler.PutSchedule(t.Context(), campaignSchedule(c)); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, out []byte, b *embedded.Backend) {
				var got runResult
				if err := json.Unmarshal(out, &got); err != nil || got.Status != notify.RunSucceeded || got.Recipients != 2 || got.NotificationID == "" {
					t.Fatalf("run = %s (%v), want succeeded with a notification to 2", out, err)
				}
				runs, _, err := b.Store.ListRuns(t.Context(), sampleWS, sampleCampaign, notify.Page{Limit: 10})
				if err != nil || len(runs) != 1 {
					t.Fatalf("runs = %+v, %v; want the one run", runs, err)
				}
				r := runs[0]
				if at := time.Date(2026, 4, 6, 7, 0, 0, 0, time.UTC); !r.ScheduledAt.Equal(at) || r.Status != notify.RunSucceeded || r.NotificationID != got.NotificationID || r.FinishedAt == nil {
					t.Errorf("run recorded = %+v, want the sample's time (%v) succeeded with %s", r, at, got.NotificationID)
				}
				if n, err := b.Store.GetNotification(t.Context(), sampleWS, got.NotificationID); err != nil || n.Source != notify.SourceCampaign {
					t.Errorf("notification %s = %+v, %v; want the campaign's", got.NotificationID, n, err)
				}
				checkQueued(t, b, got.NotificationID, "u1", "u2")
				// The campaign goes on: its schedule stays.
				if _, err := b.Scheduler.GetSchedule(t.Context(), notify.ScheduleName(sampleCampaign)); err != nil {
					t.Errorf("schedule after the run: %v, want kept", err)
				}
			}},
		"scheduler-repair.json": {fn: "scheduler",
			seed: func(t *testing.T, b *embedded.Backend) {
				// A change EventBridge Scheduler refused: pending, not on the
				// scheduler.
				seedWorkspace(t, b)
				seedCampaign(t, b, notify.SyncPending)
			},
			check: func(t *testing.T, out []byte, b *embedded.Backend) {
				checkNoFailures(t, out)
				c, err := b.Store.GetCampaign(t.Context(), sampleWS, sampleCampaign)
				if err != nil || c.Sync.State != notify.SyncSynced {
					t.Errorf("campaign after the repair = %+v, %v; want synced", c.Sync, err)
				}
				got, err := b.Scheduler.GetSchedule(t.Context(), notify.ScheduleName(sampleCampaign))
				if err != nil {
					t.Fatalf("schedule after the repair: %v, want pushed", err)
				}
				if want := campaignSchedule(c); got.Expression != want.Expression || got.Timezone != want.Timezone || !got.Enabled || got.Target != want.Target {
					t.Errorf("schedule after the repair = %+v, want %+v", got, want)
				}
			}},
	}

	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events (%v)", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		s, ok := samples[name]
		if !ok {
			t.Errorf("events/%s has no case here: add what make invoke must answer for it", name)
			continue
		}
		delete(samples, name)
		t.Run(name, func(t *testing.T) { s.invoke(t, file) })
	}
	for name := range samples {
		t.Errorf("case %s names no file of events/", name)
	}
}

// invoke seeds a new data directory, runs the sample file through run as
// make invoke does, and checks the answer and the data directory after.
func (s sample) invoke(t *testing.T, file string) {
	// The configuration is the sample's alone, whatever the shell has.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "HERALD_") {
			t.Setenv(k, "")
		}
	}
	t.Setenv("HERALD_DATA_DIR", t.TempDir())
	for k, v := range s.env {
		t.Setenv(k, v)
	}
	if s.seed != nil {
		b := openData(t)
		s.seed(t, b)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), s.fn, file, "embedded", &stdout, &stderr); err != nil {
		t.Fatalf("invoke -fn %s -event %s: %v\n%s", s.fn, file, err, stderr.String())
	}
	b := openData(t)
	defer b.Close()
	s.check(t, stdout.Bytes(), b)
	if t.Failed() {
		t.Logf("answer:\n%s\nlog:\n%s", stdout.String(), stderr.String())
	}
}

// openData opens the data directory of the environment, as run does.
func openData(t *testing.T) *embedded.Backend {
	t.Helper()
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := embedded.Open(cfg, slog.New(slog.DiscardHandler), func(context.Context, boltscheduler.Firing) error {
		return fmt.Errorf("the test runs no scheduler")
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seedWorkspace(t *testing.T, b *embedded.Backend) {
	t.Helper()
	if err := b.Store.CreateWorkspace(t.Context(), notify.Workspace{ID: sampleWS, Name: "Example", CreatedAt: seeded}); err != nil {
		t.Fatal(err)
	}
}

// seedKey stores the workspace and the key the samples' Authorization
// header carries, with the scopes their authorizer context says.
func seedKey(t *testing.T, b *embedded.Backend) {
	t.Helper()
	seedWorkspace(t, b)
	k := notify.APIKey{ID: sampleKeyID, WorkspaceID: sampleWS, Name: "backend", Scopes: []notify.Scope{notify.ScopeSend, notify.ScopeRead},
		Hash: apikey.Hash(sampleKey), Prefix: sampleKey[:7], CreatedAt: seeded}
	if err := b.Store.CreateAPIKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
}

// seedOperator is the operator the console sample signs in as.
func seedOperator(t *testing.T, b *embedded.Backend) {
	t.Helper()
	seedWorkspace(t, b)
	ops := &operator.Service{Store: b.Store, IDs: &notify.IDs{}, Now: time.Now}
	if _, err := ops.EnsureAdmin(t.Context(), sampleWS, "ana@acme.example", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
}

// seedSendable is seedKey with the users the sample send names.
func seedSendable(t *testing.T, b *embedded.Backend) {
	t.Helper()
	seedKey(t, b)
	seedUsers(t, b, "u1", "u2")
}

// seedUsers stores users of the sample workspace, each with a phone.
func seedUsers(t *testing.T, b *embedded.Backend, ids ...string) {
	t.Helper()
	for i, id := range ids {
		u := notify.User{WorkspaceID: sampleWS, ID: id, Name: strings.ToUpper(id), Phone: fmt.Sprintf("+3460000%04d", i+1), Language: "es",
			SealKey: seal.NewKey(), CreatedAt: seeded, UpdatedAt: seeded}
		if _, err := b.Store.PutUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
}

// seedNotification stores the dispatch samples' notification, an SMS of
// source to total recipients, all queued, as the API leaves it.
func seedNotification(t *testing.T, b *embedded.Backend, source notify.Source, status notify.Status, total int64) {
	t.Helper()
	n := notify.Notification{WorkspaceID: sampleWS, ID: sampleNotif, Channel: notify.ChannelSMS, Status: status, Source: source,
		Counts: notify.Counts{Total: total, Queued: total}, Content: notify.Template{Channel: notify.ChannelSMS, Body: "Hola {{name}}"}, CreatedAt: seeded}
	if err := b.Store.CreateNotification(t.Context(), n); err != nil {
		t.Fatal(err)
	}
}

// seedDelivery stores the samples' notification on channel ch, sent to u1
// (tracked by the provider's messageID when it has one), and u1 with
// address addr, as the callbacks' samples report on.
func seedDelivery(t *testing.T, b *embedded.Backend, ch notify.Channel, messageID, addr string) {
	t.Helper()
	seedWorkspace(t, b)
	ctx := t.Context()
	u := notify.User{WorkspaceID: sampleWS, ID: "u1", SealKey: seal.NewKey(), CreatedAt: seeded, UpdatedAt: seeded}
	if ch == notify.ChannelEmail {
		u.Email = addr
	} else {
		u.Phone = addr
	}
	if _, err := b.Store.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	n := notify.Notification{WorkspaceID: sampleWS, ID: sampleNotif, Channel: ch, Status: notify.StatusCompleted, Source: notify.SourceSingle,
		Counts: notify.Counts{Total: 1, Sent: 1}, CreatedAt: seeded, Content: notify.Template{Channel: ch, Body: "Hola"}}
	if err := b.Store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	d := notify.Delivery{WorkspaceID: sampleWS, NotificationID: sampleNotif, Key: "u1", UserID: "u1", Channel: ch,
		Status: notify.DeliverySent, ProviderMessageID: messageID, CreatedAt: seeded, UpdatedAt: seeded}
	if _, err := b.Store.RecordDeliveries(ctx, []notify.Delivery{d}); err != nil {
		t.Fatal(err)
	}
}

// sampleStep is the step events/audience-step.json carries.
func sampleStep(t *testing.T) audience.Job {
	t.Helper()
	var ev events.SQSEvent
	decodeSample(t, "audience-step.json", &ev)
	var j audience.Job
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &j); err != nil {
		t.Fatal(err)
	}
	return j
}

// seedAudience stores 60 users (half of them active Spanish speakers, the
// sample step's filter) and the notification of the filter send, counted
// as the API counts it.
func seedAudience(t *testing.T, b *embedded.Backend) {
	t.Helper()
	seedWorkspace(t, b)
	ctx := t.Context()
	j := sampleStep(t)
	for i := range 60 {
		u := notify.User{WorkspaceID: sampleWS, ID: fmt.Sprintf("u%03d", i), Status: "active", Language: "es", Email: fmt.Sprintf("u%03d@example.com", i),
			SealKey: seal.NewKey(), CreatedAt: seeded, UpdatedAt: seeded}
		if i%2 == 1 {
			u.Status = "lead"
		}
		if _, err := b.Store.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	n := notify.Notification{WorkspaceID: sampleWS, ID: j.NotificationID, Channel: notify.ChannelEmail, Source: notify.SourceFilter,
		Status: notify.StatusQueued, CreatedAt: seeded, Content: notify.Template{Channel: notify.ChannelEmail, Title: "Hola", Body: "Hola {{name}}"}}
	c, err := audience.CountFilter(ctx, b.Store, sampleWS, j.Filter, n)
	if err != nil {
		t.Fatal(err)
	}
	n.Counts = audience.InitialCounts(c)
	if err := b.Store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
}

// seedUpload stores the upload events/ingest-upload.json announces,
// waiting for its file as the API leaves it, and the file, as the client's
// PUT leaves it in the bucket.
func seedUpload(t *testing.T, b *embedded.Backend) {
	t.Helper()
	seedKey(t, b)
	var ev events.S3Event
	decodeSample(t, "ingest-upload.json", &ev)
	obj := ev.Records[0].S3.Object
	if obj.Size != int64(len(sampleFile)) {
		t.Fatalf("the sample announces %d bytes, not the sample file's %d", obj.Size, len(sampleFile))
	}
	up := notify.Upload{WorkspaceID: sampleWS, ID: sampleUpload, Purpose: notify.UploadPurposeUsers, Filename: "users.csv", Status: notify.UploadWaiting,
		ObjectKey: obj.URLDecodedKey, CreatedBy: "backend (" + sampleKeyID + ")", CreatedAt: seeded, UpdatedAt: seeded, ExpiresAt: seeded.Add(time.Hour)}
	if err := b.Store.CreateUpload(t.Context(), up); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Blobs.Put(t.Context(), up.ObjectKey, strings.NewReader(sampleFile), int64(len(sampleFile))); err != nil {
		t.Fatal(err)
	}
}

// seedCampaign stores the scheduler samples' campaign, weekly on Mondays
// at 9 in Madrid (the sample run's time), as the API stores it, with its
// schedule's sync state.
func seedCampaign(t *testing.T, b *embedded.Backend, state notify.SyncState) notify.Campaign {
	t.Helper()
	created := time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC)
	c := notify.Campaign{WorkspaceID: sampleWS, ID: sampleCampaign, Kind: notify.CampaignKindCampaign, Name: "Weekly",
		Schedule: "cron(0 9 ? * MON *)", Timezone: "Europe/Madrid", Notification: json.RawMessage(sampleSend), Status: notify.CampaignActive,
		Sync: notify.ScheduleSync{State: state, At: created}, CreatedBy: "backend (" + sampleKeyID + ")", CreatedAt: created, UpdatedAt: created}
	if state == notify.SyncPending {
		c.Sync.Error = "ThrottlingException: rate exceeded"
	}
	if err := b.Store.CreateCampaign(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// campaignSchedule is the schedule the campaign service pushes for c.
func campaignSchedule(c notify.Campaign) notify.ScheduleSpec {
	return notify.ScheduleSpec{Name: notify.ScheduleName(c.ID), Expression: c.Schedule, Timezone: c.Timezone, Enabled: true,
		Target: notify.ScheduleTarget{WorkspaceID: c.WorkspaceID, CampaignID: c.ID}, Start: c.CreatedAt}
}

func decodeSample(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// httpAnswer decodes an API Gateway answer.
func httpAnswer(t *testing.T, out []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("answer %s is not an HTTP response: %v", out, err)
	}
	return res
}

// errorCode is the code of an API error answer.
func errorCode(t *testing.T, res events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var body struct {
		Error struct{ Code string }
	}
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
		t.Errorf("body %q is not an API error: %v", res.Body, err)
	}
	return body.Error.Code
}

// checkNoFailures checks an SQS batch answer reports no failed record.
func checkNoFailures(t *testing.T, out []byte) {
	t.Helper()
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("answer = %s (%v), want no batch item failures", out, err)
	}
}

// checkSettled checks that the samples' notification is over, its counts
// want and its deliveries agreeing with them.
func checkSettled(t *testing.T, b *embedded.Backend, want notify.Counts) {
	t.Helper()
	if err := dispatchtest.Settled(t.Context(), b.Store, sampleWS, sampleNotif); err != nil {
		t.Error(err)
	}
	n, err := b.Store.GetNotification(t.Context(), sampleWS, sampleNotif)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, n.Counts); diff != "" || n.Status != notify.StatusCompleted {
		t.Errorf("notification %s, counts (-want +got):\n%s", n.Status, diff)
	}
}

// checkDelivery checks u1's delivery of the samples' notification
// ("status/reason") and the notification's counts.
func checkDelivery(t *testing.T, b *embedded.Backend, want string, counts notify.Counts) {
	t.Helper()
	ds, err := b.Store.GetDeliveries(t.Context(), sampleWS, sampleNotif, []string{"u1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(ds["u1"].Status) + "/" + ds["u1"].Reason; got != want {
		t.Errorf("delivery to u1 = %s, want %s", got, want)
	}
	n, err := b.Store.GetNotification(t.Context(), sampleWS, sampleNotif)
	if err != nil || n.Counts != counts {
		t.Errorf("counts = %+v, %v; want %+v", n.Counts, err, counts)
	}
}

// queued takes every dispatch message waiting in q.
func queued(t *testing.T, q *boltqueue.Queue) []notify.DispatchMessage {
	t.Helper()
	var out []notify.DispatchMessage
	for {
		msgs, err := q.Receive(t.Context(), 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return out
		}
		for _, m := range msgs {
			var dm notify.DispatchMessage
			if err := json.Unmarshal(m.Body, &dm); err != nil {
				t.Fatalf("queued body %s: %v", m.Body, err)
			}
			out = append(out, dm)
		}
	}
}

// checkQueued checks that the dispatch queue holds notification id's one
// message, to users.
func checkQueued(t *testing.T, b *embedded.Backend, id string, users ...string) {
	t.Helper()
	msgs := queued(t, b.Dispatch)
	if len(msgs) != 1 || msgs[0].WorkspaceID != sampleWS || msgs[0].NotificationID != id {
		t.Fatalf("enqueued %+v, want one message of %s", msgs, id)
	}
	var got []string
	for _, r := range msgs[0].Recipients {
		got = append(got, r.UserID)
	}
	if diff := cmp.Diff(users, got); diff != "" {
		t.Errorf("recipients enqueued (-want +got):\n%s", diff)
	}
}
