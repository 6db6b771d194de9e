package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Page asks for one page of a list. Cursor is opaque: it is whatever the
// previous page returned, and only the adapter that made it understands it.
type Page struct {
	Limit  int
	Cursor string
	// Segment of Segments (ListUsers only): the workspace's users split
	// into Segments disjoint parts that together are all of them, so that
	// parallel workers can walk one each. Segments 0 or 1 is everything.
	Segment, Segments int
}

// Page size bounds of every list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
	// MaxSegmentPageSize bounds a ListUsers page of one segment of
	// several (the audience walk's): ten dispatch messages of 100, one
	// SQS SendMessageBatch.
	MaxSegmentPageSize = 1000
)

// UserFilter selects users; zero fields match everything, and a user must
// pass every field that is set.
type UserFilter struct {
	Status   []string // any of these
	Type     string
	Tag      string   // has this tag
	Tags     []string // has every one of these tags
	Language string
	// Attributes must all be equal to the user's.
	Attributes  map[string]string
	PushEnabled *bool
	HasEmail    *bool
	HasPhone    *bool
	// CreatedAfter (inclusive) and CreatedBefore (exclusive) bound the
	// user's creation time.
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
	// Q matches a case-insensitive substring of the id, name or email, or
	// the digits of a part of the phone.
	Q string
	// WhatsAppClosedAt, when set, selects users with a phone whose
	// WhatsApp window is closed at that time: they never wrote, or wrote
	// last WhatsAppWindow or more before it (the console's expired
	// conversations). NeverWrote narrows it to those who never wrote.
	// (Omitted from JSON when unset: audience steps carry filters, and
	// steps queued before these fields existed read the same.)
	WhatsAppClosedAt *time.Time `json:",omitempty"`
	NeverWrote       bool       `json:",omitempty"`
}

// WhatsAppWindow is how long after a person's last message WhatsApp lets
// a business write to them freely; after it only templates may open the
// conversation again.
const WhatsAppWindow = 24 * time.Hour

// IsZero reports whether f sets no field (it matches every user).
func (f UserFilter) IsZero() bool {
	return len(f.Status) == 0 && f.Type == "" && f.Tag == "" && len(f.Tags) == 0 && f.Language == "" &&
		len(f.Attributes) == 0 && f.PushEnabled == nil && f.HasEmail == nil && f.HasPhone == nil &&
		f.CreatedAfter == nil && f.CreatedBefore == nil && f.Q == "" && f.WhatsAppClosedAt == nil && !f.NeverWrote
}

// Matches reports whether u passes every set field of f. Both store
// adapters filter with it, so they agree on what a filter means.
func (f UserFilter) Matches(u User) bool {
	if f.WhatsAppClosedAt != nil || f.NeverWrote {
		last := u.WhatsAppLastInbound
		switch {
		case u.Phone == "",
			f.NeverWrote && last != nil,
			f.WhatsAppClosedAt != nil && last != nil && f.WhatsAppClosedAt.Sub(*last) < WhatsAppWindow:
			return false
		}
	}
	switch {
	case len(f.Status) > 0 && !slices.Contains(f.Status, u.Status),
		f.Type != "" && u.Type != f.Type,
		f.Tag != "" && !u.HasTag(f.Tag),
		f.Language != "" && u.Language != f.Language,
		f.PushEnabled != nil && u.PushEnabled() != *f.PushEnabled,
		f.HasEmail != nil && (u.Email != "") != *f.HasEmail,
		f.HasPhone != nil && (u.Phone != "") != *f.HasPhone,
		f.CreatedAfter != nil && u.CreatedAt.Before(*f.CreatedAfter),
		f.CreatedBefore != nil && !u.CreatedAt.Before(*f.CreatedBefore):
		return false
	}
	for _, t := range f.Tags {
		if !u.HasTag(t) {
			return false
		}
	}
	for k, v := range f.Attributes {
		if have, ok := u.Attributes[k]; !ok || have != v {
			return false
		}
	}
	if f.Q != "" {
		q := strings.ToLower(f.Q)
		if !strings.Contains(strings.ToLower(u.ID), q) &&
			!strings.Contains(strings.ToLower(u.Name), q) &&
			!strings.Contains(strings.ToLower(u.Email), q) &&
			!(u.Phone != "" && strings.Contains(u.Phone, strings.TrimLeft(strings.Map(phoneDigit, q), "0")) && strings.Map(phoneDigit, q) != "") {
			return false
		}
	}
	return true
}

