package channel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// OutboxStore keeps what the outbox delivered (the notify.Outbox port).
type OutboxStore interface {
	PutOutbox(ctx context.Context, e notify.OutboxEntry) error
}

// Outbox is the local mode's provider for every channel: it "delivers" by
// writing the message where GET /v1/outbox shows it. Entries are keyed by the
// envelope, so a message retried after a crash is kept once.
type Outbox struct {
	store OutboxStore
	now   func() time.Time
}

// NewOutbox returns an outbox writing to store.
func NewOutbox(store OutboxStore, now func() time.Time) *Outbox {
	return &Outbox{store: store, now: now}
}

func (o *Outbox) put(ctx context.Context, env Envelope, ch notify.Channel, address, title, body, route string, data map[string]string) (Receipt, error) {
	id := outboxID(env, ch)
	e := notify.OutboxEntry{
		ProviderMessageID: id,
		WorkspaceID:       env.WorkspaceID,
		NotificationID:    env.NotificationID,
		RecipientKey:      env.RecipientKey,
		UserID:            env.UserID,
		Channel:           ch,
		Address:           address,
		Title:             title,
		Body:              body,
		Route:             route,
		Data:              data,
		CreatedAt:         o.now().UTC(),
	}
	if err := o.store.PutOutbox(ctx, e); err != nil {
		return Receipt{}, fmt.Errorf("outbox %s: %w", ch, err)
	}
	return Receipt{ProviderMessageID: id, Delivered: true}, nil
}

// outboxID is stable for one delivery, like a provider's idempotency key.
func outboxID(env Envelope, ch notify.Channel) string {
	sum := sha256.Sum256([]byte(env.WorkspaceID + "\x00" + env.NotificationID + "\x00" + env.RecipientKey + "\x00" + string(ch)))
	return "outbox-" + hex.EncodeToString(sum[:12])
}

func deviceData(devices []notify.Device, icon, image string, buttons []notify.Button) map[string]string {
	ids := make([]string, len(devices))
	for i, d := range devices {
		ids[i] = d.ID
	}
	data := map[string]string{"devices": strings.Join(ids, ",")}
	if icon != "" {
		data["icon"] = icon
	}
	if image != "" {
		data["image"] = image
	}
	for i, b := range buttons {
		data["button"+strconv.Itoa(i+1)] = b.ID + ":" + b.Label
	}
	return data
}

// SendPush writes a mobile push; the address shown is the customer id.
func (o *Outbox) SendPush(ctx context.Context, m PushMessage) (Receipt, error) {
	return o.put(ctx, m.Envelope, notify.ChannelPush, m.UserID, m.Title, m.Body, m.Route, deviceData(m.Devices, m.Icon, m.Image, m.Buttons))
}

// SendWebPush writes a browser push; the address shown is the customer id.
func (o *Outbox) SendWebPush(ctx context.Context, m WebPushMessage) (Receipt, error) {
	return o.put(ctx, m.Envelope, notify.ChannelWebPush, m.UserID, m.Title, m.Body, m.Route, deviceData(m.Devices, m.Icon, m.Image, m.Buttons))
}

// SendSMS writes a text message.
func (o *Outbox) SendSMS(ctx context.Context, m SMSMessage) (Receipt, error) {
	return o.put(ctx, m.Envelope, notify.ChannelSMS, m.To, "", m.Text, "", nil)
}

// SendEmail writes an email; the HTML part is kept in data.
func (o *Outbox) SendEmail(ctx context.Context, m EmailMessage) (Receipt, error) {
	var data map[string]string
	if m.HTML != "" {
		data = map[string]string{"html": m.HTML}
	}
	return o.put(ctx, m.Envelope, notify.ChannelEmail, m.To, m.Subject, m.Text, "", data)
}

// SendWhatsApp writes a WhatsApp message: the template's name, language and
// parameters in data, or the free-form text as the body.
func (o *Outbox) SendWhatsApp(ctx context.Context, m WhatsAppMessage) (Receipt, error) {
	body := m.Text
	var data map[string]string
	if t := m.Template; t != nil {
		data = map[string]string{"template": t.Name, "language": t.Language}
		for i, p := range t.Parameters {
			data[strconv.Itoa(i+1)] = p
		}
		for i, b := range t.Buttons {
			data["button"+strconv.Itoa(i+1)] = b.ID + ":" + b.Label
		}
	}
	return o.put(ctx, m.Envelope, notify.ChannelWhatsApp, m.To, "", body, "", data)
}
