package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldhq/herald/shared/address"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/seal"
)

// sendInput is the body of POST /v1/notifications.
type sendInput struct {
	Channel        notify.Channel    `json:"channel"`
	Fallback       []notify.Channel  `json:"fallback"`
	TemplateID     string            `json:"templateId"`
	Variables      map[string]string `json:"variables"`
	Content        *contentInput     `json:"content"`
	Audience       *audienceInput    `json:"audience"`
	Category       string            `json:"category"`
	RecipientType  string            `json:"recipientType"`
	Urgent         bool              `json:"urgent"`
	IgnorePresence bool              `json:"ignorePresence"`
	ScheduleAt     *time.Time        `json:"scheduleAt"`
}

type contentInput struct {
	Title    string                   `json:"title"`
	Body     string                   `json:"body"`
	Route    string                   `json:"route"`
	Push     *notify.PushExtras       `json:"push"`
	Email    *notify.EmailExtras      `json:"email"`
	WhatsApp *notify.WhatsAppTemplate `json:"whatsapp"`
}

type audienceInput struct {
	UserIDs       []string        `json:"userIds"`
	Addresses     []string        `json:"addresses"`
	Filter        json.RawMessage `json:"filter"`
	ExpectedCount *int            `json:"expectedCount"`
	UploadID      string          `json:"uploadId"`
}

type sendResult struct {
	ID         string        `json:"id"`
	Status     notify.Status `json:"status"`
	Recipients int           `json:"recipients"`
}

func (s *Server) sendNotification(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	return s.idempotent(w, r, k, func(body []byte) (int, any, error) {
		var in sendInput
		if err := decodeBytes(body, &in); err != nil {
			return 0, nil, err
		}
		p, err := s.prepareSend(r, k, in, false)
		if err != nil {
			return 0, nil, err
		}
		n, recipients := p.n, p.recipients
		// The messages go first and the notification after them: dispatch
		// (and the audience walk) sends nothing for a notification that
		// does not exist, so a crash or an error in between leaves nothing
		// half sent, and the caller's retry is the only send.
		enqueue := func() error { return s.enqueue(r, n, recipients) }
		if p.filter != nil {
			enqueue = func() error { return s.steps.Send(r.Context(), audience.Jobs(n, *p.filter, p.count)) }
		}
		if err := enqueue(); err != nil {
			// What did get enqueued finds the notification failed and sends
			// nothing.
			n.Status = notify.StatusFailed
			if cerr := s.store.CreateNotification(r.Context(), n); cerr != nil {
				s.log.Error("record failed notification", "notificationId", n.ID, "err", cerr.Error())
			}
			return 0, nil, fmt.Errorf("enqueue notification %s: %w", n.ID, err)
		}
		if err := s.store.CreateNotification(r.Context(), n); err != nil {
			return 0, nil, fmt.Errorf("create notification: %w", err)
		}
		s.log.Info("notification queued", "workspaceId", n.WorkspaceID, "notificationId", n.ID, "channel", n.Channel, "recipients", n.Audience.Count)
		return http.StatusAccepted, sendResult{ID: n.ID, Status: n.Status, Recipients: n.Audience.Count}, nil
	})
}

// preparedSend is a validated send: its notification, and either its
// recipients (a list) or its filter and the filter's count.
type preparedSend struct {
	n          notify.Notification
	recipients []notify.Recipient
	filter     *notify.UserFilter
	count      audience.Count
}

