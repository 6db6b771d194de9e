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
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
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

// InAppSender delivers in-app messages into the users' inboxes.
type InAppSender interface {
	SendInApp(ctx context.Context, m channel.InAppMessage) (channel.Receipt, error)
}

// Senders holds one sender per channel.
type Senders struct {
	Push     PushSender
	WebPush  WebPushSender
	SMS      SMSSender
	Email    EmailSender
	WhatsApp WhatsAppSender
	InApp    InAppSender
}

// Metrics records what dispatch does, for the operator's figures
// (package metrics names them and bounds their dimensions): the CloudWatch
// embedded metric format lines of shared/emf on AWS, the in-memory figures
// of shared/memmetrics locally.
type Metrics interface {
	// Delivery counts one recipient's delivery as it is recorded, on the
	// channel it was recorded on: metrics.Sent, Failed or Skipped, with
	// its reason.
	Delivery(ch notify.Channel, outcome metrics.Outcome, reason string)
	// ProviderCall is how long one call to a channel's sender took,
	// whatever its answer.
	ProviderCall(ch notify.Channel, took time.Duration)
	// QueueAge is how long a message of a notification on channel ch
	// waited in the queue before its sends started.
	QueueAge(ch notify.Channel, age time.Duration)
	// Flush ends a batch. HandleSQS calls it before it returns, so that
	// figures kept for the invocation are written while it still runs
	// (Lambda may freeze the process as soon as the handler returns).
	Flush()
}

// Message is one queue message handed to Handle or Settle.
type Message struct {
	ID   string
	Body []byte
	// ReceiveCount is how many times the queue has handed the message out,
	// this time included (1 the first time); 0 when unknown. With
	// Options.MaxReceives it tells Handle which receive is the last.
	ReceiveCount int
	// SentAt is when the queue accepted the message (SQS's SentTimestamp);
	// zero when unknown. Its age is a figure (Metrics.QueueAge).
	SentAt time.Time
}

// ReasonDispatchFailed is the reason of a delivery that dispatch gave up
// on: its message reached its last receive, or the dead-letter queue,
// without the recipient being sent.
const ReasonDispatchFailed = "dispatch_failed"

// Dispatcher processes dispatch messages.
type Dispatcher struct {
	limits       map[notify.Channel]*limiter
	hints        map[notify.Channel]func(error) (time.Duration, bool)
	retry        Visibility
	requeue      Requeuer
	store        Store
	senders      Senders
	metrics      Metrics
	now          func() time.Time
	log          *slog.Logger
	concurrency  int
	notFoundWait time.Duration
	maxReceives  int
	attempts     int
	deadLetter   string
	footer       func(env channel.Envelope, u notify.User) (text, html string)
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
	// MaxReceives is how many receives a message gets before the queue
	// dead-letters it (the local queue's MaxReceives, SQS's
	// maxReceiveCount). On the last one Handle settles the message: what
	// still fails is recorded failed, the counts are applied and the
	// notification can complete. Zero leaves that to Settle alone.
	MaxReceives int
	// RecipientAttempts bounds the receives on which a recipient whose own
	// endpoint fails (a send error with a RecipientReason, such as an
	// unreachable Web Push endpoint) is tried: on that receive its
	// delivery fails with the reason instead (default 3).
	RecipientAttempts int
	// DeadLetterARN is the ARN of the dispatch dead-letter queue: HandleSQS
	// settles (Settle) the records that come from it.
	DeadLetterARN string
	// Metrics records the figures of what is sent; nil records none.
	Metrics Metrics
	// EmailFooter is what every email to a user ends with (the link to
	// their preference page), in the user's language: text for the text
	// part, html for the HTML part. Nil, or an empty answer, adds none;
	// an email to a raw address has no preferences and gets none.
	EmailFooter func(env channel.Envelope, u notify.User) (text, html string)
}

