package storetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/heraldhq/herald/shared/notify"
)

// updateConcurrently calls update from writers goroutines at once, writer
// i's with i, and checks what optimistic updates promise whatever the
// record: every call succeeds (a store retries its own conflicts), and the
// versions they return are before+1 … before+writers, one each, so no write
// was lost or applied twice. what names the update in messages
// ("UpdateUpload"); the caller checks the record it ends with.
func updateConcurrently(t *testing.T, what string, writers int, before int64, update func(i int) (version int64, err error)) {
	t.Helper()
	var wg sync.WaitGroup
	versions := make(chan int64, writers)
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			v, err := update(i)
			errs <- err
			versions <- v
		})
	}
	wg.Wait()
	close(errs)
	close(versions)
	for err := range errs {
		must(t, "concurrent "+what, err)
	}
	var gotVersions, wantVersions []int64
	for v := range versions {
		gotVersions = append(gotVersions, v)
	}
	for i := range writers {
		wantVersions = append(wantVersions, before+int64(i)+1)
	}
	slices.Sort(gotVersions)
	if d := diff(wantVersions, gotVersions); d != "" {
		t.Errorf("versions returned by %d concurrent %s mismatch (-want +got):\n%s", writers, what, d)
	}
}

// wantDefaultPage checks that list, given no limit, returns a full page of
// notify.DefaultPageSize and a cursor: the caller stored more than that.
func wantDefaultPage[T any](t *testing.T, what string, list func(p notify.Page) ([]T, string, error)) {
	t.Helper()
	page, next, err := list(notify.Page{})
	must(t, what+" with no limit", err)
	if len(page) != notify.DefaultPageSize || next == "" {
		t.Errorf("%s with no limit = %d items, next %q; want %d and a next cursor", what, len(page), next, notify.DefaultPageSize)
	}
}

// wantBadCursorRefused checks that list refuses a cursor it never handed
// out as every other list of the adapter refuses it: with the code
// ListNotifications gives, which is not internal.
func wantBadCursorRefused[T any](t *testing.T, s notify.Store, what string, list func(p notify.Page) ([]T, string, error)) {
	t.Helper()
	const bad = "%%%"
	_, _, wantErr := s.ListNotifications(t.Context(), wsA, notify.NotificationQuery{}, notify.Page{Cursor: bad})
	_, _, err := list(notify.Page{Cursor: bad})
	if code := notify.ErrorCode(wantErr); err == nil || notify.ErrorCode(err) != code || code == notify.CodeInternal {
		t.Errorf("%s with a bad cursor: err = %v, want code %s as ListNotifications gives", what, err, code)
	}
}
