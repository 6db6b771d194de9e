package channel

import (
	"context"
	"log/slog"

	"github.com/heraldhq/herald/shared/notify"
)

// Sandbox accepts every message and delivers it nowhere: the provider of the
// Lambda functions until real provider credentials are configured. It logs
// one line per message with ids only, never an address or a text.
type Sandbox struct {
	log *slog.Logger
}

// NewSandbox returns a Sandbox logging to log.
func NewSandbox(log *slog.Logger) *Sandbox { return &Sandbox{log: log} }

func (s *Sandbox) accept(ctx context.Context, env Envelope, ch notify.Channel) (Receipt, error) {
	id := "sandbox-" + outboxID(env, ch)[len("outbox-"):]
	s.log.InfoContext(ctx, "sandbox delivery", "workspaceId", env.WorkspaceID, "notificationId", env.NotificationID, "channel", ch, "providerMessageId", id)
	return Receipt{ProviderMessageID: id}, nil
}

// SendPush accepts a push.
func (s *Sandbox) SendPush(ctx context.Context, m PushMessage) (Receipt, error) {
	return s.accept(ctx, m.Envelope, notify.ChannelPush)
}

// SendWebPush accepts a browser push.
func (s *Sandbox) SendWebPush(ctx context.Context, m WebPushMessage) (Receipt, error) {
	return s.accept(ctx, m.Envelope, notify.ChannelWebPush)
}

// SendSMS accepts a text message.
func (s *Sandbox) SendSMS(ctx context.Context, m SMSMessage) (Receipt, error) {
	return s.accept(ctx, m.Envelope, notify.ChannelSMS)
}

// SendEmail accepts an email.
func (s *Sandbox) SendEmail(ctx context.Context, m EmailMessage) (Receipt, error) {
	return s.accept(ctx, m.Envelope, notify.ChannelEmail)
}

// SendWhatsApp accepts a WhatsApp message.
func (s *Sandbox) SendWhatsApp(ctx context.Context, m WhatsAppMessage) (Receipt, error) {
	return s.accept(ctx, m.Envelope, notify.ChannelWhatsApp)
}