// prepareSend validates a send and builds its notification and recipients.
// A filter audience is counted; unless dryRun, the count must be the
// caller's expectedCount.
func (s *Server) prepareSend(r *http.Request, k notify.APIKey, in sendInput, dryRun bool) (preparedSend, error) {
	var bad []notify.FieldError
	add := func(f, p string) { bad = append(bad, notify.FieldError{Field: f, Problem: p}) }
	if !in.Channel.Valid() {
		add("channel", "must be push, webpush, sms, email or whatsapp")
	}
	seenFallback := map[notify.Channel]bool{in.Channel: true}
	for i, f := range in.Fallback {
		if !f.Valid() || seenFallback[f] {
			add(fmt.Sprintf("fallback[%d]", i), "must be another channel, each at most once")
		}
		seenFallback[f] = true
	}
	if len(in.Variables) > 100 {
		add("variables", "at most 100 variables")
	}
	for name, v := range in.Variables {
		if len(v) > maxAttributeValue {
			add("variables."+name, fmt.Sprintf("at most %d characters", maxAttributeValue))
		}
	}
	if len(in.Category) > 64 {
		add("category", "at most 64 characters")
	}
	switch in.RecipientType {
	case "", "client", "newsletter":
	default:
		add("recipientType", "must be client or newsletter")
	}
	if in.ScheduleAt != nil && in.ScheduleAt.After(s.now()) {
		add("scheduleAt", "scheduled sends are not available yet; send now or leave scheduleAt out")
	}
	if (in.TemplateID == "") == (in.Content == nil) {
		add("templateId", "give exactly one of templateId or content")
	}
	var content notify.Template
	if in.Content != nil && in.Channel.Valid() {
		c := in.Content
		var cbad []notify.FieldError
		content, cbad = validContent(in.Channel, c.Title, c.Body, c.Route, c.Push, c.Email, c.WhatsApp, nil, "content.")
		bad = append(bad, cbad...)
		content.Variables = render.TemplateVariables(content)
		if in.Channel == notify.ChannelWhatsApp && c.WhatsApp == nil && in.Audience != nil && len(in.Audience.UserIDs)+len(in.Audience.Addresses) != 1 {
			add("content", "free-form WhatsApp text may only go to one user inside the 24-hour window; use an approved template")
		}
	}
	if in.TemplateID != "" && in.Content == nil {
		t, err := s.store.GetTemplate(r.Context(), k.WorkspaceID, in.TemplateID)
		switch {
		case notify.IsCode(err, notify.CodeNotFound):
			add("templateId", "no such template")
		case err != nil:
			return preparedSend{}, err
		case t.Channel != in.Channel:
			add("templateId", fmt.Sprintf("the template is for %s, not %s", t.Channel, in.Channel))
		case t.SendProblem() != "":
			add("templateId", t.SendProblem())
		default:
			content = t
		}
	}
	recipients, source, abad := s.audience(in)
	bad = append(bad, abad...)
	var filter *notify.UserFilter
	if in.Audience != nil && in.Audience.Filter != nil && len(abad) == 0 {
		f, err := parseFilter(in.Audience.Filter, "audience.filter.")
		var ne *notify.Error
		switch {
		case errors.As(err, &ne):
			bad = append(bad, ne.Details...)
		case err != nil:
			return preparedSend{}, err
		case s.steps == nil:
			add("audience.filter", "filter audiences need the audience queue, which this deployment lacks")
		default:
			filter = &f
		}
	}
	if len(bad) > 0 {
		return preparedSend{}, notify.Invalid(bad...)
	}

	now := s.now().UTC().Truncate(time.Millisecond)
	route := content.Route
	if route == "" {
		route = render.DefaultRoute
		content.Route = route
	}
	kind := "userIds"
	switch {
	case filter != nil:
		kind = "filter"
	case len(in.Audience.Addresses) > 0:
		kind = "addresses"
	}
	n := notify.Notification{
		WorkspaceID:     k.WorkspaceID,
		ID:              s.ids.New(now),
		Channel:         in.Channel,
		Fallback:        in.Fallback,
		Source:          source,
		RecipientType:   in.RecipientType,
		Route:           route,
		TemplateID:      content.ID,
		TemplateVersion: content.Version,
		Variables:       in.Variables,
		Category:        in.Category,
		Urgent:          in.Urgent,
		IgnorePresence:  in.IgnorePresence,
		Audience:        notify.Audience{Kind: kind, Count: len(recipients)},
		Status:          notify.StatusQueued,
		Counts:          notify.Counts{Total: int64(len(recipients)), Queued: int64(len(recipients))},
		CreatedAt:       now,
		UpdatedAt:       now,
		CreatedBy:       k.Name + " (" + k.ID + ")",
		Content:         content,
	}
	n.Title, n.Body = content.Summary()
	p := preparedSend{n: n, recipients: recipients}
	if filter == nil {
		return p, nil
	}
	c, err := audience.CountFilter(r.Context(), s.store, k.WorkspaceID, *filter, n)
	if err != nil {
		return preparedSend{}, fmt.Errorf("count the audience: %w", err)
	}
	p.filter, p.count = filter, c
	p.n.Audience.Count = c.Matched
	p.n.Counts = audience.InitialCounts(c)
	if dryRun {
		return p, nil
	}
	if c.Matched == 0 {
		return preparedSend{}, notify.Invalid(notify.FieldError{Field: "audience.filter", Problem: "selects no users"})
	}
	if want := in.Audience.ExpectedCount; want == nil || *want != c.Recipients {
		msg := fmt.Sprintf("the audience reaches %d users now; check it with a dry run and send with expectedCount %d", c.Recipients, c.Recipients)
		if want == nil {
			msg = fmt.Sprintf("a filter send needs expectedCount, the count the operator saw: %d now", c.Recipients)
		}
		return preparedSend{}, &notify.Error{Code: notify.CodeAudienceChanged, Message: msg, CurrentCount: &c.Recipients}
	}
	return p, nil
}

