package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// RepairDelay is how long a repair waits before it pushes a campaign's
// schedule again: long enough for a throttled or briefly failing scheduler
// to recover.
const RepairDelay = 30 * time.Second

// repairMessage is the body of a repair: which campaign to bring in line,
// or, with ScheduledAt, which run of it to finish (one whose invocation
// failed on a transient error).
type repairMessage struct {
	WorkspaceID string     `json:"workspaceId"`
	CampaignID  string     `json:"campaignId"`
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
}

// queueRerun hands a run that failed on a transient error to the repair
// queue, whose redeliveries (and dead-letter queue, with its alarm) retry
// it durably; false when there is no queue or it refused.
func (s *Service) queueRerun(ctx context.Context, inv Invocation) bool {
	if s.Repairs == nil {
		return false
	}
	at := inv.ScheduledAt.UTC()
	b, _ := json.Marshal(repairMessage{WorkspaceID: inv.WorkspaceID, CampaignID: inv.CampaignID, ScheduledAt: &at})
	if err := s.Repairs.SendDelayed(ctx, [][]byte{b}, RepairDelay); err != nil {
		s.log().Error("campaign run not queued for retry", "workspaceId", inv.WorkspaceID, "campaignId", inv.CampaignID, "err", err.Error())
		return false
	}
	return true
}

// queueRepair asks for c to be synced again later. A failure is logged:
// the caller reports the sync's own failure, and the campaign stays
// pending, visible in the API, where the next change or run pushes it.
func (s *Service) queueRepair(ctx context.Context, c notify.Campaign) {
	if s.Repairs == nil {
		return
	}
	b, _ := json.Marshal(repairMessage{WorkspaceID: c.WorkspaceID, CampaignID: c.ID})
	if err := s.Repairs.SendDelayed(ctx, [][]byte{b}, RepairDelay); err != nil {
		s.log().Error("schedule repair not queued", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "err", err.Error())
	}
}

// Repair handles one repair message: it pushes the campaign's schedule
// again when the store still says pending. An error means the scheduler
// still fails; the queue delivers the message again (and, on AWS, moves
// it to the dead-letter queue after its receives, which raises an alarm).
// A malformed message is an error too, for the dead-letter queue to keep.
func (s *Service) Repair(ctx context.Context, body []byte) error {
	var m repairMessage
	if err := json.Unmarshal(body, &m); err != nil || m.WorkspaceID == "" || m.CampaignID == "" {
		return fmt.Errorf("repair message %q: want {workspaceId, campaignId}", truncate(body, 200))
	}
	if m.ScheduledAt != nil {
		_, err := s.Run(ctx, Invocation{WorkspaceID: m.WorkspaceID, CampaignID: m.CampaignID, ScheduledAt: *m.ScheduledAt})
		return err
	}
	c, err := s.Store.GetCampaign(ctx, m.WorkspaceID, m.CampaignID)
	if notify.IsCode(err, notify.CodeNotFound) {
		return nil // deleted since: nothing to repair
	}
	if err != nil {
		return err
	}
	if c.Sync.State == notify.SyncSynced && c.Status != notify.CampaignDeleting {
		return nil // a later change got through
	}
	once := *s
	once.Repairs = nil // the queue's own redelivery retries this one
	if _, err := once.Sync(ctx, c); err != nil {
		return fmt.Errorf("repair schedule of campaign %s: %w", c.ID, err)
	}
	s.log().Info("schedule repaired", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "status", string(c.Status))
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
