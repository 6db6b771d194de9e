package profile

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/shared/egress"
	"github.com/heraldhq/herald/shared/notify"
)

// MaxDevices bounds a user's registered devices; registering one more
// drops the oldest, since apps reinstalled or browsers cleared leave
// registrations behind that nobody removes.
const MaxDevices = 20

// maxToken bounds a mobile push token; FCM's and APNs's are far shorter.
const maxToken = 4096

// maxEndpoint bounds a Web Push endpoint; push services' are a few
// hundred characters.
const maxEndpoint = 2048

// DeviceInput is a device as a caller registers it (the body of POST
// /v1/users/{id}/devices): a token for fcm and apns, a subscription for
// webpush.
type DeviceInput struct {
	Kind         string                      `json:"kind"`
	Token        string                      `json:"token"`
	Subscription *notify.WebPushSubscription `json:"subscription"`
}

// AddDevice registers a device of user id and returns it as stored. Its
// id is derived from its kind and token (or endpoint), so registering the
// same device again replaces it instead of adding a second one.
func (s *Service) AddDevice(ctx context.Context, workspaceID, id string, in DeviceInput) (notify.Device, error) {
	if err := notify.CheckText(in, ""); err != nil {
		return notify.Device{}, err
	}
	d := notify.Device{Kind: in.Kind, CreatedAt: s.stamp()}
	var identity string
	switch in.Kind {
	case notify.DeviceFCM, notify.DeviceAPNs:
		if in.Subscription != nil {
			return notify.Device{}, notify.Invalid(notify.FieldError{Field: "subscription", Problem: "only for kind webpush"})
		}
		tok := strings.TrimSpace(in.Token)
		if tok == "" || len(tok) > maxToken || strings.ContainsAny(tok, " \t\r\n") {
			return notify.Device{}, notify.Invalid(notify.FieldError{Field: "token", Problem: "required: the device's push token"})
		}
		d.Token, identity = tok, tok
	case notify.DeviceWebPush:
		if in.Token != "" {
			return notify.Device{}, notify.Invalid(notify.FieldError{Field: "token", Problem: "webpush takes a subscription, not a token"})
		}
		if err := validSubscription(in.Subscription, s.AllowPrivateEndpoints); err != nil {
			return notify.Device{}, err
		}
		d.Subscription, identity = in.Subscription, in.Subscription.Endpoint
	default:
		return notify.Device{}, notify.Invalid(notify.FieldError{Field: "kind", Problem: "must be fcm, apns or webpush"})
	}
	d.ID = deviceID(d.Kind, identity)
	_, err := s.Store.UpdateUser(ctx, workspaceID, id, func(u *notify.User) error {
		kept := u.Devices[:0:0]
		for _, have := range u.Devices {
			if have.ID == d.ID {
				continue // re-registering the same token replaces it
			}
			kept = append(kept, have)
		}
		if len(kept) >= MaxDevices {
			kept = kept[len(kept)-MaxDevices+1:] // the oldest registration goes
		}
		u.Devices = append(kept, d)
		u.UpdatedAt = d.CreatedAt
		return nil
	})
	if err != nil {
		return notify.Device{}, fmt.Errorf("add device to user %s: %w", id, err)
	}
	return d, nil
}

// deviceID is the id of the device of kind with this token (or Web Push
// endpoint): "dev_" and 16 hex digits of their SHA-256, stable so that a
// device registered twice keeps its id, and saying nothing of its token.
func deviceID(kind, identity string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + identity))
	return "dev_" + hex.EncodeToString(sum[:8])
}

// validSubscription checks a Web Push subscription before it is stored.
// Herald will POST to the endpoint on the say-so of whoever holds a send
// key, so it must be an https URL without user info on the public
// internet (egress.CheckURL: literal private addresses in any spelling and
// local names; names resolving to private addresses are refused when the
// push is sent). allowPrivate lifts the last rule for tests.
func validSubscription(sub *notify.WebPushSubscription, allowPrivate bool) error {
	if sub == nil {
		return notify.Invalid(notify.FieldError{Field: "subscription", Problem: "required for kind webpush"})
	}
	u, err := url.Parse(sub.Endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(sub.Endpoint) > maxEndpoint {
		return notify.Invalid(notify.FieldError{Field: "subscription.endpoint", Problem: "must be the https URL of the push service"})
	}
	if !allowPrivate {
		if err := egress.CheckURL(u); err != nil {
			return notify.Invalid(notify.FieldError{Field: "subscription.endpoint", Problem: "must be a push service on the public internet, not a private, loopback or local address"})
		}
	}
	for field, v := range map[string]string{"subscription.keys.p256dh": sub.Keys.P256dh, "subscription.keys.auth": sub.Keys.Auth} {
		if _, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "=")); err != nil || v == "" || len(v) > 256 {
			return notify.Invalid(notify.FieldError{Field: field, Problem: "must be the base64url key from the browser"})
		}
	}
	return nil
}

// RemoveDevice unregisters device deviceID of user id; not_found when the
// user has no such device.
func (s *Service) RemoveDevice(ctx context.Context, workspaceID, id, deviceID string) error {
	_, err := s.Store.UpdateUser(ctx, workspaceID, id, func(u *notify.User) error {
		for i, d := range u.Devices {
			if d.ID == deviceID {
				u.Devices = append(u.Devices[:i:i], u.Devices[i+1:]...)
				u.UpdatedAt = s.stamp()
				return nil
			}
		}
		return notify.NotFound("device", deviceID)
	})
	if err != nil {
		return fmt.Errorf("remove device %s of user %s: %w", deviceID, id, err)
	}
	return nil
}
