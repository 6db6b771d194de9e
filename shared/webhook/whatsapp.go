// Package webhook receives what providers report about deliveries: it
// authenticates each callback by the provider's own signature (there is no
// API key) and moves the deliveries forward. The callbacks Lambda and the
// local server serve the same handlers.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
	"github.com/heraldhq/herald/shared/whatsapp"
)

// Deliveries is what callbacks need of the store.
type Deliveries interface {
	UpdateDeliveryStatus(ctx context.Context, u notify.DeliveryUpdate) (bool, error)
}

// maxBody bounds a callback's body; Meta's batches stay far below.
const maxBody = 1 << 20

// WhatsAppStore is what WhatsApp callbacks need of the store.
type WhatsAppStore interface {
	Deliveries
	userUpdater
	FindUsersByPhone(ctx context.Context, phone string) ([]notify.UserRef, error)
	RecordAnswer(ctx context.Context, a notify.DeliveryAnswer) (bool, error)
	// The rest checks quick replies whose payload is not signed.
	GetDeliveries(ctx context.Context, workspaceID, notificationID string, keys []string) (map[string]notify.Delivery, error)
	GetUser(ctx context.Context, workspaceID, id string) (notify.User, error)
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
}

// WhatsApp serves GET and POST /webhooks/whatsapp for the WhatsApp Cloud
// API: the verification handshake, and, signed with the app secret,
// message statuses (which move deliveries forward), the users' own
// messages (which open their 24-hour window for free-form text), and their
// presses of a template's quick-reply buttons: the button's payload (see
// whatsapp.ButtonPayload) names the delivery, which becomes read and keeps
// the answer (the button's id), and the user keeps it as their last answer.
//
// A press counts only from the phone the delivery was sent to: the
// payload's MAC covers that phone, so a payload naming another delivery or
// button, or pressed (or forged) from another phone, is logged and
// ignored. Payloads sent before they were signed carry no MAC: those count
// when the phone is the one recorded on the delivery and the button is
// one of its notification's, so they say nothing a real press could not.
type WhatsApp struct {
	AppSecret   string
	VerifyToken string
	// ReplySecret verifies quick-reply payloads; the dispatch side's
	// whatsapp.Config.ReplySecret must be the same.
	ReplySecret []byte
	Store       WhatsAppStore
	Log         *slog.Logger
	// Metrics counts the statuses that move deliveries (delivered, read,
	// failed; "sent" is dispatch's to count); nil counts none.
	Metrics Metrics
}