// phoneDigit keeps the digits of a phone search, so that "+34 600-123"
// finds +34600123456.
func phoneDigit(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

// UserRef names a user in a workspace.
type UserRef struct {
	WorkspaceID string
	ID          string
}

// TemplateFilter selects templates for the gallery.
type TemplateFilter struct {
	Channel Channel
	Label   string
}

// NotificationQuery searches the history. Q holds words that must all appear
// in the title or body (case- and accent-insensitive); the rest are filters.
// From is inclusive and To exclusive.
type NotificationQuery struct {
	Q             string
	Channel       Channel
	RecipientType string
	Source        Source
	Origin        Origin
	Status        Status
	From, To      time.Time
}

// Store is the whole persistence port: one interface per aggregate, so a
// service declares (or takes) only the ones it calls. Every method is scoped
// to one workspace unless it says otherwise; nothing crosses workspaces. A
// missing item is a not_found *Error, a failed precondition a conflict
// *Error. Both adapters (embedded, DynamoDB) implement all of it and pass
// the same contract suite (shared/storetest, one file per aggregate); only
// wiring and the contract suite name Store itself.
type Store interface {
	Workspaces
	Users
	Templates
	Notifications
	Deliveries
	Uploads
	Compose
	Rates
	Campaigns
	Idempotency
	Operators
	Settings
	Inbox
}

// Workspaces keeps workspaces and their API keys.
type Workspaces interface {
	// CreateWorkspace fails with conflict when the id exists.
	CreateWorkspace(ctx context.Context, w Workspace) error
	GetWorkspace(ctx context.Context, id string) (Workspace, error)

	// CreateAPIKey stores a key by its hash; conflict when the id exists.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// GetAPIKeyByHash finds a key, revoked or not, by the hash of its secret.
	GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// ListAPIKeys lists a workspace's keys, oldest first.
	ListAPIKeys(ctx context.Context, workspaceID string) ([]APIKey, error)
	// RevokeAPIKey marks a key revoked; not_found for another workspace's key.
	RevokeAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error
	// TouchAPIKey sets a key's LastUsedAt to at (revoked or not, and
	// keeping everything else); not_found for another workspace's key.
	// Callers write it at most hourly (apikey.Keys.Used).
	TouchAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error
}

// Users keeps the workspace's users: their profile and what their apps reported.
type Users interface {
	// PutUser creates or updates a user's profile fields (name, email, phone,
	// status, type, language, timezone, attributes, tags) and keeps what the
	// user's apps reported (devices, permission, preferences, presence,
	// WhatsApp window) and CreatedAt and SealKey. A new user gets u's SealKey,
	// PushPermission (ask when empty) and CreatedAt. Returns the stored user.
	PutUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, workspaceID, id string) (User, error)
	// GetUsers returns the users that exist among ids, keyed by id.
	GetUsers(ctx context.Context, workspaceID string, ids []string) (map[string]User, error)
	// UpdateUser applies fn to the stored user and saves the result, retrying
	// on concurrent writes. fn may be called more than once.
	UpdateUser(ctx context.Context, workspaceID, id string, fn func(*User) error) (User, error)
	// DeleteUser erases the user with everything personal about them,
	// their in-app inbox included.
	DeleteUser(ctx context.Context, workspaceID, id string) error
	ListUsers(ctx context.Context, workspaceID string, f UserFilter, p Page) ([]User, string, error)
	// FindUsersByPhone finds the users with this phone (E.164) in every
	// workspace: a WhatsApp message from a phone names no workspace. Only
	// provider callbacks use it; it may lag a write by a moment.
	FindUsersByPhone(ctx context.Context, phone string) ([]UserRef, error)
}

// Templates keeps templates and every version of them.
type Templates interface {
	// SaveTemplate stores t as its latest version and keeps that version.
	// t.Version must be 1 for a new template (conflict if the id exists) or
	// exactly one more than the stored version (conflict otherwise).
	SaveTemplate(ctx context.Context, t Template) error
	GetTemplate(ctx context.Context, workspaceID, id string) (Template, error)
	GetTemplateVersion(ctx context.Context, workspaceID, id string, version int) (Template, error)
	// ListTemplates lists latest versions, newest first.
	ListTemplates(ctx context.Context, workspaceID string, f TemplateFilter, p Page) ([]Template, string, error)
	// DeleteTemplate deletes the template and its versions.
	DeleteTemplate(ctx context.Context, workspaceID, id string) error
}

