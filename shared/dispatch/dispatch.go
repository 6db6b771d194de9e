// Package dispatch delivers the recipients of queued dispatch messages: per
// recipient it loads the user, applies the delivery rules, renders the
// content, hands it to the channel's sender and records the delivery. It is
// the core of the dispatch Lambda and of the local mode's workers.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/seal"
)

// Store is what dispatch needs of the store.
type Store interface {
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
	SetNotificationStatus(ctx context.Context, workspaceID, id string, to notify.Status, from ...notify.Status) (notify.Notification, error)
	GetUsers(ctx context.Context, workspaceID string, ids []string) (map[string]notify.User, error)
	GetDeliveries(ctx context.Context, workspaceID, notificationID string, keys []string) (map[string]notify.Delivery, error)
	RecordDeliveries(ctx context.Context, ds []notify.Delivery) ([]bool, error)
	ApplyCounts(ctx context.Context, workspaceID, id string, parts []notify.CountPart) (notify.Notification, error)
	UpdateUser(ctx context.Context, workspaceID, id string, fn func(*notify.User) error) (notify.User, error)
}

// PushSender delivers mobile pushes.
type PushSender interface {
	SendPush(ctx context.Context, m channel.PushMessage) (channel.Receipt, error)
}

// WebPushSender delivers browser pushes.
type WebPushSender interface {
	SendWebPush(ctx context.Context, m channel.WebPushMessage) (channel.Receipt, error)
}

// SMSSender delivers text messages.
type SMSSender interface {
	SendSMS(ctx context.Context, m channel.SMSMessage) (channel.Receipt, error)
}

// EmailSender delivers emails.
type EmailSender interface {
	SendEmail(ctx context.Context, m channel.EmailMessage) (channel.Receipt, error)
}

// WhatsAppSender delivers WhatsApp messages.
type WhatsAppSender interface {
	SendWhatsApp(ctx context.Context, m channel.WhatsAppMessage) (channel.Receipt, error)
}

// Senders holds one sender per channel.
type Senders struct {
	Push     PushSender
	WebPush  WebPushSender
	SMS      SMSSender
	Email    EmailSender
	WhatsApp WhatsAppSender
}

// Message is one queue message handed to Handle.
type Message struct {
	ID   string
	Body []byte
}

// Dispatcher processes dispatch messages.
type Dispatcher struct {
	limits       map[notify.Channel]*limiter
	hints        map[notify.Channel]func(error) (time.Duration, bool)
	retry        Visibility
	requeue      Requeuer
	store        Store
	senders      Senders
	now          func() time.Time
	log          *slog.Logger
	concurrency  int
	notFoundWait time.Duration
}

// Options tune a Dispatcher. Zero values take defaults.
type Options struct {
	// Concurrency is how many recipients are sent at once (default 32).
	Concurrency int
	Now         func() time.Time
	Log         *slog.Logger
	// NotFoundWait bounds how long a message waits for its notification
	// to be stored (default 2 s; see loadNotification).
	NotFoundWait time.Duration
	// Requeue puts recipients in their quiet hours back on the dispatch
	// queue until the window ends; without it quiet hours are not applied.
	Requeue Requeuer
	// Retry sets the visibility of failed SQS records (HandleSQS) to a
	// growing, jittered backoff; without it they come back after the
	// queue's visibility timeout.
	Retry Visibility
	// Rates caps each channel's sends per second in this process (a
	// provider's rate limit, divided by the processes that send).
	Rates map[notify.Channel]float64
	// RetryHints read, from a channel's transient send error, how long the
	// provider asked to wait (429 Retry-After); the channel then pauses.
	RetryHints map[notify.Channel]func(error) (time.Duration, bool)
}

// Visibility changes when a received message comes back; notify.Queue is
// one.
type Visibility interface {
	ChangeVisibility(ctx context.Context, receipt string, timeout time.Duration) error
}