// ServeHTTP answers the handshake (GET) and status callbacks (POST).
func (h *WhatsApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.verify(w, r)
	case http.MethodPost:
		h.receive(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// verify is Meta's subscription handshake: echo hub.challenge when
// hub.verify_token is ours.
func (h *WhatsApp) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if h.VerifyToken == "" || q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != h.VerifyToken {
		http.Error(w, "verification failed", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, q.Get("hub.challenge"))
}

// callback is the part of Meta's webhook body Herald reads.
type callback struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Messages []struct {
					From      string `json:"from"`
					Timestamp string `json:"timestamp"`
					Type      string `json:"type"`
					// Button is a template's quick-reply press.
					Button *struct {
						Payload string `json:"payload"`
						Text    string `json:"text"`
					} `json:"button"`
					// Interactive is a reply button of an interactive message.
					Interactive *struct {
						ButtonReply *struct {
							ID string `json:"id"`
						} `json:"button_reply"`
					} `json:"interactive"`
				} `json:"messages"`
				Statuses []struct {
					ID           string `json:"id"`
					Status       string `json:"status"`
					Timestamp    string `json:"timestamp"`
					CallbackData string `json:"biz_opaque_callback_data"`
					Errors       []struct {
						Code int `json:"code"`
					} `json:"errors"`
				} `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

var statusOf = map[string]notify.DeliveryStatus{
	"sent":      notify.DeliverySent,
	"delivered": notify.DeliveryDelivered,
	"read":      notify.DeliveryRead,
	"failed":    notify.DeliveryFailed,
}

// receive checks the signature over the raw body before reading anything
// in it, then moves each delivery the statuses name. A store error answers
// 500 so that Meta sends the batch again; updates are idempotent, so the
// parts already applied are harmless the second time.
func (h *WhatsApp) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if !whatsapp.VerifySignature(h.AppSecret, body, r.Header.Get(whatsapp.SignatureHeader)) {
		h.Log.Warn("whatsapp callback with a bad signature")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var cb callback
	if err := json.Unmarshal(body, &cb); err != nil {
		http.Error(w, "not a WhatsApp callback", http.StatusBadRequest)
		return
	}
	moved, ignored := 0, 0
	for _, e := range cb.Entry {
		for _, c := range e.Changes {
			for _, st := range c.Value.Statuses {
				status, ok := statusOf[st.Status]
				ws, nid, key, mine := whatsapp.ParseCallbackData(st.CallbackData)
				if !ok || !mine {
					ignored++ // not a status Herald tracks, or not a message Herald sent
					continue
				}
				u := notify.DeliveryUpdate{WorkspaceID: ws, NotificationID: nid, Key: key, Status: status, At: unixTime(st.Timestamp)}
				if status == notify.DeliveryFailed && len(st.Errors) > 0 {
					u.Reason = "whatsapp_" + strconv.Itoa(st.Errors[0].Code)
				}
				changed, err := h.Store.UpdateDeliveryStatus(r.Context(), u)
				switch {
				case notify.IsCode(err, notify.CodeNotFound):
					ignored++
				case err != nil:
					h.Log.Error("whatsapp status", "workspaceId", ws, "notificationId", nid, "err", err.Error())
					http.Error(w, "try again", http.StatusInternalServerError)
					return
				case changed:
					moved++
					if o, ok := metrics.OutcomeOf(status); ok && status != notify.DeliverySent {
						count(h.Metrics, notify.ChannelWhatsApp, o, u.Reason)
					}
				}
			}
		}
	}
	opened, answered := 0, 0
	for _, e := range cb.Entry {
		for _, c := range e.Changes {
			for _, m := range c.Value.Messages {
				at := unixTime(m.Timestamp)
				n, err := h.openWindow(r.Context(), "+"+strings.TrimPrefix(m.From, "+"), at)
				if err != nil {
					h.Log.Error("whatsapp inbound message", "err", err.Error())
					http.Error(w, "try again", http.StatusInternalServerError)
					return
				}
				opened += n
				var payload string
				switch {
				case m.Button != nil:
					payload = m.Button.Payload
				case m.Interactive != nil && m.Interactive.ButtonReply != nil:
					payload = m.Interactive.ButtonReply.ID
				}
				if payload == "" {
					continue
				}
				ok, err := h.answer(r.Context(), m.From, payload, at)
				if err != nil {
					h.Log.Error("whatsapp quick reply", "err", err.Error())
					http.Error(w, "try again", http.StatusInternalServerError)
					return
				}
				if ok {
					answered++
				}
			}
		}
	}
	h.Log.Info("whatsapp callback", "moved", moved, "ignored", ignored, "windowsOpened", opened, "answers", answered)
	w.WriteHeader(http.StatusOK)
}

func unixTime(s string) time.Time {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC()
	}
	return time.Now().UTC().Truncate(time.Second)
}

// openWindow records that the user with this phone wrote to us at t, in
// every workspace that has one: free-form messages may reach them for 24
// hours. A message older than the one recorded changes nothing.
func (h *WhatsApp) openWindow(ctx context.Context, phone string, t time.Time) (int, error) {
	refs, err := h.Store.FindUsersByPhone(ctx, phone)
	if err != nil {
		return 0, err
	}
	for _, ref := range refs {
		_, err := h.Store.UpdateUser(ctx, ref.WorkspaceID, ref.ID, func(u *notify.User) error {
			if u.WhatsAppLastInbound == nil || t.After(*u.WhatsAppLastInbound) {
				u.WhatsAppLastInbound = &t
			}
			return nil
		})
		if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
			return 0, err
		}
	}
	return len(refs), nil
}

// answer records a quick-reply press, from the phone from, whose payload
// names a delivery: the delivery becomes read (the recipient saw the
// message to press its button) and keeps the answer, and the user keeps it
// as their last answer. It reports whether the payload named a delivery
// Herald knows and the press counts (see WhatsApp). Every step is
// idempotent, and an older press arriving late changes neither the
// delivery's answer nor the user's. A press that does not count is no
// error: Meta would only send it again.
func (h *WhatsApp) answer(ctx context.Context, from, payload string, at time.Time) (bool, error) {
	r, ok := whatsapp.ParseButtonPayload(payload)
	if !ok {
		return false, nil
	}
	ws, nid, key, button := r.WorkspaceID, r.NotificationID, r.RecipientKey, r.ButtonID
	switch {
	case r.Signed() && len(h.ReplySecret) == 0:
		h.Log.Error("whatsapp quick reply ignored: its payload is signed but no reply secret is configured", "workspaceId", ws, "notificationId", nid)
		return false, nil
	case r.Signed() && !r.SignedBy(h.ReplySecret, from):
		h.Log.Warn("whatsapp quick reply ignored: its payload was not made for the phone that sent it (forged, altered or forwarded)", "workspaceId", ws, "notificationId", nid)
		return false, nil
	case !r.Signed():
		ok, err := h.unsignedReplyCounts(ctx, r, from)
		if err != nil {
			return false, err
		}
		if !ok {
			h.Log.Warn("whatsapp quick reply ignored: unsigned payload not from the delivery's phone or not one of its buttons", "workspaceId", ws, "notificationId", nid)
			return false, nil
		}
	}
	ref := notify.DeliveryRef{WorkspaceID: ws, NotificationID: nid, Key: key}
	_, err := h.Store.UpdateDeliveryStatus(ctx, notify.DeliveryUpdate{WorkspaceID: ws, NotificationID: nid, Key: key, Status: notify.DeliveryRead, At: at})
	if notify.IsCode(err, notify.CodeNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark delivery read: %w", err)
	}
	if _, err := h.Store.RecordAnswer(ctx, notify.DeliveryAnswer{DeliveryRef: ref, Answer: button, At: at}); err != nil && !notify.IsCode(err, notify.CodeNotFound) {
		return false, fmt.Errorf("record answer: %w", err)
	}
	if strings.HasPrefix(key, addrKeyPrefix) {
		return true, nil // a raw phone: no user to keep it on
	}
	_, err = changeUser(ctx, h.Store, ws, key, "record answer on user", func(u *notify.User) (string, bool) {
		if u.LastAnswer != nil && !at.After(u.LastAnswer.At) {
			return "", false
		}
		u.LastAnswer = &notify.Answer{NotificationID: nid, Answer: button, At: at}
		return "", true
	})
	return err == nil, err
}

// unsignedReplyCounts decides on a payload sent before payloads were
// signed (see WhatsApp): it counts when from is the phone recorded on the
// delivery it names (sealed with the user's key, which a deleted user no
// longer has) and its button is one of the notification's.
func (h *WhatsApp) unsignedReplyCounts(ctx context.Context, r whatsapp.Reply, from string) (bool, error) {
	ds, err := h.Store.GetDeliveries(ctx, r.WorkspaceID, r.NotificationID, []string{r.RecipientKey})
	if err != nil {
		return false, fmt.Errorf("get delivery for an unsigned quick reply: %w", err)
	}
	d, ok := ds[r.RecipientKey]
	if !ok {
		return false, nil
	}
	addr := d.Address
	if seal.IsSealed(addr) {
		u, err := h.Store.GetUser(ctx, r.WorkspaceID, d.UserID)
		if notify.IsCode(err, notify.CodeNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("get user for an unsigned quick reply: %w", err)
		}
		if addr, err = seal.Open(u.SealKey, addr); err != nil {
			return false, nil
		}
	}
	if addr == "" || addr != "+"+strings.TrimPrefix(from, "+") {
		return false, nil
	}
	n, err := h.Store.GetNotification(ctx, r.WorkspaceID, r.NotificationID)
	if notify.IsCode(err, notify.CodeNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get notification for an unsigned quick reply: %w", err)
	}
	if n.Content.WhatsApp == nil {
		return false, nil
	}
	for _, b := range n.Content.WhatsApp.Buttons {
		if b.ID == r.ButtonID {
			return true, nil
		}
	}
	return false, nil
}
