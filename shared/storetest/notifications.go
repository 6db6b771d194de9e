package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// newNotification is a queued push notification with every field set.
func newNotification(ws, id string, at time.Time) notify.Notification {
	content := newTemplate(ws, "tpl-1", at)
	return notify.Notification{
		WorkspaceID:     ws,
		ID:              id,
		Channel:         notify.ChannelPush,
		Fallback:        []notify.Channel{notify.ChannelSMS},
		Source:          notify.SourceList,
		Origin:          notify.OriginAPI,
		RecipientType:   "client",
		Title:           content.Title,
		Body:            content.Body,
		Route:           content.Route,
		TemplateID:      content.ID,
		TemplateVersion: content.Version,
		Variables:       map[string]string{"offer": "10%"},
		Category:        "energy_savings",
		Urgent:          true,
		IgnorePresence:  true,
		ScheduleAt:      ptr(at.Add(time.Hour)),
		Audience:        notify.Audience{Kind: "userIds", Count: 2},
		Status:          notify.StatusQueued,
		Counts:          notify.Counts{Total: 2, Queued: 2},
		CreatedAt:       at,
		UpdatedAt:       at,
		CreatedBy:       "key-1",
		Content:         content,
	}
}

func createNotification(t *testing.T, s notify.Store, n notify.Notification) {
	t.Helper()
	must(t, "CreateNotification "+n.ID, s.CreateNotification(t.Context(), n))
}

func notificationIDs(ns []notify.Notification) []string {
	ids := make([]string, 0, len(ns))
	for _, n := range ns {
		ids = append(ids, n.ID)
	}
	return ids
}

func testCreateNotification(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	n := newNotification(wsA, ids.New(t0), t0)
	createNotification(t, s, n)
	got, err := s.GetNotification(ctx, wsA, n.ID)
	must(t, "GetNotification", err)
	if d := diff(n, got); d != "" {
		t.Errorf("GetNotification mismatch (-want +got):\n%s", d)
	}

	// Inline content: no template, no extras, no origin (a notification
	// older than origins); from a spreadsheet upload.
	inline := notify.Notification{
		WorkspaceID: wsA, ID: ids.New(t0), Channel: notify.ChannelSMS, Source: notify.SourceSpreadsheet,
		Body: "Tu código es {{code}}", Route: "home", Status: notify.StatusQueued,
		Audience: notify.Audience{Kind: "upload", Count: 1, UploadID: "01UPLOAD"}, CreatedAt: t0, UpdatedAt: t0, CreatedBy: "key-1",
		Content: notify.Template{WorkspaceID: wsA, Channel: notify.ChannelSMS, Body: "Tu código es {{code}}", Variables: []string{"code"}},
	}
	createNotification(t, s, inline)
	got, err = s.GetNotification(ctx, wsA, inline.ID)
	must(t, "GetNotification", err)
	if d := diff(inline, got); d != "" {
		t.Errorf("GetNotification(inline) mismatch (-want +got):\n%s", d)
	}

	dup := n
	dup.Body = "another body"
	wantCode(t, "CreateNotification of an existing id", s.CreateNotification(ctx, dup), notify.CodeConflict)
	list, _, err := s.ListNotifications(ctx, wsA, notify.NotificationQuery{Q: "another"}, notify.Page{Limit: 10})
	must(t, "ListNotifications", err)
	if len(list) != 0 {
		t.Errorf("a conflicting CreateNotification was indexed: search found %v", notificationIDs(list))
	}
	got, err = s.GetNotification(ctx, wsA, n.ID)
	must(t, "GetNotification", err)
	if got.Body != n.Body {
		t.Errorf("Body after a conflicting create = %q, want %q", got.Body, n.Body)
	}

	_, err = s.GetNotification(ctx, wsA, "missing")
	wantCode(t, "GetNotification of a missing id", err, notify.CodeNotFound)
}

