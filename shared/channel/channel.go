// Package channel defines what a message looks like on each channel, what a
// provider answers, and how provider errors are classified. The senders that
// deliver them (the local outbox and the in-app inbox here; SNS, SES, Web
// Push and WhatsApp in their packages) implement the small per-channel
// interfaces that dispatch declares.
package channel

import (
	"errors"
	"fmt"

	"github.com/heraldhq/herald/shared/notify"
)

// Envelope identifies one delivery. Providers that accept an idempotency key
// derive it from the envelope, and the outbox keys its entries by it, so a
// retried send lands once.
type Envelope struct {
	WorkspaceID    string
	NotificationID string
	RecipientKey   string
	UserID         string
	Category       string
}

// PushMessage is a mobile push to every FCM and APNs device of a user.
type PushMessage struct {
	Envelope
	Devices []notify.Device
	Title   string
	Body    string
	Route   string
	Icon    string
	Image   string
	Buttons []notify.Button
}

// WebPushMessage is a browser push to every Web Push subscription of a user.
type WebPushMessage struct {
	Envelope
	Devices []notify.Device
	Title   string
	Body    string
	Route   string
	Icon    string
	Image   string
	Buttons []notify.Button
}

// SMSMessage is a text message to a phone in E.164.
type SMSMessage struct {
	Envelope
	To   string
	Text string
}

// EmailMessage is an email with a text part and, optionally, an HTML part.
type EmailMessage struct {
	Envelope
	To      string
	Subject string
	Text    string
	HTML    string
}

// WhatsAppMessage is either an approved template with its parameter values
// in order, or free-form text (allowed only inside the 24-hour window).
type WhatsAppMessage struct {
	Envelope
	To       string
	Template *WhatsAppTemplate
	Text     string
}

// WhatsAppTemplate is an approved template filled for one recipient.
type WhatsAppTemplate struct {
	Name       string
	Language   string
	Parameters []string
	Buttons    []notify.Button
}

// InAppMessage is a message for a user's in-app inbox, rendered for them:
// what a push shows, kept for the customer's app to list.
type InAppMessage struct {
	Envelope
	Title   string
	Body    string
	Route   string
	Icon    string
	Image   string
	Buttons []notify.Button
}

// Receipt is a provider's answer to an accepted message. Delivered is true
// when the provider is the final destination (the local outbox), so there is
// no later "delivered" callback to wait for.
type Receipt struct {
	ProviderMessageID string
	Delivered         bool
	// InvalidDevices are devices of the message the provider reported dead
	// (a token the platform rejects, a Web Push subscription gone) even
	// though another device took the message; dispatch removes them.
	InvalidDevices []string
	// Endpoints are provider endpoints created for devices during the send
	// (device id → SNS platform endpoint ARN); dispatch remembers them on
	// the devices (notify.Device.Endpoint) so they are created once.
	Endpoints map[string]string
}

// InvalidDevicesError is implemented by send errors that name devices the
// provider reported dead; dispatch removes them from the user.
type InvalidDevicesError interface {
	error
	InvalidDevices() []string
}

// InvalidDevices returns the dead devices err names anywhere in its chain.
func InvalidDevices(err error) []string {
	var ide InvalidDevicesError
	if errors.As(err, &ide) {
		return ide.InvalidDevices()
	}
	return nil
}

// PermanentError is a provider error that retrying cannot fix (an invalid
// address, a rejected template): the delivery fails at once with Code.
// Every other error is transient and the message is retried.
type PermanentError struct {
	Code string
	Err  error
}

func (e *PermanentError) Error() string { return fmt.Sprintf("permanent %s: %v", e.Code, e.Err) }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as permanent with a reason code.
func Permanent(code string, err error) error { return &PermanentError{Code: code, Err: err} }

// IsPermanent reports whether err is permanent, and its code.
func IsPermanent(err error) (string, bool) {
	var p *PermanentError
	if errors.As(err, &p) {
		return p.Code, true
	}
	return "", false
}
