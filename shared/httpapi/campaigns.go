package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/notify"
)

// campaignView is a campaign as the API shows it: with its next run times
// (up to five; none when it is not active).
type campaignView struct {
	notify.Campaign
	NextRuns []time.Time `json:"nextRuns"`
}

func (s *Server) view(c notify.Campaign) campaignView {
	next := s.campaigns.NextRuns(c, 5)
	if next == nil {
		next = []time.Time{}
	}
	return campaignView{Campaign: c, NextRuns: next}
}

// scheduling returns an error when this deployment has no scheduler.
func (s *Server) scheduling() error {
	if s.campaigns == nil {
		return notify.Errorf(notify.CodeNotConfigured, "campaigns and scheduled sends need a scheduler: locally `make run` has one; on AWS the stack sets HERALD_SCHEDULER_TARGET_ARN and HERALD_SCHEDULER_ROLE_ARN")
	}
	return nil
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.scheduling(); err != nil {
		return err
	}
	return s.idempotent(w, r, k, func(body []byte) (int, any, error) {
		var in campaign.Input
		if err := decodeBytes(body, &in); err != nil {
			return 0, nil, err
		}
		c, err := s.campaigns.Create(r.Context(), k.WorkspaceID, by(k), in)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, s.view(c), nil
	})
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.scheduling(); err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	cs, next, err := s.store.ListCampaigns(r.Context(), k.WorkspaceID, notify.CampaignKindCampaign, p)
	if err != nil {
		return notify.CursorError(err)
	}
	views := make([]campaignView, len(cs))
	for i, c := range cs {
		views[i] = s.view(c)
	}
	writeList(w, views, next)
	return nil
}

// campaignOf reads a campaign an operator made; a scheduled send's own
// campaign is reached through its notification, not here.
func (s *Server) campaignOf(r *http.Request, k notify.APIKey) (notify.Campaign, error) {
	if err := s.scheduling(); err != nil {
		return notify.Campaign{}, err
	}
	id := r.PathValue("id")
	c, err := s.store.GetCampaign(r.Context(), k.WorkspaceID, id)
	if err == nil && c.Kind != notify.CampaignKindCampaign {
		err = notify.NotFound("campaign", id)
	}
	return c, err
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	c, err := s.campaignOf(r, k)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(c))
	return nil
}

func (s *Server) putCampaign(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.scheduling(); err != nil {
		return err
	}
	var in campaign.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.campaigns.Update(r.Context(), k.WorkspaceID, r.PathValue("id"), by(k), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(c))
	return nil
}

func (s *Server) deleteCampaign(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.scheduling(); err != nil {
		return err
	}
	if err := s.campaigns.Delete(r.Context(), k.WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pauseCampaign(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	return s.setPaused(w, r, k, true)
}

func (s *Server) resumeCampaign(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	return s.setPaused(w, r, k, false)
}

func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, k notify.APIKey, paused bool) error {
	if err := s.scheduling(); err != nil {
		return err
	}
	c, err := s.campaigns.SetPaused(r.Context(), k.WorkspaceID, r.PathValue("id"), paused)
	if err != nil {
		return err
	}
	if !reads(k) {
		// Its notification may name users and addresses: read data.
		writeJSON(w, http.StatusOK, receipt{ID: c.ID, Status: string(c.Status), UpdatedAt: &c.UpdatedAt})
		return nil
	}
	writeJSON(w, http.StatusOK, s.view(c))
	return nil
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	c, err := s.campaignOf(r, k)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	runs, next, err := s.store.ListRuns(r.Context(), k.WorkspaceID, c.ID, p)
	if err != nil {
		return notify.CursorError(err)
	}
	writeList(w, runs, next)
	return nil
}

// scheduleSend answers a send given a scheduleAt in the future.
func (s *Server) scheduleSend(r *http.Request, k notify.APIKey, body []byte, in sendInput) (int, any, error) {
	if err := s.scheduling(); err != nil {
		return 0, nil, err
	}
	n, err := s.campaigns.ScheduleSend(r.Context(), k.WorkspaceID, by(k), notify.OriginAPI, in, json.RawMessage(body))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, sendResult{ID: n.ID, Status: n.Status, Recipients: n.Audience.Count, ScheduleAt: n.ScheduleAt}, nil
}
