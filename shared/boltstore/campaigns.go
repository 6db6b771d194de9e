package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// Buckets of campaigns and their runs; allBuckets creates them.
const (
	bucketCampaigns = "campaigns"    // ws, id (a ULID)
	bucketRuns      = "campaignruns" // ws, campaign id, scheduled time (runTime)
)

// campaignRecord keeps the fields notify.Campaign hides from JSON, and its
// send as a JSON string: a json.RawMessage inside the record would be
// compacted and HTML-escaped on the way in, where the operator's text must
// come back byte for byte. Notification shadows the embedded field.
type campaignRecord struct {
	notify.Campaign
	Notification string `json:"notification,omitempty"`
	Version      int64  `json:"version"`
}

func newCampaignRecord(c notify.Campaign) campaignRecord {
	return campaignRecord{Campaign: c, Notification: string(c.Notification), Version: c.Version}
}

func (r campaignRecord) campaign(workspaceID string) notify.Campaign {
	c := r.Campaign
	c.WorkspaceID, c.Version, c.Notification = workspaceID, r.Version, nil
	if r.Notification != "" {
		c.Notification = json.RawMessage(r.Notification)
	}
	return c
}

func getCampaign(b *bolt.Bucket, workspaceID, id string) (notify.Campaign, error) {
	var r campaignRecord
	ok, err := getJSON(b, key(workspaceID, id), &r)
	if err != nil {
		return notify.Campaign{}, err
	}
	if !ok {
		return notify.Campaign{}, notify.NotFound("campaign", id)
	}
	return r.campaign(workspaceID), nil
}

// CreateCampaign implements notify.Store; the campaign is stored at
// Version 1, its first write.
func (s *Store) CreateCampaign(ctx context.Context, c notify.Campaign) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketCampaigns)
		k := key(c.WorkspaceID, c.ID)
		if b.Get(k) != nil {
			return notify.Errorf(notify.CodeConflict, "campaign %q exists", c.ID)
		}
		c.Version = 1
		return putJSON(b, k, newCampaignRecord(c))
	})
	if err != nil {
		return fmt.Errorf("create campaign %s: %w", c.ID, err)
	}
	return nil
}

// GetCampaign implements notify.Store.
func (s *Store) GetCampaign(ctx context.Context, workspaceID, id string) (notify.Campaign, error) {
	var c notify.Campaign
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		c, err = getCampaign(bucket(tx, bucketCampaigns), workspaceID, id)
		return err
	})
	if err != nil {
		return notify.Campaign{}, fmt.Errorf("get campaign %s: %w", id, err)
	}
	return c, nil
}

// UpdateCampaign implements notify.Store. bbolt has one writer at a time,
// so fn runs once, inside the write transaction: it must not call the
// Store. An error from fn is returned as it is and nothing is written.
func (s *Store) UpdateCampaign(ctx context.Context, workspaceID, id string, fn func(*notify.Campaign) error) (notify.Campaign, error) {
	var out notify.Campaign
	var fnErr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketCampaigns)
		c, err := getCampaign(b, workspaceID, id)
		if err != nil {
			return err
		}
		version := c.Version
		if fnErr = fn(&c); fnErr != nil {
			return fnErr
		}
		c.WorkspaceID, c.ID, c.Version = workspaceID, id, version+1
		out = c
		return putJSON(b, key(workspaceID, id), newCampaignRecord(c))
	})
	if fnErr != nil {
		return notify.Campaign{}, fnErr
	}
	if err != nil {
		return notify.Campaign{}, fmt.Errorf("update campaign %s: %w", id, err)
	}
	return out, nil
}

// DeleteCampaign implements notify.Store: the campaign and its runs go in
// one transaction.
func (s *Store) DeleteCampaign(ctx context.Context, workspaceID, id string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketCampaigns)
		k := key(workspaceID, id)
		if b.Get(k) == nil {
			return notify.NotFound("campaign", id)
		}
		runs := bucket(tx, bucketRuns)
		pre := prefix(workspaceID, id)
		var keys [][]byte
		for suffix := range entries(runs, pre, "", false) {
			keys = append(keys, append(append([]byte(nil), pre...), suffix...))
		}
		for _, rk := range keys {
			if err := runs.Delete(rk); err != nil {
				return err
			}
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete campaign %s: %w", id, err)
	}
	return nil
}

