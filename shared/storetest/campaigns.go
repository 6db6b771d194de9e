package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// sendBody is a send as an operator may type it: spaces, line breaks,
// characters JSON encoders like to escape. A store keeps it byte for byte.
const sendBody = `{
  "templateId": "tpl-1",
  "audience": {"tags": ["vip"]},
  "variables": {"oferta": "<b>20 %</b> & más"}
}`

// newCampaign is an operator's campaign that ran once, with every field set.
func newCampaign(ws, id string, at time.Time) notify.Campaign {
	return notify.Campaign{
		WorkspaceID:  ws,
		ID:           id,
		Kind:         notify.CampaignKindCampaign,
		Name:         "Ofertas de los lunes",
		Schedule:     "cron(0 9 ? * MON *)",
		Timezone:     "Europe/Madrid",
		Notification: json.RawMessage(sendBody),
		Status:       notify.CampaignActive,
		Sync:         notify.ScheduleSync{State: notify.SyncPending, Error: "scheduler unavailable", At: at.Add(time.Second)},
		LastRunAt:    ptr(at.Add(time.Hour)),
		CreatedBy:    "key-1",
		CreatedAt:    at,
		UpdatedAt:    at.Add(2 * time.Second),
	}
}

// newSendCampaign is the schedule of one send given a scheduleAt.
func newSendCampaign(ws, id string, at time.Time) notify.Campaign {
	return notify.Campaign{
		WorkspaceID:    ws,
		ID:             id,
		Kind:           notify.CampaignKindSend,
		Name:           "send " + id,
		Schedule:       "at(2026-12-01T09:00:00)",
		Timezone:       "UTC",
		Notification:   json.RawMessage(`{"templateId":"tpl-2","to":["cust-1"]}`),
		NotificationID: "n-" + id,
		Status:         notify.CampaignActive,
		Sync:           notify.ScheduleSync{State: notify.SyncSynced, At: at},
		CreatedBy:      "key-2",
		CreatedAt:      at,
		UpdatedAt:      at,
	}
}

func createCampaign(t *testing.T, s notify.Store, c notify.Campaign) {
	t.Helper()
	must(t, "CreateCampaign "+c.ID, s.CreateCampaign(t.Context(), c))
}

func getCampaign(t *testing.T, s notify.Store, ws, id string) notify.Campaign {
	t.Helper()
	c, err := s.GetCampaign(t.Context(), ws, id)
	must(t, "GetCampaign "+id, err)
	return c
}