// recipientError is a transient send error that lies with one recipient's
// own address rather than with a provider (webpush.Error is one): retrying
// that recipient is bounded by Options.RecipientAttempts, and its other
// recipients never wait for it longer than that. RecipientReason is ""
// when the error is not the recipient's after all.
type recipientError interface {
	error
	RecipientReason() string
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
	if o.RecipientAttempts <= 0 {
		o.RecipientAttempts = 3
	}
	if o.Metrics == nil {
		o.Metrics = noMetrics{}
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
	return &Dispatcher{store: store, senders: senders, metrics: o.Metrics, now: o.Now, log: o.Log, concurrency: o.Concurrency, notFoundWait: o.NotFoundWait,
		requeue: o.Requeue, retry: o.Retry, limits: limits, hints: o.RetryHints,
		maxReceives: o.MaxReceives, attempts: o.RecipientAttempts, deadLetter: o.DeadLetterARN, footer: o.EmailFooter}
}

// Handle processes one batch of messages and returns, for each message, nil
// or the error that means it must be retried (in SQS terms, a batch item
// failure). Recipients already recorded are never sent again, so a retried
// message only sends what is left, and the counts of a message are applied
// once, when all of its recipients are recorded.
//
// Retries are bounded, so that no recipient holds up the others for good:
// a recipient whose own endpoint fails (see recipientError) is recorded
// failed with its reason from its Options.RecipientAttempts-th receive on,
// and on a message's last receive (Options.MaxReceives) every recipient
// that still fails is recorded failed (ReasonDispatchFailed or its own
// reason), so that the message's counts are applied and its notification
// can complete instead of the message going to the dead-letter queue.
func (d *Dispatcher) Handle(ctx context.Context, msgs []Message) []error {
	return d.handle(ctx, msgs, false)
}

// Settle ends dead-lettered messages: it sends nothing, and records every
// recipient not recorded yet — skipped when a delivery rule says so
// (cancelled, unknown user, …), otherwise failed with
// ReasonDispatchFailed — then applies the counts and completes the
// notification, as Handle would have. It is what the dead-letter queue's
// consumer runs, so that a message that died on its last receive (a crash,
// a timeout, a store that failed) still leaves counts that add up. A
// settled message sent again (a redrive) finds every recipient recorded and
// sends nothing. The error, per message, means settling must be retried; a
// message that cannot be settled (malformed, or for a notification that
// does not exist) is logged and dropped.
func (d *Dispatcher) Settle(ctx context.Context, msgs []Message) []error {
	return d.handle(ctx, msgs, true)
}

// mode is how far Handle goes with a message.
type mode int

const (
	modeSend   mode = iota // send; what fails transiently is retried
	modeLast               // its last receive: send; what still fails is recorded failed
	modeSettle             // dead-lettered: send nothing, record what is left
)

// item is one message of a batch, decoded.
type item struct {
	id       string
	msg      notify.DispatchMessage
	mode     mode
	receives int
	sentAt   time.Time
}

func (d *Dispatcher) handle(ctx context.Context, msgs []Message, settle bool) []error {
	errs := make([]error, len(msgs))
	groups := map[[2]string][]int{}
	var order [][2]string
	items := make([]item, len(msgs))
	for i, m := range msgs {
		it := &items[i]
		it.id, it.receives, it.sentAt = m.ID, m.ReceiveCount, m.SentAt
		switch {
		case settle:
			it.mode = modeSettle
		case d.maxReceives > 0 && m.ReceiveCount >= d.maxReceives:
			it.mode = modeLast
		}
		if err := json.Unmarshal(m.Body, &it.msg); err != nil || it.msg.WorkspaceID == "" || it.msg.NotificationID == "" || it.msg.Chunk == "" {
			d.log.Error("malformed dispatch message", "messageId", m.ID, "deadLettered", settle)
			if !settle {
				// A malformed message can never succeed: failing it sends it
				// to the dead-letter queue after the configured receives,
				// whose consumer drops it (there is nothing to count).
				errs[i] = fmt.Errorf("message %s: malformed dispatch message", m.ID)
			}
			continue
		}
		k := [2]string{it.msg.WorkspaceID, it.msg.NotificationID}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		group := make([]item, len(idx))
		for j, i := range idx {
			group[j] = items[i]
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
	msg       int // index of the item within the group
	delivery  notify.Delivery
	transient error // non-nil: not recorded, retry the message
}

// handleNotification processes the items of one notification, in the
// order of its steps: load the notification, then what its recipients
// already have (deliveries, users); decide each recipient (send now,
// defer to the end of quiet hours, or already recorded); send and record
// them; requeue the deferred; apply the counts of every chunk that is
// fully recorded, completing the notification when nothing is left queued.
func (d *Dispatcher) handleNotification(ctx context.Context, ws, nid string, items []item) []error {
	log := d.log.With("workspaceId", ws, "notificationId", nid)
	n, errs, ok := d.notificationOf(ctx, log, ws, nid, items)
	if !ok {
		return errs
	}
	existing, users, err := d.recipientState(ctx, ws, nid, items)
	if err != nil {
		return failAll(errs, err)
	}
	d.markSending(ctx, log, n)
	now := d.now()
	pl := d.plan(n, items, existing, users, now)
	for i, it := range items {
		if age, ok := queueAge(it, now); ok && pl.sending[i] {
			d.metrics.QueueAge(n.Channel, age)
		}
	}
	outcomes, gaveUp := d.sendAll(ctx, n, render.Compile(n.Content), items, users, pl.jobs)
	d.collect(log, items, outcomes, pl.prior, errs)
	// Recipients in their quiet hours go back on the queue, in chunks of
	// their own, until the window ends.
	for i, it := range items {
		if errs[i] == nil && len(pl.deferred[i]) > 0 {
			errs[i] = d.deferRecipients(ctx, it.msg, pl.deferred[i])
		}
	}
	if parts := countParts(items, pl.prior, errs); len(parts) > 0 {
		if err := d.applyCounts(ctx, log, ws, nid, parts); err != nil {
			failRest(errs, err)
		}
	}
	logGaveUp(log, items, gaveUp, errs)
	return errs
}

// failAll gives every message of a group the same error: the group
// failed before any of its recipients was decided.
func failAll(errs []error, err error) []error {
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// failRest gives err to every message of a group that has no error yet:
// a step after the sends (counts, completion) failed, and retrying the
// messages retries it; what they recorded is not sent again.
func failRest(errs []error, err error) {
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
}

// notificationOf loads the notification of a group (see
// loadNotification) and returns, with ok false, the errors of the group
// when it ends there. A notification that does not exist is waited for on
// every receive but the last: the API stores the notification a moment
// after its messages, or, when that failed, never. Then there is nothing
// to send nor count, and the message is dropped.
func (d *Dispatcher) notificationOf(ctx context.Context, log *slog.Logger, ws, nid string, items []item) (_ notify.Notification, errs []error, ok bool) {
	errs = make([]error, len(items))
	n, err := d.loadNotification(ctx, ws, nid)
	if notify.IsCode(err, notify.CodeNotFound) {
		for i, it := range items {
			if it.mode == modeSend {
				errs[i] = fmt.Errorf("load notification %s: %w", nid, err)
				log.Error("load notification", "messageId", it.id, "err", err.Error())
				continue
			}
			log.Warn("dispatch message dropped: its notification does not exist", "messageId", it.id, "chunk", it.msg.Chunk, "deadLettered", it.mode == modeSettle)
		}
		return n, errs, false
	}
	if err != nil {
		log.Error("load notification", "err", err.Error())
		return n, failAll(errs, fmt.Errorf("load notification %s: %w", nid, err)), false
	}
	return n, errs, true
}

// recipientState reads, in two calls for the whole group, what decides
// its recipients: their deliveries recorded already (by an earlier
// receive, or another copy of a message) and their users.
func (d *Dispatcher) recipientState(ctx context.Context, ws, nid string, items []item) (map[string]notify.Delivery, map[string]notify.User, error) {
	var userIDs, keys []string
	for _, it := range items {
		for _, r := range it.msg.Recipients {
			keys = append(keys, r.Key())
			if r.UserID != "" {
				userIDs = append(userIDs, r.UserID)
			}
		}
	}
	existing, err := d.store.GetDeliveries(ctx, ws, nid, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("load deliveries of %s: %w", nid, err)
	}
	users := map[string]notify.User{}
	if len(userIDs) > 0 {
		if users, err = d.store.GetUsers(ctx, ws, userIDs); err != nil {
			return nil, nil, fmt.Errorf("load users of %s: %w", nid, err)
		}
	}
	return existing, users, nil
}

// markSending moves a queued notification to sending, so that the history
// shows it under way. Another message may have done it first; any other
// failure is logged and the sends go on (the status is news, not a rule).
func (d *Dispatcher) markSending(ctx context.Context, log *slog.Logger, n notify.Notification) {
	if n.Status != notify.StatusQueued {
		return
	}
	if _, err := d.store.SetNotificationStatus(ctx, n.WorkspaceID, n.ID, notify.StatusSending, notify.StatusQueued); err != nil && !notify.IsCode(err, notify.CodeConflict) {
		log.Warn("mark notification sending", "err", err)
	}
}

// job is one recipient to send now, of the item at index msg.
type job struct {
	msg int
	r   notify.Recipient
}

// plan is what becomes of a group's recipients, decided before any send.
type plan struct {
	jobs []job
	// prior holds, per item, the deliveries its own chunk recorded on an
	// earlier receive: they count with the item's chunk again.
	prior    [][]notify.Delivery
	deferred [][]deferredRecipient
	// sending says which items have a recipient to send now.
	sending []bool
}

// plan decides every recipient of the group: one recorded already is not
// sent again (and counts with its chunk if its chunk recorded it), one in
// its quiet hours is deferred, the others are sent now. The same
// recipient twice in one batch is decided once.
func (d *Dispatcher) plan(n notify.Notification, items []item, existing map[string]notify.Delivery, users map[string]notify.User, now time.Time) plan {
	pl := plan{prior: make([][]notify.Delivery, len(items)), deferred: make([][]deferredRecipient, len(items)), sending: make([]bool, len(items))}
	seen := map[string]bool{}
	for i, it := range items {
		for _, r := range it.msg.Recipients {
			k := r.Key()
			if seen[k] {
				continue // the same recipient twice in one batch: once is enough
			}
			seen[k] = true
			if e, ok := existing[k]; ok {
				if e.Chunk == it.msg.Chunk {
					pl.prior[i] = append(pl.prior[i], e)
				}
				continue
			}
			if it.mode != modeSettle {
				if until, ok := d.deferral(n, r, users, now); ok {
					pl.deferred[i] = append(pl.deferred[i], deferredRecipient{r, until})
					continue
				}
			}
			pl.jobs = append(pl.jobs, job{i, r})
			pl.sending[i] = true
		}
	}
	return pl
}

// sendAll sends and records the jobs, d.concurrency at a time, and
// returns their outcomes and, per item, how many of its recipients were
// recorded failed instead of retried. Deliveries are recorded in small
// batches (batcher), each job keeping its slot until its delivery is
// recorded, so a crash loses at most the sends in flight, not a whole
// batch of records. Sends stop a margin before the invocation's deadline;
// a record, once its send is done, is written even past it.
func (d *Dispatcher) sendAll(ctx context.Context, n notify.Notification, tpl *render.Compiled, items []item, users map[string]notify.User, jobs []job) ([]outcome, []atomic.Int32) {
	sendCtx, cancel := sendContext(ctx)
	defer cancel()
	outcomes := make([]outcome, len(jobs))
	gaveUp := make([]atomic.Int32, len(items))
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.concurrency)
	rec := &batcher{d: d, ctx: ctx, done: func(j int, o outcome) {
		outcomes[j] = o
		<-sem
		wg.Done()
	}}
	for j, jb := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		rec.start()
		go func() {
			if o, record := d.sendOne(sendCtx, n, tpl, items[jb.msg], jb, users, &gaveUp[jb.msg]); record {
				rec.add(j, o)
			} else {
				rec.skip(j, o)
			}
		}()
	}
	wg.Wait()
	return outcomes, gaveUp
}

// sendOne delivers one job's recipient (deliver) and returns its outcome
// and whether its delivery is to be recorded, counting it in gaveUp when
// it is recorded failed instead of retried. Once sendCtx is done nothing
// more is sent: the message is retried, or, on its last receive, the
// recipient is recorded failed.
func (d *Dispatcher) sendOne(sendCtx context.Context, n notify.Notification, tpl *render.Compiled, it item, jb job, users map[string]notify.User, gaveUp *atomic.Int32) (_ outcome, record bool) {
	giveUp := func(err error) string {
		reason := d.giveUp(sendCtx, it, err)
		if reason != "" {
			gaveUp.Add(1)
		}
		return reason
	}
	if sendCtx.Err() != nil && it.mode != modeSettle { // settling sends nothing: no deadline to keep
		if it.mode == modeSend {
			return outcome{msg: jb.msg, transient: fmt.Errorf("no time left to send: %w", sendCtx.Err())}, false
		}
		// The last chance is gone: not sent, and never will be.
		dl := d.newDelivery(n, n.Channel, it.msg.Chunk, jb.r)
		dl.Status, dl.Reason = notify.DeliveryFailed, ReasonDispatchFailed
		gaveUp.Add(1)
		return outcome{msg: jb.msg, delivery: dl}, true
	}
	var u *notify.User
	if jb.r.UserID != "" {
		if got, ok := users[jb.r.UserID]; ok {
			u = &got
		}
	}
	dl, err := d.deliver(sendCtx, n, tpl, it.msg.Chunk, jb.r, u, it.mode == modeSettle, giveUp)
	if err != nil {
		return outcome{msg: jb.msg, delivery: dl, transient: err}, false
	}
	return outcome{msg: jb.msg, delivery: dl}, true
}

// collect gives each item the first transient error of its recipients
// (the message is retried) and adds the deliveries its chunk recorded to
// prior, to be counted. A delivery recorded by another copy of the same
// chunk (SQS may hand one message to two invocations) counts here too:
// both copies compute the chunk's full count, and its marker applies it
// once. One recorded by another chunk is that chunk's to count.
func (d *Dispatcher) collect(log *slog.Logger, items []item, outcomes []outcome, prior [][]notify.Delivery, errs []error) {
	for _, o := range outcomes {
		if o.transient != nil {
			errs[o.msg] = o.transient
			log.Warn("transient error, will retry", "chunk", items[o.msg].msg.Chunk, "receive", items[o.msg].receives, "err", o.transient.Error())
			continue
		}
		if o.delivery.Chunk == items[o.msg].msg.Chunk {
			prior[o.msg] = append(prior[o.msg], o.delivery)
		}
	}
}

// countParts makes one count part per fully recorded chunk (an item
// without an error), to be applied in one call. A chunk that recorded
// nothing (all deferred, or all recorded by another chunk) has nothing to
// count and leaves its marker free.
func countParts(items []item, prior [][]notify.Delivery, errs []error) []notify.CountPart {
	var parts []notify.CountPart
	for i, it := range items {
		if errs[i] != nil {
			continue
		}
		var delta notify.Counts
		for _, dl := range prior[i] {
			// One queued recipient reaching its status.
			delta = delta.Add(dl.Status.Counts().Sub(notify.DeliveryQueued.Counts()))
		}
		if !delta.IsZero() {
			parts = append(parts, notify.CountPart{Marker: it.msg.Chunk, Delta: delta})
		}
	}
	return parts
}

// applyCounts applies the parts and completes the notification when none
// of its recipients is left queued. The error means the messages are to
// be retried: their counts are applied already (markers), so the retry
// only completes the notification.
func (d *Dispatcher) applyCounts(ctx context.Context, log *slog.Logger, ws, nid string, parts []notify.CountPart) error {
	updated, err := d.store.ApplyCounts(ctx, ws, nid, parts)
	if err != nil {
		return fmt.Errorf("apply counts of %s: %w", nid, err)
	}
	if updated.Counts.Queued > 0 || updated.Status.Final() {
		return nil
	}
	_, err = d.store.SetNotificationStatus(ctx, ws, nid, notify.StatusCompleted, notify.StatusQueued, notify.StatusSending)
	switch {
	case err == nil:
		log.Info("notification completed", "total", updated.Counts.Total)
	case !notify.IsCode(err, notify.CodeConflict):
		return fmt.Errorf("complete notification %s: %w", nid, err)
	}
	return nil
}

// logGaveUp tells the operator about the messages that ended with
// recipients recorded failed instead of retried: settled dead letters,
// last receives, and recipients out of attempts.
func logGaveUp(log *slog.Logger, items []item, gaveUp []atomic.Int32, errs []error) {
	for i, it := range items {
		given := gaveUp[i].Load()
		switch {
		case errs[i] != nil:
		case it.mode == modeSettle:
			log.Warn("dead-lettered dispatch message settled", "messageId", it.id, "chunk", it.msg.Chunk, "receives", it.receives, "gaveUp", given)
		case it.mode == modeLast && given > 0:
			log.Warn("dispatch message settled on its last receive", "messageId", it.id, "chunk", it.msg.Chunk, "receives", it.receives, "gaveUp", given)
		case given > 0:
			log.Info("recipients failed after their attempts", "messageId", it.id, "chunk", it.msg.Chunk, "receives", it.receives, "gaveUp", given)
		}
	}
}

// giveUp decides whether a recipient whose send failed transiently is
// recorded failed now rather than retried, and with which reason: a
// failure of the recipient's own endpoint once the message has had its
// attempts, and any failure on the message's last receive. A failure
// caused by the invocation's own deadline is never the recipient's.
func (d *Dispatcher) giveUp(sendCtx context.Context, it item, err error) string {
	var re recipientError
	if sendCtx.Err() == nil && errors.As(err, &re) {
		if reason := re.RecipientReason(); reason != "" && (it.mode == modeLast || it.receives >= d.attempts) {
			return reason
		}
	}
	if it.mode == modeLast {
		return ReasonDispatchFailed
	}
	return ""
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

// Deadlines: sends stop sendMargin before the invocation's deadline, so
// that what was sent can still be recorded, within recordTimeout.
const (
	sendMargin    = 10 * time.Second
	recordTimeout = 5 * time.Second
)

// sendContext is ctx with a deadline sendMargin earlier than ctx's, or ctx
// itself when it has no deadline. Not a cancellable copy then: cancelling
// the context of the provider calls just after the last one returns races
// net/http's return of its connection to the pool, which then closes the
// connection instead (one new TCP connection every batch or so).
func sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-sendMargin))
	}
	return ctx, func() {}
}
