package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/heraldhq/herald/shared/notify"
)

var ignoreUploadVersion = cmpopts.IgnoreFields(notify.Upload{}, "Version")

// newUpload is a send upload waiting for its file, with every field set.
func newUpload(ws, id string, at time.Time) notify.Upload {
	return notify.Upload{
		WorkspaceID:    ws,
		ID:             id,
		Purpose:        notify.UploadPurposeSend,
		TemplateID:     "tpl-1",
		Channel:        notify.ChannelSMS,
		Filename:       "clientes junio.xlsx",
		DefaultRegion:  "ES",
		Category:       "energy_savings",
		Status:         notify.UploadWaiting,
		Rows:           notify.UploadRows{Total: 3, Valid: 1, Invalid: 2},
		Errors:         []notify.RowError{{Row: 0, Message: "no phone column"}, {Row: 3, Column: "teléfono", Message: "not a phone number"}},
		NotificationID: "n-1",
		ObjectKey:      "uploads/" + ws + "/" + id + ".xlsx",
		ETag:           `"9b2cf535f27731c974343645a3985328"`,
		Size:           48213,
		CreatedBy:      "key-1",
		Origin:         notify.OriginConsole,
		CreatedAt:      at,
		UpdatedAt:      at.Add(time.Second),
		ExpiresAt:      at.Add(15 * time.Minute),
	}
}

func createUpload(t *testing.T, s notify.Store, u notify.Upload) {
	t.Helper()
	must(t, "CreateUpload "+u.ID, s.CreateUpload(t.Context(), u))
}

func getUpload(t *testing.T, s notify.Store, ws, id string) notify.Upload {
	t.Helper()
	u, err := s.GetUpload(t.Context(), ws, id)
	must(t, "GetUpload "+id, err)
	return u
}

func uploadIDs(us []notify.Upload) []string {
	ids := make([]string, 0, len(us))
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	return ids
}

// rowErrors is n row errors as a validator would keep them.
func rowErrors(n int) []notify.RowError {
	errs := make([]notify.RowError, n)
	for i := range errs {
		errs[i] = notify.RowError{Row: i + 2, Column: "teléfono móvil", Message: fmt.Sprintf("%q is not a phone number of ES", strings.Repeat("9", 20))}
	}
	return errs
}

func testCreateUpload(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	u := newUpload(wsA, ids.New(t0), t0)
	createUpload(t, s, u)
	got := getUpload(t, s, wsA, u.ID)
	if d := diff(u, got, ignoreUploadVersion); d != "" {
		t.Errorf("GetUpload after CreateUpload mismatch (-want +got):\n%s", d)
	}
	if got.Version <= 0 {
		t.Errorf("GetUpload after CreateUpload: Version = %d, want > 0", got.Version)
	}

	// A users import fresh from the API: the optional fields empty.
	bare := notify.Upload{
		WorkspaceID: wsA, ID: ids.New(t0), Purpose: notify.UploadPurposeUsers, Filename: "users.csv",
		Status: notify.UploadWaiting, CreatedBy: "key-2", CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(time.Hour),
	}
	createUpload(t, s, bare)
	if d := diff(bare, getUpload(t, s, wsA, bare.ID), ignoreUploadVersion); d != "" {
		t.Errorf("GetUpload of a bare upload mismatch (-want +got):\n%s", d)
	}

	// As many row errors as an upload keeps.
	full := newUpload(wsA, ids.New(t0), t0)
	full.Status, full.Rows = notify.UploadRejected, notify.UploadRows{Total: 20000, Invalid: 20000}
	full.Errors = rowErrors(notify.MaxUploadErrors)
	createUpload(t, s, full)
	if d := diff(full, getUpload(t, s, wsA, full.ID), ignoreUploadVersion); d != "" {
		t.Errorf("GetUpload with %d errors mismatch (-want +got):\n%s", notify.MaxUploadErrors, d)
	}

	dup := newUpload(wsA, u.ID, t0.Add(time.Minute))
	dup.Filename = "otro.xlsx"
	wantCode(t, "CreateUpload of an existing id", s.CreateUpload(ctx, dup), notify.CodeConflict)
	if d := diff(got, getUpload(t, s, wsA, u.ID)); d != "" {
		t.Errorf("GetUpload after a conflicting CreateUpload mismatch (-want +got):\n%s", d)
	}

	_, err := s.GetUpload(ctx, wsA, ids.New(t0))
	wantCode(t, "GetUpload of a missing id", err, notify.CodeNotFound)
}