// Notifications keeps notifications (the history) and their counts.
type Notifications interface {
	// CreateNotification stores n and indexes the words of its title and
	// body; conflict when the id exists.
	CreateNotification(ctx context.Context, n Notification) error
	GetNotification(ctx context.Context, workspaceID, id string) (Notification, error)
	// ListNotifications answers the history, newest first.
	ListNotifications(ctx context.Context, workspaceID string, q NotificationQuery, p Page) ([]Notification, string, error)
	// SetNotificationStatus moves a notification to status to when its
	// current status is one of from (any, when from is empty); conflict
	// otherwise. Returns the updated notification.
	SetNotificationStatus(ctx context.Context, workspaceID, id string, to Status, from ...Status) (Notification, error)
	// AddNotificationCounts adds delta to the counts atomically and returns
	// the updated notification.
	AddNotificationCounts(ctx context.Context, workspaceID, id string, delta Counts) (Notification, error)
	// ApplyCounts adds the delta of every part whose marker was not applied
	// before, and remembers the markers: applying the same part twice counts
	// it once. Returns the updated notification.
	ApplyCounts(ctx context.Context, workspaceID, id string, parts []CountPart) (Notification, error)
}

// Deliveries keeps each recipient's delivery of a notification, moved forward by providers' reports.
type Deliveries interface {
	// RecordDeliveries inserts each delivery unless one with the same
	// (workspace, notification, key) exists; created[i] says which were new.
	// Chunk is stored with the delivery (GetDeliveries returns it).
	// It is the dedupe that keeps a recipient from being counted twice.
	// A delivery of a channel TrackedByMessageID with a ProviderMessageID
	// is also indexed by that id (see FindDeliveryByMessageID).
	RecordDeliveries(ctx context.Context, ds []Delivery) (created []bool, err error)
	// GetDeliveries returns the deliveries that exist among keys, by key.
	GetDeliveries(ctx context.Context, workspaceID, notificationID string, keys []string) (map[string]Delivery, error)
	// UpdateDeliveryStatus moves a delivery forward to u.Status (a higher
	// DeliveryStatus.Rank) and moves the notification's counts with it, in
	// one atomic write; news that is not ahead of the stored status (late,
	// duplicated, out of order) changes nothing and returns false. A missing
	// delivery is not_found.
	UpdateDeliveryStatus(ctx context.Context, u DeliveryUpdate) (bool, error)
	// RecordAnswer stores a quick-reply answer on the delivery unless the
	// delivery holds one given at a later time; it reports whether it wrote.
	// It does not move the status (the caller does, with
	// UpdateDeliveryStatus). A missing delivery is not_found.
	RecordAnswer(ctx context.Context, a DeliveryAnswer) (bool, error)
	// FindDeliveryByMessageID finds, in any workspace, the delivery of
	// channel ch (one TrackedByMessageID) that RecordDeliveries stored with
	// this ProviderMessageID; not_found when there is none. The index may
	// forget a message id some days after the delivery was recorded.
	FindDeliveryByMessageID(ctx context.Context, ch Channel, messageID string) (DeliveryRef, error)
	// ListDeliveries lists a notification's deliveries, optionally of one status.
	ListDeliveries(ctx context.Context, workspaceID, notificationID string, status DeliveryStatus, p Page) ([]Delivery, string, error)
}

// Uploads keeps the spreadsheet uploads and their validation state.
type Uploads interface {
	// CreateUpload stores a new upload; conflict when the id exists.
	CreateUpload(ctx context.Context, u Upload) error
	GetUpload(ctx context.Context, workspaceID, id string) (Upload, error)
	// UpdateUpload applies fn to the stored upload and saves the result with
	// Version one higher, retrying on concurrent writes (fn may be called
	// more than once). An error from fn is returned as it is and nothing is
	// written. A missing upload is not_found.
	UpdateUpload(ctx context.Context, workspaceID, id string, fn func(*Upload) error) (Upload, error)
	// ListUploads lists a workspace's uploads, newest first (ids sort by
	// creation time).
	ListUploads(ctx context.Context, workspaceID string, p Page) ([]Upload, string, error)
}