func testListNotificationsFilters(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	fixture := []struct {
		channel       notify.Channel
		recipientType string
		source        notify.Source
		origin        notify.Origin // the first has none: it is older than origins
		status        notify.Status
		title, body   string
	}{
		{notify.ChannelPush, "client", notify.SourceSingle, "", notify.StatusCompleted, "Oferta", "Ahorra energía hoy"},
		{notify.ChannelSMS, "newsletter", notify.SourceList, notify.OriginAPI, notify.StatusCompleted, "", "Tu factura está lista"},
		{notify.ChannelEmail, "client", notify.SourceFilter, notify.OriginConsole, notify.StatusSending, "Energía solar", "Instala paneles en tu tejado"},
		{notify.ChannelWhatsApp, "client", notify.SourceSpreadsheet, notify.OriginAPI, notify.StatusQueued, "", "Hola {{name}}, ahorra con solar"},
		{notify.ChannelPush, "newsletter", notify.SourceCampaign, notify.OriginCampaign, notify.StatusCancelled, "Tarifa", "Nueva tarifa de ENERGÍA verde"},
		{notify.ChannelWebPush, "client", notify.SourceCampaign, notify.OriginCampaign, notify.StatusFailed, "Aviso", "Corte programado mañana"},
	}
	var ns []notify.Notification
	for i, f := range fixture {
		at := minute(i)
		n := newNotification(wsA, ids.New(at), at)
		n.Channel, n.RecipientType, n.Source, n.Origin, n.Status, n.Title, n.Body = f.channel, f.recipientType, f.source, f.origin, f.status, f.title, f.body
		createNotification(t, s, n)
		ns = append(ns, n)
	}
	// Another workspace's notification matches most queries and must never show.
	other := newNotification(wsB, ids.New(minute(2)), minute(2))
	other.Body = "Ahorra energía solar hoy"
	createNotification(t, s, other)

	pick := func(idx ...int) []notify.Notification {
		var out []notify.Notification
		for _, i := range idx {
			out = append(out, ns[i])
		}
		return out
	}
	tests := []struct {
		name  string
		query notify.NotificationQuery
		want  []notify.Notification
	}{
		{"all, newest first", notify.NotificationQuery{}, pick(5, 4, 3, 2, 1, 0)},
		{"word, case and accents ignored", notify.NotificationQuery{Q: "ENERGIA"}, pick(4, 2, 0)},
		{"word with accent", notify.NotificationQuery{Q: "energía"}, pick(4, 2, 0)},
		{"word in title", notify.NotificationQuery{Q: "aviso"}, pick(5)},
		{"every word must appear", notify.NotificationQuery{Q: "energia solar"}, pick(2)},
		{"words in any order and punctuation", notify.NotificationQuery{Q: "  Solar, ENERGÍA! "}, pick(2)},
		{"variable name is a word", notify.NotificationQuery{Q: "name"}, pick(3)},
		{"word not found", notify.NotificationQuery{Q: "hipoteca"}, nil},
		{"one word found, the other not", notify.NotificationQuery{Q: "energia hipoteca"}, nil},
		{"channel", notify.NotificationQuery{Channel: notify.ChannelPush}, pick(4, 0)},
		{"recipient type", notify.NotificationQuery{RecipientType: "newsletter"}, pick(4, 1)},
		{"source", notify.NotificationQuery{Source: notify.SourceCampaign}, pick(5, 4)},
		{"origin api", notify.NotificationQuery{Origin: notify.OriginAPI}, pick(3, 1)},
		{"origin console", notify.NotificationQuery{Origin: notify.OriginConsole}, pick(2)},
		{"origin campaign", notify.NotificationQuery{Origin: notify.OriginCampaign}, pick(5, 4)},
		{"word and origin", notify.NotificationQuery{Q: "energia", Origin: notify.OriginConsole}, pick(2)},
		{"origin and source", notify.NotificationQuery{Origin: notify.OriginAPI, Source: notify.SourceSpreadsheet}, pick(3)},
		{"status", notify.NotificationQuery{Status: notify.StatusCompleted}, pick(1, 0)},
		{"from inclusive, to exclusive", notify.NotificationQuery{From: minute(2), To: minute(5)}, pick(4, 3, 2)},
		{"from only", notify.NotificationQuery{From: minute(4)}, pick(5, 4)},
		{"to only", notify.NotificationQuery{To: minute(1)}, pick(0)},
		{"word and channel", notify.NotificationQuery{Q: "energia", Channel: notify.ChannelPush}, pick(4, 0)},
		{"word and dates", notify.NotificationQuery{Q: "energia", From: minute(1), To: minute(4)}, pick(2)},
		{"word and status", notify.NotificationQuery{Q: "solar", Status: notify.StatusQueued}, pick(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := collect(t, "ListNotifications", 2, func(p notify.Page) ([]notify.Notification, string, error) {
				return s.ListNotifications(ctx, wsA, tt.query, p)
			})
			if d := diff(notificationIDs(tt.want), notificationIDs(got)); d != "" {
				t.Errorf("ListNotifications(%+v) ids mismatch (-want +got):\n%s", tt.query, d)
			}
			if d := diff(tt.want, got); d != "" {
				t.Errorf("ListNotifications(%+v) mismatch (-want +got):\n%s", tt.query, d)
			}
		})
	}
}