func testUpdateUpload(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	u := newUpload(wsA, ids.New(t0), t0)
	u.Rows, u.Errors, u.NotificationID, u.ETag, u.Size = notify.UploadRows{}, nil, "", "", 0
	createUpload(t, s, u)
	before := getUpload(t, s, wsA, u.ID)

	t1 := t0.Add(time.Minute)
	got, err := s.UpdateUpload(ctx, wsA, u.ID, func(u *notify.Upload) error {
		u.Status = notify.UploadQueued
		u.Rows = notify.UploadRows{Total: 120, Valid: 118, Invalid: 2}
		u.Errors = []notify.RowError{{Row: 7, Column: "email", Message: "not an email address"}, {Row: 9, Message: "empty row"}}
		u.NotificationID = "n-7"
		u.ETag, u.Size = `"etag-2"`, 2048
		u.UpdatedAt = t1
		return nil
	})
	must(t, "UpdateUpload", err)
	want := before
	want.Status = notify.UploadQueued
	want.Rows = notify.UploadRows{Total: 120, Valid: 118, Invalid: 2}
	want.Errors = []notify.RowError{{Row: 7, Column: "email", Message: "not an email address"}, {Row: 9, Message: "empty row"}}
	want.NotificationID = "n-7"
	want.ETag, want.Size = `"etag-2"`, 2048
	want.UpdatedAt = t1
	want.Version = before.Version + 1
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateUpload mismatch (-want +got):\n%s", d)
	}
	stored := getUpload(t, s, wsA, u.ID)
	if d := diff(got, stored); d != "" {
		t.Errorf("GetUpload after UpdateUpload mismatch (-want +got):\n%s", d)
	}

	// A conditional transition: fn refuses, and its error comes back as it
	// is with nothing written.
	refused := notify.Errorf(notify.CodeConflict, "upload is %s, not %s", notify.UploadQueued, notify.UploadWaiting)
	_, err = s.UpdateUpload(ctx, wsA, u.ID, func(u *notify.Upload) error {
		from := u.Status
		u.Status, u.Rows.Valid, u.Errors = notify.UploadValidating, 0, nil // not to be saved
		if from != notify.UploadWaiting {
			return refused
		}
		return nil
	})
	if err != refused {
		t.Errorf("UpdateUpload with fn failing: err = %v, want %v as it is", err, refused)
	}
	if d := diff(stored, getUpload(t, s, wsA, u.ID)); d != "" {
		t.Errorf("GetUpload after a refused UpdateUpload mismatch (-want +got):\n%s", d)
	}

	// Every write moves the version by one, even one that changes nothing.
	again, err := s.UpdateUpload(ctx, wsA, u.ID, func(*notify.Upload) error { return nil })
	must(t, "UpdateUpload(no change)", err)
	if again.Version != stored.Version+1 {
		t.Errorf("UpdateUpload(no change).Version = %d, want %d", again.Version, stored.Version+1)
	}

	// The errors an upload keeps, written by an update.
	full, err := s.UpdateUpload(ctx, wsA, u.ID, func(u *notify.Upload) error {
		u.Status, u.Errors = notify.UploadRejected, rowErrors(notify.MaxUploadErrors)
		return nil
	})
	must(t, "UpdateUpload(max errors)", err)
	if d := diff(full, getUpload(t, s, wsA, u.ID)); d != "" {
		t.Errorf("GetUpload after UpdateUpload with %d errors mismatch (-want +got):\n%s", notify.MaxUploadErrors, d)
	}

	called := false
	_, err = s.UpdateUpload(ctx, wsA, ids.New(t0), func(*notify.Upload) error { called = true; return nil })
	wantCode(t, "UpdateUpload of a missing id", err, notify.CodeNotFound)
	if called {
		t.Errorf("UpdateUpload of a missing id called fn")
	}
}

func testUpdateUploadConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	u := newUpload(wsA, ids.New(now()), now())
	u.Rows = notify.UploadRows{}
	createUpload(t, s, u)
	before := getUpload(t, s, wsA, u.ID)

	const writers = 8
	updateConcurrently(t, "UpdateUpload", writers, before.Version, func(int) (int64, error) {
		got, err := s.UpdateUpload(ctx, wsA, u.ID, func(u *notify.Upload) error {
			u.Rows.Valid++
			u.Rows.Total++
			return nil
		})
		return got.Version, err
	})
	got := getUpload(t, s, wsA, u.ID)
	if want := (notify.UploadRows{Total: writers, Valid: writers}); got.Rows != want {
		t.Errorf("rows after %d concurrent UpdateUpload = %+v, want %+v", writers, got.Rows, want)
	}
	if want := before.Version + writers; got.Version != want {
		t.Errorf("Version after %d concurrent UpdateUpload = %d, want %d", writers, got.Version, want)
	}
}

