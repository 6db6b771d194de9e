package schedulertest

import (
	"errors"
	"testing"

	"github.com/heraldhq/herald/shared/notify"
)

// TestMemoryKeepsTheContract holds the double to what the real adapters
// do, so tests that use it test what production does.
func TestMemoryKeepsTheContract(t *testing.T) {
	Run(t, func(*testing.T) notify.Scheduler { return NewMemory() })
}

func TestMemoryFailsAndShows(t *testing.T) {
	m := NewMemory()
	spec := notify.ScheduleSpec{Name: "c-1", Expression: "rate(1 day)", Timezone: "UTC", Enabled: true}
	m.Fail(errors.New("throttled"))
	if err := m.PutSchedule(t.Context(), spec); err == nil {
		t.Fatal("PutSchedule after Fail = nil, want the error")
	}
	if _, ok := m.Spec("c-1"); ok {
		t.Error("a failed put was kept")
	}
	m.Fail(nil)
	if err := m.PutSchedule(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	if got, ok := m.Spec("c-1"); !ok || got != spec {
		t.Errorf("Spec = %+v, %t; want it as put", got, ok)
	}
	if names := m.Names(); len(names) != 1 || names[0] != "c-1" {
		t.Errorf("Names = %v", names)
	}
	if calls := m.Calls(); len(calls) != 2 || calls[0] != "put c-1" {
		t.Errorf("Calls = %v, want both puts", calls)
	}
}
