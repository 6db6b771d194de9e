package sns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

// pushAPI is the part of the SNS client that mobile push needs.
type pushAPI interface {
	publisher
	CreatePlatformEndpoint(ctx context.Context, in *sns.CreatePlatformEndpointInput, optFns ...func(*sns.Options)) (*sns.CreatePlatformEndpointOutput, error)
	SetEndpointAttributes(ctx context.Context, in *sns.SetEndpointAttributesInput, optFns ...func(*sns.Options)) (*sns.SetEndpointAttributesOutput, error)
}

// SNS platform names, the keys of a MessageStructure "json" message.
const (
	platformGCM         = "GCM"
	platformAPNS        = "APNS"
	platformAPNSSandbox = "APNS_SANDBOX"
)

// Mobile push message attributes SNS turns into APNs request headers.
const (
	attrAPNSPushType   = "AWS.SNS.MOBILE.APNS.PUSH_TYPE"
	attrAPNSCollapseID = "AWS.SNS.MOBILE.APNS.COLLAPSE_ID"
)

// PushConfig tells a PushSender which SNS platform applications to use.
type PushConfig struct {
	// FCMApplicationARN is the platform application (platform GCM, with
	// FCM HTTP v1 credentials) for FCM device tokens; empty refuses them.
	FCMApplicationARN string
	// APNsApplicationARN is the platform application for APNs device
	// tokens; its ARN says APNS or APNS_SANDBOX
	// (arn:aws:sns:…:app/APNS_SANDBOX/name) and the payload key follows it.
	// Empty refuses APNs devices.
	APNsApplicationARN string
	// Endpoints remembers the endpoint of each token and owner for devices
	// that carry none (notify.Device.Endpoint); nil uses a new
	// MemoryEndpoints.
	Endpoints EndpointStore
	// InvalidToken, when set, is called once per device whose token the
	// platform refused, even when the push reached another device of the
	// user, so the caller can disable the device at once.
	InvalidToken func(ctx context.Context, deviceID string)
}

// PushSender sends mobile pushes through SNS platform endpoints. It
// implements dispatch.PushSender.
//
// Per device it finds the endpoint of the token: the device's remembered
// Endpoint when it belongs to the application in use, else the
// EndpointStore, else CreatePlatformEndpoint (which returns the existing
// endpoint for a known token), and publishes the platform's payload to it.
// Every endpoint it creates carries its owner (workspace, user and device,
// see FormatOwner) in CustomUserData, so the platform application's
// delivery-failure events, which name only the endpoint, can be traced
// back to the device (Endpoints.Owner); an endpoint of the token created
// for another owner is taken over. The endpoints the devices do not carry
// yet are reported in the receipt, for the dispatcher to remember on them.
//
// When SNS answers EndpointDisabled the endpoint is re-enabled with the
// device's token once and the publish retried; when it answers NotFound
// (the endpoint was deleted) the endpoint is created again once. A token
// the platform refuses is permanent "invalid_token". The definitive word on
// a token SNS accepted but the platform later rejected arrives
// asynchronously, as the platform application's delivery-failure event,
// through the callbacks.
type PushSender struct {
	client    pushAPI
	cfg       PushConfig
	endpoints EndpointStore
}

// NewPush returns a PushSender publishing with client (Publish made by
// hand, see client).
func NewPush(c *sns.Client, cfg PushConfig) *PushSender {
	return newPush(newClient(c), cfg)
}

func newPush(client pushAPI, cfg PushConfig) *PushSender {
	endpoints := cfg.Endpoints
	if endpoints == nil {
		endpoints = &MemoryEndpoints{}
	}
	return &PushSender{client: client, cfg: cfg, endpoints: endpoints}
}

// InvalidTokenError names the devices whose tokens the push platform
// refused. SendPush returns it inside channel.Permanent("invalid_token", …)
// when no device accepted the push; find it with errors.As.
type InvalidTokenError struct {
	DeviceIDs []string
}

// InvalidDevices implements channel.InvalidDevicesError.
func (e *InvalidTokenError) InvalidDevices() []string { return e.DeviceIDs }

func (e *InvalidTokenError) Error() string {
	return "invalid device token on device " + strings.Join(e.DeviceIDs, ", ")
}

