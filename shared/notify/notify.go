package notify

import (
	"slices"
	"time"
)

// Channel is a way of reaching a recipient.
type Channel string

// The channels Herald delivers on.
const (
	ChannelPush     Channel = "push"
	ChannelWebPush  Channel = "webpush"
	ChannelSMS      Channel = "sms"
	ChannelEmail    Channel = "email"
	ChannelWhatsApp Channel = "whatsapp"
	// ChannelInApp is the inbox inside the customer's own app or site: the
	// message is kept in the user's inbox (Inbox), which the app reads
	// through the SDK or the API. It needs no address nor device: every
	// existing user has an inbox.
	ChannelInApp Channel = "inapp"
)

// Channels lists every channel in a stable order.
var Channels = []Channel{ChannelPush, ChannelWebPush, ChannelSMS, ChannelEmail, ChannelWhatsApp, ChannelInApp}

// ChannelList is the channels as a validation message lists them:
// "push, webpush, sms, email, whatsapp or inapp".
const ChannelList = "push, webpush, sms, email, whatsapp or inapp"

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, k := range Channels {
		if c == k {
			return true
		}
	}
	return false
}

// AddressKind says which kind of address a channel delivers to when the
// audience is a list of raw addresses rather than users: "phone", "email", or
// "" for channels that reach users only (a registered device, an inbox).
func (c Channel) AddressKind() string {
	switch c {
	case ChannelSMS, ChannelWhatsApp:
		return "phone"
	case ChannelEmail:
		return "email"
	}
	return ""
}

// Scope is a permission granted to an API key.
type Scope string

// Scopes: read everything; send notifications and maintain recipients; admin
// can do anything, including managing keys and templates.
const (
	ScopeRead  Scope = "read"
	ScopeSend  Scope = "send"
	ScopeAdmin Scope = "admin"
)

// Workspace is a tenant: every other item belongs to exactly one.
type Workspace struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// APIKey grants access to one workspace. Only the SHA-256 of the secret is
// stored; the secret itself is shown once, when the key is created.
type APIKey struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"-"`
	Name        string     `json:"name"`
	Scopes      []Scope    `json:"scopes"`
	Hash        string     `json:"-"`
	Prefix      string     `json:"prefix"`
	CreatedAt   time.Time  `json:"createdAt"`
	RevokedAt   *time.Time `json:"revokedAt,omitempty"`
	// LastUsedAt is when the key last authenticated a request, to the
	// hour: it is written at most once an hour per key (apikey.Keys.Used),
	// so that authentication does not write on every request. Nil until
	// first used.
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// Allows reports whether the key carries scope s (admin carries all).
func (k APIKey) Allows(s Scope) bool {
	for _, have := range k.Scopes {
		if have == s || have == ScopeAdmin {
			return true
		}
	}
	return false
}

// PushPermission is what the recipient's app reported about push consent.
type PushPermission string

// Push permission states; new users start at ask.
const (
	PermissionAsk     PushPermission = "ask"
	PermissionAllowed PushPermission = "allowed"
	PermissionBlocked PushPermission = "blocked"
)

// Device kinds.
const (
	DeviceFCM     = "fcm"
	DeviceAPNs    = "apns"
	DeviceWebPush = "webpush"
)

// WebPushSubscription is what the browser's PushManager.subscribe returned.
type WebPushSubscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// Device is one push destination of a user.
type Device struct {
	ID           string               `json:"id"`
	Kind         string               `json:"kind"`
	Token        string               `json:"token,omitempty"`
	Subscription *WebPushSubscription `json:"subscription,omitempty"`
	// Endpoint is the SNS platform endpoint (ARN) created for the token,
	// remembered so that it is created once. The API does not show it.
	Endpoint  string    `json:"endpoint,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// QuietHours is a daily window, in the user's time zone, when nothing
// non-urgent is delivered.
type QuietHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Preferences are the user's opt-ins: a missing entry means "on". A
// delivery goes only when its channel, its category and the channel within
// its category are all on: a person may keep a kind of notification by
// email and turn its SMS off (CategoryChannels), as the preference page
// lets them.
type Preferences struct {
	Channels   map[Channel]bool `json:"channels,omitempty"`
	Categories map[string]bool  `json:"categories,omitempty"`
	// CategoryChannels are the channels of each category: category →
	// channel → on/off.
	CategoryChannels map[string]map[Channel]bool `json:"categoryChannels,omitempty"`
	QuietHours       *QuietHours                 `json:"quietHours,omitempty"`
}

