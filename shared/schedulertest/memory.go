package schedulertest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/heraldhq/herald/shared/notify"
)

// Memory is a notify.Scheduler in memory, the test double of the code that
// schedules (the campaign service, the HTTP API), kept here as Go's
// <package>test convention has it: it passes Run (memory_test.go), can be
// told to fail, and shows what it was given. It never fires. It is safe for
// concurrent use.
type Memory struct {
	mu    sync.Mutex
	specs map[string]notify.ScheduleSpec
	fail  error
	calls []string
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{specs: map[string]notify.ScheduleSpec{}}
}

// PutSchedule implements notify.Scheduler; it fails with the error given to
// Fail, if any, and keeps nothing then.
func (m *Memory) PutSchedule(_ context.Context, spec notify.ScheduleSpec) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, "put "+spec.Name)
	if m.fail != nil {
		return m.fail
	}
	m.specs[spec.Name] = spec
	return nil
}

// GetSchedule implements notify.Scheduler. It reads a schedule back as the
// adapters do: a rate() has no Timezone, and an at() or cron() put with
// none is in "UTC". Spec shows the schedule as it was put. It does not fail.
func (m *Memory) GetSchedule(_ context.Context, name string) (notify.ScheduleSpec, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	spec, ok := m.specs[name]
	if !ok {
		return notify.ScheduleSpec{}, notify.NotFound("schedule", name)
	}
	switch {
	case strings.HasPrefix(spec.Expression, "rate("):
		spec.Timezone = ""
	case spec.Timezone == "":
		spec.Timezone = "UTC"
	}
	return spec, nil
}

// DeleteSchedule implements notify.Scheduler; it fails with the error given
// to Fail, if any, and deletes nothing then.
func (m *Memory) DeleteSchedule(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, "delete "+name)
	if m.fail != nil {
		return m.fail
	}
	delete(m.specs, name)
	return nil
}

// Fail makes every later PutSchedule and DeleteSchedule fail with err, as a
// scheduler that is down or throttling; nil makes them succeed again.
func (m *Memory) Fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// Spec returns the schedule of name exactly as it was last put, and whether
// there is one.
func (m *Memory) Spec(name string) (notify.ScheduleSpec, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	spec, ok := m.specs[name]
	return spec, ok
}

// Names lists the names of the schedules kept, sorted.
func (m *Memory) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.specs))
	for name := range m.specs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Calls lists the PutSchedule and DeleteSchedule calls in order, failed
// ones too, as "put <name>" and "delete <name>".
func (m *Memory) Calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}
