package storetest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

func newDelivery(ws, notificationID, key string, status notify.DeliveryStatus, at time.Time) notify.Delivery {
	return notify.Delivery{
		WorkspaceID: ws, NotificationID: notificationID, Key: key, UserID: key,
		Address: "device:" + key, Channel: notify.ChannelPush, Status: status, Chunk: notificationID + ":0",
		CreatedAt: at, UpdatedAt: at,
	}
}

func deliveryKeys(ds []notify.Delivery) []string {
	keys := make([]string, 0, len(ds))
	for _, d := range ds {
		keys = append(keys, d.Key)
	}
	sort.Strings(keys)
	return keys
}

func testRecordDeliveries(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	first := []notify.Delivery{
		newDelivery(wsA, "n-1", "cust-1", notify.DeliverySent, t0),
		{
			WorkspaceID: wsA, NotificationID: "n-1", Key: "addr#+34600000002", Address: "+34600000002",
			Channel: notify.ChannelSMS, Status: notify.DeliveryFailed, Reason: notify.ReasonProviderError, Encoding: "UCS-2", Segments: 3,
			ProviderMessageID: "msg-2", CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
		},
		newDelivery(wsA, "n-1", "cust-3", notify.DeliverySkipped, t0),
	}
	first[2].Reason = notify.ReasonNoDevice
	created, err := s.RecordDeliveries(ctx, first)
	must(t, "RecordDeliveries", err)
	if d := diff([]bool{true, true, true}, created); d != "" {
		t.Errorf("RecordDeliveries(new) created mismatch (-want +got):\n%s", d)
	}

	// Again, with one new key and the old ones changed: only the new one is stored.
	second := []notify.Delivery{
		newDelivery(wsA, "n-1", "cust-3", notify.DeliveryDelivered, t0.Add(time.Minute)),
		newDelivery(wsA, "n-1", "cust-4", notify.DeliveryQueued, t0),
		newDelivery(wsA, "n-1", "cust-1", notify.DeliveryRead, t0.Add(time.Minute)),
	}
	created, err = s.RecordDeliveries(ctx, second)
	must(t, "RecordDeliveries", err)
	if d := diff([]bool{false, true, false}, created); d != "" {
		t.Errorf("RecordDeliveries(again) created mismatch (-want +got):\n%s", d)
	}

	got, err := s.GetDeliveries(ctx, wsA, "n-1", []string{"cust-1", "addr#+34600000002", "cust-3", "cust-4", "cust-missing"})
	must(t, "GetDeliveries", err)
	want := map[string]notify.Delivery{
		"cust-1": first[0], "addr#+34600000002": first[1], "cust-3": first[2], "cust-4": second[1],
	}
	if d := diff(want, got); d != "" {
		t.Errorf("GetDeliveries mismatch (-want +got):\n%s", d)
	}

	// The same key in another notification is another delivery.
	created, err = s.RecordDeliveries(ctx, []notify.Delivery{newDelivery(wsA, "n-2", "cust-1", notify.DeliveryQueued, t0)})
	must(t, "RecordDeliveries", err)
	if d := diff([]bool{true}, created); d != "" {
		t.Errorf("RecordDeliveries(other notification) created mismatch (-want +got):\n%s", d)
	}

	got, err = s.GetDeliveries(ctx, wsA, "n-missing", []string{"cust-1"})
	must(t, "GetDeliveries", err)
	if len(got) != 0 {
		t.Errorf("GetDeliveries of a missing notification = %d deliveries, want 0", len(got))
	}
	created, err = s.RecordDeliveries(ctx, nil)
	must(t, "RecordDeliveries(nil)", err)
	if len(created) != 0 {
		t.Errorf("RecordDeliveries(nil) = %v, want no flags", created)
	}
}

func testRecordDeliveriesConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	// Four writers record overlapping halves of 60 keys: each key is created once.
	const writers, keys = 4, 60
	var wg sync.WaitGroup
	createdBy := make([][]bool, writers)
	batches := make([][]notify.Delivery, writers)
	errs := make([]error, writers)
	for w := range writers {
		for i := range keys / 2 {
			k := (w*keys/4 + i) % keys
			batches[w] = append(batches[w], newDelivery(wsA, "n-1", fmt.Sprintf("cust-%02d", k), notify.DeliverySent, t0))
		}
		wg.Go(func() {
			createdBy[w], errs[w] = s.RecordDeliveries(ctx, batches[w])
		})
	}
	wg.Wait()
	count := map[string]int{}
	for w := range writers {
		must(t, "concurrent RecordDeliveries", errs[w])
		if len(createdBy[w]) != len(batches[w]) {
			t.Fatalf("RecordDeliveries returned %d flags for %d deliveries", len(createdBy[w]), len(batches[w]))
		}
		for i, c := range createdBy[w] {
			if c {
				count[batches[w][i].Key]++
			}
		}
	}
	for i := range keys {
		if k := fmt.Sprintf("cust-%02d", i); count[k] != 1 {
			t.Errorf("key %s created %d times by concurrent RecordDeliveries, want once", k, count[k])
		}
	}
}

func testListDeliveries(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	const total = 250
	statuses := []notify.DeliveryStatus{notify.DeliverySent, notify.DeliverySent, notify.DeliveryDelivered, notify.DeliveryFailed, notify.DeliverySkipped}
	var ds []notify.Delivery
	want := map[string]notify.Delivery{}
	wantByStatus := map[notify.DeliveryStatus][]string{}
	for i := range total {
		d := newDelivery(wsA, "n-1", fmt.Sprintf("cust-%04d", i), statuses[i%len(statuses)], t0)
		ds = append(ds, d)
		want[d.Key] = d
		wantByStatus[d.Status] = append(wantByStatus[d.Status], d.Key)
	}
	created, err := s.RecordDeliveries(ctx, ds)
	must(t, "RecordDeliveries", err)
	for i, c := range created {
		if !c {
			t.Fatalf("RecordDeliveries: delivery %d not created", i)
		}
	}
	_, err = s.RecordDeliveries(ctx, []notify.Delivery{newDelivery(wsA, "n-2", "cust-0000", notify.DeliverySent, t0)})
	must(t, "RecordDeliveries", err)

	got, pages := collect(t, "ListDeliveries", 40, func(p notify.Page) ([]notify.Delivery, string, error) {
		return s.ListDeliveries(ctx, wsA, "n-1", "", p)
	})
	if pages < 7 {
		t.Errorf("ListDeliveries of %d by 40 took %d pages, want at least 7", total, pages)
	}
	seen := map[string]notify.Delivery{}
	for _, d := range got {
		if _, dup := seen[d.Key]; dup {
			t.Errorf("ListDeliveries returned %s twice", d.Key)
		}
		seen[d.Key] = d
	}
	if d := diff(want, seen); d != "" {
		t.Errorf("ListDeliveries paging mismatch (-want +got):\n%s", d)
	}

	for _, status := range []notify.DeliveryStatus{notify.DeliverySent, notify.DeliveryFailed, notify.DeliveryRead} {
		got, _ := collect(t, "ListDeliveries("+string(status)+")", 30, func(p notify.Page) ([]notify.Delivery, string, error) {
			return s.ListDeliveries(ctx, wsA, "n-1", status, p)
		})
		if d := diff(wantByStatus[status], deliveryKeys(got)); d != "" {
			t.Errorf("ListDeliveries(%s) keys mismatch (-want +got):\n%s", status, d)
		}
	}

	page, next, err := s.ListDeliveries(ctx, wsA, "n-1", "", notify.Page{})
	must(t, "ListDeliveries with no limit", err)
	if len(page) != notify.DefaultPageSize || next == "" {
		t.Errorf("ListDeliveries with no limit = %d items, next %q; want %d and a next cursor", len(page), next, notify.DefaultPageSize)
	}

	page, _, err = s.ListDeliveries(ctx, wsA, "n-missing", "", notify.Page{Limit: 10})
	if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("ListDeliveries of a missing notification: err = %v, want none or not_found", err)
	}
	if len(page) != 0 {
		t.Errorf("ListDeliveries of a missing notification = %d items, want 0", len(page))
	}
}