// User is a recipient. Its id is the caller's (a customer number).
type User struct {
	WorkspaceID         string            `json:"-"`
	ID                  string            `json:"id"`
	Name                string            `json:"name,omitempty"`
	Email               string            `json:"email,omitempty"`
	Phone               string            `json:"phone,omitempty"`
	Status              string            `json:"status,omitempty"`
	Type                string            `json:"type,omitempty"`
	Language            string            `json:"language,omitempty"`
	Timezone            string            `json:"timezone,omitempty"`
	Attributes          map[string]string `json:"attributes,omitempty"`
	Tags                []string          `json:"tags,omitempty"`
	PushPermission      PushPermission    `json:"pushPermission"`
	Devices             []Device          `json:"devices"`
	Preferences         Preferences       `json:"preferences"`
	PresenceUntil       *time.Time        `json:"presenceUntil,omitempty"`
	WhatsAppLastInbound *time.Time        `json:"whatsappLastInboundAt,omitempty"`
	// LastAnswer is the latest quick-reply button the user pressed.
	LastAnswer *Answer `json:"lastAnswer,omitempty"`
	// SealKey encrypts the addresses kept on this user's deliveries; deleting
	// the user deletes the key, which erases those addresses everywhere at once.
	SealKey []byte `json:"-"`
	// Version increases on every write; UpdateUser uses it for optimistic
	// concurrency.
	Version   int64     `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// PushEnabled reports whether the user may receive mobile push: permission
// allowed and at least one mobile device.
func (u User) PushEnabled() bool {
	if u.PushPermission != PermissionAllowed {
		return false
	}
	for _, d := range u.Devices {
		if d.Kind == DeviceFCM || d.Kind == DeviceAPNs {
			return true
		}
	}
	return false
}

// HasTag reports whether the user carries tag t.
func (u User) HasTag(t string) bool {
	for _, have := range u.Tags {
		if have == t {
			return true
		}
	}
	return false
}

// Button is an action button of a push or a quick reply of WhatsApp.
type Button struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Route string `json:"route,omitempty"`
}

// PushExtras are the parts of a push beyond title and body.
type PushExtras struct {
	Icon    string   `json:"icon,omitempty"`
	Image   string   `json:"image,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
}

// EmailExtras are the parts of an email beyond the text body.
type EmailExtras struct {
	Subject string `json:"subject,omitempty"`
	HTML    string `json:"html,omitempty"`
}

// WhatsAppTemplate names a template approved by Meta and maps its numbered
// parameters ({{1}}, {{2}} …) to Herald variables, in order.
type WhatsAppTemplate struct {
	Name       string   `json:"name"`
	Language   string   `json:"language"`
	Category   string   `json:"category"`
	Parameters []string `json:"parameters,omitempty"`
	Buttons    []Button `json:"buttons,omitempty"`
}

// Variation is a template's text in another language.
type Variation struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body"`
}

