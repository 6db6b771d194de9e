package provider

import (
	"context"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/notify"
)

func TestSenders(t *testing.T) {
	fallback := channel.NewSandbox(slog.New(slog.DiscardHandler))
	tests := []struct {
		name     string
		cfg      config.Config
		want     map[string]string
		wantAWS  bool
		hintedOn []notify.Channel
	}{
		{"nothing configured", config.Config{},
			map[string]string{"push": "sandbox", "webpush": "sandbox", "sms": "sandbox", "email": "sandbox", "whatsapp": "sandbox"}, false, nil},
		{"whatsapp only", config.Config{WhatsApp: config.WhatsAppConfig{AccessToken: "t", PhoneNumberID: "1"}},
			map[string]string{"push": "sandbox", "webpush": "sandbox", "sms": "sandbox", "email": "sandbox", "whatsapp": "WhatsApp Cloud API"}, false, []notify.Channel{notify.ChannelWhatsApp}},
		{"push apps without SMS", config.Config{SNSFCMAppARN: "arn:aws:sns:eu-west-1:1:app/GCM/a"},
			map[string]string{"push": "SNS mobile push", "webpush": "sandbox", "sms": "sandbox", "email": "sandbox", "whatsapp": "sandbox"}, true, nil},
		{"sms and email", config.Config{SNSEnabled: true, SESEnabled: true, SESFrom: "Acme <news@acme.example>"},
			map[string]string{"push": "sandbox", "webpush": "sandbox", "sms": "SNS", "email": "SES", "whatsapp": "sandbox"}, true, []notify.Channel{notify.ChannelEmail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calledAWS := false
			c, err := Senders(context.Background(), tt.cfg, fallback, "sandbox", func(context.Context) (aws.Config, error) {
				calledAWS = true
				return aws.Config{Region: "eu-west-1"}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Used); diff != "" {
				t.Errorf("channels (-want +got):\n%s", diff)
			}
			if calledAWS != tt.wantAWS {
				t.Errorf("AWS config loaded = %v, want %v", calledAWS, tt.wantAWS)
			}
			for _, ch := range tt.hintedOn {
				if c.RetryHints[ch] == nil {
					t.Errorf("no Retry-After reader for %s", ch)
				}
			}
		})
	}
}