func testDeliveriesIsolation(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	a := newDelivery(wsA, "n-1", "cust-1", notify.DeliverySent, t0)
	_, err := s.RecordDeliveries(ctx, []notify.Delivery{a})
	must(t, "RecordDeliveries", err)

	got, err := s.GetDeliveries(ctx, wsB, "n-1", []string{"cust-1"})
	must(t, "GetDeliveries", err)
	if len(got) != 0 {
		t.Errorf("GetDeliveries through another workspace = %d deliveries, want 0", len(got))
	}
	list, _, err := s.ListDeliveries(ctx, wsB, "n-1", "", notify.Page{Limit: 10})
	if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("ListDeliveries through another workspace: err = %v, want none or not_found", err)
	}
	if len(list) != 0 {
		t.Errorf("ListDeliveries through another workspace = %d deliveries, want 0", len(list))
	}

	// The same notification id and key in another workspace is another delivery.
	b := newDelivery(wsB, "n-1", "cust-1", notify.DeliveryFailed, t0.Add(time.Minute))
	created, err := s.RecordDeliveries(ctx, []notify.Delivery{b})
	must(t, "RecordDeliveries", err)
	if d := diff([]bool{true}, created); d != "" {
		t.Errorf("RecordDeliveries in another workspace created mismatch (-want +got):\n%s", d)
	}
	got, err = s.GetDeliveries(ctx, wsA, "n-1", []string{"cust-1"})
	must(t, "GetDeliveries", err)
	if d := diff(map[string]notify.Delivery{"cust-1": a}, got); d != "" {
		t.Errorf("delivery of %s after a write through %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
}

// sentNotification stores a notification whose n deliveries are all sent.
func sentNotification(t *testing.T, s notify.Store, ws string, n int) notify.Notification {
	t.Helper()
	var ids notify.IDs
	t0 := now()
	nt := newNotification(ws, ids.New(t0), t0)
	nt.Counts = notify.Counts{Total: int64(n), Sent: int64(n)}
	createNotification(t, s, nt)
	var ds []notify.Delivery
	for i := range n {
		ds = append(ds, newDelivery(ws, nt.ID, fmt.Sprintf("cust-%d", i), notify.DeliverySent, t0))
	}
	_, err := s.RecordDeliveries(t.Context(), ds)
	must(t, "RecordDeliveries", err)
	return nt
}

func testUpdateDeliveryStatus(t *testing.T, s notify.Store) {
	ctx := t.Context()
	nt := sentNotification(t, s, wsA, 3)
	at := now().Add(time.Minute)
	steps := []struct {
		key     string
		status  notify.DeliveryStatus
		reason  string
		changed bool
	}{
		{"cust-0", notify.DeliveryDelivered, "", true},
		{"cust-0", notify.DeliveryRead, "", true},
		{"cust-0", notify.DeliveryDelivered, "", false}, // late: never overwrites read
		{"cust-0", notify.DeliveryRead, "", false},      // duplicate
		{"cust-1", notify.DeliveryRead, "", true},       // read before delivered arrives
		{"cust-1", notify.DeliveryDelivered, "", false},
		{"cust-2", notify.DeliveryFailed, "131026", true},
		{"cust-2", notify.DeliveryDelivered, "", false}, // failed and delivered do not replace each other
	}
	for _, st := range steps {
		changed, err := s.UpdateDeliveryStatus(ctx, notify.DeliveryUpdate{WorkspaceID: wsA, NotificationID: nt.ID, Key: st.key, Status: st.status, Reason: st.reason, At: at})
		must(t, "UpdateDeliveryStatus", err)
		if changed != st.changed {
			t.Errorf("UpdateDeliveryStatus(%s → %s) changed = %v, want %v", st.key, st.status, changed, st.changed)
		}
	}
	got, err := s.GetDeliveries(ctx, wsA, nt.ID, []string{"cust-0", "cust-1", "cust-2"})
	must(t, "GetDeliveries", err)
	want := map[string]string{"cust-0": "read/", "cust-1": "read/", "cust-2": "failed/131026"}
	for k, w := range want {
		if g := string(got[k].Status) + "/" + got[k].Reason; g != w {
			t.Errorf("delivery %s = %s, want %s", k, g, w)
		}
		if !got[k].UpdatedAt.Equal(at) {
			t.Errorf("delivery %s updatedAt = %v, want %v", k, got[k].UpdatedAt, at)
		}
	}
	n, err := s.GetNotification(ctx, wsA, nt.ID)
	must(t, "GetNotification", err)
	if d := diff(notify.Counts{Total: 3, Read: 2, Failed: 1}, n.Counts); d != "" {
		t.Errorf("counts after the updates (-want +got):\n%s", d)
	}
	_, err = s.UpdateDeliveryStatus(ctx, notify.DeliveryUpdate{WorkspaceID: wsA, NotificationID: nt.ID, Key: "nobody", Status: notify.DeliveryRead, At: at})
	wantCode(t, "UpdateDeliveryStatus(missing)", err, notify.CodeNotFound)
	_, err = s.UpdateDeliveryStatus(ctx, notify.DeliveryUpdate{WorkspaceID: wsB, NotificationID: nt.ID, Key: "cust-0", Status: notify.DeliveryRead, At: at})
	wantCode(t, "UpdateDeliveryStatus(other workspace)", err, notify.CodeNotFound)
}

// testUpdateDeliveryStatusConcurrent: delivered and read racing for the
// same deliveries end at read, with the counts equal to the deliveries.
func testUpdateDeliveryStatusConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	const n = 8
	nt := sentNotification(t, s, wsA, n)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		for _, st := range []notify.DeliveryStatus{notify.DeliveryDelivered, notify.DeliveryRead} {
			wg.Go(func() {
				_, err := s.UpdateDeliveryStatus(ctx, notify.DeliveryUpdate{WorkspaceID: wsA, NotificationID: nt.ID, Key: fmt.Sprintf("cust-%d", i), Status: st, At: now()})
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "concurrent UpdateDeliveryStatus", err)
	}
	got, err := s.GetNotification(ctx, wsA, nt.ID)
	must(t, "GetNotification", err)
	if d := diff(notify.Counts{Total: n, Read: n}, got.Counts); d != "" {
		t.Errorf("counts after racing updates (-want +got):\n%s", d)
	}
}

// testFindDeliveryByMessageID: an SMS recorded with its provider's message
// id is found by it from any workspace; other channels, other ids and ids
// of another channel are not.
func testFindDeliveryByMessageID(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	sms := func(ws, nid, key, msg string) notify.Delivery {
		return notify.Delivery{WorkspaceID: ws, NotificationID: nid, Key: key, UserID: key, Channel: notify.ChannelSMS,
			Status: notify.DeliverySent, ProviderMessageID: msg, Chunk: nid + ":0", CreatedAt: t0, UpdatedAt: t0}
	}
	push := newDelivery(wsA, "n-1", "cust-9", notify.DeliverySent, t0)
	push.ProviderMessageID = "push-msg"
	_, err := s.RecordDeliveries(ctx, []notify.Delivery{
		sms(wsA, "n-1", "cust-1", "8a1c0f7e-0000-5000-8000-000000000001"),
		sms(wsB, "n-2", "addr#+34600000002", "8a1c0f7e-0000-5000-8000-000000000002"),
		sms(wsA, "n-1", "cust-3", ""), // failed before the provider answered
		push,
	})
	must(t, "RecordDeliveries", err)

	for _, tc := range []struct {
		msg  string
		want notify.DeliveryRef
	}{
		{"8a1c0f7e-0000-5000-8000-000000000001", notify.DeliveryRef{WorkspaceID: wsA, NotificationID: "n-1", Key: "cust-1"}},
		{"8a1c0f7e-0000-5000-8000-000000000002", notify.DeliveryRef{WorkspaceID: wsB, NotificationID: "n-2", Key: "addr#+34600000002"}},
	} {
		got, err := s.FindDeliveryByMessageID(ctx, notify.ChannelSMS, tc.msg)
		must(t, "FindDeliveryByMessageID", err)
		if d := diff(tc.want, got); d != "" {
			t.Errorf("FindDeliveryByMessageID(%s) mismatch (-want +got):\n%s", tc.msg, d)
		}
	}
	for _, tc := range []struct {
		ch  notify.Channel
		msg string
	}{
		{notify.ChannelSMS, "8a1c0f7e-0000-5000-8000-00000000000f"},
		{notify.ChannelSMS, ""},
		{notify.ChannelPush, "push-msg"}, // push is not tracked by message id
		{notify.ChannelPush, "8a1c0f7e-0000-5000-8000-000000000001"},
		{notify.ChannelSMS, strings.Repeat("x", 3000)},
	} {
		_, err := s.FindDeliveryByMessageID(ctx, tc.ch, tc.msg)
		wantCode(t, fmt.Sprintf("FindDeliveryByMessageID(%s, %.20s)", tc.ch, tc.msg), err, notify.CodeNotFound)
	}
}

// testRecordAnswer: the latest answer by time is kept on the delivery,
// whatever order the answers arrive in, and the status does not move.
func testRecordAnswer(t *testing.T, s notify.Store) {
	ctx := t.Context()
	nt := sentNotification(t, s, wsA, 1)
	t0 := now().Add(time.Minute)
	ref := notify.DeliveryRef{WorkspaceID: wsA, NotificationID: nt.ID, Key: "cust-0"}
	steps := []struct {
		answer  string
		at      time.Time
		changed bool
	}{
		{"accept", t0, true},
		{"accept", t0, false},                       // the same press again
		{"decline", t0.Add(time.Minute), true},      // changed their mind
		{"accept", t0.Add(30 * time.Second), false}, // an older press arriving late
	}
	for _, st := range steps {
		changed, err := s.RecordAnswer(ctx, notify.DeliveryAnswer{DeliveryRef: ref, Answer: st.answer, At: st.at})
		must(t, "RecordAnswer", err)
		if changed != st.changed {
			t.Errorf("RecordAnswer(%s at %v) changed = %v, want %v", st.answer, st.at, changed, st.changed)
		}
	}
	got, err := s.GetDeliveries(ctx, wsA, nt.ID, []string{"cust-0"})
	must(t, "GetDeliveries", err)
	d := got["cust-0"]
	if d.Answer != "decline" || d.AnsweredAt == nil || !d.AnsweredAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("delivery answer = %q at %v, want decline at %v", d.Answer, d.AnsweredAt, t0.Add(time.Minute))
	}
	if d.Status != notify.DeliverySent {
		t.Errorf("delivery status = %s after answers, want sent (RecordAnswer does not move it)", d.Status)
	}
	list, _, err := s.ListDeliveries(ctx, wsA, nt.ID, "", notify.Page{Limit: 10})
	must(t, "ListDeliveries", err)
	if len(list) != 1 || list[0].Answer != "decline" {
		t.Errorf("ListDeliveries shows %+v, want the answer decline", list)
	}
	_, err = s.RecordAnswer(ctx, notify.DeliveryAnswer{DeliveryRef: notify.DeliveryRef{WorkspaceID: wsA, NotificationID: nt.ID, Key: "nobody"}, Answer: "accept", At: t0})
	wantCode(t, "RecordAnswer(missing)", err, notify.CodeNotFound)
	_, err = s.RecordAnswer(ctx, notify.DeliveryAnswer{DeliveryRef: notify.DeliveryRef{WorkspaceID: wsB, NotificationID: nt.ID, Key: "cust-0"}, Answer: "accept", At: t0})
	wantCode(t, "RecordAnswer(other workspace)", err, notify.CodeNotFound)
}
