package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

func getComposeSettings(t *testing.T, s notify.Store, ws string) notify.ComposeSettings {
	t.Helper()
	cs, err := s.GetComposeSettings(t.Context(), ws)
	must(t, "GetComposeSettings "+ws, err)
	return cs
}

func testComposeSettings(t *testing.T, s notify.Store) {
	ctx := t.Context()
	_, err := s.GetComposeSettings(ctx, wsA)
	wantCode(t, "GetComposeSettings before any Put", err, notify.CodeNotFound)

	t0 := now()
	first := notify.ComposeSettings{
		WorkspaceID: wsA,
		Categories: []notify.ComposeChoice{
			{ID: "energy_savings", Name: "Ahorro de energía", Description: "Tips to lower the bill, never pushy"},
			{ID: "outage", Name: "Corte de suministro", Description: "Planned or unplanned outages: when, where, how long"},
		},
		Brand:     "Luz Clara: a friendly Spanish utility. Tutea, no emojis.",
		UpdatedAt: t0,
	}
	must(t, "PutComposeSettings", s.PutComposeSettings(ctx, first))
	if d := diff(first, getComposeSettings(t, s, wsA)); d != "" {
		t.Errorf("GetComposeSettings after PutComposeSettings mismatch (-want +got):\n%s", d)
	}
	_, err = s.GetComposeSettings(ctx, wsB)
	wantCode(t, "GetComposeSettings of another workspace", err, notify.CodeNotFound)

	// A Put replaces: categories back to the defaults (nil), nothing of the
	// first settings kept.
	second := notify.ComposeSettings{WorkspaceID: wsA, Brand: "Luz Clara", UpdatedAt: t0.Add(time.Minute)}
	must(t, "PutComposeSettings(replace)", s.PutComposeSettings(ctx, second))
	if d := diff(second, getComposeSettings(t, s, wsA)); d != "" {
		t.Errorf("GetComposeSettings after a replacing PutComposeSettings mismatch (-want +got):\n%s", d)
	}

	other := notify.ComposeSettings{
		WorkspaceID: wsB,
		Categories:  []notify.ComposeChoice{{ID: "promo", Name: "Promo", Description: "Offers"}},
		UpdatedAt:   t0.Add(2 * time.Minute),
	}
	must(t, "PutComposeSettings "+wsB, s.PutComposeSettings(ctx, other))
	if d := diff(other, getComposeSettings(t, s, wsB)); d != "" {
		t.Errorf("GetComposeSettings %s mismatch (-want +got):\n%s", wsB, d)
	}
	if d := diff(second, getComposeSettings(t, s, wsA)); d != "" {
		t.Errorf("GetComposeSettings %s after a Put of %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
}

func addUsage(t *testing.T, s notify.Store, u notify.ComposeUsage) {
	t.Helper()
	must(t, fmt.Sprintf("AddComposeUsage %s %s %s", u.WorkspaceID, u.Day, u.Model), s.AddComposeUsage(t.Context(), u))
}

func listUsage(t *testing.T, s notify.Store, ws, from, to string) []notify.ComposeUsage {
	t.Helper()
	got, err := s.ListComposeUsage(t.Context(), ws, from, to)
	must(t, fmt.Sprintf("ListComposeUsage(%s, %s, %s)", ws, from, to), err)
	return got
}

func testComposeUsage(t *testing.T, s notify.Store) {
	ctx := t.Context()
	const (
		haiku  = "anthropic.claude-3-5-haiku-20241022-v1:0"
		gpt    = "gpt-4o-mini"
		hashed = "org#model" // a model id with the character DynamoDB keys use
	)
	u := func(ws, day, model string, req, in, out int64) notify.ComposeUsage {
		return notify.ComposeUsage{WorkspaceID: ws, Day: day, Model: model, Requests: req, InputTokens: in, OutputTokens: out}
	}
	// Added out of order, some twice; 2026-11-18 and 2026-11-23 lie
	// outside the range listed below, 2026-11-19 and 2026-11-22 are its
	// bounds.
	for _, add := range []notify.ComposeUsage{
		u(wsA, "2026-11-22", haiku, 1, 900, 150),
		u(wsA, "2026-11-20", haiku, 1, 1000, 200),
		u(wsA, "2026-11-20", gpt, 2, 700, 90),
		u(wsA, "2026-11-23", haiku, 1, 10, 10),
		u(wsA, "2026-11-19", hashed, 1, 5, 5),
		u(wsA, "2026-11-20", haiku, 3, 2500, 410),
		u(wsA, "2026-11-18", gpt, 1, 10, 10),
		u(wsA, "2026-11-19", haiku, 1, 300, 40),
		u(wsB, "2026-11-20", haiku, 7, 7000, 700),
	} {
		addUsage(t, s, add)
	}

	tests := []struct {
		name     string
		ws       string
		from, to string
		want     []notify.ComposeUsage
	}{
		{"bounds inclusive, by day then model", wsA, "2026-11-19", "2026-11-22", []notify.ComposeUsage{
			u(wsA, "2026-11-19", haiku, 1, 300, 40),
			u(wsA, "2026-11-19", hashed, 1, 5, 5),
			u(wsA, "2026-11-20", haiku, 4, 3500, 610),
			u(wsA, "2026-11-20", gpt, 2, 700, 90),
			u(wsA, "2026-11-22", haiku, 1, 900, 150),
		}},
		{"one day", wsA, "2026-11-20", "2026-11-20", []notify.ComposeUsage{
			u(wsA, "2026-11-20", haiku, 4, 3500, 610),
			u(wsA, "2026-11-20", gpt, 2, 700, 90),
		}},
		{"last day only", wsA, "2026-11-23", "2026-12-31", []notify.ComposeUsage{
			u(wsA, "2026-11-23", haiku, 1, 10, 10),
		}},
		{"a month", wsA, "2026-11-01", "2026-11-30", []notify.ComposeUsage{
			u(wsA, "2026-11-18", gpt, 1, 10, 10),
			u(wsA, "2026-11-19", haiku, 1, 300, 40),
			u(wsA, "2026-11-19", hashed, 1, 5, 5),
			u(wsA, "2026-11-20", haiku, 4, 3500, 610),
			u(wsA, "2026-11-20", gpt, 2, 700, 90),
			u(wsA, "2026-11-22", haiku, 1, 900, 150),
			u(wsA, "2026-11-23", haiku, 1, 10, 10),
		}},
		{"days with nothing", wsA, "2026-11-24", "2026-11-30", nil},
		{"from after to", wsA, "2026-11-22", "2026-11-19", nil},
		{"other workspace", wsB, "2026-11-19", "2026-11-22", []notify.ComposeUsage{
			u(wsB, "2026-11-20", haiku, 7, 7000, 700),
		}},
		{"workspace with no usage", "ws-c", "2026-11-01", "2026-11-30", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listUsage(t, s, tt.ws, tt.from, tt.to)
			if d := diff(tt.want, got); d != "" {
				t.Errorf("ListComposeUsage(%s, %s, %s) mismatch (-want +got):\n%s", tt.ws, tt.from, tt.to, d)
			}
		})
	}

	for _, bad := range []string{"2026-11-5", "20261105", "2026-13-01", "yesterday", ""} {
		err := s.AddComposeUsage(ctx, u(wsA, bad, haiku, 1, 1, 1))
		wantCode(t, fmt.Sprintf("AddComposeUsage(day %q)", bad), err, notify.CodeValidation)
		_, err = s.ListComposeUsage(ctx, wsA, bad, "2026-11-30")
		wantCode(t, fmt.Sprintf("ListComposeUsage(from %q)", bad), err, notify.CodeValidation)
		_, err = s.ListComposeUsage(ctx, wsA, "2026-11-01", bad)
		wantCode(t, fmt.Sprintf("ListComposeUsage(to %q)", bad), err, notify.CodeValidation)
	}
}

func testComposeUsageConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	const (
		writers = 20
		adds    = 5
		day     = "2026-11-21"
		model   = "gpt-4o-mini"
	)
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			for range adds {
				u := notify.ComposeUsage{WorkspaceID: wsA, Day: day, Model: model, Requests: 1, InputTokens: int64(100 + i), OutputTokens: 7}
				if err := s.AddComposeUsage(ctx, u); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, "concurrent AddComposeUsage", err)
	}
	// Inputs 100+i for i in 0..19, adds times each.
	want := []notify.ComposeUsage{{
		WorkspaceID: wsA, Day: day, Model: model,
		Requests: writers * adds, InputTokens: adds * (writers*100 + writers*(writers-1)/2), OutputTokens: writers * adds * 7,
	}}
	if d := diff(want, listUsage(t, s, wsA, day, day)); d != "" {
		t.Errorf("ListComposeUsage after %d concurrent adds mismatch (-want +got):\n%s", writers*adds, d)
	}
}