// dryRunResult is the answer of POST /v1/notifications:dryRun.
type dryRunResult struct {
	// Recipients is how many users the send would reach after the rules
	// known in advance; a filter send's expectedCount must equal it.
	Recipients int `json:"recipients"`
	// Users is how many the audience selects, skipped ones included.
	Users   int            `json:"users"`
	Skipped map[string]int `json:"skipped"`
	Sample  []notify.User  `json:"sample"`
}

// dryRun answers POST /v1/notifications:dryRun: the same body as a send,
// validated the same way, and what the send would reach; nothing is sent
// or stored.
func (s *Server) dryRun(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in sendInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.prepareSend(r, k, in, true)
	if err != nil {
		return err
	}
	var c audience.Count
	switch {
	case p.filter != nil:
		c = p.count
	default:
		if c, err = s.countList(r, k.WorkspaceID, p); err != nil {
			return err
		}
	}
	sample := make([]notify.User, len(c.Sample))
	for i, u := range c.Sample {
		sample[i] = userView(u)
	}
	writeJSON(w, http.StatusOK, dryRunResult{Recipients: c.Recipients, Users: c.Matched, Skipped: c.Skipped, Sample: sample})
	return nil
}

// countList applies the standing rules to a list audience: users by id
// (unknown ones are skipped as unknown_user) or raw addresses (all reached).
func (s *Server) countList(r *http.Request, workspaceID string, p preparedSend) (audience.Count, error) {
	c := audience.Count{Matched: len(p.recipients), Skipped: map[string]int{}}
	for i := 0; i < len(p.recipients); i += 100 {
		batch := p.recipients[i:min(i+100, len(p.recipients))]
		var ids []string
		for _, rc := range batch {
			if rc.UserID != "" {
				ids = append(ids, rc.UserID)
			}
		}
		users := map[string]notify.User{}
		if len(ids) > 0 {
			var err error
			if users, err = s.store.GetUsers(r.Context(), workspaceID, ids); err != nil {
				return c, err
			}
		}
		for _, rc := range batch {
			if rc.UserID == "" {
				c.Recipients++
				continue
			}
			u, ok := users[rc.UserID]
			reason := notify.ReasonUnknownUser
			if ok {
				reason = notify.StandingSkip(p.n, p.n.Channel, u)
			}
			if reason != "" {
				c.Skipped[reason]++
				continue
			}
			c.Recipients++
			if len(c.Sample) < audience.SampleSize {
				c.Sample = append(c.Sample, u)
			}
		}
	}
	return c, nil
}

// audience validates the audience and returns its recipients, deduplicated.
func (s *Server) audience(in sendInput) ([]notify.Recipient, notify.Source, []notify.FieldError) {
	a := in.Audience
	if a == nil {
		return nil, "", []notify.FieldError{{Field: "audience", Problem: "required: userIds or addresses"}}
	}
	given := 0
	for _, set := range []bool{a.UserIDs != nil, a.Addresses != nil, a.Filter != nil, a.UploadID != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, "", []notify.FieldError{{Field: "audience", Problem: "give exactly one of userIds, addresses, filter or uploadId"}}
	}
	if a.UploadID != "" {
		return nil, "", []notify.FieldError{{Field: "audience.uploadId", Problem: "a spreadsheet is sent by its upload: POST /v1/uploads with the templateId and channel, then PUT the file to its uploadUrl; the upload creates the notification (GET /v1/uploads/{id} names it)"}}
	}
	if a.Filter != nil {
		return nil, notify.SourceFilter, nil
	}
	max := s.cfg.MaxListRecipients
	var out []notify.Recipient
	var bad []notify.FieldError
	seen := map[string]bool{}
	if a.UserIDs != nil {
		if len(a.UserIDs) == 0 || len(a.UserIDs) > max {
			return nil, "", []notify.FieldError{{Field: "audience.userIds", Problem: fmt.Sprintf("1 to %d user ids; larger audiences use a filter or an upload", max)}}
		}
		for i, id := range a.UserIDs {
			if validID("", id) != nil {
				bad = append(bad, notify.FieldError{Field: fmt.Sprintf("audience.userIds[%d]", i), Problem: "not a valid user id"})
				if len(bad) >= 10 {
					break
				}
				continue
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, notify.Recipient{UserID: id})
			}
		}
	} else {
		if len(a.Addresses) == 0 || len(a.Addresses) > max {
			return nil, "", []notify.FieldError{{Field: "audience.addresses", Problem: fmt.Sprintf("1 to %d addresses; larger audiences use an upload", max)}}
		}
		kind := in.Channel.AddressKind()
		if kind == "" {
			return nil, "", []notify.FieldError{{Field: "audience.addresses", Problem: "push and webpush go to users' devices: use userIds"}}
		}
		for i, addr := range a.Addresses {
			norm, err := address.Normalize(kind, addr, s.cfg.DefaultRegion)
			if err != nil {
				bad = append(bad, notify.FieldError{Field: fmt.Sprintf("audience.addresses[%d]", i), Problem: err.Error()})
				if len(bad) >= 10 {
					break
				}
				continue
			}
			if !seen[norm] {
				seen[norm] = true
				out = append(out, notify.Recipient{Address: norm})
			}
		}
	}
	source := notify.SourceList
	if len(out) == 1 {
		source = notify.SourceSingle
	}
	return out, source, bad
}