func testListNotificationsPaging(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	const total = 23
	var newestFirst []string
	var promo []string // newest first
	for i := range total {
		at := minute(i)
		n := newNotification(wsA, ids.New(at), at)
		n.Title = fmt.Sprintf("Aviso %d", i)
		if i%2 == 0 {
			n.Body = "Promo de verano"
		} else {
			n.Body = "Recordatorio"
		}
		createNotification(t, s, n)
		newestFirst = append([]string{n.ID}, newestFirst...)
		if i%2 == 0 {
			promo = append([]string{n.ID}, promo...)
		}
	}

	got, pages := collect(t, "ListNotifications", 5, func(p notify.Page) ([]notify.Notification, string, error) {
		return s.ListNotifications(ctx, wsA, notify.NotificationQuery{}, p)
	})
	if pages < 5 {
		t.Errorf("ListNotifications of %d by 5 took %d pages, want at least 5", total, pages)
	}
	if d := diff(newestFirst, notificationIDs(got)); d != "" {
		t.Errorf("ListNotifications paging ids mismatch (-want +got):\n%s", d)
	}

	got, pages = collect(t, "ListNotifications(promo)", 4, func(p notify.Page) ([]notify.Notification, string, error) {
		return s.ListNotifications(ctx, wsA, notify.NotificationQuery{Q: "promo"}, p)
	})
	if pages < 3 {
		t.Errorf("ListNotifications(promo) of %d by 4 took %d pages, want at least 3", len(promo), pages)
	}
	if d := diff(promo, notificationIDs(got)); d != "" {
		t.Errorf("ListNotifications(promo) paging ids mismatch (-want +got):\n%s", d)
	}

	// The index knows words, not status: a status set later still filters.
	var completed []string
	for i, id := range promo {
		if i%3 != 0 {
			continue
		}
		_, err := s.SetNotificationStatus(ctx, wsA, id, notify.StatusCompleted)
		must(t, "SetNotificationStatus", err)
		completed = append(completed, id)
	}
	got, _ = collect(t, "ListNotifications(promo, completed)", 2, func(p notify.Page) ([]notify.Notification, string, error) {
		return s.ListNotifications(ctx, wsA, notify.NotificationQuery{Q: "PROMO", Status: notify.StatusCompleted}, p)
	})
	if d := diff(completed, notificationIDs(got)); d != "" {
		t.Errorf("ListNotifications(promo, completed) ids mismatch (-want +got):\n%s", d)
	}
	for _, n := range got {
		if n.Status != notify.StatusCompleted {
			t.Errorf("ListNotifications(promo, completed): %s has status %s", n.ID, n.Status)
		}
	}
}