// Compose keeps a workspace's AI composition settings and usage.
type Compose interface {
	// GetComposeSettings returns what the workspace changed of AI
	// composition; not_found when it never saved any.
	GetComposeSettings(ctx context.Context, workspaceID string) (ComposeSettings, error)
	// PutComposeSettings replaces them.
	PutComposeSettings(ctx context.Context, s ComposeSettings) error
	// AddComposeUsage adds u's requests and tokens to the workspace's total
	// for u.Day and u.Model, atomically (concurrent adds all count).
	AddComposeUsage(ctx context.Context, u ComposeUsage) error
	// ListComposeUsage returns the totals of the days from..to (inclusive,
	// YYYY-MM-DD; another form is validation_failed), by day then model.
	ListComposeUsage(ctx context.Context, workspaceID, from, to string) ([]ComposeUsage, error)
}

// Rates counts events against a workspace's fixed-window limits.
type Rates interface {
	// TakeRate counts one event against the workspace's limit for name in
	// the fixed window starting at window: when fewer than limit were
	// counted it counts this one and returns true; otherwise it counts
	// nothing and returns false. Counts of different windows are separate.
	// Windows are at most an hour long and start on a whole second: a
	// window's count is forgotten an hour after it starts.
	TakeRate(ctx context.Context, workspaceID, name string, window time.Time, limit int) (bool, error)
}

// Campaigns keeps campaigns and their runs.
type Campaigns interface {
	// CreateCampaign stores a new campaign at Version 1; conflict when the
	// id exists.
	CreateCampaign(ctx context.Context, c Campaign) error
	GetCampaign(ctx context.Context, workspaceID, id string) (Campaign, error)
	// UpdateCampaign applies fn to the stored campaign and saves it with
	// Version one higher, retrying on concurrent writes (fn may be called
	// more than once); an error from fn is returned as it is and nothing is
	// written. A missing campaign is not_found.
	UpdateCampaign(ctx context.Context, workspaceID, id string, fn func(*Campaign) error) (Campaign, error)
	// DeleteCampaign deletes the campaign and its runs; not_found when it
	// does not exist.
	DeleteCampaign(ctx context.Context, workspaceID, id string) error
	// ListCampaigns lists a workspace's campaigns of a kind (all kinds when
	// empty), newest first.
	ListCampaigns(ctx context.Context, workspaceID, kind string, p Page) ([]Campaign, string, error)

	// StartRun records the run of a campaign's scheduled time when there is
	// none (Attempts 1) and returns it with true. When one exists it
	// returns the stored run and false, after adding one to its Attempts
	// if it is still running (a retry of a run that died).
	StartRun(ctx context.Context, r CampaignRun) (CampaignRun, bool, error)
	// FinishRun stores the outcome of a run (status, notification,
	// recipients, error, finish time); not_found when it was never started.
	FinishRun(ctx context.Context, r CampaignRun) error
	// ListRuns lists a campaign's runs, newest scheduled time first.
	ListRuns(ctx context.Context, workspaceID, campaignID string, p Page) ([]CampaignRun, string, error)
}

// Idempotency keeps the Idempotency-Key records of POST requests.
type Idempotency interface {
	// ClaimIdempotencyKey stores rec unless an unexpired record with the same
	// key exists; it returns the record that is stored and whether it was
	// this call that stored it.
	ClaimIdempotencyKey(ctx context.Context, rec IdempotencyRecord) (IdempotencyRecord, bool, error)
	// CompleteIdempotencyKey saves the response of a claimed key.
	CompleteIdempotencyKey(ctx context.Context, rec IdempotencyRecord) error
	// ReleaseIdempotencyKey forgets a claim whose request failed, so the
	// client may retry.
	ReleaseIdempotencyKey(ctx context.Context, workspaceID, key string) error
}

// BlobInfo describes a stored object. ETag changes whenever the content
// does.
type BlobInfo struct {
	Size    int64
	ETag    string
	ModTime time.Time
}

// Blobs is the object storage port: S3 on AWS, files on disk locally. Keys
// are slash-separated paths of letters, digits and -_.= with no empty, "."
// or ".." parts. Both adapters pass the same contract suite.
type Blobs interface {
	// Put stores body (size bytes, or -1 when unknown) under key, replacing
	// what was there.
	Put(ctx context.Context, key string, body io.Reader, size int64) (BlobInfo, error)
	// Open reads the object at key; not_found when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, BlobInfo, error)
	// Stat describes the object at key; not_found when there is none.
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes the object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
}