func campaignIDs(cs []notify.Campaign) []string {
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

// newRun is the start of a campaign's run at a scheduled time.
func newRun(ws, campaignID string, scheduledAt time.Time) notify.CampaignRun {
	return notify.CampaignRun{
		WorkspaceID: ws,
		CampaignID:  campaignID,
		ScheduledAt: scheduledAt,
		Status:      notify.RunRunning,
		StartedAt:   scheduledAt.Add(1500 * time.Millisecond),
	}
}

func startRun(t *testing.T, s notify.Store, r notify.CampaignRun) (notify.CampaignRun, bool) {
	t.Helper()
	got, started, err := s.StartRun(t.Context(), r)
	must(t, "StartRun "+r.CampaignID+"@"+r.ScheduledAt.String(), err)
	return got, started
}

func listRuns(t *testing.T, s notify.Store, ws, campaignID string) []notify.CampaignRun {
	t.Helper()
	runs, _ := collect(t, "ListRuns "+campaignID, 100, func(p notify.Page) ([]notify.CampaignRun, string, error) {
		return s.ListRuns(t.Context(), ws, campaignID, p)
	})
	return runs
}

func testCreateCampaign(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()

	c := newCampaign(wsA, ids.New(t0), t0)
	c.Version = 7 // the store's to set
	createCampaign(t, s, c)
	got := getCampaign(t, s, wsA, c.ID)
	want := c
	want.Version = 1
	if d := diff(want, got); d != "" {
		t.Errorf("GetCampaign after CreateCampaign mismatch (-want +got):\n%s", d)
	}
	if string(got.Notification) != sendBody {
		t.Errorf("GetCampaign(%s).Notification = %s, want the operator's text byte for byte %s", c.ID, got.Notification, sendBody)
	}

	// A scheduled send: the optional fields empty, a notification id.
	send := newSendCampaign(wsA, ids.New(t0), t0)
	createCampaign(t, s, send)
	want = send
	want.Version = 1
	if d := diff(want, getCampaign(t, s, wsA, send.ID)); d != "" {
		t.Errorf("GetCampaign of a scheduled send mismatch (-want +got):\n%s", d)
	}

	dup := newSendCampaign(wsA, c.ID, t0.Add(time.Minute))
	wantCode(t, "CreateCampaign of an existing id", s.CreateCampaign(ctx, dup), notify.CodeConflict)
	if d := diff(got, getCampaign(t, s, wsA, c.ID)); d != "" {
		t.Errorf("GetCampaign after a conflicting CreateCampaign mismatch (-want +got):\n%s", d)
	}

	_, err := s.GetCampaign(ctx, wsA, ids.New(t0))
	wantCode(t, "GetCampaign of a missing id", err, notify.CodeNotFound)
}

func testUpdateCampaign(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	c := newCampaign(wsA, ids.New(t0), t0)
	c.LastRunAt = nil
	createCampaign(t, s, c)
	before := getCampaign(t, s, wsA, c.ID)

	t1 := t0.Add(time.Minute)
	body := json.RawMessage(`{"templateId": "tpl-9"}`)
	change := func(c *notify.Campaign) {
		c.Name = "Ofertas de los martes"
		c.Schedule = "cron(0 9 ? * TUE *)"
		c.Notification = body
		c.Status = notify.CampaignPaused
		c.Sync = notify.ScheduleSync{State: notify.SyncSynced, At: t1}
		c.LastRunAt = ptr(t1)
		c.UpdatedAt = t1
	}
	got, err := s.UpdateCampaign(ctx, wsA, c.ID, func(c *notify.Campaign) error {
		change(c)
		return nil
	})
	must(t, "UpdateCampaign", err)
	want := before
	change(&want)
	want.Version = before.Version + 1
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateCampaign mismatch (-want +got):\n%s", d)
	}
	stored := getCampaign(t, s, wsA, c.ID)
	if d := diff(got, stored); d != "" {
		t.Errorf("GetCampaign after UpdateCampaign mismatch (-want +got):\n%s", d)
	}

	// fn refuses: its error comes back as it is, with nothing written.
	refused := notify.Errorf(notify.CodeConflict, "campaign is %s", notify.CampaignPaused)
	_, err = s.UpdateCampaign(ctx, wsA, c.ID, func(c *notify.Campaign) error {
		c.Status, c.Name, c.LastRunAt = notify.CampaignCancelled, "not to be saved", nil
		return refused
	})
	if err != refused {
		t.Errorf("UpdateCampaign with fn failing: err = %v, want %v as it is", err, refused)
	}
	if d := diff(stored, getCampaign(t, s, wsA, c.ID)); d != "" {
		t.Errorf("GetCampaign after a refused UpdateCampaign mismatch (-want +got):\n%s", d)
	}

	// Every write moves the version by one, even one that changes nothing;
	// clearing a field clears it.
	again, err := s.UpdateCampaign(ctx, wsA, c.ID, func(c *notify.Campaign) error {
		c.LastRunAt, c.Sync.Error = nil, ""
		return nil
	})
	must(t, "UpdateCampaign(clear)", err)
	if again.Version != stored.Version+1 {
		t.Errorf("UpdateCampaign(clear).Version = %d, want %d", again.Version, stored.Version+1)
	}
	if got := getCampaign(t, s, wsA, c.ID); got.LastRunAt != nil {
		t.Errorf("GetCampaign after clearing LastRunAt = %v, want nil", got.LastRunAt)
	}

	called := false
	_, err = s.UpdateCampaign(ctx, wsA, ids.New(t0), func(*notify.Campaign) error { called = true; return nil })
	wantCode(t, "UpdateCampaign of a missing id", err, notify.CodeNotFound)
	if called {
		t.Errorf("UpdateCampaign of a missing id called fn")
	}
}

func testUpdateCampaignConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	c := newCampaign(wsA, ids.New(now()), now())
	c.Name = ""
	createCampaign(t, s, c)
	before := getCampaign(t, s, wsA, c.ID)

	const writers = 10
	updateConcurrently(t, "UpdateCampaign", writers, before.Version, func(i int) (int64, error) {
		got, err := s.UpdateCampaign(ctx, wsA, c.ID, func(c *notify.Campaign) error {
			c.Name += fmt.Sprintf("[%d]", i)
			return nil
		})
		return got.Version, err
	})
	got := getCampaign(t, s, wsA, c.ID)
	for i := range writers {
		if n := strings.Count(got.Name, fmt.Sprintf("[%d]", i)); n != 1 {
			t.Errorf("Name after %d concurrent UpdateCampaign = %q: writer %d's mark appears %d times, want once", writers, got.Name, i, n)
		}
	}
	if want := before.Version + writers; got.Version != want {
		t.Errorf("Version after %d concurrent UpdateCampaign = %d, want %d", writers, got.Version, want)
	}
}

func testDeleteCampaign(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	c := newCampaign(wsA, ids.New(t0), t0)
	other := newCampaign(wsA, ids.New(t0), t0)
	createCampaign(t, s, c)
	createCampaign(t, s, other)
	// More runs than one BatchWriteItem deletes.
	const runs = 30
	for i := range runs {
		startRun(t, s, newRun(wsA, c.ID, minute(i)))
	}
	startRun(t, s, newRun(wsA, other.ID, minute(0)))
	otherRuns := listRuns(t, s, wsA, other.ID)

	must(t, "DeleteCampaign", s.DeleteCampaign(ctx, wsA, c.ID))
	_, err := s.GetCampaign(ctx, wsA, c.ID)
	wantCode(t, "GetCampaign after DeleteCampaign", err, notify.CodeNotFound)
	if got := listRuns(t, s, wsA, c.ID); len(got) != 0 {
		t.Errorf("ListRuns after DeleteCampaign = %d runs, want none", len(got))
	}
	list, _, err := s.ListCampaigns(ctx, wsA, "", notify.Page{Limit: 10})
	must(t, "ListCampaigns", err)
	if d := diff([]string{other.ID}, campaignIDs(list)); d != "" {
		t.Errorf("ListCampaigns after DeleteCampaign mismatch (-want +got):\n%s", d)
	}
	if d := diff(otherRuns, listRuns(t, s, wsA, other.ID)); d != "" {
		t.Errorf("ListRuns of another campaign after DeleteCampaign mismatch (-want +got):\n%s", d)
	}

	wantCode(t, "DeleteCampaign again", s.DeleteCampaign(ctx, wsA, c.ID), notify.CodeNotFound)
	wantCode(t, "DeleteCampaign of a missing id", s.DeleteCampaign(ctx, wsA, ids.New(t0)), notify.CodeNotFound)

	// The same id created again starts with no runs: a scheduled time it
	// ran before runs anew.
	createCampaign(t, s, c)
	r := newRun(wsA, c.ID, minute(3))
	got, started := startRun(t, s, r)
	want := r
	want.Attempts = 1
	if !started || got.Attempts != 1 {
		t.Errorf("StartRun after DeleteCampaign = attempts %d, %t; want 1, true", got.Attempts, started)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("StartRun after DeleteCampaign mismatch (-want +got):\n%s", d)
	}
}

