package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

// SMSStore is what SMS delivery status needs of the store.
type SMSStore interface {
	Deliveries
	userUpdater
	FindDeliveryByMessageID(ctx context.Context, ch notify.Channel, messageID string) (notify.DeliveryRef, error)
}

// SMS applies SNS's SMS delivery status. SNS writes one JSON record per
// SMS to CloudWatch Logs (log groups sns/<region>/<account>/
// DirectPublishToPhoneNumber and …/Failure) once the carrier answers,
// which may take up to 72 hours. The records reach Herald two ways:
//
//   - ApplyLogs: a CloudWatch Logs subscription filter on those log groups
//     invokes the callbacks function (template.yaml wires it);
//   - ServeHTTP, POST /webhooks/sms: the same records as SNS notifications
//     (the Message is the record), authenticated as SNSOptions says, for
//     whoever forwards them through a topic (template.yaml subscribes the
//     route to SmsStatusTopic), and for scripted tests; the same
//     notifications delivered to the function itself go through
//     SNSRouter.
//
// A record names the SMS by SNS's MessageId alone; the store indexed each
// SMS delivery by it when it was recorded (notify.TrackedByMessageID).
//
//	status SUCCESS  the delivery becomes delivered
//	status FAILURE  the delivery fails, with a reason from the carrier's
//	                answer (opted_out, invalid_address, carrier_blocked,
//	                unreachable, price_limit, else sms_failed); an opted-out
//	                phone also turns the user's SMS preference off
//
// Records of SMS Herald did not send (or sent more than a week ago) are
// ignored. Every change is idempotent and statuses only move forward.
type SMS struct {
	Store SMSStore
	Log   *slog.Logger
	// Metrics counts the statuses that move deliveries; nil counts none.
	Metrics Metrics
	SNSOptions
}

// ServeHTTP receives one SNS notification carrying a delivery-status record.
func (h *SMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.endpoint("sms", h.Log).serve(w, r, h.applySNS)
}

// applySNS applies the delivery-status record an SNS notification carries.
func (h *SMS) applySNS(ctx context.Context, m *snsMessage) error {
	return h.Apply(ctx, []byte(m.Message))
}

// ApplyLogs applies the delivery-status records of a CloudWatch Logs
// subscription event, the messages of log group group, in order. A store
// failure returns the error, so that Lambda invokes again (logs
// subscriptions invoke asynchronously and retry; every record is applied
// idempotently).
func (h *SMS) ApplyLogs(ctx context.Context, group string, records []string) error {
	for _, r := range records {
		if err := h.Apply(ctx, []byte(r)); err != nil {
			return fmt.Errorf("sms status from %s: %w", group, err)
		}
	}
	return nil
}

// smsStatus is the part of an SNS SMS delivery-status record Herald reads.
type smsStatus struct {
	Notification struct {
		MessageID string `json:"messageId"`
		Timestamp string `json:"timestamp"`
	} `json:"notification"`
	Delivery struct {
		Destination      string `json:"destination"`
		ProviderResponse string `json:"providerResponse"`
	} `json:"delivery"`
	Status string `json:"status"`
}

// Apply applies one delivery-status record. Only a store failure is an
// error; a record that is not one, or names no delivery Herald knows, is
// logged and ignored.
func (h *SMS) Apply(ctx context.Context, record []byte) error {
	var st smsStatus
	if err := json.Unmarshal(record, &st); err != nil || st.Notification.MessageID == "" {
		h.Log.Warn("sms status that is not an SNS delivery-status record")
		return nil
	}
	log := h.Log.With("messageId", st.Notification.MessageID, "status", st.Status)
	var u notify.DeliveryUpdate
	switch st.Status {
	case "SUCCESS":
		u.Status = notify.DeliveryDelivered
	case "FAILURE":
		u.Status, u.Reason = notify.DeliveryFailed, smsReason(st.Delivery.ProviderResponse)
	default:
		log.Info("sms status ignored", "why", "unknown status")
		return nil
	}
	ref, err := h.Store.FindDeliveryByMessageID(ctx, notify.ChannelSMS, st.Notification.MessageID)
	if notify.IsCode(err, notify.CodeNotFound) {
		log.Info("sms status ignored", "why", "not an SMS Herald sent, or too old")
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the delivery of sms %s: %w", st.Notification.MessageID, err)
	}
	log = log.With("workspaceId", ref.WorkspaceID, "notificationId", ref.NotificationID)
	u.WorkspaceID, u.NotificationID, u.Key = ref.WorkspaceID, ref.NotificationID, ref.Key
	u.At = h.recordTime(st.Notification.Timestamp)
	outcome, err := moveDelivery(ctx, h.Store, h.Metrics, notify.ChannelSMS, u)
	if err != nil {
		return err
	}
	if u.Reason == reasonOptedOut && !strings.HasPrefix(ref.Key, addrKeyPrefix) {
		off, err := channelOff(ctx, h.Store, ref.WorkspaceID, ref.Key, notify.ChannelSMS, h.now(), func(u *notify.User) bool {
			return !isE164(st.Delivery.Destination) || u.Phone == "" || u.Phone == st.Delivery.Destination
		})
		if err != nil {
			return err
		}
		outcome += ", " + off
	}
	log.Debug("sms status", "outcome", outcome, "reason", u.Reason) // one an SMS: counted in the metrics
	return nil
}

