package sns

import (
	"context"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// EndpointOwner is the Herald device an SNS platform endpoint was created
// for. Herald writes it into the endpoint's CustomUserData, because SNS's
// delivery-failure events name only the endpoint ARN: reading the owner
// back is how push feedback finds the device to disable.
type EndpointOwner struct {
	WorkspaceID string
	UserID      string
	DeviceID    string
}

// ownerPrefix starts every owner Herald writes; the version lets a later
// encoding be told apart, and CustomUserData written by anyone else is not
// mistaken for an owner.
const ownerPrefix = "herald1/"

// maxCustomUserData is the longest CustomUserData SNS takes: "UTF-8 and
// less than 2KB".
const maxCustomUserData = 2047

// FormatOwner encodes o for an endpoint's CustomUserData: "herald1/"
// followed by the workspace, user and device ids, each escaped with
// url.PathEscape (so an id holding "/" or "%" cannot shift the others) and
// joined by "/". The result is ASCII; ParseOwner reverses it.
func FormatOwner(o EndpointOwner) string {
	return ownerPrefix + url.PathEscape(o.WorkspaceID) + "/" + url.PathEscape(o.UserID) + "/" + url.PathEscape(o.DeviceID)
}

// ParseOwner decodes what FormatOwner wrote. ok is false for anything else
// (CustomUserData set by another application, another version, a
// malformed or non-canonical escape), so a foreign endpoint is never
// attributed to a Herald device.
func ParseOwner(s string) (EndpointOwner, bool) {
	rest, ok := strings.CutPrefix(s, ownerPrefix)
	if !ok {
		return EndpointOwner{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return EndpointOwner{}, false
	}
	var ids [3]string
	for i, p := range parts {
		id, err := url.PathUnescape(p)
		if err != nil || url.PathEscape(id) != p {
			return EndpointOwner{}, false
		}
		ids[i] = id
	}
	return EndpointOwner{WorkspaceID: ids[0], UserID: ids[1], DeviceID: ids[2]}, true
}

// customUserData is the CustomUserData of an endpoint created for o, or ""
// when the encoded owner is longer than SNS accepts (the endpoint is then
// created without one rather than not at all).
func customUserData(o EndpointOwner) string {
	s := FormatOwner(o)
	if len(s) > maxCustomUserData {
		return ""
	}
	return s
}

// endpointsAPI is the part of the SNS client that push feedback needs.
type endpointsAPI interface {
	GetEndpointAttributes(ctx context.Context, in *sns.GetEndpointAttributesInput, optFns ...func(*sns.Options)) (*sns.GetEndpointAttributesOutput, error)
	DeleteEndpoint(ctx context.Context, in *sns.DeleteEndpointInput, optFns ...func(*sns.Options)) (*sns.DeleteEndpointOutput, error)
}

// Endpoints reads and deletes the platform endpoints PushSender created.
// Push feedback uses it: a platform application's DeliveryFailure event
// names only an EndpointArn, and Owner turns it back into the Herald
// device it was created for.
type Endpoints struct {
	client endpointsAPI
}

// NewEndpoints returns an Endpoints calling SNS with client.
func NewEndpoints(client *sns.Client) *Endpoints {
	return &Endpoints{client: client}
}

// Owner returns the owner PushSender wrote into the endpoint and the
// endpoint's current device token. ok is false, with a nil error, when the
// endpoint no longer exists or its CustomUserData is not a Herald owner
// (token is still set in the latter case). The token is for comparing with
// the device's (a device re-registered with a new token must not be
// disabled for its old one); never log it.
func (e *Endpoints) Owner(ctx context.Context, endpointARN string) (owner EndpointOwner, token string, ok bool, err error) {
	out, err := e.client.GetEndpointAttributes(ctx, &sns.GetEndpointAttributesInput{EndpointArn: aws.String(endpointARN)})
	if err != nil {
		err = apiError("GetEndpointAttributes", err)
		if codeOf(err) == "NotFound" {
			return EndpointOwner{}, "", false, nil
		}
		return EndpointOwner{}, "", false, err
	}
	token = out.Attributes["Token"]
	owner, ok = ParseOwner(out.Attributes["CustomUserData"])
	return owner, token, ok, nil
}

// Delete deletes the endpoint, so a token the platform refuses stops being
// published to and an endpoint of a removed device does not linger. SNS
// deletes idempotently; a missing endpoint is not an error either way.
func (e *Endpoints) Delete(ctx context.Context, endpointARN string) error {
	_, err := e.client.DeleteEndpoint(ctx, &sns.DeleteEndpointInput{EndpointArn: aws.String(endpointARN)})
	if err != nil {
		err = apiError("DeleteEndpoint", err)
		if codeOf(err) == "NotFound" {
			return nil
		}
		return err
	}
	return nil
}
