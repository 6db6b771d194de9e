// Package ses delivers Herald's email through Amazon SES v2: a simple
// (SES-assembled) message with a text and an optional HTML part, published
// to a configuration set so bounces, complaints and deliveries come back as
// events, tagged so those events map back to the delivery, and with one-click
// unsubscribe headers (RFC 8058) on marketing mail.
package ses

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/heraldhq/herald/shared/awscall"
	"github.com/heraldhq/herald/shared/channel"
)

// charset is the character set of every part SES assembles.
const charset = "UTF-8"

// Names of the message tags every email carries. SES repeats them in the
// "mail.tags" of its bounce, complaint and delivery events; their values are
// encoded with TagValue and read back with ParseTagValue. The recipient key
// is not a tag, since a delivery to a raw address is keyed by the address
// itself: a delivery to a user has the user tag, one to a raw address the
// event's destination.
const (
	TagWorkspace    = "herald-workspace"
	TagNotification = "herald-notification"
	TagUser         = "herald-user"
	TagCategory     = "herald-category"
)

// Config is what a Sender needs besides its client.
type Config struct {
	// From is the sender, an address or "Name <address>" on a domain
	// verified in SES. A non-ASCII name is sent as an RFC 2047 encoded word.
	From string
	// ConfigurationSet is the SES configuration set whose event destination
	// publishes the delivery, bounce and complaint events; empty sends
	// without one (and so without events).
	ConfigurationSet string
	// UnsubscribeURL returns the one-click unsubscribe address of a
	// delivery, an absolute http(s) URL (RFC 8058 wants https in
	// production). Nil, or an empty answer, sends marketing mail without
	// the List-Unsubscribe headers.
	UnsubscribeURL func(env channel.Envelope) string
	// MarketingCategories are the notification categories whose mail is
	// marketing and so carries the List-Unsubscribe headers.
	MarketingCategories map[string]bool
}

// Sender delivers emails through SES v2. It implements dispatch.EmailSender.
//
// SES has no idempotency key or client reference: a send retried after SES
// accepted it but before its answer arrived is delivered twice, and only the
// tags (the same workspace, notification and user on both) tell the events
// of the two apart from other deliveries. The client's retry policy is the
// caller's: its standard retryer retries throttling and 5xx answers within
// one SendEmail call; aws.NopRetryer leaves every retry to the queue.
//
// The client is not called through its SDK methods: SendEmail is made once
// per recipient, and the Sender builds the request and reads the answer
// itself (package awscall), with the client's endpoint, credentials, HTTP
// client and retryer.
type Sender struct {
	call    *awscall.Client
	callErr error // why the client's calls cannot be made, returned by every send
	from    string
	cfg     Config
	// head is the start of every request body: the sender and the
	// destination's opening, encoded once.
	head string
	// configSet is the configuration set member, encoded once, or "".
	configSet string
}

// New returns a Sender that sends through client. It fails when cfg.From is
// not an email address.
func New(client *sesv2.Client, cfg Config) (*Sender, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("ses sender: parse from address: %w", err)
	}
	if !isASCII(from.Address) {
		return nil, errors.New("ses sender: from address is not ASCII")
	}
	s := &Sender{from: from.String(), cfg: cfg}
	s.call, s.callErr = caller(client)
	s.head = string(appendString([]byte(`{"FromEmailAddress":`), s.from)) + `,"Destination":{"ToAddresses":[`
	if cfg.ConfigurationSet != "" {
		s.configSet = string(appendString([]byte(`,"ConfigurationSetName":`), cfg.ConfigurationSet))
	}
	return s, nil
}

// SendEmail sends m as a simple SES message. Its errors are
// channel.Permanent with one of the Code… reasons when retrying cannot help,
// and transient otherwise (see RetryAfter for throttling). Neither the
// errors nor anything else the Sender produces contain the address or the
// content of the message.
func (s *Sender) SendEmail(ctx context.Context, m channel.EmailMessage) (channel.Receipt, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || !isASCII(to.Address) {
		return channel.Receipt{}, channel.Permanent(CodeInvalidAddress, errors.New("ses send email: recipient is not a deliverable email address"))
	}
	var unsubscribe string
	if s.cfg.MarketingCategories[m.Category] && s.cfg.UnsubscribeURL != nil {
		if unsubscribe = s.cfg.UnsubscribeURL(m.Envelope); unsubscribe != "" {
			if err := checkUnsubscribeURL(unsubscribe); err != nil {
				return channel.Receipt{}, channel.Permanent(CodeNotConfigured, fmt.Errorf("ses send email: unsubscribe url: %w", err))
			}
		}
	}
	if s.callErr != nil {
		return channel.Receipt{}, classify(s.callErr)
	}
	bp := bodies.Get().(*[]byte)
	b := append((*bp)[:0], s.head...)
	b = appendString(b, to.Address)
	b = append(b, `]},"Content":{"Simple":{"Subject":`...)
	b = appendContent(b, subject(m.Subject))
	b = append(b, `,"Body":{"Text":`...)
	b = appendContent(b, m.Text)
	if m.HTML != "" {
		b = append(b, `,"Html":`...)
		b = appendContent(b, m.HTML)
	}
	b = append(b, '}')
	if unsubscribe != "" {
		b = append(b, `,"Headers":[{"Name":"List-Unsubscribe","Value":`...)
		b = appendString(b, "<"+unsubscribe+">")
		b = append(b, `},{"Name":"List-Unsubscribe-Post","Value":"List-Unsubscribe=One-Click"}]`...)
	}
	b = append(b, "}}"...)
	b = append(b, s.configSet...)
	var ts [4]tag
	b = appendTags(b, tags(ts[:0], m.Envelope))
	b = append(b, '}')
	var id string
	err = s.call.Call(ctx, "SendEmail", sendEmailPath, "application/json", b, func(answer []byte) (err error) {
		id, err = messageID(answer)
		return err
	})
	if cap(b) <= maxKeptBody {
		*bp = b
		bodies.Put(bp)
	}
	if err != nil {
		return channel.Receipt{}, classify(err)
	}
	if id == "" {
		return channel.Receipt{}, errors.New("ses send email: answer has no message id")
	}
	return channel.Receipt{ProviderMessageID: id}, nil
}

// subject makes s a single header line and, when it is not ASCII, an RFC
// 2047 encoded word, as SES wants for the subject of a simple message.
func subject(s string) string {
	s = newlines.Replace(s)
	return mime.QEncoding.Encode(charset, s)
}

var newlines = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// maxHeaderValue is the longest header value SES accepts (types.MessageHeader).
const maxHeaderValue = 995

func checkUnsubscribeURL(raw string) error {
	if len(raw)+2 > maxHeaderValue {
		return errors.New("too long")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] > '~' || raw[i] == '<' || raw[i] == '>' {
			return errors.New("not printable ASCII without spaces and angle brackets")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return nil
}

// tag is one message tag.
type tag struct{ name, value string }

// tags appends to ts the message tags that name the delivery, which SES
// repeats in its events. Empty values are left out: SES refuses an empty
// tag value; so are values too long once encoded.
func tags(ts []tag, env channel.Envelope) []tag {
	add := func(name, value string) {
		v := TagValue(value)
		if v == "" || len(v) > maxTagValue {
			return
		}
		ts = append(ts, tag{name, v})
	}
	add(TagWorkspace, env.WorkspaceID)
	add(TagNotification, env.NotificationID)
	add(TagUser, env.UserID)
	add(TagCategory, env.Category)
	return ts
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
