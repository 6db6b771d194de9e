package dispatchtest

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/shared/notify"
)

func TestCheckSettled(t *testing.T) {
	ds := []notify.Delivery{{Status: notify.DeliverySent}, {Status: notify.DeliveryFailed, Reason: "unreachable"}, {Status: notify.DeliverySkipped}}
	n := func(s notify.Status, c notify.Counts) notify.Notification {
		return notify.Notification{ID: "n1", Status: s, Counts: c}
	}
	tests := []struct {
		name    string
		n       notify.Notification
		ds      []notify.Delivery
		wantErr string // "" for none
	}{
		{"settled", n(notify.StatusCompleted, notify.Counts{Total: 3, Sent: 1, Failed: 1, Skipped: 1}), ds, ""},
		{"cancelled and settled", n(notify.StatusCancelled, notify.Counts{Total: 3, Sent: 1, Failed: 1, Skipped: 1}), ds, ""},
		{"a chunk never counted", n(notify.StatusSending, notify.Counts{Total: 3, Queued: 3}), ds, "tally"},
		{"counted twice", n(notify.StatusCompleted, notify.Counts{Total: 3, Sent: 2, Failed: 1, Skipped: 1}), ds, "tally"},
		{"still queued", n(notify.StatusSending, notify.Counts{Total: 4, Queued: 1, Sent: 1, Failed: 1, Skipped: 1}), ds, "still queued"},
		{"not final", n(notify.StatusSending, notify.Counts{Total: 3, Sent: 1, Failed: 1, Skipped: 1}), ds, "want a final one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSettled(tt.n, tt.ds)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("CheckSettled = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}
