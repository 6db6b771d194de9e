package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

func TestOutbox(t *testing.T) {
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	o := NewOutbox(s, func() time.Time { return at })
	env := Envelope{WorkspaceID: "ws1", NotificationID: "n1", RecipientKey: "u1", UserID: "u1"}

	wa := WhatsAppMessage{Envelope: env, To: "+34600000001", Template: &WhatsAppTemplate{Name: "bill_due", Language: "es", Parameters: []string{"Ana", "42 €"}, Buttons: []notify.Button{{ID: "ok", Label: "Vale"}}}}
	first, err := o.SendWhatsApp(ctx, wa)
	if err != nil {
		t.Fatal(err)
	}
	again, err := o.SendWhatsApp(ctx, wa) // a retry after a crash
	if err != nil {
		t.Fatal(err)
	}
	if first.ProviderMessageID != again.ProviderMessageID || !first.Delivered || !strings.HasPrefix(first.ProviderMessageID, "outbox-") {
		t.Errorf("receipts %+v then %+v, want the same delivered receipt", first, again)
	}
	if _, err := o.SendPush(ctx, PushMessage{Envelope: env, Devices: []notify.Device{{ID: "d1"}, {ID: "d2"}}, Title: "T", Body: "B", Route: "offers", Image: "https://x/i.png"}); err != nil {
		t.Fatal(err)
	}
	entries, _, err := s.ListOutbox(ctx, "ws1", "", "", notify.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("outbox has %d entries, want 2 (the retry kept once)", len(entries))
	}
	byChannel := map[notify.Channel]notify.OutboxEntry{}
	for _, e := range entries {
		byChannel[e.Channel] = e
	}
	wantWA := map[string]string{"template": "bill_due", "language": "es", "1": "Ana", "2": "42 €", "button1": "ok:Vale"}
	if got := byChannel[notify.ChannelWhatsApp]; got.Attempts != 2 || got.ProviderMessageID != first.ProviderMessageID {
		t.Errorf("whatsapp entry attempts %d id %q, want 2 attempts and the receipt's id", got.Attempts, got.ProviderMessageID)
	}
	if diff := cmp.Diff(wantWA, byChannel[notify.ChannelWhatsApp].Data); diff != "" || byChannel[notify.ChannelWhatsApp].Address != "+34600000001" {
		t.Errorf("whatsapp entry data (-want +got):\n%s", diff)
	}
	push := byChannel[notify.ChannelPush]
	if push.Address != "u1" || push.Route != "offers" || push.Data["devices"] != "d1,d2" || push.Data["image"] != "https://x/i.png" {
		t.Errorf("push entry = %+v", push)
	}
}

func TestSandboxLogsIdsOnly(t *testing.T) {
	var logs bytes.Buffer
	// The time is dropped: a timestamp's digits can spell the secret (01:44:20.212144242 did).
	noTime := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	sb := NewSandbox(slog.New(slog.NewJSONHandler(&logs, noTime)))
	r, err := sb.SendSMS(context.Background(), SMSMessage{Envelope: Envelope{WorkspaceID: "ws1", NotificationID: "n1", RecipientKey: "addr#+34600000001"}, To: "+34600000001", Text: "secret code 4242"})
	if err != nil || !strings.HasPrefix(r.ProviderMessageID, "sandbox-") || r.Delivered {
		t.Errorf("SendSMS = %+v, %v", r, err)
	}
	if out := logs.String(); !strings.Contains(out, `"notificationId":"n1"`) || strings.Contains(out, "600000001") || strings.Contains(out, "4242") {
		t.Errorf("sandbox log = %s, want ids and no phone or text", out)
	}
}

func TestPermanent(t *testing.T) {
	err := fmt.Errorf("send: %w", Permanent("invalid_token", errors.New("410 Gone")))
	if code, ok := IsPermanent(err); !ok || code != "invalid_token" {
		t.Errorf("IsPermanent(%v) = %q, %v", err, code, ok)
	}
	if _, ok := IsPermanent(errors.New("503")); ok {
		t.Errorf("a plain error is permanent, want transient")
	}
}