// SendPush publishes m to every FCM and APNs device of m. It succeeds when
// at least one device accepted the push; the receipt's ProviderMessageID is
// then the SNS MessageId of the first device that accepted it (in the order
// of m.Devices), and its Endpoints name, by device id, the endpoints the
// devices do not carry yet: created, taken over or re-created during the
// send, or found in the EndpointStore (a send that failed after creating
// them reported nothing). It is nil when there are none; a device whose
// remembered Endpoint served unchanged is not listed, nor is one whose
// token was refused. When no device accepted the push, the error is
// transient if any device failed transiently (a retry may reach it), else
// permanent with the code of the first failure. Either way the devices
// whose tokens were refused are named by an *InvalidTokenError in the
// error's chain.
func (s *PushSender) SendPush(ctx context.Context, m channel.PushMessage) (channel.Receipt, error) {
	var (
		rc        channel.Receipt
		accepted  bool
		perm      []error // permanent device errors
		trans     []error // transient device errors
		invalid   []string
		firstCode string
		endpoints map[string]string
	)
	for _, d := range m.Devices {
		id, arn, err := s.sendDevice(ctx, m, d)
		if arn != "" && arn != d.Endpoint && codeOfPermanent(err) != CodeInvalidToken {
			// Reported even when this device's publish failed: the
			// endpoint exists and the next send can use it.
			if endpoints == nil {
				endpoints = map[string]string{}
			}
			endpoints[d.ID] = arn
		}
		if err == nil {
			if !accepted {
				rc, accepted = channel.Receipt{ProviderMessageID: id}, true
			}
			continue
		}
		err = fmt.Errorf("device %s: %w", d.ID, err)
		code, permanent := channel.IsPermanent(err)
		if !permanent {
			trans = append(trans, err)
			continue
		}
		perm = append(perm, err)
		if firstCode == "" {
			firstCode = code
		}
		if code == CodeInvalidToken {
			invalid = append(invalid, d.ID)
			if s.cfg.InvalidToken != nil {
				s.cfg.InvalidToken(ctx, d.ID)
			}
		}
	}
	if accepted {
		rc.InvalidDevices = invalid
		rc.Endpoints = endpoints
		return rc, nil
	}
	if len(m.Devices) == 0 {
		return channel.Receipt{}, channel.Permanent(CodeNoDevice, errors.New("sns push: no device"))
	}
	var ite error
	if len(invalid) > 0 {
		ite = &InvalidTokenError{DeviceIDs: invalid}
	}
	if len(trans) > 0 {
		// Retryable: the permanent failures are told, not wrapped, so
		// channel.IsPermanent does not find them in the chain.
		msg := fmt.Sprintf("sns push to %d device(s)", len(m.Devices))
		for _, e := range perm {
			msg += "; " + e.Error()
		}
		return channel.Receipt{}, fmt.Errorf("%s: %w", msg, errors.Join(append(trans, ite)...))
	}
	err := fmt.Errorf("sns push to %d device(s): %w", len(m.Devices), errors.Join(append(perm, ite)...))
	return channel.Receipt{}, channel.Permanent(firstCode, err)
}

// codeOfPermanent is the code of a permanent err, or "".
func codeOfPermanent(err error) string {
	code, _ := channel.IsPermanent(err)
	return code
}

// sendDevice publishes to one device and returns the SNS MessageId and the
// endpoint it published to last (also alongside an error, once an endpoint
// was found or created; "" before).
func (s *PushSender) sendDevice(ctx context.Context, m channel.PushMessage, d notify.Device) (id, endpoint string, err error) {
	var app string
	switch d.Kind {
	case notify.DeviceFCM:
		app = s.cfg.FCMApplicationARN
	case notify.DeviceAPNs:
		app = s.cfg.APNsApplicationARN
	default:
		return "", "", channel.Permanent(CodeInvalidRequest, fmt.Errorf("device kind %q is not a mobile push", d.Kind))
	}
	if app == "" {
		return "", "", channel.Permanent(CodeInvalidRequest, fmt.Errorf("no SNS platform application for %s devices", d.Kind))
	}
	if d.Token == "" {
		return "", "", channel.Permanent(CodeInvalidToken, errors.New("device has no token"))
	}
	platform := platformOf(d.Kind, app)
	in, err := publishInput(m, platform)
	if err != nil {
		return "", "", err
	}
	key := EndpointKey{
		Application: app,
		Token:       d.Token,
		Owner:       EndpointOwner{WorkspaceID: m.WorkspaceID, UserID: m.UserID, DeviceID: d.ID},
	}

	var arn string
	if d.Endpoint != "" && endpointOfApp(d.Endpoint, app) {
		// Remembered on the device: created once, whichever process sends.
		arn = d.Endpoint
	} else {
		var ok bool
		if arn, ok, err = s.endpoints.GetEndpoint(ctx, key); err != nil {
			return "", "", fmt.Errorf("get endpoint: %w", err)
		}
		if !ok {
			if arn, err = s.createEndpoint(ctx, key); err != nil {
				return "", "", err
			}
		}
	}
	reenabled, recreated := false, false
	for {
		in.TargetArn = aws.String(arn)
		out, err := s.client.Publish(ctx, in)
		if err == nil {
			return aws.ToString(out.MessageId), arn, nil
		}
		err = apiError("Publish", err, d.Token)
		switch code := codeOf(err); {
		case code == "EndpointDisabled" && !reenabled:
			reenabled = true
			if err := s.enable(ctx, arn, d.Token, ""); err != nil {
				return "", arn, err
			}
			continue
		case code == "EndpointDisabled":
			// Re-enabled a moment ago and disabled again: the platform
			// refuses the token.
			return "", arn, channel.Permanent(CodeInvalidToken, err)
		case code == "NotFound" && !recreated:
			recreated = true
			// The endpoint is gone: not worth reporting if this fails.
			if arn, err = s.createEndpoint(ctx, key); err != nil {
				return "", "", err
			}
			continue
		}
		return "", arn, classify(err, CodeInvalidRequest)
	}
}

