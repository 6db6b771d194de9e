package boltstore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/heraldhq/herald/shared/notify"
)

func entryIDs(es []notify.OutboxEntry) []string {
	ids := make([]string, 0, len(es))
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func listOutbox(t *testing.T, s *Store, ws string, ch notify.Channel, addr string, limit int) ([]notify.OutboxEntry, int) {
	t.Helper()
	var all []notify.OutboxEntry
	p := notify.Page{Limit: limit}
	for pages := 1; ; pages++ {
		es, next, err := s.ListOutbox(t.Context(), ws, ch, addr, p)
		if err != nil {
			t.Fatalf("ListOutbox page %d: %v", pages, err)
		}
		if len(es) > limit {
			t.Fatalf("ListOutbox page %d: %d entries, want at most %d", pages, len(es), limit)
		}
		all = append(all, es...)
		if next == "" {
			return all, pages
		}
		p.Cursor = next
	}
}

func TestOutbox(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var ids notify.IDs
	channels := []notify.Channel{notify.ChannelSMS, notify.ChannelEmail, notify.ChannelPush}
	var all []notify.OutboxEntry // newest first
	for i := range 12 {
		at := t0.Add(time.Duration(i) * time.Second)
		ch := channels[i%len(channels)]
		e := notify.OutboxEntry{
			ID: ids.New(at), WorkspaceID: "ws-a", NotificationID: "n-1", RecipientKey: fmt.Sprintf("cust-%d", i),
			UserID: fmt.Sprintf("cust-%d", i), Channel: ch, Address: fmt.Sprintf("addr-%d", i%2),
			Title: "Hola", Body: fmt.Sprintf("Mensaje %d", i), Route: "home", Data: map[string]string{"i": fmt.Sprint(i)},
			CreatedAt: at,
		}
		if err := s.PutOutbox(ctx, e); err != nil {
			t.Fatalf("PutOutbox: %v", err)
		}
		e.Attempts = 1
		all = append([]notify.OutboxEntry{e}, all...)
	}
	// The same recipient, notification and channel again: kept once.
	again := all[0]
	again.ID, again.Body = ids.New(t0.Add(time.Hour)), "redelivered"
	if err := s.PutOutbox(ctx, again); err != nil {
		t.Fatalf("PutOutbox again: %v", err)
	}
	all[0].Attempts = 2 // kept once, but the repeat is counted
	// The same recipient on another channel or notification is a new entry.
	other := notify.OutboxEntry{WorkspaceID: "ws-b", NotificationID: "n-1", RecipientKey: "cust-0", Channel: notify.ChannelSMS, Address: "addr-0", Body: "b"}
	if err := s.PutOutbox(ctx, other); err != nil {
		t.Fatalf("PutOutbox other workspace: %v", err)
	}

	got, pages := listOutbox(t, s, "ws-a", "", "", 5)
	if pages != 3 {
		t.Errorf("ListOutbox of 12 by 5 took %d pages, want 3", pages)
	}
	if d := cmp.Diff(all, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("ListOutbox mismatch (-want +got):\n%s", d)
	}

	tests := []struct {
		name    string
		channel notify.Channel
		address string
		want    func(e notify.OutboxEntry) bool
	}{
		{"channel", notify.ChannelEmail, "", func(e notify.OutboxEntry) bool { return e.Channel == notify.ChannelEmail }},
		{"address", "", "addr-1", func(e notify.OutboxEntry) bool { return e.Address == "addr-1" }},
		{"both", notify.ChannelSMS, "addr-0", func(e notify.OutboxEntry) bool { return e.Channel == notify.ChannelSMS && e.Address == "addr-0" }},
		{"none", notify.ChannelWhatsApp, "", func(notify.OutboxEntry) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []notify.OutboxEntry
			for _, e := range all {
				if tt.want(e) {
					want = append(want, e)
				}
			}
			got, _ := listOutbox(t, s, "ws-a", tt.channel, tt.address, 2)
			if d := cmp.Diff(entryIDs(want), entryIDs(got)); d != "" {
				t.Errorf("ListOutbox(%q, %q) ids mismatch (-want +got):\n%s", tt.channel, tt.address, d)
			}
		})
	}

	got, _ = listOutbox(t, s, "ws-b", "", "", 10)
	if len(got) != 1 || got[0].Body != "b" || got[0].ID == "" || got[0].CreatedAt.IsZero() || got[0].RecipientKey != "cust-0" {
		t.Errorf("ListOutbox(ws-b) = %+v, want the one entry with an id and a time", got)
	}
}

func TestOutboxConcurrent(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	const writers, recipients = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*recipients)
	for range writers {
		wg.Go(func() {
			// Every writer delivers the same recipients, as a redelivered
			// queue message would.
			for i := range recipients {
				errs <- s.PutOutbox(ctx, notify.OutboxEntry{
					WorkspaceID: "ws-a", NotificationID: "n-1", RecipientKey: fmt.Sprintf("cust-%d", i),
					Channel: notify.ChannelSMS, Address: "+34600000000", Body: "hola",
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("PutOutbox: %v", err)
		}
	}
	got, _ := listOutbox(t, s, "ws-a", "", "", notify.MaxPageSize)
	if len(got) != recipients {
		t.Errorf("ListOutbox after %d writers × %d recipients = %d entries, want %d", writers, recipients, len(got), recipients)
	}
}
