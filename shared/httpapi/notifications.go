package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/send"
)

type sendResult struct {
	ID         string        `json:"id"`
	Status     notify.Status `json:"status"`
	Recipients int           `json:"recipients"`
	// ScheduleAt is when a scheduled send runs.
	ScheduleAt *time.Time `json:"scheduleAt,omitempty"`
}

type sendInput = send.Input

func (s *Server) sendNotification(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	return s.idempotent(w, r, k, func(body []byte) (int, any, error) {
		var in send.Input
		if err := decodeBytes(body, &in); err != nil {
			return 0, nil, err
		}
		// A schedule keeps whole seconds: a time that is past once cut to
		// the second is sent now.
		if in.ScheduleAt != nil && in.ScheduleAt.Truncate(time.Second).After(s.now()) {
			return s.scheduleSend(r, k, body, in)
		}
		p, err := s.sender.Prepare(r.Context(), send.Options{Mode: send.ModeSend, WorkspaceID: k.WorkspaceID, By: by(k), Origin: notify.OriginAPI}, in)
		if err != nil {
			return 0, nil, err
		}
		n, err := s.sender.Execute(r.Context(), p)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, sendResult{ID: n.ID, Status: n.Status, Recipients: n.Audience.Count}, nil
	})
}

// by is who a key's sends are shown as created by.
func by(k notify.APIKey) string { return k.Name + " (" + k.ID + ")" }

// dryRunResult is the answer of POST /v1/notifications:dryRun.
type dryRunResult struct {
	// Recipients is how many users the send would reach after the rules
	// known in advance; a filter send's expectedCount must equal it.
	Recipients int `json:"recipients"`
	// Users is how many the audience selects, skipped ones included.
	Users   int            `json:"users"`
	Skipped map[string]int `json:"skipped"`
	// Sample is some of the users reached, for keys that may read them.
	Sample []notify.User `json:"sample,omitempty"`
}