func takeRate(t *testing.T, s notify.Store, ws, name string, window time.Time, limit int) bool {
	t.Helper()
	ok, err := s.TakeRate(t.Context(), ws, name, window, limit)
	must(t, fmt.Sprintf("TakeRate(%s, %s, %v, %d)", ws, name, window, limit), err)
	return ok
}

func testTakeRate(t *testing.T, s notify.Store) {
	// Windows of now: a store may forget windows once they are well past.
	w := now().Truncate(time.Minute)
	next := w.Add(time.Minute)
	tests := []struct {
		name   string
		ws     string
		rate   string
		window time.Time
		limit  int
		want   bool
	}{
		{"first", wsA, "compose", w, 3, true},
		{"second", wsA, "compose", w, 3, true},
		{"third", wsA, "compose", w, 3, true},
		{"over the limit", wsA, "compose", w, 3, false},
		{"still over the limit", wsA, "compose", w, 3, false},
		// Refused takes counted nothing: three are counted, so a limit of
		// four lets exactly one more through.
		{"a higher limit", wsA, "compose", w, 4, true},
		{"the higher limit reached", wsA, "compose", w, 4, false},
		{"a lower limit", wsA, "compose", w, 1, false},
		{"next window", wsA, "compose", next, 3, true},
		{"another name", wsA, "compose-daily", w, 3, true},
		{"a name with #", wsA, "compose#x", w, 1, true},
		{"a name with # again", wsA, "compose#x", w, 1, false},
		{"another workspace", wsB, "compose", w, 3, true},
		{"limit 0", wsA, "fresh", w, 0, false},
		{"limit 0 again", wsA, "fresh", w, 0, false},
		{"negative limit", wsA, "fresh", w, -1, false},
		// Limit-0 calls counted nothing either.
		{"limit 1 after limit 0", wsA, "fresh", w, 1, true},
		{"limit 1 reached", wsA, "fresh", w, 1, false},
		{"next window, second", wsA, "compose", next, 3, true},
		{"another workspace, second", wsB, "compose", w, 3, true},
	}
	for _, tt := range tests {
		if got := takeRate(t, s, tt.ws, tt.rate, tt.window, tt.limit); got != tt.want {
			t.Errorf("%s: TakeRate(%s, %s, %v, %d) = %t, want %t", tt.name, tt.ws, tt.rate, tt.window, tt.limit, got, tt.want)
		}
	}
}

func testTakeRateConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	const (
		takers = 20
		limit  = 5
	)
	w := now().Truncate(time.Minute)
	// Two limits raced at once, so an adapter that keys them together
	// (or not at all) lets the wrong number through.
	names := []string{"compose", "send"}
	var wg sync.WaitGroup
	start := make(chan struct{})
	taken := make([][]bool, len(names))
	errs := make([][]error, len(names))
	for n, name := range names {
		taken[n], errs[n] = make([]bool, takers), make([]error, takers)
		for i := range takers {
			wg.Go(func() {
				<-start
				taken[n][i], errs[n][i] = s.TakeRate(ctx, wsA, name, w, limit)
			})
		}
	}
	close(start)
	wg.Wait()
	for n, name := range names {
		got := 0
		for i := range takers {
			must(t, "concurrent TakeRate "+name, errs[n][i])
			if taken[n][i] {
				got++
			}
		}
		if got != limit {
			t.Errorf("%d concurrent TakeRate(%s, limit %d): %d true, want %d", takers, name, limit, got, limit)
		}
		if takeRate(t, s, wsA, name, w, limit) {
			t.Errorf("TakeRate(%s) after %d concurrent takes = true, want false (limit %d reached)", name, takers, limit)
		}
	}
}
