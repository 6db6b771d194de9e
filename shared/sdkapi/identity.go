package sdkapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
)

// identityRoutes registers the SDK's configuration and the routes about
// the token's user: push permission, devices, presence, preferences and
// what the service worker saw (events).
func (s *Server) identityRoutes(route routeFunc) {
	route("GET /sdk/v1/config", http.HandlerFunc(s.config))
	route("PUT /sdk/v1/me/push-permission", s.me(s.putPushPermission))
	route("POST /sdk/v1/me/devices", s.me(s.addDevice))
	route("DELETE /sdk/v1/me/devices/{deviceId}", s.me(s.removeDevice))
	route("POST /sdk/v1/me/presence", s.me(s.postPresence))
	route("GET /sdk/v1/me/preferences", s.me(s.getPreferences))
	route("PUT /sdk/v1/me/preferences", s.me(s.putPreferences))
	route("POST /sdk/v1/me/events", s.me(s.postEvent))
}

// config is what the SDK needs before any user signs in: the Web Push key
// to subscribe with ("" when Web Push is not configured), and the client
// id it was set up with.
func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, struct {
		VAPIDPublicKey string `json:"vapidPublicKey"`
		ClientID       string `json:"clientId"`
		InboxPollMs    int64  `json:"inboxPollMs"`
	}{s.opts.VAPIDPublicKey, r.Header.Get(clientHeader), s.opts.InboxPoll.Milliseconds()})
}