// endpointOfApp reports whether endpoint is an endpoint ARN of the platform
// application app: arn:aws:sns:<region>:<account>:endpoint/<PLATFORM>/<name>/<id>
// of arn:aws:sns:<region>:<account>:app/<PLATFORM>/<name>. A device's
// remembered endpoint of another application (the operator moved to a new
// one, or from APNS_SANDBOX to APNS) is not used.
func endpointOfApp(endpoint, app string) bool {
	i := strings.Index(app, ":app/")
	if i < 0 {
		return false
	}
	prefix := app[:i] + ":endpoint/" + app[i+len(":app/"):] + "/"
	id, ok := strings.CutPrefix(endpoint, prefix)
	return ok && id != "" && !strings.Contains(id, "/")
}

// existingEndpoint reads the ARN out of SNS's answer to creating an
// endpoint for a known token with other attributes: "Invalid parameter:
// Token Reason: Endpoint arn:aws:sns:… already exists with the same Token,
// but different attributes."
var existingEndpoint = regexp.MustCompile(`Endpoint (arn:[^ ]+) already exists with the same Token`)

// createEndpoint creates (or finds) the endpoint of key's token with key's
// owner in its CustomUserData, and remembers it.
func (s *PushSender) createEndpoint(ctx context.Context, key EndpointKey) (string, error) {
	token := key.Token
	in := &sns.CreatePlatformEndpointInput{
		PlatformApplicationArn: aws.String(key.Application),
		Token:                  aws.String(token),
	}
	owner := customUserData(key.Owner)
	if owner != "" {
		in.CustomUserData = aws.String(owner)
	}
	out, err := s.client.CreatePlatformEndpoint(ctx, in)
	var arn string
	switch {
	case err == nil:
		arn = aws.ToString(out.EndpointArn)
	default:
		err = apiError("CreatePlatformEndpoint", err, token)
		var ae *APIError
		if !errors.As(err, &ae) {
			return "", err
		}
		sub := existingEndpoint.FindStringSubmatch(ae.Message)
		if sub == nil {
			// InvalidParameter here is the token (an APNs token that is
			// not hex, too long); NotFound is the application.
			return "", classify(err, CodeInvalidToken)
		}
		// The endpoint exists with other attributes (disabled, or created
		// for another owner: the token moved to another user or device):
		// take it over, owner included, so its delivery failures are
		// reported against this device.
		arn = sub[1]
		if err := s.enable(ctx, arn, token, owner); err != nil {
			return "", err
		}
	}
	if err := s.endpoints.PutEndpoint(ctx, key, arn); err != nil {
		return "", fmt.Errorf("put endpoint: %w", err)
	}
	return arn, nil
}

// enable re-enables an endpoint with the device's current token and, when
// owner is not "", makes it the endpoint's CustomUserData.
func (s *PushSender) enable(ctx context.Context, arn, token, owner string) error {
	attrs := map[string]string{"Token": token, "Enabled": "true"}
	if owner != "" {
		attrs["CustomUserData"] = owner
	}
	_, err := s.client.SetEndpointAttributes(ctx, &sns.SetEndpointAttributesInput{
		EndpointArn: aws.String(arn),
		Attributes:  attrs,
	})
	if err != nil {
		return classify(apiError("SetEndpointAttributes", err, token), CodeInvalidToken)
	}
	return nil
}

// platformOf is the message key of a device: GCM for FCM, APNS or
// APNS_SANDBOX for APNs as the application's ARN says.
func platformOf(kind, app string) string {
	if kind == notify.DeviceFCM {
		return platformGCM
	}
	if strings.Contains(app, ":app/"+platformAPNSSandbox+"/") {
		return platformAPNSSandbox
	}
	return platformAPNS
}

// collapseID is stable for one delivery, so a push retried after a lost
// answer replaces the first on the device instead of showing twice (APNs
// apns-collapse-id, at most 64 bytes; FCM collapse_key and tag).
func collapseID(env channel.Envelope) string {
	sum := sha256.Sum256([]byte(env.WorkspaceID + "\x00" + env.NotificationID + "\x00" + env.RecipientKey))
	return hex.EncodeToString(sum[:16])
}

