package notify

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNotEnqueued(t *testing.T) {
	down := errors.New("queue unavailable")
	tests := []struct {
		name string
		err  error
		want map[int]bool
	}{
		{name: "nothing failed", err: nil, want: map[int]bool{}},
		{name: "some failed", err: &SendError{Failed: []int{1, 3}, Err: down}, want: map[int]bool{1: true, 3: true}},
		{name: "some failed, wrapped", err: fmt.Errorf("enqueue: %w", &SendError{Failed: []int{0}, Err: down}), want: map[int]bool{0: true}},
		{name: "any other error lost them all", err: down, want: map[int]bool{0: true, 1: true, 2: true, 3: true}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, NotEnqueued(tt.err, 4)); d != "" {
			t.Errorf("%s: NotEnqueued (-want +got):\n%s", tt.name, d)
		}
	}
	se := &SendError{Failed: []int{1, 3}, Err: down}
	if !errors.Is(se, down) || se.Error() != "2 messages not enqueued: queue unavailable" {
		t.Errorf("SendError = %q, Is(down) %t; want the count and the cause, which it wraps", se.Error(), errors.Is(se, down))
	}
}

// TestAwaitNotification: a notification stored a moment after its
// messages is found; one that never is, is not_found after the patience.
func TestAwaitNotification(t *testing.T) {
	tests := []struct {
		name      string
		appears   int // the read that finds it; 0: never
		patience  time.Duration
		wantFound bool
		wantReads int
	}{
		{name: "there at once", appears: 1, patience: time.Second, wantFound: true, wantReads: 1},
		{name: "there on the third read", appears: 3, patience: time.Second, wantFound: true, wantReads: 3},
		// Waits of 50, 100 and 200 ms fit 200 ms of patience; the next would not.
		{name: "never there", appears: 0, patience: 200 * time.Millisecond, wantReads: 4},
		{name: "no patience", appears: 0, patience: 0, wantReads: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reads := 0
			get := func(_ context.Context, ws, id string) (Notification, error) {
				reads++
				if reads == tt.appears {
					return Notification{WorkspaceID: ws, ID: id}, nil
				}
				return Notification{}, NotFound("notification", id)
			}
			n, err := AwaitNotification(t.Context(), get, "ws1", "ntf_1", tt.patience)
			if found := err == nil && n.ID == "ntf_1"; found != tt.wantFound || reads != tt.wantReads {
				t.Errorf("AwaitNotification = %+v, %v after %d reads; want found %t after %d", n, err, reads, tt.wantFound, tt.wantReads)
			}
			if !tt.wantFound && !IsCode(err, CodeNotFound) {
				t.Errorf("AwaitNotification of a missing notification = %v, want not_found", err)
			}
		})
	}
}

func TestAwaitNotificationOtherErrorsAndCancel(t *testing.T) {
	reads := 0
	down := errors.New("table unavailable")
	_, err := AwaitNotification(t.Context(), func(context.Context, string, string) (Notification, error) {
		reads++
		return Notification{}, down
	}, "ws1", "ntf_1", time.Second)
	if !errors.Is(err, down) || reads != 1 {
		t.Errorf("AwaitNotification with the store down = %v after %d reads; want its error at once", err, reads)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	reads = 0
	_, err = AwaitNotification(ctx, func(context.Context, string, string) (Notification, error) {
		reads++
		return Notification{}, NotFound("notification", "ntf_1")
	}, "ws1", "ntf_1", time.Hour)
	if !IsCode(err, CodeNotFound) || reads != 1 {
		t.Errorf("AwaitNotification cancelled = %v after %d reads; want not_found at once", err, reads)
	}
}
