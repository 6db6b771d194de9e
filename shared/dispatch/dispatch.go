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
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/metrics"
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
		maxReceives: o.MaxReceives, attempts: o.RecipientAttempts, deadLetter: o.DeadLetterARN}
}

// WhatsAppWindow is how long after the user's last message free-form
// WhatsApp text is allowed.
const WhatsAppWindow = 24 * time.Hour

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

func (d *Dispatcher) handleNotification(ctx context.Context, ws, nid string, items []item) []error {
	errs := make([]error, len(items))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	log := d.log.With("workspaceId", ws, "notificationId", nid)
	n, err := d.loadNotification(ctx, ws, nid)
	if notify.IsCode(err, notify.CodeNotFound) {
		// Waited for on every receive but the last: the API stores the
		// notification a moment after its messages, or, when that failed,
		// never. Then there is nothing to send nor count.
		for i, it := range items {
			if it.mode == modeSend {
				errs[i] = fmt.Errorf("load notification %s: %w", nid, err)
				log.Error("load notification", "messageId", it.id, "err", err.Error())
				continue
			}
			log.Warn("dispatch message dropped: its notification does not exist", "messageId", it.id, "chunk", it.msg.Chunk, "deadLettered", it.mode == modeSettle)
		}
		return errs
	}
	if err != nil {
		log.Error("load notification", "err", err.Error())
		return fail(fmt.Errorf("load notification %s: %w", nid, err))
	}

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
	prior := make([][]notify.Delivery, len(items)) // recorded earlier by the same chunk
	deferred := make([][]deferredRecipient, len(items))
	now := d.now()
	seen := map[string]bool{}
	sending := make([]bool, len(items)) // items with a recipient to send now
	for i, it := range items {
		for _, r := range it.msg.Recipients {
			k := r.Key()
			if seen[k] {
				continue // the same recipient twice in one batch: once is enough
			}
			seen[k] = true
			if e, ok := existing[k]; ok {
				if e.Chunk == it.msg.Chunk {
					prior[i] = append(prior[i], e)
				}
				continue
			}
			if it.mode != modeSettle {
				if until, ok := d.deferral(n, r, users, now); ok {
					deferred[i] = append(deferred[i], deferredRecipient{r, until})
					continue
				}
			}
			jobs = append(jobs, job{i, r})
			sending[i] = true
		}
	}
	for i, it := range items {
		if age, ok := queueAge(it, now); ok && sending[i] {
			d.metrics.QueueAge(n.Channel, age)
		}
	}
	// Each delivery is recorded as soon as it is decided, so a crash loses
	// at most the sends in flight, not a whole batch of records. Sends stop
	// a margin before the invocation's deadline; a record, once its send is
	// done, is written even past it.
	sendCtx, cancel := sendContext(ctx)
	defer cancel()
	outcomes := make([]outcome, len(jobs))
	gaveUp := make([]atomic.Int32, len(items)) // recipients recorded failed instead of retried
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.concurrency)
	for j, jb := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			it := items[jb.msg]
			chunk := it.msg.Chunk
			giveUp := func(err error) string {
				reason := d.giveUp(sendCtx, it, err)
				if reason != "" {
					gaveUp[jb.msg].Add(1)
				}
				return reason
			}
			var dl notify.Delivery
			if sendCtx.Err() != nil && it.mode != modeSettle { // settling sends nothing: no deadline to keep
				if it.mode == modeSend {
					outcomes[j] = outcome{msg: jb.msg, transient: fmt.Errorf("no time left to send: %w", sendCtx.Err())}
					return
				}
				// The last chance is gone: not sent, and never will be.
				dl = d.newDelivery(n, n.Channel, chunk, jb.r)
				dl.Status, dl.Reason = notify.DeliveryFailed, ReasonDispatchFailed
				gaveUp[jb.msg].Add(1)
			} else {
				var u *notify.User
				if jb.r.UserID != "" {
					if got, ok := users[jb.r.UserID]; ok {
						u = &got
					}
				}
				var err error
				if dl, err = d.deliver(sendCtx, n, chunk, jb.r, u, it.mode == modeSettle, giveUp); err != nil {
					outcomes[j] = outcome{msg: jb.msg, delivery: dl, transient: err}
					return
				}
			}
			dl, created, err := d.record(ctx, dl)
			if created {
				d.metrics.Delivery(dl.Channel, dispatchOutcome(dl.Status), dl.Reason)
			}
			outcomes[j] = outcome{msg: jb.msg, delivery: dl, transient: err}
		}()
	}
	wg.Wait()

	for _, o := range outcomes {
		if o.transient != nil {
			errs[o.msg] = o.transient
			log.Warn("transient error, will retry", "chunk", items[o.msg].msg.Chunk, "receive", items[o.msg].receives, "err", o.transient.Error())
			continue
		}
		// A delivery recorded by another copy of the same chunk (SQS may
		// hand one message to two invocations) counts here too: both
		// copies compute the chunk's full count, and its marker applies it
		// once. One recorded by another chunk is that chunk's to count.
		if o.delivery.Chunk == items[o.msg].msg.Chunk {
			prior[o.msg] = append(prior[o.msg], o.delivery)
		}
	}

	// Recipients in their quiet hours go back on the queue, in chunks of
	// their own, until the window ends.
	for i, it := range items {
		if errs[i] == nil && len(deferred[i]) > 0 {
			if err := d.deferRecipients(ctx, it.msg, deferred[i]); err != nil {
				errs[i] = err
			}
		}
	}

	// Counts: one part per fully recorded chunk, applied in one call. A
	// chunk that recorded nothing (all deferred, or all recorded by another
	// chunk) has nothing to count and leaves its marker free.
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
	if len(parts) > 0 {
		updated, err := d.store.ApplyCounts(ctx, ws, nid, parts)
		if err != nil {
			err = fmt.Errorf("apply counts of %s: %w", nid, err)
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		} else if updated.Counts.Queued <= 0 && !updated.Status.Final() {
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
	}

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
	return errs
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

// record stores a delivery unless it exists, and returns the stored one;
// created says whether this call stored it (so that a delivery another
// copy of the message recorded first is counted once, by that copy).
func (d *Dispatcher) record(ctx context.Context, dl notify.Delivery) (_ notify.Delivery, created bool, _ error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	made, err := d.store.RecordDeliveries(ctx, []notify.Delivery{dl})
	if err != nil {
		return dl, false, fmt.Errorf("record delivery: %w", err)
	}
	if made[0] {
		return dl, true, nil
	}
	got, err := d.store.GetDeliveries(ctx, dl.WorkspaceID, dl.NotificationID, []string{dl.Key})
	if err != nil {
		return dl, false, fmt.Errorf("read delivery recorded elsewhere: %w", err)
	}
	stored, ok := got[dl.Key]
	if !ok {
		return dl, false, fmt.Errorf("delivery %s/%s neither created nor found", dl.NotificationID, dl.Key)
	}
	return stored, false, nil
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
// giveUp turns a transient send error into a failure with a reason (see
// Dispatcher.giveUp); with noSend nothing is sent, and a recipient no rule
// skips fails with ReasonDispatchFailed.
func (d *Dispatcher) deliver(ctx context.Context, n notify.Notification, chunk string, r notify.Recipient, u *notify.User, noSend bool, giveUp func(error) string) (notify.Delivery, error) {
	on := func(ch notify.Channel) (notify.Delivery, error) {
		dl, err := d.deliverOn(ctx, n, ch, chunk, r, u, noSend)
		if err != nil {
			if reason := giveUp(err); reason != "" {
				dl.Status, dl.Reason = notify.DeliveryFailed, reason
				return dl, nil
			}
		}
		return dl, err
	}
	primary, err := on(n.Channel)
	if err != nil || primary.Status == notify.DeliverySent || primary.Status == notify.DeliveryDelivered || !fallsBack(primary.Reason) {
		return primary, err
	}
	for _, ch := range n.Fallback {
		dl, err := on(ch)
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

// newDelivery is the delivery of r on ch, with no outcome yet.
func (d *Dispatcher) newDelivery(n notify.Notification, ch notify.Channel, chunk string, r notify.Recipient) notify.Delivery {
	now := d.now().UTC()
	return notify.Delivery{
		WorkspaceID:    n.WorkspaceID,
		NotificationID: n.ID,
		Key:            r.Key(),
		UserID:         r.UserID,
		Channel:        ch,
		Chunk:          chunk,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
}

// deliverOn is deliver on one channel.
func (d *Dispatcher) deliverOn(ctx context.Context, n notify.Notification, ch notify.Channel, chunk string, r notify.Recipient, u *notify.User, noSend bool) (notify.Delivery, error) {
	dl := d.newDelivery(n, ch, chunk, r)
	now := dl.CreatedAt
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
	// The address: the customer id for pushes (they go to every device),
	// the phone or email otherwise, sealed with the user's key when stored.
	// It is known before rendering, so that a recipient whose message
	// lacks a variable is shown by address, as every other failure is.
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
	msg, missing := render.Render(n.Content, lang, vars)
	if len(missing) > 0 {
		dl.Status, dl.Reason = notify.DeliveryFailed, notify.ReasonMissingVariable
		return dl, nil
	}
	env := channel.Envelope{WorkspaceID: n.WorkspaceID, NotificationID: n.ID, RecipientKey: dl.Key, UserID: r.UserID, Category: n.Category}

	var px notify.PushExtras
	if n.Content.Push != nil {
		px = *n.Content.Push
	}
	// Build the send first: what it finds wrong (a missing parameter, a
	// closed window) is decided before the rate limit and noSend.
	var send func(context.Context) (channel.Receipt, error)
	switch ch {
	case notify.ChannelPush:
		m := channel.PushMessage{Envelope: env, Devices: devicesOf(u, notify.DeviceFCM, notify.DeviceAPNs),
			Title: msg.Title, Body: msg.Body, Route: msg.Route, Icon: px.Icon, Image: px.Image, Buttons: px.Buttons}
		send = func(ctx context.Context) (channel.Receipt, error) { return d.senders.Push.SendPush(ctx, m) }
	case notify.ChannelWebPush:
		m := channel.WebPushMessage{Envelope: env, Devices: devicesOf(u, notify.DeviceWebPush),
			Title: msg.Title, Body: msg.Body, Route: msg.Route, Icon: px.Icon, Image: px.Image, Buttons: px.Buttons}
		send = func(ctx context.Context) (channel.Receipt, error) { return d.senders.WebPush.SendWebPush(ctx, m) }
	case notify.ChannelSMS:
		// What the operator pays for is known before sending.
		enc, _, segments := channel.SMSSegments(msg.Body)
		dl.Encoding, dl.Segments = string(enc), segments
		m := channel.SMSMessage{Envelope: env, To: to, Text: msg.Body}
		send = func(ctx context.Context) (channel.Receipt, error) { return d.senders.SMS.SendSMS(ctx, m) }
	case notify.ChannelEmail:
		m := channel.EmailMessage{Envelope: env, To: to, Subject: msg.Subject, Text: msg.Body, HTML: msg.HTML}
		send = func(ctx context.Context) (channel.Receipt, error) { return d.senders.Email.SendEmail(ctx, m) }
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
		send = func(ctx context.Context) (channel.Receipt, error) { return d.senders.WhatsApp.SendWhatsApp(ctx, wm) }
	default:
		dl.Status, dl.Reason = notify.DeliveryFailed, "unknown_channel"
		return dl, nil
	}
	if noSend {
		dl.Status, dl.Reason = notify.DeliveryFailed, ReasonDispatchFailed
		return dl, nil
	}
	if lim := d.limits[ch]; lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return dl, fmt.Errorf("waiting for the %s rate limit: %w", ch, err)
		}
	}
	start := d.now()
	rc, err := send(ctx)
	d.metrics.ProviderCall(ch, d.now().Sub(start))
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