func (s *Server) putPushPermission(w http.ResponseWriter, r *http.Request, p principal) error {
	var in struct {
		Status notify.PushPermission `json:"status"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.users.SetPushPermission(r.Context(), p.WorkspaceID, p.UserID, in.Status)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]notify.PushPermission{"status": u.PushPermission})
	return nil
}

// subscription is a browser's PushSubscription.toJSON(), which has an
// expirationTime beside what Herald keeps (browsers set it null).
type subscription struct {
	notify.WebPushSubscription
	ExpirationTime *float64 `json:"expirationTime"`
}

// addDevice registers this browser's Web Push subscription as a device of
// the token's user; the SDK registers no other kind.
func (s *Server) addDevice(w http.ResponseWriter, r *http.Request, p principal) error {
	var in struct {
		Kind         string        `json:"kind"`
		Subscription *subscription `json:"subscription"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Kind != notify.DeviceWebPush {
		return notify.Invalid(notify.FieldError{Field: "kind", Problem: "must be webpush: the SDK registers the browser's push subscription"})
	}
	dev := profile.DeviceInput{Kind: in.Kind}
	if in.Subscription != nil {
		dev.Subscription = &in.Subscription.WebPushSubscription
	}
	d, err := s.users.AddDevice(r.Context(), p.WorkspaceID, p.UserID, dev)
	if err != nil {
		return err
	}
	d.Endpoint = "" // an internal detail of the SNS sender
	httpapi.WriteJSON(w, http.StatusCreated, d)
	return nil
}

// removeDevice unregisters one of the token user's devices (on sign-out);
// another user's device id is not found.
func (s *Server) removeDevice(w http.ResponseWriter, r *http.Request, p principal) error {
	id := r.PathValue("deviceId")
	if profile.ValidID("deviceId", id) != nil {
		return notify.NotFound("device", id)
	}
	if err := s.users.RemoveDevice(r.Context(), p.WorkspaceID, p.UserID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// The SDK's heartbeats last from 30 s to 10 min (2 min when unsaid): a
// page visible beats well within it, and a tab closed without a word
// stops counting as present soon after.
const (
	minPageTTL     = 30
	maxPageTTL     = 600
	defaultPageTTL = int(profile.DefaultPresenceTTL / time.Second)
)

// postPresence records a page's presence: heartbeats while it is visible,
// and "active": false with the "until" of its last heartbeat when it goes
// away, which ends the user's presence only when no other tab beat since
// (profile.Service.ReportPagePresence).
func (s *Server) postPresence(w http.ResponseWriter, r *http.Request, p principal) error {
	var in struct {
		Active     *bool      `json:"active"`
		TTLSeconds *int       `json:"ttlSeconds"`
		Until      *time.Time `json:"until"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Active == nil {
		return notify.Invalid(notify.FieldError{Field: "active", Problem: "required"})
	}
	ttl := defaultPageTTL
	if in.TTLSeconds != nil {
		if *in.TTLSeconds < minPageTTL || *in.TTLSeconds > maxPageTTL {
			return notify.Invalid(notify.FieldError{Field: "ttlSeconds", Problem: fmt.Sprintf("must be from %d to %d", minPageTTL, maxPageTTL)})
		}
		ttl = *in.TTLSeconds
	}
	if in.Until != nil && *in.Active {
		return notify.Invalid(notify.FieldError{Field: "until", Problem: "only with active false: the until of this page's last heartbeat"})
	}
	got, err := s.users.ReportPagePresence(r.Context(), p.WorkspaceID, p.UserID,
		profile.PagePresence{Active: *in.Active, TTL: time.Duration(ttl) * time.Second, LastUntil: in.Until})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, struct {
		Active bool       `json:"active"`
		Until  *time.Time `json:"until,omitempty"`
	}{got.Active, got.Until})
	return nil
}

func (s *Server) getPreferences(w http.ResponseWriter, r *http.Request, p principal) error {
	prefs, err := s.users.Preferences(r.Context(), p.WorkspaceID, p.UserID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, prefs)
	return nil
}

func (s *Server) putPreferences(w http.ResponseWriter, r *http.Request, p principal) error {
	var in notify.Preferences
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	prefs, err := s.users.SetPreferences(r.Context(), p.WorkspaceID, p.UserID, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, prefs)
	return nil
}

// Events the service worker reports about a notification it showed.
const (
	eventDisplayed = "displayed"
	eventClicked   = "clicked"
)

// maxButtonID bounds a button id; the notification's own are checked.
const maxButtonID = 64

// errNoChange leaves a user as stored.
var errNoChange = errors.New("no change")

// postEvent records what the user's browser did with a notification it
// showed them: displayed moves the user's delivery of it to delivered,
// clicked to read; a button (clicked) records the answer on the delivery
// and as the user's last answer, as a WhatsApp quick reply does. Only the
// token user's delivery moves (its key is the user id). A delivery that
// failed or was skipped stays so, and news older than the delivery's
// status changes nothing: the SDK may report twice.
func (s *Server) postEvent(w http.ResponseWriter, r *http.Request, p principal) error {
	var in struct {
		NotificationID string  `json:"notificationId"`
		Event          string  `json:"event"`
		Button         *string `json:"button"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	var bad []notify.FieldError
	if in.NotificationID == "" {
		bad = append(bad, notify.FieldError{Field: "notificationId", Problem: "required"})
	}
	status := map[string]notify.DeliveryStatus{eventDisplayed: notify.DeliveryDelivered, eventClicked: notify.DeliveryRead}[in.Event]
	if status == "" {
		bad = append(bad, notify.FieldError{Field: "event", Problem: "must be displayed or clicked"})
	}
	if b := in.Button; b != nil && (*b == "" || len(*b) > maxButtonID || in.Event != eventClicked) {
		bad = append(bad, notify.FieldError{Field: "button", Problem: "the id of the pressed button, with event clicked"})
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	ctx, ws, nid := r.Context(), p.WorkspaceID, in.NotificationID
	if profile.ValidID("notificationId", nid) != nil {
		return notify.NotFound("notification", nid)
	}
	if _, err := s.users.Get(ctx, ws, p.UserID); err != nil {
		return err
	}
	ds, err := s.store.GetDeliveries(ctx, ws, nid, []string{p.UserID})
	if err != nil {
		return fmt.Errorf("get delivery of %s: %w", nid, err)
	}
	d, ok := ds[p.UserID]
	if !ok {
		return notify.Errorf(notify.CodeNotFound, "notification %q has no delivery to this user", nid)
	}
	if in.Button != nil {
		n, err := s.store.GetNotification(ctx, ws, nid)
		if err != nil {
			return fmt.Errorf("get notification %s: %w", nid, err)
		}
		if n.Content.Push == nil || !slices.ContainsFunc(n.Content.Push.Buttons, func(b notify.Button) bool { return b.ID == *in.Button }) {
			return notify.Invalid(notify.FieldError{Field: "button", Problem: "not one of the notification's buttons"})
		}
	}
	if d.Status == notify.DeliveryFailed || d.Status == notify.DeliverySkipped {
		w.WriteHeader(http.StatusNoContent) // it never reached the user as Herald knows
		return nil
	}
	at := s.opts.Now().UTC().Truncate(time.Millisecond)
	_, err = s.store.UpdateDeliveryStatus(ctx, notify.DeliveryUpdate{WorkspaceID: ws, NotificationID: nid, Key: p.UserID, Status: status, At: at})
	if err != nil {
		return fmt.Errorf("move delivery of %s to %s: %w", nid, status, err)
	}
	if in.Button != nil {
		ref := notify.DeliveryRef{WorkspaceID: ws, NotificationID: nid, Key: p.UserID}
		if _, err := s.store.RecordAnswer(ctx, notify.DeliveryAnswer{DeliveryRef: ref, Answer: *in.Button, At: at}); err != nil {
			return fmt.Errorf("record answer to %s: %w", nid, err)
		}
		_, err := s.store.UpdateUser(ctx, ws, p.UserID, func(u *notify.User) error {
			if u.LastAnswer != nil && !at.After(u.LastAnswer.At) {
				return errNoChange
			}
			u.LastAnswer = &notify.Answer{NotificationID: nid, Answer: *in.Button, At: at}
			return nil
		})
		if err != nil && !errors.Is(err, errNoChange) {
			return fmt.Errorf("record last answer of user: %w", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