// Requeuer sends dispatch messages that become visible later; notify.Queue
// is one.
type Requeuer interface {
	SendDelayed(ctx context.Context, bodies [][]byte, delay time.Duration) error
}

// New returns a Dispatcher.
func New(store Store, senders Senders, o Options) *Dispatcher {
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.NotFoundWait <= 0 {
		o.NotFoundWait = 2 * time.Second
	}
	limits := map[notify.Channel]*limiter{}
	for ch, rate := range o.Rates {
		if rate > 0 {
			limits[ch] = newLimiter(rate, time.Now)
		}
	}
	for ch := range o.RetryHints {
		if limits[ch] == nil { // no rate, but a provider's pause still applies
			limits[ch] = newLimiter(1e9, time.Now)
		}
	}
	return &Dispatcher{store: store, senders: senders, now: o.Now, log: o.Log, concurrency: o.Concurrency, notFoundWait: o.NotFoundWait,
		requeue: o.Requeue, retry: o.Retry, limits: limits, hints: o.RetryHints}
}

// WhatsAppWindow is how long after the user's last message free-form
// WhatsApp text is allowed.
const WhatsAppWindow = 24 * time.Hour

// Handle processes one batch of messages and returns, for each message, nil
// or the error that means it must be retried (in SQS terms, a batch item
// failure). Recipients already recorded are never sent again, so a retried
// message only sends what is left, and the counts of a message are applied
// once, when all of its recipients are recorded.
func (d *Dispatcher) Handle(ctx context.Context, msgs []Message) []error {
	errs := make([]error, len(msgs))
	groups := map[[2]string][]int{}
	var order [][2]string
	decoded := make([]notify.DispatchMessage, len(msgs))
	for i, m := range msgs {
		if err := json.Unmarshal(m.Body, &decoded[i]); err != nil || decoded[i].WorkspaceID == "" || decoded[i].NotificationID == "" || decoded[i].Chunk == "" {
			// A malformed message can never succeed: failing it sends it to
			// the dead-letter queue after the configured receives.
			errs[i] = fmt.Errorf("message %s: malformed dispatch message", m.ID)
			d.log.Error("malformed dispatch message", "messageId", m.ID)
			continue
		}
		k := [2]string{decoded[i].WorkspaceID, decoded[i].NotificationID}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		group := make([]notify.DispatchMessage, len(idx))
		for j, i := range idx {
			group[j] = decoded[i]
		}
		gerrs := d.handleNotification(ctx, k[0], k[1], group)
		for j, i := range idx {
			errs[i] = gerrs[j]
		}
	}
	return errs
}

// outcome is what became of one recipient.
type outcome struct {
	msg       int // index of the message within the group
	delivery  notify.Delivery
	transient error // non-nil: not recorded, retry the message
}

