package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/ses"
)

// SESStore is what SES callbacks need of the store: deliveries move
// forward, and a bounced or complaining address turns the user's email off.
type SESStore interface {
	Deliveries
	userUpdater
}

// SES serves POST /webhooks/ses, the HTTPS subscription of the SNS topic
// that the SES configuration set publishes its events to; SNSOptions says
// how the messages are authenticated.
//
// Event handling:
//
//	Delivery                      the delivery becomes delivered
//	Bounce, bounceType Permanent  the delivery fails ("bounce"); the user's email is turned off
//	Complaint                     the user's email is turned off; the delivery stays as it is
//	anything else                 ignored (transient bounces, Send, Open, …)
//
// An email is recognised by the tags the ses package puts on it; one
// without them, or for a delivery or user the store does not know, is
// acknowledged and ignored. A store failure answers 500 so that SNS
// delivers the message again; every change is idempotent.
type SES struct {
	Store SESStore
	Log   *slog.Logger
	// Metrics counts deliveries, bounces and complaints; nil counts none.
	Metrics Metrics
	SNSOptions
}

// reasonBounce is the reason of a delivery failed by a permanent bounce.
const reasonBounce = "bounce"

// ServeHTTP receives one SNS message.
func (h *SES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.endpoint("ses", h.Log).serve(w, r, h.apply)
}

// sesEvent is the part of an SES event Herald reads. Event publishing
// names its type eventType; the identity's feedback notifications name it
// notificationType (and carry no tags, so Herald ignores them).
type sesEvent struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             struct {
		MessageID   string              `json:"messageId"`
		Destination []string            `json:"destination"`
		Tags        map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType string `json:"bounceType"`
		Timestamp  string `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		Timestamp string `json:"timestamp"`
	} `json:"complaint"`
	Delivery *struct {
		Timestamp string `json:"timestamp"`
	} `json:"delivery"`
}

func (e *sesEvent) kind() string {
	if e.EventType != "" {
		return e.EventType
	}
	return e.NotificationType
}

// tag returns the decoded value of the tag name, "" when it is missing or
// not made by ses.TagValue.
func (e *sesEvent) tag(name string) string {
	vs := e.Mail.Tags[name]
	if len(vs) == 0 {
		return ""
	}
	v, err := ses.ParseTagValue(vs[0])
	if err != nil {
		return ""
	}
	return v
}

// apply applies one SES event.
func (h *SES) apply(ctx context.Context, m *snsMessage) error {
	var e sesEvent
	if err := json.Unmarshal([]byte(m.Message), &e); err != nil {
		h.Log.Warn("ses notification that is not an SES event", "messageId", m.MessageID)
		return nil
	}
	kind := e.kind()
	ws, nid, user := e.tag(ses.TagWorkspace), e.tag(ses.TagNotification), e.tag(ses.TagUser)
	log := h.Log.With("messageId", m.MessageID, "event", kind, "workspaceId", ws, "notificationId", nid)
	if ws == "" || nid == "" {
		log.Info("ses event ignored", "why", "not an email Herald sent")
		return nil
	}
	// Herald sends every email to one address; the delivery of a raw
	// address is keyed by it, lower-cased as the API stores it.
	addr := ""
	if len(e.Mail.Destination) == 1 {
		addr = strings.ToLower(e.Mail.Destination[0])
	}
	key := user
	if key == "" && addr != "" {
		key = notify.Recipient{Address: addr}.Key()
	}
	var err error
	outcome := "ignored"
	switch {
	case kind == "Delivery" && key != "":
		var at string
		if e.Delivery != nil {
			at = e.Delivery.Timestamp
		}
		outcome, err = moveDelivery(ctx, h.Store, h.Metrics, notify.ChannelEmail, notify.DeliveryUpdate{WorkspaceID: ws, NotificationID: nid, Key: key,
			Status: notify.DeliveryDelivered, At: h.eventTime(at)})
	case kind == "Bounce" && e.Bounce != nil && e.Bounce.BounceType == "Permanent":
		if key != "" {
			outcome, err = moveDelivery(ctx, h.Store, h.Metrics, notify.ChannelEmail, notify.DeliveryUpdate{WorkspaceID: ws, NotificationID: nid, Key: key,
				Status: notify.DeliveryFailed, Reason: reasonBounce, At: h.eventTime(e.Bounce.Timestamp)})
		}
		if err == nil && user != "" {
			var off string
			off, err = h.emailOff(ctx, ws, user, addr)
			outcome += ", " + off
		}
	case kind == "Complaint" && user != "":
		outcome, err = h.emailOff(ctx, ws, user, addr)
	}
	if err != nil {
		return fmt.Errorf("%s event of notification %s: %w", kind, nid, err)
	}
	if kind == "Complaint" {
		// A complaint leaves the delivery as it is: it is counted apart,
		// once it is applied (a failure above brings the event back).
		count(h.Metrics, notify.ChannelEmail, metrics.Complaint, "")
	}
	log.Debug("ses event", "outcome", outcome) // one an email: counted in the metrics, logged at DEBUG
	return nil
}

// emailOff turns the user's email preference off. A bounce or a complaint
// is about an address: when the user's address is no longer the one the
// email went to (addr, "" when unknown), the preference stays as it is.
func (h *SES) emailOff(ctx context.Context, workspaceID, userID, addr string) (string, error) {
	return channelOff(ctx, h.Store, workspaceID, userID, notify.ChannelEmail, h.now(), func(u *notify.User) bool {
		return addr == "" || u.Email == "" || strings.EqualFold(u.Email, addr)
	})
}

// eventTime is the time SES reports for the event, or now.
func (h *SES) eventTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	return h.now().Truncate(time.Second)
}