func testListUploads(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	const total = notify.DefaultPageSize + 3
	var newestFirst []notify.Upload
	for i := range total {
		at := minute(i)
		u := newUpload(wsA, ids.New(at), at)
		u.Filename = fmt.Sprintf("envio-%02d.xlsx", i)
		createUpload(t, s, u)
		newestFirst = append([]notify.Upload{u}, newestFirst...)
	}
	var inB []string
	for i := range 3 {
		at := minute(i).Add(30 * time.Second)
		u := newUpload(wsB, ids.New(at), at)
		createUpload(t, s, u)
		inB = append([]string{u.ID}, inB...)
	}

	got, pages := collect(t, "ListUploads", 5, func(p notify.Page) ([]notify.Upload, string, error) {
		return s.ListUploads(ctx, wsA, p)
	})
	if pages < total/5 {
		t.Errorf("ListUploads of %d by 5 took %d pages, want at least %d", total, pages, total/5)
	}
	if d := diff(uploadIDs(newestFirst), uploadIDs(got)); d != "" {
		t.Errorf("ListUploads paging ids mismatch (-want +got):\n%s", d)
	}
	if d := diff(newestFirst, got, ignoreUploadVersion); d != "" {
		t.Errorf("ListUploads paging mismatch (-want +got):\n%s", d)
	}

	wantDefaultPage(t, "ListUploads", func(p notify.Page) ([]notify.Upload, string, error) {
		return s.ListUploads(ctx, wsA, p)
	})

	// The list shows what UpdateUpload wrote.
	updated, err := s.UpdateUpload(ctx, wsA, newestFirst[1].ID, func(u *notify.Upload) error {
		u.Status, u.UpdatedAt = notify.UploadCompleted, minute(59)
		return nil
	})
	must(t, "UpdateUpload", err)
	page, _, err := s.ListUploads(ctx, wsA, notify.Page{Limit: 2})
	must(t, "ListUploads", err)
	if len(page) != 2 {
		t.Fatalf("ListUploads(limit 2) = %d items, want 2", len(page))
	}
	if d := diff(updated, page[1]); d != "" {
		t.Errorf("ListUploads after UpdateUpload mismatch (-want +got):\n%s", d)
	}

	gotB, _ := collect(t, "ListUploads of "+wsB, 2, func(p notify.Page) ([]notify.Upload, string, error) {
		return s.ListUploads(ctx, wsB, p)
	})
	if d := diff(inB, uploadIDs(gotB)); d != "" {
		t.Errorf("ListUploads of %s ids mismatch (-want +got):\n%s", wsB, d)
	}
	for _, u := range gotB {
		if u.WorkspaceID != wsB {
			t.Errorf("ListUploads of %s: %s has workspace %q", wsB, u.ID, u.WorkspaceID)
		}
	}

	empty, next, err := s.ListUploads(ctx, "ws-empty", notify.Page{Limit: 10})
	must(t, "ListUploads of an empty workspace", err)
	if len(empty) != 0 || next != "" {
		t.Errorf("ListUploads of an empty workspace = %v, next %q; want none and no cursor", uploadIDs(empty), next)
	}

	wantBadCursorRefused(t, s, "ListUploads", func(p notify.Page) ([]notify.Upload, string, error) {
		return s.ListUploads(ctx, wsA, p)
	})
}

func testUploadsIsolation(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	a := newUpload(wsA, ids.New(t0), t0)
	createUpload(t, s, a)
	stored := getUpload(t, s, wsA, a.ID)

	_, err := s.GetUpload(ctx, wsB, a.ID)
	wantCode(t, "GetUpload through another workspace", err, notify.CodeNotFound)
	_, err = s.UpdateUpload(ctx, wsB, a.ID, func(u *notify.Upload) error {
		u.Status = notify.UploadRejected
		return nil
	})
	wantCode(t, "UpdateUpload through another workspace", err, notify.CodeNotFound)
	list, _, err := s.ListUploads(ctx, wsB, notify.Page{Limit: 10})
	must(t, "ListUploads", err)
	if len(list) != 0 {
		t.Errorf("ListUploads through another workspace = %v, want none", uploadIDs(list))
	}

	if d := diff(stored, getUpload(t, s, wsA, a.ID)); d != "" {
		t.Errorf("upload of %s after writes through %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
}