// enqueue packs the recipients into dispatch messages and sends them.
func (s *Server) enqueue(r *http.Request, n notify.Notification, recipients []notify.Recipient) error {
	var bodies [][]byte
	for i, c := 0, 0; i < len(recipients); i, c = i+notify.RecipientsPerMessage, c+1 {
		end := min(i+notify.RecipientsPerMessage, len(recipients))
		b, err := json.Marshal(notify.DispatchMessage{
			WorkspaceID: n.WorkspaceID, NotificationID: n.ID,
			Chunk: fmt.Sprintf("%s:%d", n.ID, c), Recipients: recipients[i:end],
		})
		if err != nil {
			return err
		}
		bodies = append(bodies, b)
	}
	return s.queue.Send(r.Context(), bodies)
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
		Source: notify.Source(q.Get("source")), Status: notify.Status(q.Get("status")),
	}
	var bad []notify.FieldError
	if nq.Channel != "" && !nq.Channel.Valid() {
		bad = append(bad, notify.FieldError{Field: "channel", Problem: "must be push, webpush, sms, email or whatsapp"})
	}
	switch nq.Source {
	case "", notify.SourceSingle, notify.SourceList, notify.SourceFilter, notify.SourceSpreadsheet, notify.SourceCampaign:
	default:
		bad = append(bad, notify.FieldError{Field: "source", Problem: "must be single, list, filter, spreadsheet or campaign"})
	}
	switch nq.Status {
	case "", notify.StatusQueued, notify.StatusSending, notify.StatusCompleted, notify.StatusCancelled, notify.StatusFailed:
	default:
		bad = append(bad, notify.FieldError{Field: "status", Problem: "must be queued, sending, completed, cancelled or failed"})
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
		return cursorError(err)
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
		return cursorError(err)
	}
	// Addresses of users are sealed with the user's key; a deleted user's
	// deliveries keep only the id.
	var ids []string
	for _, d := range ds {
		if d.UserID != "" && seal.IsSealed(d.Address) {
			ids = append(ids, d.UserID)
		}
	}
	users := map[string]notify.User{}
	if len(ids) > 0 {
		if users, err = s.store.GetUsers(r.Context(), k.WorkspaceID, ids); err != nil {
			return err
		}
	}
	views := make([]deliveryView, len(ds))
	for i, d := range ds {
		addr := d.Address
		if seal.IsSealed(addr) {
			addr = ""
			if u, ok := users[d.UserID]; ok {
				if opened, err := seal.Open(u.SealKey, d.Address); err == nil {
					addr = opened
				}
			}
		}
		if addr == "" && d.UserID != "" {
			addr = d.UserID
		}
		views[i] = deliveryView{UserID: d.UserID, Address: addr, Channel: d.Channel, Status: d.Status, Reason: d.Reason,
			ProviderMessageID: d.ProviderMessageID, Encoding: d.Encoding, Segments: d.Segments, Answer: d.Answer, AnsweredAt: d.AnsweredAt,
			CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	}
	writeList(w, views, next)
	return nil
}

func (s *Server) cancelNotification(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	id := r.PathValue("id")
	n, err := s.store.SetNotificationStatus(r.Context(), k.WorkspaceID, id, notify.StatusCancelled, notify.StatusQueued, notify.StatusSending)
	if notify.IsCode(err, notify.CodeConflict) {
		cur, gerr := s.store.GetNotification(r.Context(), k.WorkspaceID, id)
		if gerr != nil {
			return gerr
		}
		return notify.Errorf(notify.CodeConflict, "notification %s is %s and can no longer be cancelled", id, cur.Status)
	}
	if err != nil {
		return err
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
		return notify.Invalid(notify.FieldError{Field: "channel", Problem: "must be push, webpush, sms, email or whatsapp"})
	}
	entries, next, err := s.outbox.ListOutbox(r.Context(), k.WorkspaceID, ch, r.URL.Query().Get("address"), p)
	if err != nil {
		return cursorError(err)
	}
	writeList(w, entries, next)
	return nil
}