func (d *Dispatcher) handleNotification(ctx context.Context, ws, nid string, msgs []notify.DispatchMessage) []error {
	errs := make([]error, len(msgs))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	log := d.log.With("workspaceId", ws, "notificationId", nid)
	n, err := d.loadNotification(ctx, ws, nid)
	if err != nil {
		log.Error("load notification", "err", err.Error())
		return fail(fmt.Errorf("load notification %s: %w", nid, err))
	}

	var userIDs, keys []string
	for _, m := range msgs {
		for _, r := range m.Recipients {
			keys = append(keys, r.Key())
			if r.UserID != "" {
				userIDs = append(userIDs, r.UserID)
			}
		}
	}
	existing, err := d.store.GetDeliveries(ctx, ws, nid, keys)
	if err != nil {
		return fail(fmt.Errorf("load deliveries of %s: %w", nid, err))
	}
	users := map[string]notify.User{}
	if len(userIDs) > 0 {
		if users, err = d.store.GetUsers(ctx, ws, userIDs); err != nil {
			return fail(fmt.Errorf("load users of %s: %w", nid, err))
		}
	}
	if n.Status == notify.StatusQueued {
		if _, err := d.store.SetNotificationStatus(ctx, ws, nid, notify.StatusSending, notify.StatusQueued); err != nil && !notify.IsCode(err, notify.CodeConflict) {
			log.Warn("mark notification sending", "err", err)
		}
	}

	// Decide and send every recipient not yet recorded, concurrently.
	type job struct {
		msg int
		r   notify.Recipient
	}
	var jobs []job
	prior := make([][]notify.Delivery, len(msgs)) // recorded earlier by the same chunk
	deferred := make([][]deferredRecipient, len(msgs))
	now := d.now()
	seen := map[string]bool{}
	for i, m := range msgs {
		for _, r := range m.Recipients {
			k := r.Key()
			if seen[k] {
				continue // the same recipient twice in one batch: once is enough
			}
			seen[k] = true
			if e, ok := existing[k]; ok {
				if e.Chunk == m.Chunk {
					prior[i] = append(prior[i], e)
				}
				continue
			}
			if until, ok := d.deferral(n, r, users, now); ok {
				deferred[i] = append(deferred[i], deferredRecipient{r, until})
				continue
			}
			jobs = append(jobs, job{i, r})
		}
	}
	// Each delivery is recorded as soon as it is decided, so a crash loses
	// at most the sends in flight, not a whole batch of records. Sends stop
	// a margin before the invocation's deadline; a record, once its send is
	// done, is written even past it.
	sendCtx, cancel := sendContext(ctx)
	defer cancel()
	outcomes := make([]outcome, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.concurrency)
	for j, jb := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			chunk := msgs[jb.msg].Chunk
			if err := sendCtx.Err(); err != nil {
				outcomes[j] = outcome{msg: jb.msg, transient: fmt.Errorf("no time left to send: %w", err)}
				return
			}
			var u *notify.User
			if jb.r.UserID != "" {
				if got, ok := users[jb.r.UserID]; ok {
					u = &got
				}
			}
			dl, err := d.deliver(sendCtx, n, chunk, jb.r, u)
			if err == nil {
				dl, err = d.record(ctx, dl)
			}
			outcomes[j] = outcome{msg: jb.msg, delivery: dl, transient: err}
		}()
	}
	wg.Wait()

	for _, o := range outcomes {
		if o.transient != nil {
			errs[o.msg] = o.transient
			log.Warn("transient error, will retry", "chunk", msgs[o.msg].Chunk, "err", o.transient.Error())
			continue
		}
		// A delivery recorded by another copy of the same chunk (SQS may
		// hand one message to two invocations) counts here too: both
		// copies compute the chunk's full count, and its marker applies it
		// once. One recorded by another chunk is that chunk's to count.
		if o.delivery.Chunk == msgs[o.msg].Chunk {
			prior[o.msg] = append(prior[o.msg], o.delivery)
		}
	}

	// Recipients in their quiet hours go back on the queue, in chunks of
	// their own, until the window ends.
	for i, m := range msgs {
		if errs[i] == nil && len(deferred[i]) > 0 {
			if err := d.deferRecipients(ctx, m, deferred[i]); err != nil {
				errs[i] = err
			}
		}
	}

	// Counts: one part per fully recorded chunk, applied in one call. A
	// chunk that recorded nothing (all deferred, or all recorded by another
	// chunk) has nothing to count and leaves its marker free.
	var parts []notify.CountPart
	for i, m := range msgs {
		if errs[i] != nil {
			continue
		}
		var delta notify.Counts
		for _, dl := range prior[i] {
			// One queued recipient reaching its status.
			delta = delta.Add(dl.Status.Counts().Sub(notify.DeliveryQueued.Counts()))
		}
		if !delta.IsZero() {
			parts = append(parts, notify.CountPart{Marker: m.Chunk, Delta: delta})
		}
	}
	if len(parts) == 0 {
		return errs
	}
	updated, err := d.store.ApplyCounts(ctx, ws, nid, parts)
	if err != nil {
		err = fmt.Errorf("apply counts of %s: %w", nid, err)
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	if updated.Counts.Queued <= 0 && !updated.Status.Final() {
		_, err := d.store.SetNotificationStatus(ctx, ws, nid, notify.StatusCompleted, notify.StatusQueued, notify.StatusSending)
		switch {
		case err == nil:
			log.Info("notification completed", "total", updated.Counts.Total)
		case !notify.IsCode(err, notify.CodeConflict):
			// Retried with the messages: their counts are applied already
			// (markers), so the retry only completes the notification.
			err = fmt.Errorf("complete notification %s: %w", nid, err)
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
	}
	return errs
}

// deferredRecipient is a recipient in quiet hours until until.
type deferredRecipient struct {
	r     notify.Recipient
	until time.Time
}

// deferral says whether r is to wait for the end of its quiet hours: not
// for urgent notifications, not for a user some other rule skips (that
// skip is recorded now), and only when the dispatcher can requeue.
func (d *Dispatcher) deferral(n notify.Notification, r notify.Recipient, users map[string]notify.User, now time.Time) (time.Time, bool) {
	if d.requeue == nil || n.Urgent || r.UserID == "" || n.Status.Final() {
		return time.Time{}, false
	}
	u, ok := users[r.UserID]
	if !ok || ruleSkip(n, n.Channel, u, now) != "" {
		return time.Time{}, false
	}
	return quietUntil(u, now)
}

// deferRecipients enqueues the deferred recipients of m, one message per
// end of window, hidden until then.
func (d *Dispatcher) deferRecipients(ctx context.Context, m notify.DispatchMessage, rs []deferredRecipient) error {
	byEnd := map[time.Time][]notify.Recipient{}
	var ends []time.Time
	for _, dr := range rs {
		end := dr.until.Truncate(time.Second)
		if _, ok := byEnd[end]; !ok {
			ends = append(ends, end)
		}
		byEnd[end] = append(byEnd[end], dr.r)
	}
	for _, end := range ends {
		body, err := json.Marshal(notify.DispatchMessage{WorkspaceID: m.WorkspaceID, NotificationID: m.NotificationID,
			Chunk: deferredChunk(m.Chunk, end), Recipients: byEnd[end]})
		if err != nil {
			return err
		}
		if err := d.requeue.SendDelayed(ctx, [][]byte{body}, end.Sub(d.now())); err != nil {
			return fmt.Errorf("defer %d recipients to the end of quiet hours: %w", len(byEnd[end]), err)
		}
	}
	d.log.Info("deferred to the end of quiet hours", "workspaceId", m.WorkspaceID, "notificationId", m.NotificationID, "recipients", len(rs))
	return nil
}

// loadNotification reads the notification of a message. The API enqueues
// before it stores the notification, so a message can arrive a moment
// before it: a missing notification is read again for a few seconds before
// the message fails (and comes back later, or dead-letters if the
// notification never appears: then nothing is sent).
func (d *Dispatcher) loadNotification(ctx context.Context, ws, nid string) (notify.Notification, error) {
	return notify.AwaitNotification(ctx, d.store.GetNotification, ws, nid, d.notFoundWait)
}

// record stores a delivery unless it exists, and returns the stored one.
func (d *Dispatcher) record(ctx context.Context, dl notify.Delivery) (notify.Delivery, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	created, err := d.store.RecordDeliveries(ctx, []notify.Delivery{dl})
	if err != nil {
		return dl, fmt.Errorf("record delivery: %w", err)
	}
	if created[0] {
		return dl, nil
	}
	got, err := d.store.GetDeliveries(ctx, dl.WorkspaceID, dl.NotificationID, []string{dl.Key})
	if err != nil {
		return dl, fmt.Errorf("read delivery recorded elsewhere: %w", err)
	}
	stored, ok := got[dl.Key]
	if !ok {
		return dl, fmt.Errorf("delivery %s/%s neither created nor found", dl.NotificationID, dl.Key)
	}
	return stored, nil
}

// Deadlines: sends stop sendMargin before the invocation's deadline, so
// that what was sent can still be recorded, within recordTimeout.
const (
	sendMargin    = 10 * time.Second
	recordTimeout = 5 * time.Second
)

// sendContext is ctx with a deadline sendMargin earlier than ctx's.
func sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-sendMargin))
	}
	return context.WithCancel(ctx)
}