func testSetNotificationStatus(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	n := newNotification(wsA, ids.New(t0), t0)
	createNotification(t, s, n)

	got, err := s.SetNotificationStatus(ctx, wsA, n.ID, notify.StatusSending, notify.StatusQueued)
	must(t, "SetNotificationStatus queued→sending", err)
	want := n
	want.Status = notify.StatusSending
	if d := diff(want, got, ignoreNotificationStamp); d != "" {
		t.Errorf("SetNotificationStatus mismatch (-want +got):\n%s", d)
	}

	_, err = s.SetNotificationStatus(ctx, wsA, n.ID, notify.StatusCancelled, notify.StatusQueued, notify.StatusCompleted)
	wantCode(t, "SetNotificationStatus from a status it is not in", err, notify.CodeConflict)
	stored, err := s.GetNotification(ctx, wsA, n.ID)
	must(t, "GetNotification", err)
	if stored.Status != notify.StatusSending {
		t.Errorf("Status after a conflicting SetNotificationStatus = %s, want %s", stored.Status, notify.StatusSending)
	}

	got, err = s.SetNotificationStatus(ctx, wsA, n.ID, notify.StatusCompleted, notify.StatusQueued, notify.StatusSending)
	must(t, "SetNotificationStatus sending→completed", err)
	if got.Status != notify.StatusCompleted {
		t.Errorf("SetNotificationStatus returned status %s, want %s", got.Status, notify.StatusCompleted)
	}
	got, err = s.SetNotificationStatus(ctx, wsA, n.ID, notify.StatusFailed)
	must(t, "SetNotificationStatus from any", err)
	want.Status = notify.StatusFailed
	if d := diff(want, got, ignoreNotificationStamp); d != "" {
		t.Errorf("SetNotificationStatus from any mismatch (-want +got):\n%s", d)
	}
	stored, err = s.GetNotification(ctx, wsA, n.ID)
	must(t, "GetNotification", err)
	if d := diff(got, stored); d != "" {
		t.Errorf("GetNotification after SetNotificationStatus mismatch (-want +got):\n%s", d)
	}

	_, err = s.SetNotificationStatus(ctx, wsA, "missing", notify.StatusCancelled)
	wantCode(t, "SetNotificationStatus of a missing id", err, notify.CodeNotFound)
}

