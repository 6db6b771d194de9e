package provider

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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

// TestKeepAlive checks that the SDK's client keeps an idle connection for
// every call the dispatchers make at once, and opens no more, while a
// client of the caller's own is left alone.
func TestKeepAlive(t *testing.T) {
	got, ok := keepAlive(awshttp.NewBuildableClient(), 128).(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("keepAlive(BuildableClient) = %T, want a BuildableClient", got)
	}
	tr := got.GetTransport()
	if tr.MaxIdleConnsPerHost != 128 || tr.MaxConnsPerHost != 128 || tr.MaxIdleConns < 128 {
		t.Errorf("transport keeps %d idle connections per host (%d in all), opens at most %d; want 128, ≥ 128, 128",
			tr.MaxIdleConnsPerHost, tr.MaxIdleConns, tr.MaxConnsPerHost)
	}
	own := &http.Client{}
	if c := keepAlive(own, 128); c != own {
		t.Errorf("keepAlive(*http.Client) = %v, want the same client", c)
	}
	if c, ok := keepAlive(nil, 64).(*awshttp.BuildableClient); !ok || c.GetTransport().MaxIdleConnsPerHost != 64 {
		t.Errorf("keepAlive(nil) = %v, want a BuildableClient keeping 64 idle connections per host", c)
	}
}

func TestInFlight(t *testing.T) {
	if got := inFlight(config.Config{Workers: 4, SendConcurrent: 32}); got != 128 {
		t.Errorf("inFlight(4 workers × 32) = %d, want 128", got)
	}
	if got := inFlight(config.Config{}); got != 1 {
		t.Errorf("inFlight(zero config) = %d, want 1", got)
	}
}