// deliver decides what to do with one recipient and does it, on the
// notification's channel and then on its fallback channels in order while
// a channel skips or fails permanently. It returns the delivery to record
// (the first one sent; when none is, the primary channel's outcome, whose
// reason explains why), or an error when the send must be retried later.
func (d *Dispatcher) deliver(ctx context.Context, n notify.Notification, chunk string, r notify.Recipient, u *notify.User) (notify.Delivery, error) {
	primary, err := d.deliverOn(ctx, n, n.Channel, chunk, r, u)
	if err != nil || primary.Status == notify.DeliverySent || primary.Status == notify.DeliveryDelivered || !fallsBack(primary.Reason) {
		return primary, err
	}
	for _, ch := range n.Fallback {
		dl, err := d.deliverOn(ctx, n, ch, chunk, r, u)
		if err != nil {
			return dl, err // retried later: the primary's skip is cheap to decide again
		}
		if dl.Status == notify.DeliverySent || dl.Status == notify.DeliveryDelivered {
			return dl, nil
		}
	}
	return primary, nil
}

// fallsBack reports whether a skip or failure with this reason may be
// tried on a fallback channel: not when the send is cancelled, the user
// unknown, or the content cannot be rendered on any channel.
func fallsBack(reason string) bool {
	switch reason {
	case notify.ReasonCancelled, notify.ReasonUnknownUser, notify.ReasonMissingVariable:
		return false
	}
	return true
}