func testListCampaigns(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	const total = notify.DefaultPageSize + 3
	var all, operators, sends []notify.Campaign // newest first
	for i := range total {
		at := minute(i)
		var c notify.Campaign
		if i%3 == 0 {
			c = newSendCampaign(wsA, ids.New(at), at)
		} else {
			c = newCampaign(wsA, ids.New(at), at)
			c.Name = fmt.Sprintf("campaña %02d", i)
		}
		createCampaign(t, s, c)
		c.Version = 1
		if c.Kind == notify.CampaignKindSend {
			sends = append([]notify.Campaign{c}, sends...)
		} else {
			operators = append([]notify.Campaign{c}, operators...)
		}
		all = append([]notify.Campaign{c}, all...)
	}
	var inB []string
	for i := range 3 {
		at := minute(i)
		c := newCampaign(wsB, ids.New(at), at)
		createCampaign(t, s, c)
		inB = append([]string{c.ID}, inB...)
	}

	tests := []struct {
		kind string
		want []notify.Campaign
	}{
		{"", all},
		{notify.CampaignKindCampaign, operators},
		{notify.CampaignKindSend, sends},
		{"unknown", nil},
	}
	for _, tt := range tests {
		got, pages := collect(t, "ListCampaigns "+tt.kind, 5, func(p notify.Page) ([]notify.Campaign, string, error) {
			return s.ListCampaigns(ctx, wsA, tt.kind, p)
		})
		if pages < len(tt.want)/5 {
			t.Errorf("ListCampaigns(kind %q) of %d by 5 took %d pages, want at least %d", tt.kind, len(tt.want), pages, len(tt.want)/5)
		}
		if d := diff(campaignIDs(tt.want), campaignIDs(got)); d != "" {
			t.Errorf("ListCampaigns(kind %q) paging ids mismatch (-want +got):\n%s", tt.kind, d)
		}
		if d := diff(tt.want, got); d != "" {
			t.Errorf("ListCampaigns(kind %q) paging mismatch (-want +got):\n%s", tt.kind, d)
		}
	}

	wantDefaultPage(t, "ListCampaigns", func(p notify.Page) ([]notify.Campaign, string, error) {
		return s.ListCampaigns(ctx, wsA, "", p)
	})

	// The list shows what UpdateCampaign wrote.
	updated, err := s.UpdateCampaign(ctx, wsA, operators[1].ID, func(c *notify.Campaign) error {
		c.Status, c.LastRunAt, c.UpdatedAt = notify.CampaignPaused, ptr(minute(59)), minute(59)
		return nil
	})
	must(t, "UpdateCampaign", err)
	page, _, err := s.ListCampaigns(ctx, wsA, notify.CampaignKindCampaign, notify.Page{Limit: 2})
	must(t, "ListCampaigns", err)
	if len(page) != 2 {
		t.Fatalf("ListCampaigns(limit 2) = %d items, want 2", len(page))
	}
	if d := diff(updated, page[1]); d != "" {
		t.Errorf("ListCampaigns after UpdateCampaign mismatch (-want +got):\n%s", d)
	}

	gotB, _ := collect(t, "ListCampaigns of "+wsB, 2, func(p notify.Page) ([]notify.Campaign, string, error) {
		return s.ListCampaigns(ctx, wsB, "", p)
	})
	if d := diff(inB, campaignIDs(gotB)); d != "" {
		t.Errorf("ListCampaigns of %s ids mismatch (-want +got):\n%s", wsB, d)
	}
	for _, c := range gotB {
		if c.WorkspaceID != wsB {
			t.Errorf("ListCampaigns of %s: %s has workspace %q", wsB, c.ID, c.WorkspaceID)
		}
	}

	empty, next, err := s.ListCampaigns(ctx, "ws-empty", "", notify.Page{Limit: 10})
	must(t, "ListCampaigns of an empty workspace", err)
	if len(empty) != 0 || next != "" {
		t.Errorf("ListCampaigns of an empty workspace = %v, next %q; want none and no cursor", campaignIDs(empty), next)
	}

	for _, kind := range []string{"", notify.CampaignKindSend} {
		wantBadCursorRefused(t, s, fmt.Sprintf("ListCampaigns(kind %q)", kind), func(p notify.Page) ([]notify.Campaign, string, error) {
			return s.ListCampaigns(ctx, wsA, kind, p)
		})
	}
}