// Reasons of failed SMS deliveries, from the carrier's answer.
const (
	reasonOptedOut       = "opted_out"
	reasonCarrierBlocked = "carrier_blocked"
	reasonUnreachable    = "unreachable"
	reasonPriceLimit     = "price_limit"
	reasonSMSFailed      = "sms_failed"
)

// addrKeyPrefix starts the key of a delivery to a raw address (no user).
const addrKeyPrefix = "addr#"

// smsReason classifies SNS's providerResponse of a failed SMS ("Phone
// number is opted out", "Invalid phone number", "Phone carrier has blocked
// this message", "Phone is currently unreachable/unavailable", "This
// delivery would exceed max price", "Unknown error attempting to reach
// phone", …).
func smsReason(response string) string {
	r := strings.ToLower(response)
	switch {
	case strings.Contains(r, "opted out"):
		return reasonOptedOut
	case strings.Contains(r, "invalid phone") || strings.Contains(r, "not a valid") || strings.Contains(r, "invalid number"):
		return notify.ReasonInvalidAddress
	case strings.Contains(r, "blocked") || strings.Contains(r, "spam") || strings.Contains(r, "filtered"):
		return reasonCarrierBlocked
	case strings.Contains(r, "unreachable") || strings.Contains(r, "unavailable") || strings.Contains(r, "ttl expired"):
		return reasonUnreachable
	case strings.Contains(r, "max price") || strings.Contains(r, "spend limit") || strings.Contains(r, "spending"):
		return reasonPriceLimit
	}
	return reasonSMSFailed
}

// recordTime reads SNS's "2016-06-28 00:40:34.558" (UTC), else now.
func (h *SMS) recordTime(s string) time.Time {
	if t, err := time.Parse("2006-01-02 15:04:05.999999999", s); err == nil {
		return t.UTC()
	}
	return h.now().Truncate(time.Second)
}

// isE164 reports whether s is "+" and 8 to 15 digits (SNS masks digits of
// the destination in some accounts' logs).
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// moveDelivery applies u, a status reported on channel ch, and counts it
// in m when it moved the delivery (a report repeated, or of a delivery
// further on already, counts once); a delivery the store does not know is
// ignored.
func moveDelivery(ctx context.Context, store Deliveries, m Metrics, ch notify.Channel, u notify.DeliveryUpdate) (string, error) {
	changed, err := store.UpdateDeliveryStatus(ctx, u)
	switch {
	case notify.IsCode(err, notify.CodeNotFound):
		return "unknown delivery", nil
	case err != nil:
		return "", fmt.Errorf("update delivery: %w", err)
	case changed:
		if o, ok := metrics.OutcomeOf(u.Status); ok {
			count(m, ch, o, u.Reason)
		}
		return "delivery " + string(u.Status), nil
	}
	return "delivery unchanged", nil
}

// userUpdater is the store's UpdateUser.
type userUpdater interface {
	UpdateUser(ctx context.Context, workspaceID, id string, fn func(*notify.User) error) (notify.User, error)
}

// errNoChange stops UpdateUser from writing a user who needs no change.
var errNoChange = errors.New("no change")

// channelOff turns the user's preference for channel ch off, because the
// provider reported their address gone for good (a hard bounce, a
// complaint, an opted-out phone). stillTheirs says whether the user's
// current address is the one the message went to: when they changed it
// since, the preference stays as it is.
func channelOff(ctx context.Context, store userUpdater, workspaceID, userID string, ch notify.Channel, now time.Time, stillTheirs func(*notify.User) bool) (string, error) {
	return changeUser(ctx, store, workspaceID, userID, "turn "+string(ch)+" off", func(u *notify.User) (string, bool) {
		if !stillTheirs(u) {
			return string(ch) + " address changed since", false
		}
		if on, ok := u.Preferences.Channels[ch]; ok && !on {
			return string(ch) + " already off", false
		}
		if u.Preferences.Channels == nil {
			u.Preferences.Channels = make(map[notify.Channel]bool)
		}
		u.Preferences.Channels[ch] = false
		u.UpdatedAt = now
		return string(ch) + " turned off", true
	})
}

// changeUser applies change to the user and returns its outcome; change
// reports whether it changed anything, and a user it leaves alone is not
// written. A user the store does not know is the outcome "unknown user".
func changeUser(ctx context.Context, store userUpdater, workspaceID, userID, what string, change func(*notify.User) (outcome string, changed bool)) (string, error) {
	var outcome string
	_, err := store.UpdateUser(ctx, workspaceID, userID, func(u *notify.User) error {
		var changed bool
		if outcome, changed = change(u); !changed {
			return errNoChange
		}
		return nil
	})
	switch {
	case err == nil, errors.Is(err, errNoChange):
		return outcome, nil
	case notify.IsCode(err, notify.CodeNotFound):
		return "unknown user", nil
	}
	return "", fmt.Errorf("%s: %w", what, err)
}