// publishInput builds the Publish of m to one platform (TargetArn is set by
// the caller).
func publishInput(m channel.PushMessage, platform string) (*sns.PublishInput, error) {
	cid := collapseID(m.Envelope)
	var (
		payload any
		attrs   map[string]types.MessageAttributeValue
	)
	if platform == platformGCM {
		payload = fcmPayload(m, cid)
	} else {
		payload = apnsPayload(m)
		attrs = map[string]types.MessageAttributeValue{
			attrAPNSPushType:   {DataType: aws.String("String"), StringValue: aws.String("alert")},
			attrAPNSCollapseID: {DataType: aws.String("String"), StringValue: aws.String(cid)},
		}
	}
	inner, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", platform, err)
	}
	// With MessageStructure "json" each platform's value is itself a JSON
	// document in a string; "default" is required by SNS.
	msg, err := json.Marshal(map[string]string{"default": m.Body, platform: string(inner)})
	if err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	return &sns.PublishInput{
		Message:           aws.String(string(msg)),
		MessageStructure:  aws.String("json"),
		MessageAttributes: attrs,
	}, nil
}

// fcmEnvelope is the "GCM" value SNS expects for FCM HTTP v1: the v1
// message under fcmV1Message (see "Using Google Firebase Cloud Messaging v1
// payloads in Amazon SNS").
type fcmEnvelope struct {
	FCMV1Message struct {
		Message fcmMessage `json:"message"`
	} `json:"fcmV1Message"`
}

type fcmMessage struct {
	Notification fcmNotification   `json:"notification"`
	Data         map[string]string `json:"data,omitempty"`
	Android      fcmAndroid        `json:"android"`
}

type fcmNotification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
	Image string `json:"image,omitempty"`
}

type fcmAndroid struct {
	CollapseKey  string                 `json:"collapse_key,omitempty"`
	Notification fcmAndroidNotification `json:"notification"`
}

type fcmAndroidNotification struct {
	Tag string `json:"tag,omitempty"`
}

// fcmPayload puts title, body and image in the notification FCM displays
// and everything the app needs for routing and actions in data. FCM data
// values must be strings, so the buttons are a JSON array in a string, and
// the icon (a URL to Herald, not an Android drawable) is data for the app.
func fcmPayload(m channel.PushMessage, cid string) fcmEnvelope {
	data := map[string]string{}
	put := func(k, v string) {
		if v != "" {
			data[k] = v
		}
	}
	put("route", m.Route)
	put("icon", m.Icon)
	put("image", m.Image)
	put("notificationId", m.NotificationID)
	if len(m.Buttons) > 0 {
		b, _ := json.Marshal(m.Buttons) // []notify.Button always encodes
		data["buttons"] = string(b)
	}
	var e fcmEnvelope
	e.FCMV1Message.Message = fcmMessage{
		Notification: fcmNotification{Title: m.Title, Body: m.Body, Image: m.Image},
		Data:         data,
		Android:      fcmAndroid{CollapseKey: cid, Notification: fcmAndroidNotification{Tag: cid}},
	}
	return e
}

// apnsBody is the APNS / APNS_SANDBOX value: Apple's aps dictionary plus
// Herald's keys for the app.
type apnsBody struct {
	APS struct {
		Alert struct {
			Title string `json:"title,omitempty"`
			Body  string `json:"body,omitempty"`
		} `json:"alert"`
		// MutableContent lets the app's notification service extension
		// download the image before the push is shown.
		MutableContent int    `json:"mutable-content,omitempty"`
		Category       string `json:"category,omitempty"`
	} `json:"aps"`
	Route          string          `json:"route,omitempty"`
	Icon           string          `json:"icon,omitempty"`
	Image          string          `json:"image,omitempty"`
	Buttons        []notify.Button `json:"buttons,omitempty"`
	NotificationID string          `json:"notificationId,omitempty"`
}

// apnsPayload builds the APNs payload. Action buttons on iOS come from a
// notification category the app registers; the category is "herald." and
// the button ids joined with "." (buttons accept and decline: category
// "herald.accept.decline"), and the buttons themselves travel alongside for
// apps that register categories as they go.
func apnsPayload(m channel.PushMessage) apnsBody {
	var b apnsBody
	b.APS.Alert.Title, b.APS.Alert.Body = m.Title, m.Body
	b.APS.MutableContent = 1
	b.APS.Category = apnsCategory(m.Buttons)
	b.Route, b.Icon, b.Image, b.Buttons = m.Route, m.Icon, m.Image, m.Buttons
	b.NotificationID = m.NotificationID
	return b
}

func apnsCategory(buttons []notify.Button) string {
	if len(buttons) == 0 {
		return ""
	}
	ids := make([]string, len(buttons))
	for i, b := range buttons {
		ids[i] = b.ID
	}
	return "herald." + strings.Join(ids, ".")
}