// deliverOn is deliver on one channel.
func (d *Dispatcher) deliverOn(ctx context.Context, n notify.Notification, ch notify.Channel, chunk string, r notify.Recipient, u *notify.User) (notify.Delivery, error) {
	now := d.now().UTC()
	dl := notify.Delivery{
		WorkspaceID:    n.WorkspaceID,
		NotificationID: n.ID,
		Key:            r.Key(),
		UserID:         r.UserID,
		Channel:        ch,
		Chunk:          chunk,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	skip := func(reason string) (notify.Delivery, error) {
		dl.Status, dl.Reason = notify.DeliverySkipped, reason
		return dl, nil
	}
	if n.Status == notify.StatusCancelled || n.Status == notify.StatusFailed {
		return skip(notify.ReasonCancelled)
	}
	if r.UserID != "" && u == nil {
		return skip(notify.ReasonUnknownUser)
	}
	if u != nil {
		if reason := ruleSkip(n, ch, *u, now); reason != "" {
			return skip(reason)
		}
	}

	vars := n.Variables
	lang := ""
	if u != nil {
		vars = render.Merge(n.Variables, render.UserVariables(*u))
		lang = u.Language
	}
	vars = render.Merge(vars, r.Variables)
	if t := n.Content.WhatsApp; t != nil {
		// An approved template's text numbers its parameters ({{1}}, {{2}}):
		// they are the variables the template maps them to, in order.
		numbered := make(map[string]string, len(t.Parameters))
		for i, p := range t.Parameters {
			if v, ok := vars[p]; ok {
				numbered[strconv.Itoa(i+1)] = v
			}
		}
		vars = render.Merge(vars, numbered)
	}
	msg, missing := render.Render(n.Content, lang, vars)
	if len(missing) > 0 {
		dl.Status, dl.Reason = notify.DeliveryFailed, notify.ReasonMissingVariable
		return dl, nil
	}
	env := channel.Envelope{WorkspaceID: n.WorkspaceID, NotificationID: n.ID, RecipientKey: dl.Key, UserID: r.UserID, Category: n.Category}

	// The address: the customer id for pushes (they go to every device),
	// the phone or email otherwise, sealed with the user's key when stored.
	var to string
	var err error
	switch ch {
	case notify.ChannelPush, notify.ChannelWebPush:
		dl.Address = r.UserID
	default:
		if to = addressOf(r, u, ch); to == "" {
			return skip(notify.ReasonInvalidAddress)
		}
		if dl.Address, err = sealFor(u, to); err != nil {
			return dl, err
		}
	}
	var px notify.PushExtras
	if n.Content.Push != nil {
		px = *n.Content.Push
	}

	if lim := d.limits[ch]; lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return dl, fmt.Errorf("waiting for the %s rate limit: %w", ch, err)
		}
	}
	var rc channel.Receipt
	switch ch {
	case notify.ChannelPush:
		rc, err = d.senders.Push.SendPush(ctx, channel.PushMessage{Envelope: env, Devices: devicesOf(u, notify.DeviceFCM, notify.DeviceAPNs),
			Title: msg.Title, Body: msg.Body, Route: msg.Route, Icon: px.Icon, Image: px.Image, Buttons: px.Buttons})
	case notify.ChannelWebPush:
		rc, err = d.senders.WebPush.SendWebPush(ctx, channel.WebPushMessage{Envelope: env, Devices: devicesOf(u, notify.DeviceWebPush),
			Title: msg.Title, Body: msg.Body, Route: msg.Route, Icon: px.Icon, Image: px.Image, Buttons: px.Buttons})
	case notify.ChannelSMS:
		// What the operator pays for is known before sending.
		enc, _, segments := channel.SMSSegments(msg.Body)
		dl.Encoding, dl.Segments = string(enc), segments
		rc, err = d.senders.SMS.SendSMS(ctx, channel.SMSMessage{Envelope: env, To: to, Text: msg.Body})
	case notify.ChannelEmail:
		rc, err = d.senders.Email.SendEmail(ctx, channel.EmailMessage{Envelope: env, To: to, Subject: msg.Subject, Text: msg.Body, HTML: msg.HTML})
	case notify.ChannelWhatsApp:
		wm := channel.WhatsAppMessage{Envelope: env, To: to}
		if t := n.Content.WhatsApp; t != nil && t.Name != "" {
			params := make([]string, len(t.Parameters))
			for i, p := range t.Parameters {
				v, ok := vars[p]
				if !ok {
					dl.Status, dl.Reason = notify.DeliveryFailed, notify.ReasonMissingVariable
					return dl, nil
				}
				params[i] = v
			}
			wm.Template = &channel.WhatsAppTemplate{Name: t.Name, Language: t.Language, Parameters: params, Buttons: t.Buttons}
		} else {
			if u == nil || u.WhatsAppLastInbound == nil || now.After(u.WhatsAppLastInbound.Add(WhatsAppWindow)) {
				return skip(notify.ReasonWindowExpired)
			}
			wm.Text = msg.Body
		}
		rc, err = d.senders.WhatsApp.SendWhatsApp(ctx, wm)
	default:
		dl.Status, dl.Reason = notify.DeliveryFailed, "unknown_channel"
		return dl, nil
	}
	if dead := append(rc.InvalidDevices, channel.InvalidDevices(err)...); len(dead) > 0 && u != nil {
		d.removeDevices(ctx, *u, dead)
	}
	if len(rc.Endpoints) > 0 && u != nil {
		d.rememberEndpoints(ctx, *u, rc.Endpoints)
	}
	if err != nil {
		// New gave every hinted channel a limiter.
		if hint := d.hints[ch]; hint != nil {
			if wait, ok := hint(err); ok && wait > 0 {
				d.limits[ch].Pause(wait)
			}
		}
		if code, ok := channel.IsPermanent(err); ok {
			dl.Status, dl.Reason = notify.DeliveryFailed, code
			return dl, nil
		}
		return dl, fmt.Errorf("send %s: %w", ch, err)
	}
	dl.ProviderMessageID = rc.ProviderMessageID
	dl.Status = notify.DeliverySent
	if rc.Delivered {
		dl.Status = notify.DeliveryDelivered
	}
	return dl, nil
}

