// Package provider picks, per channel, the sender dispatch uses: the real
// provider when the configuration has its credentials (WhatsApp Cloud API,
// Web Push with VAPID keys, SNS for SMS and mobile push, SES for email), and
// otherwise the fallback — the local outbox in local mode, the sandbox in
// the Lambda functions.
package provider

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/ses"
	"github.com/heraldhq/herald/shared/sns"
	"github.com/heraldhq/herald/shared/unsubscribe"
	"github.com/heraldhq/herald/shared/webpush"
	"github.com/heraldhq/herald/shared/whatsapp"
)

// Fallback delivers every channel; channel.Outbox and channel.Sandbox are.
type Fallback interface {
	dispatch.PushSender
	dispatch.WebPushSender
	dispatch.SMSSender
	dispatch.EmailSender
	dispatch.WhatsAppSender
}

// Channels is what Senders chose.
type Channels struct {
	Senders dispatch.Senders
	// Used names what delivers each channel.
	Used map[string]string
	// RetryHints read the wait a provider asked for from its errors.
	RetryHints map[notify.Channel]func(error) (time.Duration, bool)
	// Rates are the configured sends per second, by channel.
	Rates map[notify.Channel]float64
}

// Senders returns a sender for every channel and, for each channel, the
// name of what delivers it (fallbacks are named fallbackName). awsConfig is
// called only when an AWS provider (SNS, SES) is configured.
func Senders(ctx context.Context, cfg config.Config, fallback Fallback, fallbackName string, awsConfig func(context.Context) (aws.Config, error)) (Channels, error) {
	c := Channels{
		Senders:    dispatch.Senders{Push: fallback, WebPush: fallback, SMS: fallback, Email: fallback, WhatsApp: fallback},
		Used:       map[string]string{"push": fallbackName, "webpush": fallbackName, "sms": fallbackName, "email": fallbackName, "whatsapp": fallbackName},
		RetryHints: map[notify.Channel]func(error) (time.Duration, bool){},
		Rates:      map[notify.Channel]float64{},
	}
	for ch, r := range cfg.Rates {
		c.Rates[notify.Channel(ch)] = r
	}

	if cfg.WhatsApp.Configured() {
		// Quick-reply payloads are signed with Herald's signing secret, as
		// unsubscribe links are (under another label); the callbacks verify
		// them with the same.
		wa, err := whatsapp.New(whatsapp.Config{BaseURL: cfg.WhatsApp.BaseURL, PhoneNumberID: cfg.WhatsApp.PhoneNumberID, AccessToken: cfg.WhatsApp.AccessToken,
			ReplySecret: []byte(cfg.UnsubscribeSecret)})
		if err != nil {
			return c, fmt.Errorf("whatsapp: %w", err)
		}
		c.Senders.WhatsApp, c.Used["whatsapp"] = wa, "WhatsApp Cloud API"
		c.RetryHints[notify.ChannelWhatsApp] = whatsapp.RetryAfter
	}
	conns := inFlight(cfg)
	if cfg.VAPID.Configured() {
		wp, err := webpush.New(webpush.Config{VAPIDPublicKey: cfg.VAPID.PublicKey, VAPIDPrivateKey: cfg.VAPID.PrivateKey, Subject: cfg.VAPID.Subject,
			AllowPrivate: cfg.TestAllowPrivateEndpoints, Connections: conns})
		if err != nil {
			return c, fmt.Errorf("web push: %w", err)
		}
		c.Senders.WebPush, c.Used["webpush"] = wp, "Web Push (VAPID)"
		c.RetryHints[notify.ChannelWebPush] = webpush.RetryAfter
	}
	push := cfg.SNSFCMAppARN != "" || cfg.SNSAPNsAppARN != ""
	if !cfg.SNSEnabled && !cfg.SESEnabled && !push {
		return c, nil
	}
	awsCfg, err := awsConfig(ctx)
	if err != nil {
		return c, fmt.Errorf("aws config for SNS/SES: %w", err)
	}
	awsCfg.HTTPClient = keepAlive(awsCfg.HTTPClient, conns)
	if cfg.SNSEnabled || push {
		client := awssns.NewFromConfig(awsCfg)
		if cfg.SNSEnabled {
			c.Senders.SMS, c.Used["sms"] = sns.NewSMS(client, sns.SMSConfig{SenderID: cfg.SMSSenderID, PromotionalCategories: cfg.MarketingCategory}), "SNS"
		}
		if push {
			c.Senders.Push, c.Used["push"] = sns.NewPush(client, sns.PushConfig{FCMApplicationARN: cfg.SNSFCMAppARN, APNsApplicationARN: cfg.SNSAPNsAppARN}), "SNS mobile push"
		}
	}
	if cfg.SESEnabled {
		sc := ses.Config{From: cfg.SESFrom, ConfigurationSet: cfg.SESConfigSet, MarketingCategories: cfg.MarketingCategory}
		if cfg.UnsubscribeSecret != "" && cfg.PublicURL != "" {
			secret, base := []byte(cfg.UnsubscribeSecret), cfg.PublicURL
			sc.UnsubscribeURL = func(env channel.Envelope) string {
				if env.UserID == "" {
					return "" // a raw address has no preferences to turn off
				}
				return base + "/unsubscribe/" + unsubscribe.Token(secret, env.WorkspaceID, env.UserID)
			}
		}
		mail, err := ses.New(sesv2.NewFromConfig(awsCfg), sc)
		if err != nil {
			return c, fmt.Errorf("ses: %w", err)
		}
		c.Senders.Email, c.Used["email"] = mail, "SES"
		c.RetryHints[notify.ChannelEmail] = ses.RetryAfter
	}
	return c, nil
}

// inFlight is how many provider calls the dispatchers of one process make
// at once: each worker sends cfg.SendConcurrent recipients at a time.
func inFlight(cfg config.Config) int {
	return max(cfg.Workers, 1) * max(cfg.SendConcurrent, 1)
}

// keepAlive keeps up to conns idle connections per host in the SDK's
// client, so that every call in flight finds one to reuse, and opens no
// more than conns to a host: a call that finds them all busy waits for
// one rather than dialing a connection the pool would close again. The
// SDK's default keeps 10: with 4 workers × 32 sends at once about 60% of
// the calls opened a new TCP connection (and, to real SES or SNS, a new
// TLS session). A client that is not the SDK's buildable one is the
// caller's own and is left as it is.
func keepAlive(c aws.HTTPClient, conns int) aws.HTTPClient {
	bc, ok := c.(*awshttp.BuildableClient)
	if c == nil {
		bc, ok = awshttp.NewBuildableClient(), true
	}
	if !ok {
		return c
	}
	return bc.WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, conns)
		tr.MaxIdleConns = max(tr.MaxIdleConns, 2*conns)
		tr.MaxConnsPerHost = conns
	})
}
