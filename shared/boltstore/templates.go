package boltstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// templateRecord keeps the workspace id notify.Template hides from JSON; it
// matters for the copy of a template kept on a notification.
type templateRecord struct {
	notify.Template
	WorkspaceID string `json:"workspaceId,omitempty"`
}

func newTemplateRecord(t notify.Template) templateRecord {
	return templateRecord{Template: t, WorkspaceID: t.WorkspaceID}
}

func (r templateRecord) template() notify.Template {
	t := r.Template
	t.WorkspaceID = r.WorkspaceID
	return t
}

func versionKey(workspaceID, id string, version int) []byte {
	return key(workspaceID, id, fmt.Sprintf("%010d", version))
}

func getTemplate(b *bolt.Bucket, k []byte, id string) (notify.Template, error) {
	var r templateRecord
	ok, err := getJSON(b, k, &r)
	if err != nil {
		return notify.Template{}, err
	}
	if !ok {
		return notify.Template{}, notify.NotFound("template", id)
	}
	return r.template(), nil
}

// SaveTemplate implements notify.Store.
func (s *Store) SaveTemplate(ctx context.Context, t notify.Template) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		latest := bucket(tx, bucketTemplates)
		k := key(t.WorkspaceID, t.ID)
		var cur templateRecord
		ok, err := getJSON(latest, k, &cur)
		if err != nil {
			return err
		}
		switch {
		case !ok && t.Version != 1:
			return notify.Errorf(notify.CodeConflict, "template %q does not exist: version must be 1, not %d", t.ID, t.Version)
		case ok && t.Version != cur.Version+1:
			return notify.Errorf(notify.CodeConflict, "template %q is at version %d: version must be %d, not %d", t.ID, cur.Version, cur.Version+1, t.Version)
		}
		r := newTemplateRecord(t)
		if err := putJSON(latest, k, r); err != nil {
			return err
		}
		return putJSON(bucket(tx, bucketTemplateVers), versionKey(t.WorkspaceID, t.ID, t.Version), r)
	})
	if err != nil {
		return fmt.Errorf("save template %s: %w", t.ID, err)
	}
	return nil
}

// GetTemplate implements notify.Store.
func (s *Store) GetTemplate(ctx context.Context, workspaceID, id string) (notify.Template, error) {
	var t notify.Template
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		t, err = getTemplate(bucket(tx, bucketTemplates), key(workspaceID, id), id)
		return err
	})
	if err != nil {
		return notify.Template{}, fmt.Errorf("get template %s: %w", id, err)
	}
	return t, nil
}

// GetTemplateVersion implements notify.Store.
func (s *Store) GetTemplateVersion(ctx context.Context, workspaceID, id string, version int) (notify.Template, error) {
	var t notify.Template
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		t, err = getTemplate(bucket(tx, bucketTemplateVers), versionKey(workspaceID, id, version), fmt.Sprintf("%s@%d", id, version))
		return err
	})
	if err != nil {
		return notify.Template{}, fmt.Errorf("get template %s version %d: %w", id, version, err)
	}
	return t, nil
}

// ListTemplates implements notify.Store: newest created first, then by id.
// A workspace has tens of templates, so they are sorted in memory.
func (s *Store) ListTemplates(ctx context.Context, workspaceID string, f notify.TemplateFilter, p notify.Page) ([]notify.Template, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	var all []notify.Template
	err = s.db.View(func(tx *bolt.Tx) error {
		for k, v := range entries(bucket(tx, bucketTemplates), prefix(workspaceID), "", false) {
			var r templateRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("template %s: %w", k, err)
			}
			t := r.template()
			if (f.Channel == "" || t.Channel == f.Channel) && (f.Label == "" || slices.Contains(t.Labels, f.Label)) {
				all = append(all, t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list templates of %s: %w", workspaceID, err)
	}
	newestFirst := func(a, b notify.Template) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	}
	slices.SortFunc(all, newestFirst)
	if after != "" {
		at, id, _ := strings.Cut(after, "|")
		var c notify.Template
		c.ID = id
		if c.CreatedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, "", notify.Invalid(notify.FieldError{Field: "cursor", Problem: "not a cursor of this list"})
		}
		i, _ := slices.BinarySearchFunc(all, c, newestFirst)
		for i < len(all) && newestFirst(all[i], c) <= 0 {
			i++
		}
		all = all[i:]
	}
	limit := pageLimit(p)
	if len(all) <= limit {
		return all, "", nil
	}
	last := all[limit-1]
	return all[:limit], encodeCursor(last.CreatedAt.Format(time.RFC3339Nano) + "|" + last.ID), nil
}

// DeleteTemplate implements notify.Store.
func (s *Store) DeleteTemplate(ctx context.Context, workspaceID, id string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		latest := bucket(tx, bucketTemplates)
		k := key(workspaceID, id)
		if latest.Get(k) == nil {
			return notify.NotFound("template", id)
		}
		if err := latest.Delete(k); err != nil {
			return err
		}
		vers := bucket(tx, bucketTemplateVers)
		var old [][]byte
		pre := prefix(workspaceID, id)
		for suffix := range entries(vers, pre, "", false) {
			old = append(old, append(slices.Clone(pre), suffix...))
		}
		for _, k := range old {
			if err := vers.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete template %s: %w", id, err)
	}
	return nil
}
