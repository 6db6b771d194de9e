package sns

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/heraldhq/herald/shared/channel"
)

// publisher is the part of the SNS client that SMS needs.
type publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SMS message attributes SNS reads when publishing to a phone number.
const (
	attrSMSType  = "AWS.SNS.SMS.SMSType"
	attrSenderID = "AWS.SNS.SMS.SenderID"
	attrMaxPrice = "AWS.SNS.SMS.MaxPrice"
)

// SMS types.
const (
	smsTransactional = "Transactional"
	smsPromotional   = "Promotional"
)

// SMSConfig tunes an SMSSender. The zero value sends every message as
// Transactional with the account's default sender id and price cap.
type SMSConfig struct {
	// SenderID is the alphanumeric sender id shown where the destination
	// country supports one; empty leaves the account default.
	SenderID string
	// PromotionalCategories are the notification categories sent as
	// Promotional (cheaper, may be delivered later or not at all in some
	// countries); every other category is Transactional.
	PromotionalCategories map[string]bool
	// MaxPrice caps, in USD, what one message may cost; 0 leaves the
	// account's limit.
	MaxPrice float64
}

// SMSSender sends text messages with SNS Publish to a phone number. It
// implements dispatch.SMSSender.
//
// SNS has no idempotency key for SMS, so a send retried after a lost answer
// may reach the phone twice. A number that replied STOP is not refused by
// Publish: SNS accepts the message and reports "opted out" later in its
// delivery status, which arrives through the callbacks; an OptedOut error
// answer is still classified as permanent "opted_out".
type SMSSender struct {
	client publisher
	cfg    SMSConfig
}

// NewSMS returns an SMSSender publishing with client (Publish made by
// hand, see client).
func NewSMS(c *sns.Client, cfg SMSConfig) *SMSSender {
	return &SMSSender{client: newClient(c), cfg: cfg}
}

// SendSMS publishes m.Text to m.To. The receipt's ProviderMessageID is
// SNS's MessageId, the id its delivery status logs carry.
func (s *SMSSender) SendSMS(ctx context.Context, m channel.SMSMessage) (channel.Receipt, error) {
	if m.To == "" {
		return channel.Receipt{}, channel.Permanent(CodeInvalidAddress, errors.New("sns publish sms: no phone number"))
	}
	out, err := s.client.Publish(ctx, &sns.PublishInput{
		PhoneNumber:       aws.String(m.To),
		Message:           aws.String(m.Text),
		MessageAttributes: s.attributes(m.Category),
	})
	if err != nil {
		err = apiError("Publish", err, m.To, strings.TrimPrefix(m.To, "+"))
		return channel.Receipt{}, classify(err, smsInvalidCode(err))
	}
	return channel.Receipt{ProviderMessageID: aws.ToString(out.MessageId)}, nil
}

func (s *SMSSender) attributes(category string) map[string]types.MessageAttributeValue {
	typ := smsTransactional
	if s.cfg.PromotionalCategories[category] {
		typ = smsPromotional
	}
	attrs := map[string]types.MessageAttributeValue{
		attrSMSType: {DataType: aws.String("String"), StringValue: aws.String(typ)},
	}
	if s.cfg.SenderID != "" {
		attrs[attrSenderID] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s.cfg.SenderID)}
	}
	if s.cfg.MaxPrice > 0 {
		attrs[attrMaxPrice] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.FormatFloat(s.cfg.MaxPrice, 'f', -1, 64))}
	}
	return attrs
}

// smsInvalidCode tells a refused phone number from another refused
// parameter. SNS names the parameter in its message ("Invalid parameter:
// PhoneNumber Reason: ..."); a message naming another parameter (a bad
// sender id or price in the configuration, a message too long) is
// invalid_request, anything else is taken as the address.
func smsInvalidCode(err error) string {
	var ae *APIError
	if !errors.As(err, &ae) {
		return CodeInvalidAddress
	}
	msg := ae.Message
	if strings.Contains(msg, "PhoneNumber") {
		return CodeInvalidAddress
	}
	for _, other := range []string{"MessageAttributes", "Message too long", "Invalid parameter: Message", "SenderID", "MaxPrice", "SMSType"} {
		if strings.Contains(msg, other) {
			return CodeInvalidRequest
		}
	}
	return CodeInvalidAddress
}