// QueueMessage is a message received from a queue. Receipt identifies this
// receipt of it (for Delete and ChangeVisibility); ReceiveCount starts at 1.
type QueueMessage struct {
	ID           string
	Body         []byte
	Receipt      string
	ReceiveCount int
	// SentAt is when the queue accepted the message (SQS's SentTimestamp:
	// the send, not the end of a delay); zero when the queue does not say.
	SentAt time.Time
}

// Queue is the at-least-once work queue port. A received message is hidden
// for the visibility timeout and comes back unless deleted; after the
// configured number of receives it moves to the dead-letter queue. Both
// adapters (embedded, SQS) pass the same contract suite.
type Queue interface {
	// Send enqueues bodies, batching requests and retrying failed entries;
	// it returns an error only when some body could not be enqueued.
	Send(ctx context.Context, bodies [][]byte) error
	// SendDelayed is Send with every body hidden for delay first. An adapter
	// may cap the delay (SQS at 15 minutes): a consumer that gets a message
	// too early defers it again.
	SendDelayed(ctx context.Context, bodies [][]byte, delay time.Duration) error
	// Receive returns up to max messages, waiting up to wait for the first.
	Receive(ctx context.Context, max int, wait time.Duration) ([]QueueMessage, error)
	Delete(ctx context.Context, receipt string) error
	ChangeVisibility(ctx context.Context, receipt string, timeout time.Duration) error
}

// SendError is a Send that enqueued some bodies and not others: Failed
// holds the indexes of the bodies that were not enqueued. A Send error of
// another type enqueued none of them.
type SendError struct {
	Failed []int
	Err    error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("%d messages not enqueued: %v", len(e.Failed), e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// NotEnqueued returns which of n bodies a Send that returned err did not
// enqueue: the SendError's list, or all of them.
func NotEnqueued(err error, n int) map[int]bool {
	out := map[int]bool{}
	var se *SendError
	if errors.As(err, &se) {
		for _, i := range se.Failed {
			out[i] = true
		}
		return out
	}
	if err != nil {
		for i := range n {
			out[i] = true
		}
	}
	return out
}

// Consume takes messages from q until ctx is done, max at a time, and
// hands each body to handle: the local mode's stand-in for a Lambda's SQS
// or S3 trigger. A handled message is deleted; one whose handle failed
// comes back after the queue's visibility timeout (and, after its
// receives, goes to the dead-letter queue). what names the work in logs.
//
// The messages of a receive stay hidden while they wait their turn and
// while they are handled (KeepHidden, renewed every third of the queue's
// visibility timeout): a handle that runs longer than the timeout, such
// as a large spreadsheet's ingestion, is never handed to a second
// consumer at the same time.
func Consume(ctx context.Context, q Queue, max int, what string, log *slog.Logger, handle func(ctx context.Context, body []byte) error) {
	visibility := VisibilityOf(q)
	for ctx.Err() == nil {
		msgs, err := q.Receive(ctx, max, time.Second)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("receive "+what, "err", err.Error())
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		hidden := KeepHidden(ctx, q, msgs, visibility, log)
		for _, m := range msgs {
			err := handle(ctx, m.Body)
			hidden.Release(m.Receipt)
			if err != nil {
				log.Warn(what+" failed; it comes back", "messageId", m.ID, "receive", m.ReceiveCount, "err", err.Error())
				continue
			}
			if err := q.Delete(context.WithoutCancel(ctx), m.Receipt); err != nil {
				log.Warn("delete "+what, "messageId", m.ID, "err", err.Error())
			}
		}
		hidden.Stop()
	}
}

// AwaitNotification reads notification id with get. The API enqueues a
// send's first messages before it stores the notification (so that a
// failed send leaves nothing half sent), so a consumer may see a message a
// moment early: a missing notification is read again, backing off from
// 50 ms, for about patience before its not_found is returned.
func AwaitNotification(ctx context.Context, get func(ctx context.Context, workspaceID, id string) (Notification, error), workspaceID, id string, patience time.Duration) (Notification, error) {
	wait := 50 * time.Millisecond
	for {
		n, err := get(ctx, workspaceID, id)
		if !IsCode(err, CodeNotFound) || wait > patience {
			return n, err
		}
		select {
		case <-ctx.Done():
			return n, err
		case <-time.After(wait):
		}
		wait *= 2
	}
}
