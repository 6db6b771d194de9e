// Package send turns the body of a send (POST /v1/notifications) into a
// notification and its dispatch messages, once for everyone who sends: the
// API now, and the scheduler function when a campaign or a scheduled send
// runs. Validation is the same for all of them, so a campaign is checked
// when it is saved exactly as its runs will be.
package send

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/render"
)

// Input is the body of a send.
type Input struct {
	Channel        notify.Channel    `json:"channel"`
	Fallback       []notify.Channel  `json:"fallback"`
	TemplateID     string            `json:"templateId"`
	Variables      map[string]string `json:"variables"`
	Content        *ContentInput     `json:"content"`
	Audience       *AudienceInput    `json:"audience"`
	Category       string            `json:"category"`
	RecipientType  string            `json:"recipientType"`
	Urgent         bool              `json:"urgent"`
	IgnorePresence bool              `json:"ignorePresence"`
	ScheduleAt     *time.Time        `json:"scheduleAt"`
}

// ContentInput is content written inline instead of a template.
type ContentInput struct {
	Title    string                   `json:"title"`
	Body     string                   `json:"body"`
	Route    string                   `json:"route"`
	Push     *notify.PushExtras       `json:"push"`
	Email    *notify.EmailExtras      `json:"email"`
	WhatsApp *notify.WhatsAppTemplate `json:"whatsapp"`
}

// AudienceInput names the recipients: exactly one of its parts.
type AudienceInput struct {
	UserIDs       []string        `json:"userIds"`
	Addresses     []string        `json:"addresses"`
	Filter        json.RawMessage `json:"filter"`
	ExpectedCount *int            `json:"expectedCount"`
	UploadID      string          `json:"uploadId"`
}

// Enqueuer puts messages on a queue; notify.Queue is one.
type Enqueuer interface {
	Send(ctx context.Context, bodies [][]byte) error
}

// Store is what a send needs of the store: the template it names, the
// users of a list audience (their variables, a dry run's rules), the users
// a filter selects (counted, not read one by one) and the notification it
// creates. Declared here, as narrow as the calls, so that a fake of it in
// a test is four methods and not the whole notify.Store.
type Store interface {
	GetTemplate(ctx context.Context, workspaceID, id string) (notify.Template, error)
	GetUsers(ctx context.Context, workspaceID string, ids []string) (map[string]notify.User, error)
	ListUsers(ctx context.Context, workspaceID string, f notify.UserFilter, p notify.Page) ([]notify.User, string, error)
	CreateNotification(ctx context.Context, n notify.Notification) error
}

// Sender prepares and starts sends.
type Sender struct {
	Store Store
	// Dispatch is the dispatch queue; Steps the audience queue, where
	// filter sends start their walks (nil: filter audiences are refused).
	Dispatch Enqueuer
	Steps    Enqueuer
	IDs      *notify.IDs
	Now      func() time.Time
	Log      *slog.Logger
	// MaxListRecipients bounds userIds and addresses (10,000 when 0).
	MaxListRecipients int
	// DefaultRegion reads phone numbers written without a + prefix.
	DefaultRegion string
}

// Mode says what a preparation is for.
type Mode int

// Modes. Send and Schedule count a filter audience and hold it to the
// caller's expectedCount; DryRun counts without holding; Save checks
// everything but counts nothing (a campaign's audience is resolved when it
// runs); Run counts and sends whatever the audience is then.
const (
	ModeSend Mode = iota
	ModeDryRun
	ModeSchedule
	ModeSave
	ModeRun
)

// Options of one preparation.
type Options struct {
	Mode Mode
	// WorkspaceID and By name who sends (By is shown as createdBy).
	WorkspaceID string
	By          string
	// ID is the notification's id; empty makes a new one. A campaign's run
	// gives the id its scheduled time determines, so that a retried run
	// makes the same notification.
	ID string
	// Source overrides the source the audience gives (campaign).
	Source notify.Source
	// Origin is where the send was made (the API, the console, a
	// campaign's run), stamped on the notification so that the history
	// can be filtered by it; a scheduled send's run gives the origin it
	// was scheduled with.
	Origin notify.Origin
	// Template, when it is the send's template, is used as it is instead
	// of the stored one: a scheduled send keeps the version it was
	// scheduled with, whatever became of the template since.
	Template *notify.Template
}