// removeDevices takes devices the provider reported dead off the user, so
// no later send tries them. A failure is logged: the next send finds the
// device dead again.
func (d *Dispatcher) removeDevices(ctx context.Context, u notify.User, ids []string) {
	dead := map[string]bool{}
	for _, id := range ids {
		dead[id] = true
	}
	_, err := d.store.UpdateUser(context.WithoutCancel(ctx), u.WorkspaceID, u.ID, func(cur *notify.User) error {
		kept := cur.Devices[:0:0]
		for _, dv := range cur.Devices {
			if !dead[dv.ID] {
				kept = append(kept, dv)
			}
		}
		cur.Devices = kept
		return nil
	})
	if err != nil {
		d.log.Warn("remove dead devices", "workspaceId", u.WorkspaceID, "devices", len(ids), "err", err.Error())
		return
	}
	d.log.Info("removed dead devices", "workspaceId", u.WorkspaceID, "devices", len(ids))
}

// rememberEndpoints keeps the provider endpoints created for the user's
// devices on them, so the next send reuses them instead of creating them
// again. A device removed or re-registered meanwhile is left alone; a
// failure is logged: the next send creates (finds) the endpoint again.
func (d *Dispatcher) rememberEndpoints(ctx context.Context, u notify.User, endpoints map[string]string) {
	_, err := d.store.UpdateUser(context.WithoutCancel(ctx), u.WorkspaceID, u.ID, func(cur *notify.User) error {
		changed := false
		for i, dv := range cur.Devices {
			if arn, ok := endpoints[dv.ID]; ok && dv.Endpoint != arn {
				cur.Devices[i].Endpoint = arn
				changed = true
			}
		}
		if !changed {
			return errNothingToRemember
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNothingToRemember) {
		d.log.Warn("remember device endpoints", "workspaceId", u.WorkspaceID, "devices", len(endpoints), "err", err.Error())
	}
}

// errNothingToRemember stops an UpdateUser that would change nothing.
var errNothingToRemember = errors.New("endpoints already remembered")

// ruleSkip applies the delivery rules that depend on the user and returns the
// reason to skip, or "".
func ruleSkip(n notify.Notification, ch notify.Channel, u notify.User, now time.Time) string {
	if reason := notify.PreferenceSkip(n, ch, u); reason != "" {
		return reason
	}
	if !n.IgnorePresence && u.PresenceUntil != nil && now.Before(*u.PresenceUntil) {
		return notify.ReasonActiveInApp
	}
	// The address is checked with the recipient's, which may be raw.
	if reason := notify.StandingSkip(n, ch, u); reason != notify.ReasonInvalidAddress {
		return reason
	}
	return ""
}

func devicesOf(u *notify.User, kinds ...string) []notify.Device {
	if u == nil {
		return nil
	}
	var out []notify.Device
	for _, dv := range u.Devices {
		for _, k := range kinds {
			if dv.Kind == k {
				out = append(out, dv)
			}
		}
	}
	return out
}

func addressOf(r notify.Recipient, u *notify.User, ch notify.Channel) string {
	if r.Address != "" {
		return r.Address
	}
	if u == nil {
		return ""
	}
	if ch == notify.ChannelEmail {
		return u.Email
	}
	return u.Phone
}

// sealFor encrypts a user's address with the user's key before it is stored
// on the delivery; raw addresses of non-users are kept as they are.
func sealFor(u *notify.User, addr string) (string, error) {
	if u == nil {
		return addr, nil
	}
	if len(u.SealKey) != seal.KeySize {
		// Without a key the address cannot be erased later: keep none.
		return "", nil
	}
	return seal.Seal(u.SealKey, addr)
}
