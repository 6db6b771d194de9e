package metrics_test

import (
	"slices"
	"testing"

	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/ses"
	"github.com/heraldhq/herald/shared/sns"
	"github.com/heraldhq/herald/shared/webpush"
	"github.com/heraldhq/herald/shared/whatsapp"
)

func TestReason(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", metrics.None},
		{notify.ReasonNoConsent, notify.ReasonNoConsent},
		{"opted_out", "opted_out"},
		{"whatsapp_131026", "whatsapp_131026"},
		{"whatsapp_999999", metrics.Other},
		// Whatever is not a known reason, ids and addresses above all,
		// never becomes a dimension value.
		{"ws_01HZX0000000000000000000AB", metrics.Other},
		{"ana@example.com", metrics.Other},
		{"+34600000001", metrics.Other},
		{"NO_CONSENT", metrics.Other},
		{"no_consent ", metrics.Other},
		{"none", metrics.Other},
		{metrics.Other, metrics.Other},
	}
	for _, tt := range tests {
		if got := metrics.Reason(tt.in); got != tt.want {
			t.Errorf("Reason(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestChannelAndOutcome(t *testing.T) {
	for _, ch := range notify.Channels {
		if got := metrics.Channel(ch); got != string(ch) {
			t.Errorf("Channel(%q) = %q", ch, got)
		}
	}
	for _, ch := range []notify.Channel{"", "SMS", "u1", "fax"} {
		if got := metrics.Channel(ch); got != metrics.Other {
			t.Errorf("Channel(%q) = %q, want other", ch, got)
		}
	}
	for _, o := range metrics.Outcomes {
		if got := metrics.OutcomeName(o); got != string(o) {
			t.Errorf("OutcomeName(%q) = %q", o, got)
		}
	}
	if got := metrics.OutcomeName("queued"); got != metrics.Other {
		t.Errorf("OutcomeName(queued) = %q, want other", got)
	}
	tests := []struct {
		in   notify.DeliveryStatus
		want metrics.Outcome
		ok   bool
	}{
		{notify.DeliverySent, metrics.Sent, true},
		{notify.DeliveryDelivered, metrics.Delivered, true},
		{notify.DeliveryRead, metrics.Read, true},
		{notify.DeliveryFailed, metrics.Failed, true},
		{notify.DeliverySkipped, metrics.Skipped, true},
		{notify.DeliveryQueued, "", false},
	}
	for _, tt := range tests {
		if got, ok := metrics.OutcomeOf(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("OutcomeOf(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestEveryKnownReasonIsBounded: the reasons the delivery rules, dispatch
// and the providers record are all in the fixed set, so that none of
// them shows as "other". A provider's new code must be added here and in
// metrics.go (and costs a custom metric per channel where it occurs).
func TestEveryKnownReasonIsBounded(t *testing.T) {
	known := []string{
		notify.ReasonNoConsent, notify.ReasonNoDevice, notify.ReasonBlocked, notify.ReasonActiveInApp,
		notify.ReasonWindowExpired, notify.ReasonInvalidAddress, notify.ReasonDuplicate, notify.ReasonUnknownUser,
		notify.ReasonMissingVariable, notify.ReasonCancelled, notify.ReasonProviderError,
		dispatch.ReasonDispatchFailed, "unknown_channel",
		sns.CodeInvalidAddress, sns.CodeOptedOut, sns.CodeInvalidToken, sns.CodeInvalidRequest, sns.CodeNoDevice,
		ses.CodeInvalidAddress, ses.CodeRejected, ses.CodeBadRequest, ses.CodeNotConfigured, ses.CodeSenderNotVerified,
		ses.CodeAccountSuspended, ses.CodeSendingPaused,
		whatsapp.CodeWindowExpired, whatsapp.CodeInvalidAddress, whatsapp.CodeTemplateRejected, whatsapp.CodeOptedOut,
		whatsapp.CodeProviderDeclined, whatsapp.CodeAuthFailed, whatsapp.CodePermissionDenied, whatsapp.CodeAccountRestricted,
		whatsapp.CodeInvalidRequest,
		webpush.CodeSubscriptionGone, webpush.CodePayloadTooLarge, webpush.CodeInvalidRequest, webpush.CodeVAPIDRejected,
		webpush.CodeInvalidSubscription, webpush.ReasonUnreachable, webpush.ReasonDNSError, webpush.ReasonTLSError, webpush.ReasonTimeout,
		// The callbacks' (package webhook, unexported there).
		"bounce", "opted_out", "carrier_blocked", "unreachable", "price_limit", "sms_failed",
	}
	for _, r := range known {
		if got := metrics.Reason(r); got != r {
			t.Errorf("Reason(%q) = %q: a reason Herald records is not in the fixed set", r, got)
		}
	}
	all := metrics.Reasons()
	if !slices.IsSorted(all) || !slices.Contains(all, metrics.None) || !slices.Contains(all, metrics.Other) {
		t.Errorf("Reasons() = %v, want sorted with none and other", all)
	}
	for _, r := range all {
		if r != metrics.None && metrics.Reason(r) != r {
			t.Errorf("Reasons() lists %q, which Reason does not keep", r)
		}
	}
}
