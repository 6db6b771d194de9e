package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/notify"
)

// TestChannelSetups: Settings → Channels says what delivers each channel,
// from what local mode uses or else from the configuration, names the
// variables of each channel, and never shows a secret.
func TestChannelSetups(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"HERALD_SES_ENABLED": "1", "HERALD_SES_FROM": "Acme <news@acme.example>",
			"HERALD_WHATSAPP_ACCESS_TOKEN": "EAAG-secret-token", "HERALD_WHATSAPP_PHONE_NUMBER_ID": "1065550123",
			"HERALD_WHATSAPP_APP_SECRET": "app-secret-value", "HERALD_VAPID_SUBJECT": "mailto:ops@acme.example",
			"HERALD_SNS_APNS_APPLICATION_ARN": "arn:aws:sns:eu-west-1:123:app/APNS/acme",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	byChannel := func(used map[string]string) map[notify.Channel]string {
		out := map[notify.Channel]string{}
		for _, s := range channelSetups(cfg, used) {
			out[s.Channel] = fmt.Sprintf("%s %v %v", s.Provider, s.Configured, s.Identity)
			for _, v := range append(s.Identity, s.Env...) {
				for _, secret := range []string{"EAAG-secret-token", "app-secret-value"} {
					if strings.Contains(v.Name+v.Value, secret) {
						t.Errorf("%s shows a secret: %s %s", s.Channel, v.Name, v.Value)
					}
				}
			}
		}
		return out
	}
	// On AWS: judged from the configuration, the rest in the sandbox.
	aws := byChannel(nil)
	for ch, want := range map[notify.Channel]string{
		notify.ChannelEmail:    "SES true [{From Acme <news@acme.example>} {Configuration set none}]",
		notify.ChannelWhatsApp: "WhatsApp Cloud API true [{Phone number id 1065550123}]",
		notify.ChannelPush:     "SNS mobile push true [{FCM application not set} {APNs application set}]",
		notify.ChannelSMS:      "sandbox false [{Sender id none}]",
		notify.ChannelWebPush:  "sandbox false [{Subject mailto:ops@acme.example} {Public key not set}]",
		notify.ChannelInApp:    "Herald's inbox true [{Kept 90 days}]",
	} {
		if aws[ch] != want {
			t.Errorf("AWS %s = %q, want %q", ch, aws[ch], want)
		}
	}
	// Local mode: what provider.Senders chose, the local outbox for the rest.
	local := byChannel(map[string]string{"push": "local outbox", "webpush": "local outbox", "sms": "local outbox", "email": "SES", "whatsapp": "local outbox"})
	if local[notify.ChannelEmail] != "SES true [{From Acme <news@acme.example>} {Configuration set none}]" || !strings.HasPrefix(local[notify.ChannelSMS], "local outbox false") ||
		!strings.HasPrefix(local[notify.ChannelWhatsApp], "local outbox false") || local[notify.ChannelInApp] != "Herald's inbox true [{Kept 90 days}]" {
		t.Errorf("local mode = %v", local)
	}
	var names []string
	for _, s := range channelSetups(cfg, nil) {
		for _, v := range s.Env {
			names = append(names, v.Name)
		}
	}
	for _, want := range []string{"HERALD_SES_ENABLED", "HERALD_SES_FROM", "HERALD_SNS_ENABLED", "HERALD_SMS_SENDER_ID", "HERALD_SNS_FCM_APPLICATION_ARN",
		"HERALD_SNS_APNS_APPLICATION_ARN", "HERALD_VAPID_PUBLIC_KEY", "HERALD_VAPID_PRIVATE_KEY", "HERALD_VAPID_SUBJECT", "HERALD_WHATSAPP_ACCESS_TOKEN", "HERALD_WHATSAPP_PHONE_NUMBER_ID"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("no channel names %s", want)
		}
	}
}
