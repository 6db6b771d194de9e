package sns

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/dispatch"
)

// The senders implement dispatch's interfaces.
var (
	_ dispatch.SMSSender  = (*SMSSender)(nil)
	_ dispatch.PushSender = (*PushSender)(nil)
)

const phone = "+447700900123"

func smsMessage(category string) channel.SMSMessage {
	return channel.SMSMessage{
		Envelope: channel.Envelope{WorkspaceID: "ws1", NotificationID: "n1", RecipientKey: "u1", UserID: "u1", Category: category},
		To:       phone,
		Text:     "Your code is 1234",
	}
}

func TestSendSMS(t *testing.T) {
	tests := []struct {
		name      string
		cfg       SMSConfig
		category  string
		wantAttrs map[string]attr
	}{
		{
			name:      "transactional by default",
			category:  "security",
			wantAttrs: map[string]attr{"AWS.SNS.SMS.SMSType": {"String", "Transactional"}},
		},
		{
			name:     "promotional category with sender id and price cap",
			cfg:      SMSConfig{SenderID: "Herald", PromotionalCategories: map[string]bool{"marketing": true}, MaxPrice: 0.5},
			category: "marketing",
			wantAttrs: map[string]attr{
				"AWS.SNS.SMS.SMSType":  {"String", "Promotional"},
				"AWS.SNS.SMS.SenderID": {"String", "Herald"},
				"AWS.SNS.SMS.MaxPrice": {"Number", "0.5"},
			},
		},
		{
			name:     "other categories stay transactional",
			cfg:      SMSConfig{SenderID: "Herald", PromotionalCategories: map[string]bool{"marketing": true}},
			category: "orders",
			wantAttrs: map[string]attr{
				"AWS.SNS.SMS.SMSType":  {"String", "Transactional"},
				"AWS.SNS.SMS.SenderID": {"String", "Herald"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("Publish", publishOK("567910cd-659e-55d4-8ccb-5aaf14679dc0"))
			s := NewSMS(f.client(), tt.cfg)

			got, err := s.SendSMS(context.Background(), smsMessage(tt.category))
			if err != nil {
				t.Fatalf("SendSMS: %v", err)
			}
			want := channel.Receipt{ProviderMessageID: "567910cd-659e-55d4-8ccb-5aaf14679dc0"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("SendSMS receipt (-want +got):\n%s", diff)
			}
			calls := f.callsOf("Publish")
			if len(calls) != 1 {
				t.Fatalf("Publish calls = %d, want 1", len(calls))
			}
			form := calls[0]
			if got := form.Get("PhoneNumber"); got != phone {
				t.Errorf("PhoneNumber = %q, want %q", got, phone)
			}
			if got := form.Get("Message"); got != "Your code is 1234" {
				t.Errorf("Message = %q, want the text", got)
			}
			for _, k := range []string{"TargetArn", "TopicArn", "MessageStructure"} {
				if form.Has(k) {
					t.Errorf("Publish sent %s = %q, want none for SMS", k, form.Get(k))
				}
			}
			if diff := cmp.Diff(tt.wantAttrs, messageAttributes(form)); diff != "" {
				t.Errorf("MessageAttributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendSMSErrors(t *testing.T) {
	tests := []struct {
		name          string
		answer        answer
		wantPermanent bool
		wantCode      string
	}{
		{"invalid phone number", snsError(400, "Sender", "InvalidParameter", "Invalid parameter: PhoneNumber Reason: "+phone+" is not valid to publish to"), true, CodeInvalidAddress},
		{"invalid parameter value", snsError(400, "Sender", "ParameterValueInvalid", "Invalid parameter value: "+phone), true, CodeInvalidAddress},
		{"bad message attribute is not the address", snsError(400, "Sender", "InvalidParameter", "Invalid parameter: MessageAttributes Reason: SenderID is too long"), true, CodeInvalidRequest},
		{"opted out", snsError(400, "Sender", "OptedOut", "Phone number is opted out"), true, CodeOptedOut},
		{"throttled", snsError(400, "Sender", "Throttled", "Rate exceeded"), false, ""},
		{"generic throttling", snsError(400, "Sender", "Throttling", "Rate exceeded"), false, ""},
		{"kms throttling", snsError(400, "Sender", "KMSThrottling", "KMS rate exceeded"), false, ""},
		{"internal error", snsError(500, "Receiver", "InternalError", "We encountered an internal error. Please try again."), false, ""},
		{"unavailable without a body", answer{503, ""}, false, ""},
		{"authorization is configuration, retried", snsError(403, "Sender", "AuthorizationError", "User is not authorized to perform: SNS:Publish"), false, ""},
		{"unknown 400", snsError(400, "Sender", "SomethingNew", "Nope"), true, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("Publish", tt.answer)
			s := NewSMS(f.client(), SMSConfig{})

			_, err := s.SendSMS(context.Background(), smsMessage("orders"))
			if err == nil {
				t.Fatal("SendSMS succeeded, want an error")
			}
			code, permanent := channel.IsPermanent(err)
			if permanent != tt.wantPermanent || code != tt.wantCode {
				t.Errorf("IsPermanent(%v) = %q, %v, want %q, %v", err, code, permanent, tt.wantCode, tt.wantPermanent)
			}
			for _, secret := range []string{phone, strings.TrimPrefix(phone, "+"), "Your code"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows %q", err, secret)
				}
			}
		})
	}
}

func TestSendSMSAPIError(t *testing.T) {
	f := newFake(t)
	f.on("Publish", snsError(400, "Sender", "OptedOut", "Phone number is opted out"))
	_, err := NewSMS(f.client(), SMSConfig{}).SendSMS(context.Background(), smsMessage("orders"))

	var got *APIError
	if !errors.As(err, &got) {
		t.Fatalf("SendSMS error %v holds no *APIError", err)
	}
	want := &APIError{Operation: "Publish", Code: "OptedOut", Message: "Phone number is opted out", StatusCode: 400, RequestID: errorRequestID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("APIError (-want +got):\n%s", diff)
	}
}

func TestSendSMSNetworkErrorIsTransient(t *testing.T) {
	f := newFake(t)
	f.hangups = true
	_, err := NewSMS(f.client(), SMSConfig{}).SendSMS(context.Background(), smsMessage("orders"))
	if err == nil {
		t.Fatal("SendSMS succeeded, want an error")
	}
	if code, ok := channel.IsPermanent(err); ok {
		t.Errorf("IsPermanent(%v) = %q, true, want transient", err, code)
	}
}

func TestSendSMSWithoutNumber(t *testing.T) {
	f := newFake(t)
	m := smsMessage("orders")
	m.To = ""
	_, err := NewSMS(f.client(), SMSConfig{}).SendSMS(context.Background(), m)
	if code, ok := channel.IsPermanent(err); !ok || code != CodeInvalidAddress {
		t.Errorf("IsPermanent(%v) = %q, %v, want %q, true", err, code, ok, CodeInvalidAddress)
	}
	if got := f.actions(); len(got) != 0 {
		t.Errorf("calls = %v, want none", got)
	}
}