// Prepared is a validated send: its notification, and either its
// recipients (a list) or its filter and the filter's count.
type Prepared struct {
	N          notify.Notification
	Recipients []notify.Recipient
	Filter     *notify.UserFilter
	Count      audience.Count
	// Retried says a failed Execute will be retried with the same
	// notification (a campaign's run): a failed enqueue then records
	// nothing, so that the retry can still create the notification.
	Retried bool
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Prepare validates a send and builds its notification and recipients.
// Its steps: validate the body (nothing is read but the template), build
// the notification, and then, by Mode, check that the recipients can fill
// the variables and count and hold a filter audience.
func (s *Sender) Prepare(ctx context.Context, o Options, in Input) (Prepared, error) {
	v, err := s.validate(ctx, o, in)
	if err != nil {
		return Prepared{}, err
	}
	p := Prepared{N: s.notification(o, in, v), Recipients: v.recipients}
	switch {
	case o.Mode == ModeSave:
		// A campaign's recipients are known when it runs, and checked then.
		p.Filter = v.filter
		return p, nil
	case v.filter == nil:
		if err := s.checkListVariables(ctx, o.WorkspaceID, v.recipients, v.unfilled); err != nil {
			return Prepared{}, err
		}
		return p, nil
	}
	return s.countFilter(ctx, o.Mode, in.Audience.ExpectedCount, p, v.filter, v.unfilled)
}

// valid is a send that passed validate: what its notification is made of.
type valid struct {
	content    notify.Template
	recipients []notify.Recipient
	source     notify.Source
	filter     *notify.UserFilter
	// unfilled are the variables the content needs and the send does not
	// give: the recipients' profiles must.
	unfilled []string
}

// validate checks everything a send says, collecting every problem into
// one validation error so the caller fixes them all at once; only the
// template is read. A store error ends it early.
func (s *Sender) validate(ctx context.Context, o Options, in Input) (valid, error) {
	if err := notify.CheckText(in, ""); err != nil {
		return valid{}, err
	}
	bad := checkFields(in)
	content, cbad, err := s.content(ctx, o, in)
	if err != nil {
		return valid{}, err
	}
	bad = append(bad, cbad...)
	recipients, source, abad := s.audience(in)
	bad = append(bad, abad...)
	var filter *notify.UserFilter
	if in.Audience != nil && in.Audience.Filter != nil && len(abad) == 0 {
		var fbad []notify.FieldError
		if filter, fbad, err = s.audienceFilter(in.Audience.Filter); err != nil {
			return valid{}, err
		}
		bad = append(bad, fbad...)
	}
	// Variables the send itself does not give must come from the
	// recipients' profiles; recipients by address have none.
	var unfilled []string
	if len(bad) == 0 {
		unfilled = unfilledVariables(content, in.Variables)
		if in.Audience.Addresses != nil {
			bad = append(bad, noValue(unfilled, "recipients by address have no profile to fill it")...)
			unfilled = nil
		}
	}
	if len(bad) > 0 {
		return valid{}, notify.Invalid(bad...)
	}
	return valid{content: content, recipients: recipients, source: source, filter: filter, unfilled: unfilled}, nil
}

// checkFields checks the parts of a send that need nothing but the body
// itself (channels, variables, category, recipient type, and that the
// message is a template or inline content), so that their problems are
// reported together with the content's and the audience's.
func checkFields(in Input) []notify.FieldError {
	var bad []notify.FieldError
	add := func(f, p string) { bad = append(bad, notify.FieldError{Field: f, Problem: p}) }
	if !in.Channel.Valid() {
		add("channel", "must be "+notify.ChannelList)
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
		if len(v) > profile.MaxAttributeValue {
			add("variables."+name, fmt.Sprintf("at most %d characters", profile.MaxAttributeValue))
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
	if (in.TemplateID == "") == (in.Content == nil) {
		add("templateId", "give exactly one of templateId or content")
	}
	return bad
}

// content is the message the send delivers: its inline content, checked
// as a template is, or its template (the one Options fixed, or the stored
// one). With neither, or both, there is none; checkFields says so.
func (s *Sender) content(ctx context.Context, o Options, in Input) (notify.Template, []notify.FieldError, error) {
	switch {
	case in.Content != nil:
		if !in.Channel.Valid() {
			return notify.Template{}, nil, nil // checkFields names the channel
		}
		t, bad := inlineContent(in)
		return t, bad, nil
	case in.TemplateID == "":
		return notify.Template{}, nil, nil
	case o.Template != nil && o.Template.ID == in.TemplateID:
		return *o.Template, nil, nil
	}
	return s.storedTemplate(ctx, o.WorkspaceID, in)
}

// inlineContent checks content written in the send, as a template is
// checked when it is saved, and finds its variables. Free-form WhatsApp
// text is refused for more than one recipient: Meta delivers it only
// inside a user's 24-hour window, which a list does not share.
func inlineContent(in Input) (notify.Template, []notify.FieldError) {
	c := in.Content
	t, bad := ValidContent(in.Channel, c.Title, c.Body, c.Route, c.Push, c.Email, c.WhatsApp, nil, "content.")
	t.Variables = render.TemplateVariables(t)
	if in.Channel == notify.ChannelWhatsApp && c.WhatsApp == nil && in.Audience != nil && len(in.Audience.UserIDs)+len(in.Audience.Addresses) != 1 {
		bad = append(bad, notify.FieldError{Field: "content", Problem: "free-form WhatsApp text may only go to one user inside the 24-hour window; use an approved template"})
	}
	return t, bad
}

// storedTemplate reads the send's template and checks it may be sent on
// the send's channel: a missing template, one for another channel or a
// draft is the caller's mistake (a field error), a store error is not.
func (s *Sender) storedTemplate(ctx context.Context, workspaceID string, in Input) (notify.Template, []notify.FieldError, error) {
	problem := func(p string) (notify.Template, []notify.FieldError, error) {
		return notify.Template{}, []notify.FieldError{{Field: "templateId", Problem: p}}, nil
	}
	t, err := s.Store.GetTemplate(ctx, workspaceID, in.TemplateID)
	switch {
	case notify.IsCode(err, notify.CodeNotFound):
		return problem("no such template")
	case err != nil:
		return notify.Template{}, nil, fmt.Errorf("read template %s: %w", in.TemplateID, err)
	case t.Channel != in.Channel:
		return problem(fmt.Sprintf("the template is for %s, not %s", t.Channel, in.Channel))
	case t.SendProblem() != "":
		return problem(t.SendProblem())
	}
	return t, nil, nil
}

// audienceFilter parses a filter audience. It needs the audience queue,
// where filter sends walk their users: a deployment without one refuses
// them when they are written, not when they would run.
func (s *Sender) audienceFilter(raw json.RawMessage) (*notify.UserFilter, []notify.FieldError, error) {
	f, err := ParseFilter(raw, "audience.filter.")
	var ne *notify.Error
	switch {
	case errors.As(err, &ne):
		return nil, ne.Details, nil
	case err != nil:
		return nil, nil, err
	case s.Steps == nil:
		return nil, []notify.FieldError{{Field: "audience.filter", Problem: "filter audiences need the audience queue, which this deployment lacks"}}, nil
	}
	return &f, nil, nil
}

// notification is the notification a valid send makes, queued and counted
// as its list; a filter's counts come from countFilter. Its id is the one
// Options gives (a campaign's run, so that a retried run makes the same
// notification) or a new one.
func (s *Sender) notification(o Options, in Input, v valid) notify.Notification {
	now := s.now().UTC().Truncate(time.Millisecond)
	content := v.content
	if content.Route == "" {
		content.Route = render.DefaultRoute
	}
	kind := "userIds"
	switch {
	case v.filter != nil:
		kind = "filter"
	case len(in.Audience.Addresses) > 0:
		kind = "addresses"
	}
	source := v.source
	if o.Source != "" {
		source = o.Source
	}
	id := o.ID
	if id == "" {
		id = s.IDs.New(now)
	}
	n := notify.Notification{
		WorkspaceID:     o.WorkspaceID,
		ID:              id,
		Channel:         in.Channel,
		Fallback:        in.Fallback,
		Source:          source,
		Origin:          o.Origin,
		RecipientType:   in.RecipientType,
		Route:           content.Route,
		TemplateID:      content.ID,
		TemplateVersion: content.Version,
		Variables:       in.Variables,
		Category:        in.Category,
		Urgent:          in.Urgent,
		IgnorePresence:  in.IgnorePresence,
		Audience:        notify.Audience{Kind: kind, Count: len(v.recipients)},
		Status:          notify.StatusQueued,
		Counts:          notify.Counts{Total: int64(len(v.recipients)), Queued: int64(len(v.recipients))},
		CreatedAt:       now,
		UpdatedAt:       now,
		CreatedBy:       o.By,
		Content:         content,
	}
	n.Title, n.Body = content.Summary()
	return n
}

// checkListVariables refuses a list send when a variable it does not give
// is supplied by none of its users: every delivery would fail.
func (s *Sender) checkListVariables(ctx context.Context, workspaceID string, recipients []notify.Recipient, unfilled []string) error {
	if len(unfilled) == 0 {
		return nil
	}
	lacking, err := s.lackingVariables(ctx, workspaceID, recipients, unfilled)
	if err != nil {
		return err
	}
	if len(lacking) > 0 {
		return notify.Invalid(noValue(lacking, "and none of the users has it in their profile or attributes")...)
	}
	return nil
}

// countFilter counts a filter audience for p and gives p its counts. A
// send or a schedule is then held to the count the operator saw (want,
// expectedCount), so that nobody sends to a million users by mistake; a
// dry run only reports it and a campaign's run sends whatever it is.
func (s *Sender) countFilter(ctx context.Context, mode Mode, want *int, p Prepared, f *notify.UserFilter, unfilled []string) (Prepared, error) {
	c, err := audience.CountFilter(ctx, s.Store, p.N.WorkspaceID, *f, p.N, unfilled...)
	if err != nil {
		return Prepared{}, fmt.Errorf("count the audience: %w", err)
	}
	if c.Matched > 0 && len(c.Lacking) > 0 {
		return Prepared{}, notify.Invalid(noValue(c.Lacking, "and none of the users the filter selects has it in their profile or attributes")...)
	}
	p.Filter, p.Count = f, c
	p.N.Audience.Count = c.Matched
	p.N.Counts = audience.InitialCounts(c)
	if mode == ModeDryRun || mode == ModeRun {
		return p, nil
	}
	if err := holdToExpected(c, want); err != nil {
		return Prepared{}, err
	}
	return p, nil
}

// holdToExpected refuses a filter send that selects nobody, or whose
// count is not the expectedCount the operator gave: the audience changed
// since the dry run, or the operator never looked (audience_changed
// carries the count now).
func holdToExpected(c audience.Count, want *int) error {
	if c.Matched == 0 {
		return notify.Invalid(notify.FieldError{Field: "audience.filter", Problem: "selects no users"})
	}
	if want == nil || *want != c.Recipients {
		msg := fmt.Sprintf("the audience reaches %s now; check it with a dry run and send with expectedCount %d", notify.Quantity(c.Recipients, "user", "users"), c.Recipients)
		if want == nil {
			msg = fmt.Sprintf("a filter send needs expectedCount, the count the operator saw: %d now", c.Recipients)
		}
		return &notify.Error{Code: notify.CodeAudienceChanged, Message: msg, CurrentCount: &c.Recipients}
	}
	return nil
}

// Execute starts a prepared send: the messages go first and the
// notification after them. Dispatch (and the audience walk) sends nothing
// for a notification that does not exist, so a crash or an error in
// between leaves nothing half sent, and a retry is the only send.
func (s *Sender) Execute(ctx context.Context, p Prepared) (notify.Notification, error) {
	n := p.N
	if err := s.Enqueue(ctx, p); err != nil {
		if p.Retried {
			return n, fmt.Errorf("enqueue notification %s: %w", n.ID, err)
		}
		// What did get enqueued finds the notification failed and sends
		// nothing; its recipients are counted (and will be recorded as
		// skipped), the others never will be: they are not counted.
		n.Status = notify.StatusFailed
		n.Counts = enqueuedCounts(p, err)
		if cerr := s.Store.CreateNotification(ctx, n); cerr != nil && s.Log != nil {
			s.Log.Error("record failed notification", "notificationId", n.ID, "err", cerr.Error())
		}
		return n, fmt.Errorf("enqueue notification %s: %w", n.ID, err)
	}
	if err := s.Store.CreateNotification(ctx, n); err != nil {
		return n, fmt.Errorf("create notification: %w", err)
	}
	if s.Log != nil {
		s.Log.Info("notification queued", "workspaceId", n.WorkspaceID, "notificationId", n.ID, "channel", n.Channel, "recipients", n.Audience.Count, "source", n.Source, "origin", n.Origin)
	}
	return n, nil
}

// Enqueue sends a list's dispatch messages, or a filter's walk, of a
// notification that exists (a scheduled send when its time comes); the
// messages are the same on every call, so a retry sends nothing twice.
func (s *Sender) Enqueue(ctx context.Context, p Prepared) error {
	if p.Filter != nil {
		return s.Steps.Send(ctx, audience.Jobs(p.N, *p.Filter, p.Count))
	}
	return s.Dispatch.Send(ctx, Messages(p.N, p.Recipients))
}

// enqueuedCounts are the counts of a send whose Enqueue failed with err:
// only the recipients of the messages that did go (the audience steps that
// did, for a filter), which dispatch (or the walk) will settle; the rest
// never reach a queue and would stay queued for ever.
func enqueuedCounts(p Prepared, err error) notify.Counts {
	var c notify.Counts
	if p.Filter != nil {
		lost := notify.NotEnqueued(err, audience.Segments)
		for seg := range audience.Segments {
			if !lost[seg] {
				c.Total += int64(p.Count.BySegment[seg])
				c.Queued += int64(p.Count.BySegment[seg] + 1) // the walk's own one
			}
		}
		return c
	}
	lost := notify.NotEnqueued(err, (len(p.Recipients)+notify.RecipientsPerMessage-1)/notify.RecipientsPerMessage)
	for i := 0; i < len(p.Recipients); i += notify.RecipientsPerMessage {
		if !lost[i/notify.RecipientsPerMessage] {
			n := int64(min(notify.RecipientsPerMessage, len(p.Recipients)-i))
			c.Total += n
			c.Queued += n
		}
	}
	return c
}

// Messages packs recipients into dispatch messages of a notification, 100
// to a message; the chunk ids depend only on the notification and the
// order, so the same send makes the same messages.
func Messages(n notify.Notification, recipients []notify.Recipient) [][]byte {
	var bodies [][]byte
	for i, c := 0, 0; i < len(recipients); i, c = i+notify.RecipientsPerMessage, c+1 {
		end := min(i+notify.RecipientsPerMessage, len(recipients))
		b, _ := json.Marshal(notify.DispatchMessage{
			WorkspaceID: n.WorkspaceID, NotificationID: n.ID,
			Chunk: fmt.Sprintf("%s:%d", n.ID, c), Recipients: recipients[i:end],
		})
		bodies = append(bodies, b)
	}
	return bodies
}

// unfilledVariables lists the variables content needs that the send's own
// variables do not give, sorted.
func unfilledVariables(content notify.Template, given map[string]string) []string {
	var out []string
	for _, v := range render.Required(content) {
		if _, ok := given[v]; !ok {
			out = append(out, v)
		}
	}
	return out
}

// noValue is the complaint about variables nothing will fill: every
// delivery of the send would fail, so the send is refused.
func noValue(names []string, why string) []notify.FieldError {
	bad := make([]notify.FieldError, len(names))
	for i, name := range names {
		bad[i] = notify.FieldError{Field: "variables." + name,
			Problem: fmt.Sprintf("the message needs {{%s}}: give it in variables (%s)", name, why)}
	}
	return bad
}

// lackingVariables returns the names that no user of recipients supplies
// (render.UserVariables), reading the users 100 at a time and stopping
// as soon as every name has been found. A user who lacks one fails alone,
// as a delivery, when the send goes; when none of the users exists there
// is nothing to say.
func (s *Sender) lackingVariables(ctx context.Context, workspaceID string, recipients []notify.Recipient, names []string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	known := 0
	for i := 0; i < len(recipients) && len(want) > 0; i += 100 {
		var ids []string
		for _, rc := range recipients[i:min(i+100, len(recipients))] {
			if rc.UserID != "" {
				ids = append(ids, rc.UserID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		users, err := s.Store.GetUsers(ctx, workspaceID, ids)
		if err != nil {
			return nil, fmt.Errorf("read the audience's users: %w", err)
		}
		known += len(users)
		for _, u := range users {
			for name := range want {
				if render.UserVariable(u, name) != "" {
					delete(want, name)
				}
			}
		}
	}
	if known == 0 {
		// Nobody to fill them, and nobody to send to: every delivery is
		// skipped as an unknown user, which says more than a variable would.
		return nil, nil
	}
	var out []string
	for _, n := range names {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// Reach counts who a filter reaches on a channel, before any content is
// written: the dry run's rules (consent, permission, devices, addresses,
// the category's opt-outs) without a message. The console's "Send
// notification to N users" shows it as filters change.
func (s *Sender) Reach(ctx context.Context, ws string, f notify.UserFilter, ch notify.Channel, category string) (audience.Count, error) {
	if !ch.Valid() {
		return audience.Count{}, notify.Invalid(notify.FieldError{Field: "channel", Problem: "must be " + notify.ChannelList})
	}
	if err := ValidFilter(f, "filter"); err != nil {
		return audience.Count{}, err
	}
	c, err := audience.CountFilter(ctx, s.Store, ws, f, notify.Notification{WorkspaceID: ws, Channel: ch, Category: category})
	if err != nil {
		return c, fmt.Errorf("count the audience: %w", err)
	}
	return c, nil
}
