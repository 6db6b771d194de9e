package channel

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// fakeInbox keeps what was put, and keeps the first message of a
// notification as the port does.
type fakeInbox struct {
	put  []notify.InboxMessage
	kept map[string]notify.InboxMessage
	err  error
}

func (f *fakeInbox) PutInbox(_ context.Context, m notify.InboxMessage) (notify.InboxMessage, bool, error) {
	if f.err != nil {
		return notify.InboxMessage{}, false, f.err
	}
	f.put = append(f.put, m)
	if k, ok := f.kept[m.NotificationID]; ok {
		return k, false, nil
	}
	f.kept[m.NotificationID] = m
	return m, true, nil
}

func TestInboxSendInApp(t *testing.T) {
	at := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	store := &fakeInbox{kept: map[string]notify.InboxMessage{}}
	b := NewInbox(store, &notify.IDs{}, func() time.Time { return at })
	m := InAppMessage{Envelope: Envelope{WorkspaceID: "ws1", NotificationID: "N1", RecipientKey: "u1", UserID: "u1", Category: "bills"},
		Title: "Hola", Body: "Tu factura", Route: "bills", Icon: "i.png", Image: "b.png", Buttons: []notify.Button{{ID: "pay", Label: "Pagar"}}}
	rc, err := b.SendInApp(t.Context(), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(store.put) != 1 {
		t.Fatalf("put %d messages, want 1", len(store.put))
	}
	got := store.put[0]
	created := at.UTC().Truncate(time.Millisecond)
	want := notify.InboxMessage{WorkspaceID: "ws1", UserID: "u1", ID: got.ID, NotificationID: "N1", Title: "Hola", Body: "Tu factura",
		Route: "bills", Category: "bills", Icon: "i.png", Image: "b.png", Buttons: []notify.Button{{ID: "pay", Label: "Pagar"}}, CreatedAt: created}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("inbox message (-want +got):\n%s", d)
	}
	if len(got.ID) != 26 || got.ID[:10] != (&notify.IDs{}).New(created)[:10] {
		t.Errorf("message id %q, want a ULID of %v", got.ID, created)
	}
	if d := cmp.Diff(Receipt{ProviderMessageID: got.ID, Delivered: true}, rc); d != "" {
		t.Errorf("receipt (-want +got):\n%s", d)
	}

	// A retry: the kept message's id, not the new one's.
	again, err := b.SendInApp(t.Context(), m)
	if err != nil || again.ProviderMessageID != got.ID {
		t.Errorf("retried SendInApp = %+v, %v; want the kept message %s", again, err, got.ID)
	}

	m.UserID = ""
	if _, err := b.SendInApp(t.Context(), m); err == nil {
		t.Error("SendInApp without a user: no error")
	} else if code, ok := IsPermanent(err); !ok || code != notify.ReasonInvalidAddress {
		t.Errorf("SendInApp without a user = %v, want permanent %s", err, notify.ReasonInvalidAddress)
	}

	store.err = errors.New("throttled")
	m.UserID = "u1"
	if _, err := b.SendInApp(t.Context(), m); err == nil || !errors.Is(err, store.err) {
		t.Errorf("SendInApp with a failing store = %v, want its error (transient)", err)
	} else if _, ok := IsPermanent(err); ok {
		t.Errorf("SendInApp with a failing store = %v, want a transient error", err)
	}
}
