// Package metrics names the delivery figures Herald reports — what dispatch
// did with each recipient, how long providers took, how long messages
// waited in the queue, and what providers reported back — and keeps their
// dimensions bounded: a channel, an outcome and a reason, each from a fixed
// set, and nothing else. Figures never carry a workspace, user,
// notification or message id, an address or a text: they are counts and
// durations an operator may look at without seeing anyone's data, and on
// AWS every distinct combination of dimensions is a custom metric that is
// paid for each month (see shared/emf).
//
// The figures are recorded through small interfaces their users declare
// (dispatch.Metrics, webhook.Metrics) and written by one of two adapters:
// shared/emf (CloudWatch embedded metric format lines in the Lambda log)
// and shared/memmetrics (in memory, served by GET /v1/metrics locally).
// Both pass what they are given through Channel, OutcomeOf and Reason.
package metrics

import (
	"slices"

	"github.com/heraldhq/herald/shared/notify"
)

// Other stands for any channel, outcome or reason outside the fixed sets:
// a value a figure cannot hold (an id by mistake, a provider's new code)
// becomes Other rather than a new dimension value.
const Other = "other"

// None is the reason of a figure that has none (a send); dimension values
// cannot be empty.
const None = "none"

// Outcome is what became of a delivery, as the figures count it.
type Outcome string

// Outcomes. Dispatch records Sent, Failed and Skipped (a message a
// provider reports delivered at once, as the local outbox does, is Sent:
// dispatch counts what it handed over); provider callbacks record
// Delivered, Read, Failed and Complaint.
const (
	Sent      Outcome = "sent"
	Failed    Outcome = "failed"
	Skipped   Outcome = "skipped"
	Delivered Outcome = "delivered"
	Read      Outcome = "read"
	Complaint Outcome = "complaint"
)

// Outcomes lists every outcome, in the order figures show them.
var Outcomes = []Outcome{Sent, Failed, Skipped, Delivered, Read, Complaint}

// OutcomeOf is the outcome a delivery status counts as; ok is false for a
// status no figure counts (queued).
func OutcomeOf(s notify.DeliveryStatus) (Outcome, bool) {
	switch s {
	case notify.DeliverySent:
		return Sent, true
	case notify.DeliveryDelivered:
		return Delivered, true
	case notify.DeliveryRead:
		return Read, true
	case notify.DeliveryFailed:
		return Failed, true
	case notify.DeliverySkipped:
		return Skipped, true
	}
	return "", false
}

// OutcomeName is o as a dimension value: o when it is one of Outcomes,
// else Other.
func OutcomeName(o Outcome) string {
	for _, k := range Outcomes {
		if o == k {
			return string(o)
		}
	}
	return Other
}

// Channel is ch as a dimension value: the channel when it is one of
// notify.Channels, else Other.
func Channel(ch notify.Channel) string {
	if ch.Valid() {
		return string(ch)
	}
	return Other
}

// reasons are the only reasons a figure may carry: the delivery rules'
// (notify.Reason…), dispatch's own, the providers' permanent error codes
// (package sns, ses, whatsapp, webpush; metrics_test checks that every one
// of their codes is here), and the callbacks'. Providers' codes that are
// not here (a WhatsApp status error Meta adds) count as Other.
var reasons = map[string]bool{
	// The delivery rules (skips) and rendering.
	notify.ReasonNoConsent: true, notify.ReasonNoDevice: true, notify.ReasonBlocked: true,
	notify.ReasonActiveInApp: true, notify.ReasonWindowExpired: true, notify.ReasonInvalidAddress: true,
	notify.ReasonDuplicate: true, notify.ReasonUnknownUser: true, notify.ReasonMissingVariable: true,
	notify.ReasonCancelled: true, notify.ReasonProviderError: true,
	// Dispatch: gave up on the last receive, or a channel it does not know.
	"dispatch_failed": true, "unknown_channel": true,
	// Providers' permanent errors (sns, ses, whatsapp, webpush).
	"opted_out": true, "invalid_token": true, "invalid_request": true, "rejected": true, "bad_request": true,
	"not_configured": true, "sender_not_verified": true, "account_suspended": true, "sending_paused": true,
	"template_rejected": true, "provider_declined": true, "auth_failed": true, "permission_denied": true,
	"account_restricted": true, "subscription_gone": true, "payload_too_large": true, "vapid_rejected": true,
	"invalid_subscription": true,
	// Web Push endpoints that failed every attempt (webpush.Reason…).
	"unreachable": true, "dns_error": true, "tls_error": true, "timeout": true,
	// Callbacks: an email's permanent bounce, the carrier's answer to an
	// SMS.
	"bounce": true, "carrier_blocked": true, "price_limit": true, "sms_failed": true,
	// WhatsApp status errors (whatsapp_<Meta's code>) behind most
	// undelivered messages: undeliverable, the 24-hour window, Meta's
	// marketing limits, the user's opt-out of marketing, Meta's
	// experiment, a generic error, payment, spam rate, media, a locked
	// account.
	"whatsapp_131026": true, "whatsapp_131047": true, "whatsapp_131049": true, "whatsapp_131050": true,
	"whatsapp_130472": true, "whatsapp_131000": true, "whatsapp_131042": true, "whatsapp_131048": true,
	"whatsapp_131053": true, "whatsapp_131031": true,
}

// Reason is r as a dimension value: None when empty, r when it is one of
// the known reasons, else Other.
func Reason(r string) string {
	switch {
	case r == "":
		return None
	case reasons[r]:
		return r
	}
	return Other
}

// Reasons returns every reason a figure may carry, sorted, None and Other
// included: how many custom metrics the reason dimension can make at most.
func Reasons() []string {
	out := []string{None, Other}
	for r := range reasons {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}