func testCampaignsIsolation(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	a := newCampaign(wsA, ids.New(t0), t0)
	createCampaign(t, s, a)
	r := newRun(wsA, a.ID, minute(0))
	startRun(t, s, r)
	stored := getCampaign(t, s, wsA, a.ID)
	storedRuns := listRuns(t, s, wsA, a.ID)

	_, err := s.GetCampaign(ctx, wsB, a.ID)
	wantCode(t, "GetCampaign through another workspace", err, notify.CodeNotFound)
	_, err = s.UpdateCampaign(ctx, wsB, a.ID, func(c *notify.Campaign) error {
		c.Status = notify.CampaignCancelled
		return nil
	})
	wantCode(t, "UpdateCampaign through another workspace", err, notify.CodeNotFound)
	wantCode(t, "DeleteCampaign through another workspace", s.DeleteCampaign(ctx, wsB, a.ID), notify.CodeNotFound)
	list, _, err := s.ListCampaigns(ctx, wsB, "", notify.Page{Limit: 10})
	must(t, "ListCampaigns", err)
	if len(list) != 0 {
		t.Errorf("ListCampaigns through another workspace = %v, want none", campaignIDs(list))
	}
	if got := listRuns(t, s, wsB, a.ID); len(got) != 0 {
		t.Errorf("ListRuns through another workspace = %d runs, want none", len(got))
	}
	inB := r
	inB.WorkspaceID, inB.Status, inB.Error, inB.FinishedAt = wsB, notify.RunFailed, "through B", ptr(minute(1))
	wantCode(t, "FinishRun through another workspace", s.FinishRun(ctx, inB), notify.CodeNotFound)

	if d := diff(stored, getCampaign(t, s, wsA, a.ID)); d != "" {
		t.Errorf("campaign of %s after writes through %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
	if d := diff(storedRuns, listRuns(t, s, wsA, a.ID)); d != "" {
		t.Errorf("runs of %s after writes through %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
}

func testStartRun(t *testing.T, s notify.Store) {
	var ids notify.IDs
	c := newCampaign(wsA, ids.New(now()), now())
	createCampaign(t, s, c)

	r := newRun(wsA, c.ID, minute(0))
	r.Attempts = 5 // the store's to set
	first, started := startRun(t, s, r)
	want := r
	want.Attempts = 1
	if !started {
		t.Errorf("first StartRun: started = false, want true")
	}
	if d := diff(want, first); d != "" {
		t.Errorf("first StartRun mismatch (-want +got):\n%s", d)
	}

	// A retry of a run that died: the stored run, one more attempt.
	retry := r
	retry.StartedAt = r.StartedAt.Add(time.Minute)
	second, started := startRun(t, s, retry)
	want.Attempts = 2
	if started {
		t.Errorf("StartRun of a running run: started = true, want false")
	}
	if d := diff(want, second); d != "" {
		t.Errorf("StartRun of a running run mismatch (-want +got):\n%s", d)
	}

	// A finished run is returned as it is.
	done := want
	done.Status, done.NotificationID, done.Recipients, done.FinishedAt = notify.RunSucceeded, "n-1", 1200, ptr(minute(2))
	must(t, "FinishRun", s.FinishRun(t.Context(), done))
	third, started := startRun(t, s, retry)
	if started {
		t.Errorf("StartRun of a finished run: started = true, want false")
	}
	if d := diff(done, third); d != "" {
		t.Errorf("StartRun of a finished run mismatch (-want +got):\n%s", d)
	}

	// The scheduled time is the key: a millisecond later is another run.
	next := newRun(wsA, c.ID, minute(0).Add(time.Millisecond))
	got, started := startRun(t, s, next)
	if !started || got.Attempts != 1 {
		t.Errorf("StartRun a millisecond later = attempts %d, %t; want 1, true", got.Attempts, started)
	}
	// And the same instant in another zone is the same run.
	same := newRun(wsA, c.ID, minute(0).In(time.FixedZone("CET", 3600)))
	if got, started := startRun(t, s, same); started || got.Status != notify.RunSucceeded {
		t.Errorf("StartRun of the same time in another zone = %s, %t; want %s, false", got.Status, started, notify.RunSucceeded)
	}

	// Another campaign's run of the same time is its own.
	other := newRun(wsA, ids.New(now()), minute(0))
	if got, started := startRun(t, s, other); !started || got.Attempts != 1 {
		t.Errorf("StartRun of another campaign at the same time = attempts %d, %t; want 1, true", got.Attempts, started)
	}

	// A run recorded finished from the start (skipped, missed) is stored as
	// it is given, and never counts a retry.
	skipped := newRun(wsA, c.ID, minute(5))
	skipped.Status, skipped.Error, skipped.FinishedAt = notify.RunSkipped, "the campaign is paused", ptr(skipped.StartedAt)
	got, started = startRun(t, s, skipped)
	wantSkipped := skipped
	wantSkipped.Attempts = 1
	if !started {
		t.Errorf("StartRun of a skipped run: started = false, want true")
	}
	if d := diff(wantSkipped, got); d != "" {
		t.Errorf("StartRun of a skipped run mismatch (-want +got):\n%s", d)
	}
	got, started = startRun(t, s, newRun(wsA, c.ID, minute(5)))
	if started {
		t.Errorf("StartRun over a skipped run: started = true, want false")
	}
	if d := diff(wantSkipped, got); d != "" {
		t.Errorf("StartRun over a skipped run mismatch (-want +got):\n%s", d)
	}

	wantRuns := []notify.CampaignRun{wantSkipped, next, done}
	wantRuns[1].Attempts = 1
	if d := diff(wantRuns, listRuns(t, s, wsA, c.ID)); d != "" {
		t.Errorf("ListRuns after StartRun mismatch (-want +got):\n%s", d)
	}
}

func testStartRunConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	c := newCampaign(wsA, ids.New(now()), now())
	createCampaign(t, s, c)
	r := newRun(wsA, c.ID, minute(0))

	const starters = 10
	type result struct {
		run     notify.CampaignRun
		started bool
		err     error
	}
	results := make(chan result, starters)
	var wg sync.WaitGroup
	for range starters {
		wg.Go(func() {
			got, started, err := s.StartRun(ctx, r)
			results <- result{got, started, err}
		})
	}
	wg.Wait()
	close(results)
	startedCount := 0
	var attempts []int
	for res := range results {
		must(t, "concurrent StartRun", res.err)
		if res.started {
			startedCount++
		}
		attempts = append(attempts, res.run.Attempts)
	}
	if startedCount != 1 {
		t.Errorf("%d concurrent StartRun of one scheduled time: %d started, want exactly 1", starters, startedCount)
	}
	// Each call after the first counted one attempt of a running run.
	slices.Sort(attempts)
	var wantAttempts []int
	for i := range starters {
		wantAttempts = append(wantAttempts, i+1)
	}
	if d := diff(wantAttempts, attempts); d != "" {
		t.Errorf("attempts returned by %d concurrent StartRun mismatch (-want +got):\n%s", starters, d)
	}
	want := r
	want.Attempts = starters
	if d := diff([]notify.CampaignRun{want}, listRuns(t, s, wsA, c.ID)); d != "" {
		t.Errorf("ListRuns after %d concurrent StartRun mismatch (-want +got):\n%s", starters, d)
	}
}

func testFinishRun(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	c := newCampaign(wsA, ids.New(now()), now())
	createCampaign(t, s, c)

	never := newRun(wsA, c.ID, minute(9))
	never.Status, never.FinishedAt = notify.RunMissed, ptr(minute(10))
	wantCode(t, "FinishRun of a run never started", s.FinishRun(ctx, never), notify.CodeNotFound)
	if got := listRuns(t, s, wsA, c.ID); len(got) != 0 {
		t.Errorf("ListRuns after FinishRun of a run never started = %d runs, want none", len(got))
	}

	r := newRun(wsA, c.ID, minute(0))
	startRun(t, s, r)
	startRun(t, s, r) // attempts 2

	// The outcome is stored; the attempts and the start stay the store's.
	failed := r
	failed.Status, failed.Error, failed.FinishedAt = notify.RunFailed, "template tpl-1 was deleted", ptr(minute(1))
	failed.Attempts, failed.StartedAt = 99, minute(30)
	must(t, "FinishRun(failed)", s.FinishRun(ctx, failed))
	want := r
	want.Status, want.Error, want.FinishedAt, want.Attempts = notify.RunFailed, "template tpl-1 was deleted", ptr(minute(1)), 2
	if d := diff([]notify.CampaignRun{want}, listRuns(t, s, wsA, c.ID)); d != "" {
		t.Errorf("ListRuns after FinishRun(failed) mismatch (-want +got):\n%s", d)
	}

	// Finished again, the run holds the last outcome only.
	succeeded := r
	succeeded.Status, succeeded.NotificationID, succeeded.Recipients, succeeded.FinishedAt = notify.RunSucceeded, "n-1", 1200, ptr(minute(2))
	must(t, "FinishRun(succeeded)", s.FinishRun(ctx, succeeded))
	want.Status, want.Error, want.NotificationID, want.Recipients, want.FinishedAt = notify.RunSucceeded, "", "n-1", 1200, ptr(minute(2))
	if d := diff([]notify.CampaignRun{want}, listRuns(t, s, wsA, c.ID)); d != "" {
		t.Errorf("ListRuns after FinishRun(succeeded) mismatch (-want +got):\n%s", d)
	}

	// The same time of another campaign was never started.
	elsewhere := succeeded
	elsewhere.CampaignID = ids.New(now())
	wantCode(t, "FinishRun of another campaign's time", s.FinishRun(ctx, elsewhere), notify.CodeNotFound)
}

func testListRuns(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	c := newCampaign(wsA, ids.New(now()), now())
	other := newCampaign(wsA, ids.New(now()), now())
	createCampaign(t, s, c)
	createCampaign(t, s, other)

	const total = notify.DefaultPageSize + 3
	var newestFirst []notify.CampaignRun
	// Started out of order (7 is prime to total, so 7i mod total visits
	// every minute once): the list is by scheduled time, not by start.
	for j := range total {
		i := j * 7 % total
		r := newRun(wsA, c.ID, minute(i))
		r.Attempts = 1
		if i%2 == 0 {
			r.Status, r.NotificationID, r.Recipients, r.FinishedAt = notify.RunSucceeded, fmt.Sprintf("n-%d", i), i*10, ptr(minute(i).Add(time.Minute))
		}
		startRun(t, s, newRun(wsA, c.ID, minute(i)))
		if i%2 == 0 {
			must(t, "FinishRun", s.FinishRun(ctx, r))
		}
		startRun(t, s, newRun(wsA, other.ID, minute(i).Add(time.Second)))
		newestFirst = append(newestFirst, r)
	}
	slices.SortFunc(newestFirst, func(a, b notify.CampaignRun) int { return b.ScheduledAt.Compare(a.ScheduledAt) })

	got, pages := collect(t, "ListRuns", 5, func(p notify.Page) ([]notify.CampaignRun, string, error) {
		return s.ListRuns(ctx, wsA, c.ID, p)
	})
	if pages < total/5 {
		t.Errorf("ListRuns of %d by 5 took %d pages, want at least %d", total, pages, total/5)
	}
	if d := diff(newestFirst, got); d != "" {
		t.Errorf("ListRuns paging mismatch (-want +got):\n%s", d)
	}

	wantDefaultPage(t, "ListRuns", func(p notify.Page) ([]notify.CampaignRun, string, error) {
		return s.ListRuns(ctx, wsA, c.ID, p)
	})

	empty, next, err := s.ListRuns(ctx, wsA, ids.New(now()), notify.Page{Limit: 10})
	must(t, "ListRuns of a campaign with none", err)
	if len(empty) != 0 || next != "" {
		t.Errorf("ListRuns of a campaign with none = %d runs, next %q; want none and no cursor", len(empty), next)
	}

	wantBadCursorRefused(t, s, "ListRuns", func(p notify.Page) ([]notify.CampaignRun, string, error) {
		return s.ListRuns(ctx, wsA, c.ID, p)
	})
}