// dryRun answers POST /v1/notifications:dryRun: the same body as a send,
// validated the same way, and what the send would reach; nothing is sent
// or stored.
func (s *Server) dryRun(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in send.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.sender.Prepare(r.Context(), send.Options{Mode: send.ModeDryRun, WorkspaceID: k.WorkspaceID, By: by(k), Origin: notify.OriginAPI}, in)
	if err != nil {
		return err
	}
	c := p.Count
	if p.Filter == nil {
		if c, err = s.sender.CountList(r.Context(), p); err != nil {
			return err
		}
	}
	out := dryRunResult{Recipients: c.Recipients, Users: c.Matched, Skipped: c.Skipped}
	// The sample is users' profiles: read data. A send-only key gets the
	// counts, which is what it needs to send with expectedCount.
	if reads(k) {
		out.Sample = make([]notify.User, len(c.Sample))
		for i, u := range c.Sample {
			out.Sample[i] = userView(u)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// idempotent runs do once per Idempotency-Key: a repeat with the same body
// within 24 hours gets the first answer, with another body a 409. Requests
// without the header just run.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, k notify.APIKey, do func(body []byte) (int, any, error)) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		status, out, err := do(body)
		if err != nil {
			return err
		}
		writeJSON(w, status, out)
		return nil
	}
	if len(key) > 255 {
		return notify.Invalid(notify.FieldError{Field: "Idempotency-Key", Problem: "at most 255 characters"})
	}
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
	hash := hex.EncodeToString(sum[:])
	now := s.now().UTC().Truncate(time.Millisecond)
	// The claim lives one minute until the answer is stored, so a crash in
	// between does not block the key for a day.
	rec := notify.IdempotencyRecord{WorkspaceID: k.WorkspaceID, Key: r.URL.Path + " " + key, RequestHash: hash, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	stored, claimed, err := s.store.ClaimIdempotencyKey(r.Context(), rec)
	if err != nil {
		return err
	}
	if !claimed {
		switch {
		case stored.RequestHash != hash:
			return notify.Errorf(notify.CodeConflict, "this Idempotency-Key was used with another request body")
		case !stored.Done:
			return notify.Errorf(notify.CodeConflict, "a request with this Idempotency-Key is still in progress")
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(stored.StatusCode)
		_, err := w.Write(stored.Response)
		return err
	}
	status, out, err := do(body)
	if err != nil {
		if rerr := s.store.ReleaseIdempotencyKey(r.Context(), k.WorkspaceID, rec.Key); rerr != nil {
			s.log.Error("release idempotency key", "err", rerr.Error())
		}
		return err
	}
	resp, err := json.Marshal(out)
	if err != nil {
		return err
	}
	rec.Done, rec.StatusCode, rec.Response, rec.ExpiresAt = true, status, append(resp, '\n'), now.Add(24*time.Hour)
	if err := s.store.CompleteIdempotencyKey(r.Context(), rec); err != nil {
		s.log.Error("complete idempotency key", "err", err.Error())
	}
	writeJSON(w, status, out)
	return nil
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	nq := notify.NotificationQuery{
		Q: q.Get("q"), Channel: notify.Channel(q.Get("channel")), RecipientType: q.Get("recipientType"),
		Source: notify.Source(q.Get("source")), Origin: notify.Origin(q.Get("origin")), Status: notify.Status(q.Get("status")),
	}
	var bad []notify.FieldError
	if nq.Channel != "" && !nq.Channel.Valid() {
		bad = append(bad, notify.FieldError{Field: "channel", Problem: "must be " + notify.ChannelList})
	}
	switch nq.Source {
	case "", notify.SourceSingle, notify.SourceList, notify.SourceFilter, notify.SourceSpreadsheet, notify.SourceCampaign:
	default:
		bad = append(bad, notify.FieldError{Field: "source", Problem: "must be single, list, filter, spreadsheet or campaign"})
	}
	if nq.Origin != "" && !nq.Origin.Valid() {
		bad = append(bad, notify.FieldError{Field: "origin", Problem: "must be api, console or campaign"})
	}
	switch nq.Status {
	case "", notify.StatusScheduled, notify.StatusQueued, notify.StatusSending, notify.StatusCompleted, notify.StatusCancelled, notify.StatusFailed:
	default:
		bad = append(bad, notify.FieldError{Field: "status", Problem: "must be scheduled, queued, sending, completed, cancelled or failed"})
	}
	if len(nq.Q) > 256 {
		bad = append(bad, notify.FieldError{Field: "q", Problem: "at most 256 characters"})
	}
	for _, tp := range []struct {
		name string
		dst  *time.Time
	}{{"from", &nq.From}, {"to", &nq.To}} {
		if v := q.Get(tp.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad = append(bad, notify.FieldError{Field: tp.name, Problem: "must be an RFC 3339 time such as 2026-11-01T00:00:00Z"})
			}
			*tp.dst = t.UTC()
		}
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	ns, next, err := s.store.ListNotifications(r.Context(), k.WorkspaceID, nq, p)
	if err != nil {
		return notify.CursorError(err)
	}
	writeList(w, ns, next)
	return nil
}

func (s *Server) getNotification(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	n, err := s.store.GetNotification(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

// deliveryView is one recipient as GET .../deliveries shows it.
type deliveryView struct {
	UserID            string                `json:"userId,omitempty"`
	Address           string                `json:"address"`
	Channel           notify.Channel        `json:"channel"`
	Status            notify.DeliveryStatus `json:"status"`
	Reason            string                `json:"reason,omitempty"`
	ProviderMessageID string                `json:"providerMessageId,omitempty"`
	Encoding          string                `json:"encoding,omitempty"`
	Segments          int                   `json:"segments,omitempty"`
	Answer            string                `json:"answer,omitempty"`
	AnsweredAt        *time.Time            `json:"answeredAt,omitempty"`
	CreatedAt         time.Time             `json:"createdAt"`
	UpdatedAt         time.Time             `json:"updatedAt"`
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	status := notify.DeliveryStatus(r.URL.Query().Get("status"))
	if status != "" && !status.Valid() {
		return notify.Invalid(notify.FieldError{Field: "status", Problem: "must be queued, sent, delivered, read, failed or skipped"})
	}
	nid := r.PathValue("id")
	if _, err := s.store.GetNotification(r.Context(), k.WorkspaceID, nid); err != nil {
		return err
	}
	ds, next, err := s.store.ListDeliveries(r.Context(), k.WorkspaceID, nid, status, p)
	if err != nil {
		return notify.CursorError(err)
	}
	addrs, err := send.Addresses(r.Context(), s.store, k.WorkspaceID, ds)
	if err != nil {
		return err
	}
	views := make([]deliveryView, len(ds))
	for i, d := range ds {
		addr := addrs[i]
		views[i] = deliveryView{UserID: d.UserID, Address: addr, Channel: d.Channel, Status: d.Status, Reason: d.Reason,
			ProviderMessageID: d.ProviderMessageID, Encoding: d.Encoding, Segments: d.Segments, Answer: d.Answer, AnsweredAt: d.AnsweredAt,
			CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	}
	writeList(w, views, next)
	return nil
}

func (s *Server) cancelNotification(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	id := r.PathValue("id")
	n, err := send.Cancel(r.Context(), s.store, k.WorkspaceID, id)
	if err != nil {
		return err
	}
	if n.ScheduleAt != nil && s.campaigns != nil {
		// Cancelled is enough to keep it from sending; its schedule goes
		// too (or is left to the repair, when the scheduler fails now).
		s.campaigns.CancelSend(r.Context(), k.WorkspaceID, id)
	}
	if !reads(k) {
		writeJSON(w, http.StatusOK, receipt{ID: n.ID, Status: string(n.Status), UpdatedAt: &n.UpdatedAt})
		return nil
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if s.outbox == nil {
		return notify.Errorf(notify.CodeNotFound, "the outbox exists only in local mode")
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	ch := notify.Channel(r.URL.Query().Get("channel"))
	if ch != "" && !ch.Valid() {
		return notify.Invalid(notify.FieldError{Field: "channel", Problem: "must be " + notify.ChannelList})
	}
	entries, next, err := s.outbox.ListOutbox(r.Context(), k.WorkspaceID, ch, r.URL.Query().Get("address"), p)
	if err != nil {
		return notify.CursorError(err)
	}
	writeList(w, entries, next)
	return nil
}
