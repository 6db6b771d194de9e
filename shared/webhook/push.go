package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/sns"
)

// PushEndpoints reads and deletes SNS platform endpoints (sns.Endpoints).
type PushEndpoints interface {
	// Owner returns the device an endpoint was created for and its token;
	// ok is false when the endpoint is gone or not Herald's.
	Owner(ctx context.Context, endpointARN string) (owner sns.EndpointOwner, token string, ok bool, err error)
	Delete(ctx context.Context, endpointARN string) error
}

// Push serves POST /webhooks/push, the HTTPS subscription of the SNS topic
// that the push platform applications (FCM, APNs) publish their
// EventDeliveryFailure events to; SNSOptions says how the messages are
// authenticated.
//
// Push feedback is about devices, not deliveries: SNS hands a push to FCM or
// APNs and learns only later that the token is dead (the app was
// uninstalled, the token rotated). When it does, it disables the endpoint
// and publishes a DeliveryFailure event naming the endpoint. Herald reads
// the endpoint's owner (the workspace, user and device it was created for,
// kept in its CustomUserData), removes that device from the user, so that no
// later send tries it (and the push rules see no device, or the other
// devices), and deletes the endpoint, as AWS recommends for dead tokens.
// The delivery itself stays sent: SNS does not say which message failed
// in a way worth a write per push (see shared/dynamo/DESIGN.md).
//
//	DeliveryFailure, InvalidPlatformToken or EndpointDisabled   device removed, endpoint deleted
//	anything else                                               ignored (credentials, throttling: the operator's alarms)
type Push struct {
	Store     userUpdater
	Endpoints PushEndpoints
	Log       *slog.Logger
	// Metrics counts each push the platform reported failed for a dead
	// token of Herald's (failed, invalid_token); nil counts none.
	Metrics Metrics
	SNSOptions
}

// ServeHTTP receives one SNS notification carrying a platform event.
func (h *Push) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.endpoint("push", h.Log).serve(w, r, h.apply)
}

// pushEvent is the part of an SNS platform application event Herald reads.
type pushEvent struct {
	EventType   string `json:"EventType"`
	EndpointArn string `json:"EndpointArn"`
	FailureType string `json:"FailureType"`
	MessageID   string `json:"MessageId"`
}

// deadTokenFailures are the DeliveryFailure types that mean the device's
// token will never work again.
var deadTokenFailures = map[string]bool{"InvalidPlatformToken": true, "EndpointDisabled": true}

func (h *Push) apply(ctx context.Context, m *snsMessage) error {
	var e pushEvent
	if err := json.Unmarshal([]byte(m.Message), &e); err != nil {
		h.Log.Warn("push notification that is not a platform event", "messageId", m.MessageID)
		return nil
	}
	log := h.Log.With("event", e.EventType, "failureType", e.FailureType, "pushMessageId", e.MessageID)
	if e.EventType != "DeliveryFailure" || !deadTokenFailures[e.FailureType] || e.EndpointArn == "" {
		log.Info("push event ignored")
		return nil
	}
	owner, token, ok, err := h.Endpoints.Owner(ctx, e.EndpointArn)
	if err != nil {
		return fmt.Errorf("read endpoint owner: %w", err)
	}
	if !ok || owner.WorkspaceID == "" || owner.UserID == "" || owner.DeviceID == "" {
		log.Info("push event ignored", "why", "endpoint gone or not Herald's")
		return nil
	}
	log = log.With("workspaceId", owner.WorkspaceID, "deviceId", owner.DeviceID)
	outcome, err := h.removeDevice(ctx, owner, token, e.EndpointArn)
	if err != nil {
		return err
	}
	if outcome == deviceRemoved {
		// Counted once: the event SNS delivers again, after a failure
		// below, finds the device gone.
		count(h.Metrics, notify.ChannelPush, metrics.Failed, sns.CodeInvalidToken)
	}
	if err := h.Endpoints.Delete(ctx, e.EndpointArn); err != nil {
		return fmt.Errorf("delete endpoint: %w", err)
	}
	log.Info("push event", "outcome", outcome+", endpoint deleted") // rare: a device gone
	return nil
}

// deviceRemoved is removeDevice's outcome when it took the device off.
const deviceRemoved = "device removed"

// removeDevice takes the owner's device off the user when it is still the
// one the endpoint was made for (same token, or this endpoint): a device
// registered again since with a fresh token stays.
func (h *Push) removeDevice(ctx context.Context, owner sns.EndpointOwner, token, arn string) (string, error) {
	return changeUser(ctx, h.Store, owner.WorkspaceID, owner.UserID, "remove device", func(u *notify.User) (string, bool) {
		kept := u.Devices[:0:0]
		for _, d := range u.Devices {
			if d.ID == owner.DeviceID && (d.Endpoint == arn || (token != "" && d.Token == token)) {
				continue
			}
			kept = append(kept, d)
		}
		if len(kept) == len(u.Devices) {
			return "device already gone", false
		}
		u.Devices = kept
		return deviceRemoved, true
	})
}