// Template is a reusable message (an "asset"). Version increases on every
// change; a notification keeps the version it was sent with.
type Template struct {
	WorkspaceID string               `json:"-"`
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Channel     Channel              `json:"channel"`
	Title       string               `json:"title,omitempty"`
	Body        string               `json:"body"`
	Route       string               `json:"route,omitempty"`
	Push        *PushExtras          `json:"push,omitempty"`
	Email       *EmailExtras         `json:"email,omitempty"`
	WhatsApp    *WhatsAppTemplate    `json:"whatsapp,omitempty"`
	Variations  map[string]Variation `json:"variations,omitempty"`
	Labels      []string             `json:"labels,omitempty"`
	// Status is draft for text still to be reviewed (AI composition saves
	// its text as a draft); only a published template can be sent. Empty
	// is published (templates saved before drafts existed).
	Status    TemplateStatus `json:"status,omitempty"`
	Version   int            `json:"version"`
	Variables []string       `json:"variables"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
}

// TemplateStatus says whether a template may be sent.
type TemplateStatus string

// Template statuses.
const (
	TemplateDraft     TemplateStatus = "draft"
	TemplatePublished TemplateStatus = "published"
)

// SendProblem says why t cannot be sent, or "" when it can.
func (t Template) SendProblem() string {
	if t.Status == TemplateDraft {
		return "template " + t.ID + " is a draft: review it and publish it (PUT /v1/templates/" + t.ID + " with \"status\": \"published\") before sending it"
	}
	return ""
}

// Summary is the title and body a notification made of t shows in the
// history: the email's subject when t has no title, and the approved
// template's name when a WhatsApp template has no body of its own.
func (t Template) Summary() (title, body string) {
	title, body = t.Title, t.Body
	if title == "" && t.Email != nil {
		title = t.Email.Subject
	}
	if body == "" && t.WhatsApp != nil {
		body = "[template " + t.WhatsApp.Name + "]"
	}
	return title, body
}

// Source says how a notification was started.
type Source string

// Notification sources.
const (
	SourceSingle      Source = "single"
	SourceList        Source = "list"
	SourceFilter      Source = "filter"
	SourceSpreadsheet Source = "spreadsheet"
	SourceCampaign    Source = "campaign"
)

// Origin says where a send was made, which Source (the audience's kind)
// and CreatedBy (a free-form name) cannot: the console's history is
// filtered by it. Notifications older than it have none.
type Origin string

// Notification origins.
const (
	// OriginAPI is a send through the HTTP API: a send, a scheduled send
	// or a spreadsheet upload.
	OriginAPI Origin = "api"
	// OriginConsole is a send an operator made in the console.
	OriginConsole Origin = "console"
	// OriginCampaign is a campaign's run.
	OriginCampaign Origin = "campaign"
)

// Valid reports whether o is a known origin.
func (o Origin) Valid() bool {
	return o == OriginAPI || o == OriginConsole || o == OriginCampaign
}

// Status is the state of a whole notification.
type Status string

// Notification states.
const (
	// StatusScheduled is a send given a scheduleAt, before its time: it
	// can still be cancelled, and nothing is queued yet.
	StatusScheduled Status = "scheduled"
	StatusQueued    Status = "queued"
	StatusSending   Status = "sending"
	StatusCompleted Status = "completed"
	StatusCancelled Status = "cancelled"
	StatusFailed    Status = "failed"
)

// Final reports whether no more deliveries will happen.
func (s Status) Final() bool {
	return s == StatusCompleted || s == StatusCancelled || s == StatusFailed
}

// Counts tallies a notification's recipients by delivery status. Queued
// counts those not yet decided; the others sum to Total when it is done.
type Counts struct {
	Total     int64 `json:"total"`
	Queued    int64 `json:"queued"`
	Sent      int64 `json:"sent"`
	Delivered int64 `json:"delivered"`
	Read      int64 `json:"read"`
	Failed    int64 `json:"failed"`
	Skipped   int64 `json:"skipped"`
}

// Add returns c plus d, field by field.
func (c Counts) Add(d Counts) Counts {
	return Counts{
		Total:     c.Total + d.Total,
		Queued:    c.Queued + d.Queued,
		Sent:      c.Sent + d.Sent,
		Delivered: c.Delivered + d.Delivered,
		Read:      c.Read + d.Read,
		Failed:    c.Failed + d.Failed,
		Skipped:   c.Skipped + d.Skipped,
	}
}

// IsZero reports whether no field is set.
func (c Counts) IsZero() bool { return c == Counts{} }

// Audience records who a notification was for, as the caller said it.
type Audience struct {
	Kind  string `json:"kind"` // userIds, addresses, filter, upload
	Count int    `json:"count"`
	// UploadID is the spreadsheet upload the recipients came from.
	UploadID string `json:"uploadId,omitempty"`
}

// Notification is one send: what was written, to whom, and how it is going.
// Title and Body are kept as written, with their {{variables}} unrendered.
type Notification struct {
	WorkspaceID     string            `json:"-"`
	ID              string            `json:"id"`
	Channel         Channel           `json:"channel"`
	Fallback        []Channel         `json:"fallback,omitempty"`
	Source          Source            `json:"source"`
	Origin          Origin            `json:"origin,omitempty"`
	RecipientType   string            `json:"recipientType,omitempty"`
	Title           string            `json:"title,omitempty"`
	Body            string            `json:"body"`
	Route           string            `json:"route"`
	TemplateID      string            `json:"templateId,omitempty"`
	TemplateVersion int               `json:"templateVersion,omitempty"`
	Variables       map[string]string `json:"variables,omitempty"`
	Category        string            `json:"category,omitempty"`
	Urgent          bool              `json:"urgent"`
	IgnorePresence  bool              `json:"ignorePresence"`
	ScheduleAt      *time.Time        `json:"scheduleAt,omitempty"`
	Audience        Audience          `json:"audience"`
	Status          Status            `json:"status"`
	Counts          Counts            `json:"counts"`
	CreatedAt       time.Time         `json:"createdAt"`
	UpdatedAt       time.Time         `json:"updatedAt"`
	CreatedBy       string            `json:"createdBy"`
	// Content is the message as it will be rendered for each recipient: the
	// template's version at send time, or the inline content. Kept on the
	// notification so dispatch needs no other read and a later template edit
	// cannot change a send in flight.
	Content Template `json:"-"`
}

// DeliveryStatus is the state of one recipient of one notification. It only
// moves forward: queued → sent → delivered → read; failed and skipped are final.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryQueued    DeliveryStatus = "queued"
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryRead      DeliveryStatus = "read"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliverySkipped   DeliveryStatus = "skipped"
)

// Valid reports whether s is a known delivery status.
func (s DeliveryStatus) Valid() bool {
	switch s {
	case DeliveryQueued, DeliverySent, DeliveryDelivered, DeliveryRead, DeliveryFailed, DeliverySkipped:
		return true
	}
	return false
}

// Rank orders delivery statuses for forward-only updates: a status moves
// only to one of higher rank. A failure can follow a send but not a
// delivery; read is the last news a message can bring; skipped is final.
func (s DeliveryStatus) Rank() int {
	switch s {
	case DeliveryQueued:
		return 0
	case DeliverySent:
		return 1
	case DeliveryDelivered, DeliveryFailed:
		return 2
	case DeliveryRead:
		return 3
	case DeliverySkipped:
		return 4
	}
	return -1
}

// Counts returns the counts of one delivery in status s.
func (s DeliveryStatus) Counts() Counts {
	switch s {
	case DeliveryQueued:
		return Counts{Queued: 1}
	case DeliverySent:
		return Counts{Sent: 1}
	case DeliveryDelivered:
		return Counts{Delivered: 1}
	case DeliveryRead:
		return Counts{Read: 1}
	case DeliveryFailed:
		return Counts{Failed: 1}
	case DeliverySkipped:
		return Counts{Skipped: 1}
	}
	return Counts{}
}

// Sub returns c minus d, field by field.
func (c Counts) Sub(d Counts) Counts {
	return c.Add(Counts{-d.Total, -d.Queued, -d.Sent, -d.Delivered, -d.Read, -d.Failed, -d.Skipped})
}

// DeliveryUpdate is news of a delivery from its provider (a callback).
type DeliveryUpdate struct {
	WorkspaceID    string
	NotificationID string
	Key            string
	Status         DeliveryStatus
	Reason         string
	At             time.Time
}

// DeliveryRef names one delivery: a recipient of a notification.
type DeliveryRef struct {
	WorkspaceID    string
	NotificationID string
	Key            string
}

// DeliveryAnswer is a recipient's press of a quick-reply button.
type DeliveryAnswer struct {
	DeliveryRef
	Answer string
	At     time.Time
}

// TrackedByMessageID reports whether the provider of channel ch reports a
// delivery's status by the provider's message id alone (SNS SMS delivery
// status): such deliveries are indexed by that id when recorded. The other
// providers carry Herald's own reference back (WhatsApp callback data, SES
// tags), and push feedback is about devices, not deliveries.
func TrackedByMessageID(ch Channel) bool { return ch == ChannelSMS }

// Answer is the latest quick-reply answer a user gave, kept on the user.
type Answer struct {
	NotificationID string    `json:"notificationId"`
	Answer         string    `json:"answer"`
	At             time.Time `json:"at"`
}

// Reasons recorded on skipped and failed deliveries.
const (
	ReasonNoConsent       = "no_consent"
	ReasonNoDevice        = "no_device"
	ReasonBlocked         = "blocked"
	ReasonActiveInApp     = "active_in_app"
	ReasonWindowExpired   = "window_expired"
	ReasonInvalidAddress  = "invalid_address"
	ReasonDuplicate       = "duplicate"
	ReasonUnknownUser     = "unknown_user"
	ReasonMissingVariable = "missing_variable"
	ReasonCancelled       = "cancelled"
	ReasonProviderError   = "provider_error"
)

// Delivery is one recipient of one notification. Key identifies the recipient
// within the notification: the user id, or "addr#" and the address for sends
// to raw addresses.
type Delivery struct {
	WorkspaceID       string         `json:"-"`
	NotificationID    string         `json:"notificationId"`
	Key               string         `json:"-"`
	UserID            string         `json:"userId,omitempty"`
	Address           string         `json:"address,omitempty"`
	Channel           Channel        `json:"channel"`
	Status            DeliveryStatus `json:"status"`
	Reason            string         `json:"reason,omitempty"`
	ProviderMessageID string         `json:"providerMessageId,omitempty"`
	// Answer is the quick-reply button the recipient pressed (its id), the
	// latest one when they pressed more than one; AnsweredAt says when.
	Answer     string     `json:"answer,omitempty"`
	AnsweredAt *time.Time `json:"answeredAt,omitempty"`
	// Encoding and Segments describe an SMS as sent: GSM-7 or UCS-2, and how
	// many segments it took (what the operator pays for).
	Encoding string `json:"encoding,omitempty"`
	Segments int    `json:"segments,omitempty"`
	// Chunk is the dispatch message that recorded the delivery: counts are
	// applied once per chunk, so a chunk retried after a crash counts its
	// deliveries again under the same marker, never twice.
	Chunk     string    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// CountPart is a change of a notification's counts made by one dispatch
// chunk; Marker (the chunk id) makes applying it idempotent.
type CountPart struct {
	Marker string
	Delta  Counts
}

// Recipient is one entry of a dispatch message: a user, or a raw address, with
// the variables that belong to that recipient alone (a spreadsheet row's).
type Recipient struct {
	UserID    string            `json:"u,omitempty"`
	Address   string            `json:"a,omitempty"`
	Variables map[string]string `json:"v,omitempty"`
}

// Key is the recipient's identity within a notification (see Delivery.Key).
func (r Recipient) Key() string {
	if r.UserID != "" {
		return r.UserID
	}
	return "addr#" + r.Address
}

// DispatchMessage is the body of one queue message: several recipients of one
// notification packed together, so a million recipients are ten thousand
// messages, not a million.
type DispatchMessage struct {
	WorkspaceID    string `json:"w"`
	NotificationID string `json:"n"`
	// Chunk names this slice of the audience ("<notification>:<index>"); it
	// stays the same across redeliveries and redrives.
	Chunk      string      `json:"c"`
	Recipients []Recipient `json:"r"`
}

// RecipientsPerMessage is how many recipients one dispatch message carries.
// 100 recipients keep a message far under SQS's 256 KiB even with variables,
// and ten messages per SendMessageBatch make 1,000 recipients one request.
const RecipientsPerMessage = 100

// IdempotencyRecord remembers the answer to a request made with an
// Idempotency-Key, for 24 hours.
type IdempotencyRecord struct {
	WorkspaceID string    `json:"-"`
	Key         string    `json:"key"`
	RequestHash string    `json:"requestHash"`
	Done        bool      `json:"done"`
	StatusCode  int       `json:"statusCode,omitempty"`
	Response    []byte    `json:"response,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// StandingSkip applies the delivery rules that depend only on the user's
// standing settings, in the order dispatch applies them: the channel and
// category preferences (no_consent), push permission (no_consent while
// "ask", blocked), devices (no_device) and the address the channel needs
// (invalid_address). The in-app channel needs no address nor device: only
// the preferences apply to it. It returns the reason to skip, or "".
// Dispatch adds what only the moment of sending knows (presence, quiet
// hours, the WhatsApp window); a dry run counts with this alone.
func StandingSkip(n Notification, ch Channel, u User) string {
	if reason := PreferenceSkip(n, ch, u); reason != "" {
		return reason
	}
	switch ch {
	case ChannelPush:
		switch u.PushPermission {
		case PermissionBlocked:
			return ReasonBlocked
		case PermissionAllowed:
		default:
			return ReasonNoConsent
		}
		if !u.hasDevice(DeviceFCM, DeviceAPNs) {
			return ReasonNoDevice
		}
	case ChannelWebPush:
		if u.PushPermission == PermissionBlocked {
			return ReasonBlocked
		}
		if !u.hasDevice(DeviceWebPush) {
			return ReasonNoDevice
		}
	case ChannelEmail:
		if u.Email == "" {
			return ReasonInvalidAddress
		}
	case ChannelSMS, ChannelWhatsApp:
		if u.Phone == "" {
			return ReasonInvalidAddress
		}
	}
	return ""
}

// PreferenceSkip is the first of the standing rules: the user turned the
// channel, the notification's category, or the channel within that
// category off (no_consent).
func PreferenceSkip(n Notification, ch Channel, u User) string {
	if on, ok := u.Preferences.Channels[ch]; ok && !on {
		return ReasonNoConsent
	}
	if n.Category != "" {
		if on, ok := u.Preferences.Categories[n.Category]; ok && !on {
			return ReasonNoConsent
		}
		if on, ok := u.Preferences.CategoryChannels[n.Category][ch]; ok && !on {
			return ReasonNoConsent
		}
	}
	return ""
}

func (u User) hasDevice(kinds ...string) bool {
	for _, d := range u.Devices {
		if slices.Contains(kinds, d.Kind) {
			return true
		}
	}
	return false
}

// UploadStatus is where a spreadsheet upload stands.
type UploadStatus string

// Upload states: waiting for the file; validating it; rejected as a whole
// (nothing was sent; a fixed file may be uploaded again); its valid rows
// queued as a notification (or, for a users import, being imported);
// completed.
const (
	UploadWaiting    UploadStatus = "waiting"
	UploadValidating UploadStatus = "validating"
	UploadRejected   UploadStatus = "rejected"
	UploadQueued     UploadStatus = "queued"
	UploadCompleted  UploadStatus = "completed"
)

// Upload purposes: a send to every row, or an import of users.
const (
	UploadPurposeSend  = "send"
	UploadPurposeUsers = "users"
)

// UploadRows counts an upload's data rows (the header and blank rows are not
// rows).
type UploadRows struct {
	Total   int `json:"total"`
	Valid   int `json:"valid"`
	Invalid int `json:"invalid"`
}

// RowError is a problem with one row (Row is the row number a spreadsheet
// program shows: the header is row 1), or with the whole file (Row 0).
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// MaxUploadErrors is how many row errors an upload keeps; Rows.Invalid
// counts them all, and the report lists every row.
const MaxUploadErrors = 500

// Upload is a spreadsheet given to Herald: a send of a template to every
// row, or an import of users.
type Upload struct {
	WorkspaceID string  `json:"-"`
	ID          string  `json:"id"`
	Purpose     string  `json:"purpose"`
	TemplateID  string  `json:"templateId,omitempty"`
	Channel     Channel `json:"channel,omitempty"`
	Filename    string  `json:"filename"`
	// DefaultRegion is the ISO country whose national phone numbers the
	// file may hold (numbers with a + prefix need none).
	DefaultRegion string       `json:"defaultRegion,omitempty"`
	Category      string       `json:"category,omitempty"`
	Status        UploadStatus `json:"status"`
	Rows          UploadRows   `json:"rows"`
	Errors        []RowError   `json:"errors"`
	// NotificationID is the send made of the valid rows (purpose send).
	NotificationID string `json:"notificationId,omitempty"`
	// ObjectKey is where the file is stored (the blob key); ETag names the
	// version of the file the status describes.
	ObjectKey string `json:"-"`
	ETag      string `json:"-"`
	Size      int64  `json:"size,omitempty"`
	// Version increases on every write; UpdateUpload uses it for optimistic
	// concurrency.
	Version   int64  `json:"-"`
	CreatedBy string `json:"createdBy"`
	// Origin is where the upload was made (the API or the console): its
	// send's notification keeps it. Not shown by the API.
	Origin    Origin    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// ExpiresAt is when the upload URL stops accepting the file.
	ExpiresAt time.Time `json:"expiresAt"`
}