// ListCampaigns implements notify.Store: campaign ids are ULIDs, so walking
// the workspace's keys backwards is newest first. The kind is filtered in
// memory: a local store holds few enough campaigns that an index per kind
// would not pay for itself.
func (s *Store) ListCampaigns(ctx context.Context, workspaceID, kind string, p notify.Page) ([]notify.Campaign, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	var campaigns []notify.Campaign
	err = s.db.View(func(tx *bolt.Tx) error {
		for id, v := range entries(bucket(tx, bucketCampaigns), prefix(workspaceID), after, true) {
			var r campaignRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("campaign %s: %w", id, err)
			}
			if kind != "" && r.Kind != kind {
				continue
			}
			if !pg.take(id) {
				break
			}
			campaigns = append(campaigns, r.campaign(workspaceID))
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list campaigns of %s: %w", workspaceID, err)
	}
	return campaigns, pg.next(), nil
}

// runTime is the last part of a run's key: the scheduled time in UTC to the
// millisecond (what the store keeps of every time), fixed width so that key
// order is time order.
func runTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func runKey(r notify.CampaignRun) []byte {
	return key(r.WorkspaceID, r.CampaignID, runTime(r.ScheduledAt))
}

// runName names a run in errors.
func runName(r notify.CampaignRun) string {
	return r.CampaignID + "@" + runTime(r.ScheduledAt)
}

// getRun reads the run of r's key and reports whether there is one. A run
// record is the notify.CampaignRun's JSON, which hides only the workspace.
func getRun(b *bolt.Bucket, r notify.CampaignRun) (notify.CampaignRun, bool, error) {
	var stored notify.CampaignRun
	ok, err := getJSON(b, runKey(r), &stored)
	if err != nil || !ok {
		return notify.CampaignRun{}, false, err
	}
	stored.WorkspaceID = r.WorkspaceID
	return stored, true, nil
}

// StartRun implements notify.Store in one transaction, so concurrent starts
// of one scheduled time are decided one after the other.
func (s *Store) StartRun(ctx context.Context, r notify.CampaignRun) (notify.CampaignRun, bool, error) {
	var out notify.CampaignRun
	var started bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketRuns)
		stored, ok, err := getRun(b, r)
		if err != nil {
			return err
		}
		if !ok {
			r.Attempts = 1
			out, started = r, true
			return putJSON(b, runKey(r), r)
		}
		out = stored
		if stored.Status != notify.RunRunning {
			return nil
		}
		out.Attempts++
		return putJSON(b, runKey(r), out)
	})
	if err != nil {
		return notify.CampaignRun{}, false, fmt.Errorf("start run %s: %w", runName(r), err)
	}
	return out, started, nil
}

// FinishRun implements notify.Store: the outcome replaces the stored one;
// Attempts and StartedAt stay as StartRun left them.
func (s *Store) FinishRun(ctx context.Context, r notify.CampaignRun) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketRuns)
		stored, ok, err := getRun(b, r)
		if err != nil {
			return err
		}
		if !ok {
			return notify.NotFound("campaign run", runName(r))
		}
		stored.Status, stored.NotificationID, stored.Recipients = r.Status, r.NotificationID, r.Recipients
		stored.Error, stored.FinishedAt = r.Error, r.FinishedAt
		return putJSON(b, runKey(r), stored)
	})
	if err != nil {
		return fmt.Errorf("finish run %s: %w", runName(r), err)
	}
	return nil
}

// ListRuns implements notify.Store: the campaign's run keys end in the
// scheduled time, so walking them backwards is newest first.
func (s *Store) ListRuns(ctx context.Context, workspaceID, campaignID string, p notify.Page) ([]notify.CampaignRun, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	var runs []notify.CampaignRun
	err = s.db.View(func(tx *bolt.Tx) error {
		for at, v := range entries(bucket(tx, bucketRuns), prefix(workspaceID, campaignID), after, true) {
			var r notify.CampaignRun
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("run %s: %w", at, err)
			}
			if !pg.take(at) {
				break
			}
			r.WorkspaceID = workspaceID
			runs = append(runs, r)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list runs of campaign %s: %w", campaignID, err)
	}
	return runs, pg.next(), nil
}
