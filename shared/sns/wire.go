package sns

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsxml "github.com/aws/aws-sdk-go-v2/aws/protocol/xml"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/heraldhq/herald/shared/awscall"
)

// client is the SNS client with Publish made by hand (package awscall
// says why): SMS and mobile pushes publish once per recipient. Publish
// goes over the wire as the SDK's would (the query protocol, API version
// 2010-03-31) with the client's endpoint, credentials, HTTP client and
// retryer; every other operation is the SDK's.
type client struct {
	*sns.Client
	call    *awscall.Client
	callErr error // why Publish cannot be made, returned by every call
}

func newClient(c *sns.Client) *client {
	w := &client{Client: c}
	w.call, w.callErr = caller(c)
	return w
}

// caller resolves, once, what c's calls would use.
func caller(c *sns.Client) (*awscall.Client, error) {
	o := c.Options()
	region, err := awscall.EndpointRegion(o.Region)
	if err != nil {
		return nil, fmt.Errorf("resolve sns endpoint: %w", err)
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(context.Background(), sns.EndpointParameters{
		Region:       aws.String(region),
		Endpoint:     o.BaseEndpoint,
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
	})
	if err != nil {
		return nil, fmt.Errorf("resolve sns endpoint: %w", err)
	}
	if o.Credentials == nil {
		return nil, errors.New("sns client has no credentials")
	}
	cfg := awscall.Config{ServiceID: sns.ServiceID, Credentials: o.Credentials, HTTPClient: o.HTTPClient, Retryer: o.Retryer, APIError: queryError}
	cfg.SetEndpoint(ep, "sns", o.Region, o.EndpointOptions.DisableHTTPS)
	return awscall.New(cfg), nil
}

// queryError reads an SNS error answer as the SDK does: the code and
// message of its <ErrorResponse><Error>; "UnknownError" without them.
func queryError(status int, _ http.Header, body []byte) smithy.APIError {
	e := &smithy.GenericAPIError{Code: "UnknownError", Message: "UnknownError", Fault: smithy.FaultClient}
	if status >= 500 {
		e.Fault = smithy.FaultServer
	}
	c, err := awsxml.GetErrorResponseComponents(bytes.NewReader(body), false)
	if err != nil {
		return e
	}
	if c.Code != "" {
		e.Code = c.Code
	}
	if c.Message != "" {
		e.Message = c.Message
	}
	return e
}

// forms hold request bodies while they are built and sent.
var forms = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxKeptForm bounds the bodies kept for reuse.
const maxKeptForm = 64 << 10

// Publish publishes in, as the SDK's Publish would. Options per call are
// the SDK's to apply: a call with them goes through the SDK.
func (c *client) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if len(optFns) > 0 {
		return c.Client.Publish(ctx, in, optFns...)
	}
	if c.callErr != nil {
		return nil, &smithy.OperationError{ServiceID: sns.ServiceID, OperationName: "Publish", Err: c.callErr}
	}
	bp := forms.Get().(*[]byte)
	b := appendPublish((*bp)[:0], in)
	var out *sns.PublishOutput
	err := c.call.Call(ctx, "Publish", "/", "application/x-www-form-urlencoded", b, func(answer []byte) (err error) {
		out, err = publishOutput(answer)
		return err
	})
	if cap(b) <= maxKeptForm {
		*bp = b
		forms.Put(bp)
	}
	return out, err
}

// appendPublish appends the query-protocol form of in.
func appendPublish(b []byte, in *sns.PublishInput) []byte {
	b = append(b, "Action=Publish&Version=2010-03-31"...)
	field := func(name string, v *string) {
		if v != nil {
			b = append(b, '&')
			b = append(b, name...)
			b = append(b, '=')
			b = append(b, url.QueryEscape(*v)...)
		}
	}
	field("Message", in.Message)
	if len(in.MessageAttributes) > 0 {
		names := make([]string, 0, len(in.MessageAttributes))
		for k := range in.MessageAttributes {
			names = append(names, k)
		}
		slices.Sort(names)
		for i, k := range names {
			v := in.MessageAttributes[k]
			entry := "MessageAttributes.entry." + strconv.Itoa(i+1)
			field(entry+".Name", &k)
			if v.BinaryValue != nil {
				bin := base64.StdEncoding.EncodeToString(v.BinaryValue)
				field(entry+".Value.BinaryValue", &bin)
			}
			field(entry+".Value.DataType", v.DataType)
			field(entry+".Value.StringValue", v.StringValue)
		}
	}
	field("MessageDeduplicationId", in.MessageDeduplicationId)
	field("MessageGroupId", in.MessageGroupId)
	field("MessageStructure", in.MessageStructure)
	field("PhoneNumber", in.PhoneNumber)
	field("Subject", in.Subject)
	field("TargetArn", in.TargetArn)
	field("TopicArn", in.TopicArn)
	return b
}

// publishOutput reads Publish's answer: <PublishResult> with MessageId
// and, for FIFO topics, SequenceNumber.
func publishOutput(answer []byte) (*sns.PublishOutput, error) {
	result, ok := element(answer, "PublishResult")
	if !ok {
		return nil, errors.New("sns publish: answer has no PublishResult")
	}
	out := &sns.PublishOutput{}
	if id, ok := element(result, "MessageId"); ok {
		out.MessageId = aws.String(xmlText(id))
	}
	if seq, ok := element(result, "SequenceNumber"); ok {
		out.SequenceNumber = aws.String(xmlText(seq))
	}
	return out, nil
}

// element is the content of the first <name>…</name> in b.
func element(b []byte, name string) ([]byte, bool) {
	_, rest, ok := bytes.Cut(b, []byte("<"+name+">"))
	if !ok {
		return nil, false
	}
	content, _, ok := bytes.Cut(rest, []byte("</"+name+">"))
	return content, ok
}

// xmlText decodes the character data of an element without markup.
func xmlText(b []byte) string {
	s := string(b)
	if !strings.Contains(s, "&") {
		return s
	}
	return xmlEntities.Replace(s)
}

var xmlEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")