func testAddNotificationCounts(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	n := newNotification(wsA, ids.New(t0), t0)
	n.Counts = notify.Counts{Total: 100, Queued: 100}
	createNotification(t, s, n)

	got, err := s.AddNotificationCounts(ctx, wsA, n.ID, notify.Counts{Queued: -3, Sent: 2, Skipped: 1})
	must(t, "AddNotificationCounts", err)
	want := n
	want.Counts = notify.Counts{Total: 100, Queued: 97, Sent: 2, Skipped: 1}
	if d := diff(want, got, ignoreNotificationStamp); d != "" {
		t.Errorf("AddNotificationCounts mismatch (-want +got):\n%s", d)
	}

	const writers, adds = 10, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*adds)
	for range writers {
		wg.Go(func() {
			for range adds {
				_, err := s.AddNotificationCounts(ctx, wsA, n.ID, notify.Counts{Queued: -2, Delivered: 1, Failed: 1})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "concurrent AddNotificationCounts", err)
	}
	stored, err := s.GetNotification(ctx, wsA, n.ID)
	must(t, "GetNotification", err)
	wantCounts := notify.Counts{Total: 100, Queued: 97 - 2*writers*adds, Sent: 2, Delivered: writers * adds, Failed: writers * adds, Skipped: 1}
	if d := diff(wantCounts, stored.Counts); d != "" {
		t.Errorf("Counts after %d concurrent AddNotificationCounts mismatch (-want +got):\n%s", writers*adds, d)
	}

	_, err = s.AddNotificationCounts(ctx, wsA, "missing", notify.Counts{Sent: 1})
	wantCode(t, "AddNotificationCounts of a missing id", err, notify.CodeNotFound)
}

func testNotificationsIsolation(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	a := newNotification(wsA, ids.New(t0), t0)
	createNotification(t, s, a)

	_, err := s.GetNotification(ctx, wsB, a.ID)
	wantCode(t, "GetNotification through another workspace", err, notify.CodeNotFound)
	for _, q := range []notify.NotificationQuery{{}, {Q: "energia"}} {
		list, _, err := s.ListNotifications(ctx, wsB, q, notify.Page{Limit: 10})
		must(t, "ListNotifications", err)
		if len(list) != 0 {
			t.Errorf("ListNotifications(%+v) through another workspace = %v, want none", q, notificationIDs(list))
		}
	}
	_, err = s.SetNotificationStatus(ctx, wsB, a.ID, notify.StatusCancelled)
	wantCode(t, "SetNotificationStatus through another workspace", err, notify.CodeNotFound)
	_, err = s.AddNotificationCounts(ctx, wsB, a.ID, notify.Counts{Failed: 5})
	wantCode(t, "AddNotificationCounts through another workspace", err, notify.CodeNotFound)

	got, err := s.GetNotification(ctx, wsA, a.ID)
	must(t, "GetNotification", err)
	if d := diff(a, got); d != "" {
		t.Errorf("notification of %s after writes through %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
}

func testApplyCounts(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	n := newNotification(wsA, ids.New(t0), t0)
	n.Counts = notify.Counts{Total: 300, Queued: 300}
	createNotification(t, s, n)
	part := func(marker string, sent, failed int64) notify.CountPart {
		return notify.CountPart{Marker: marker, Delta: notify.Counts{Queued: -(sent + failed), Sent: sent, Failed: failed}}
	}
	got, err := s.ApplyCounts(ctx, wsA, n.ID, []notify.CountPart{part("c0", 90, 10), part("c1", 100, 0)})
	must(t, "ApplyCounts", err)
	if d := diff(notify.Counts{Total: 300, Queued: 100, Sent: 190, Failed: 10}, got.Counts); d != "" {
		t.Errorf("ApplyCounts counts mismatch (-want +got):\n%s", d)
	}
	// A retried batch: c1 again with c2, then everything again. Each part counts once.
	_, err = s.ApplyCounts(ctx, wsA, n.ID, []notify.CountPart{part("c1", 100, 0), part("c2", 99, 1)})
	must(t, "ApplyCounts(retry)", err)
	got, err = s.ApplyCounts(ctx, wsA, n.ID, []notify.CountPart{part("c0", 90, 10), part("c1", 100, 0), part("c2", 99, 1)})
	must(t, "ApplyCounts(all again)", err)
	if d := diff(notify.Counts{Total: 300, Sent: 289, Failed: 11}, got.Counts); d != "" {
		t.Errorf("ApplyCounts after retries mismatch (-want +got):\n%s", d)
	}
	// Progress shows in updatedAt (the history shows when a send last moved).
	if got.UpdatedAt.Before(n.UpdatedAt) {
		t.Errorf("ApplyCounts updatedAt = %v, before the creation %v", got.UpdatedAt, n.UpdatedAt)
	}
	later := time.Now()
	time.Sleep(2 * time.Millisecond)
	st, err := s.SetNotificationStatus(ctx, wsA, n.ID, notify.StatusCompleted)
	must(t, "SetNotificationStatus", err)
	if !st.UpdatedAt.After(later) {
		t.Errorf("SetNotificationStatus updatedAt = %v, want after %v", st.UpdatedAt, later)
	}
	// Concurrent parts for distinct markers all count.
	m := newNotification(wsA, ids.New(t0), t0)
	m.Counts = notify.Counts{Total: 40, Queued: 40}
	createNotification(t, s, m)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() {
			_, errs[i] = s.ApplyCounts(ctx, wsA, m.ID, []notify.CountPart{part(fmt.Sprintf("k%d", i), 2, 0), part(fmt.Sprintf("k%d", i), 2, 0)})
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, "concurrent ApplyCounts", err)
	}
	got, err = s.GetNotification(ctx, wsA, m.ID)
	must(t, "GetNotification", err)
	if d := diff(notify.Counts{Total: 40, Sent: 40}, got.Counts); d != "" {
		t.Errorf("concurrent ApplyCounts mismatch (-want +got):\n%s", d)
	}
	// Markers belong to one notification of one workspace.
	_, err = s.ApplyCounts(ctx, wsB, n.ID, []notify.CountPart{part("c9", 1, 0)})
	wantCode(t, "ApplyCounts(other workspace)", err, notify.CodeNotFound)
}
