package sns

import (
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// answer is one scripted SNS response.
type answer struct {
	status int
	body   string
}

// fakeSNS is an httptest fake of the SNS Query API: it checks that every
// request is a signed, form-encoded POST of API version 2010-03-31, records
// the form, and answers each action with the next scripted answer for it.
type fakeSNS struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	script  map[string][]answer
	calls   []url.Values
	hangups bool // close the connection instead of answering
}

func newFake(t *testing.T) *fakeSNS {
	t.Helper()
	f := &fakeSNS{t: t, script: map[string][]answer{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client is a real SDK client pointed at the fake, without retries so each
// scripted answer is seen once.
func (f *fakeSNS) client() *sns.Client {
	return sns.New(sns.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(f.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   f.srv.Client(),
	})
}

// on queues answers for action, given in the order they are to be used.
func (f *fakeSNS) on(action string, as ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[action] = append(f.script[action], as...)
}

func (f *fakeSNS) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if f.hangups {
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		t.Errorf("request %s %s, want POST /", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", got)
	}
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(got, "/eu-west-1/sns/aws4_request") {
		t.Errorf("Authorization = %q, want a SigV4 signature for sns in eu-west-1", got)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("parse form %q: %v", body, err)
	}
	if got := form.Get("Version"); got != "2010-03-31" {
		t.Errorf("Version = %q, want 2010-03-31", got)
	}
	action := form.Get("Action")

	f.mu.Lock()
	f.calls = append(f.calls, form)
	var a answer
	if q := f.script[action]; len(q) > 0 {
		a, f.script[action] = q[0], q[1:]
	} else {
		t.Errorf("unexpected %s call", action)
		a = snsError(500, "Receiver", "InternalError", "no scripted answer")
	}
	f.mu.Unlock()

	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", errorRequestID)
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// actions lists the recorded calls' actions in order.
func (f *fakeSNS) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Get("Action"))
	}
	return out
}

// callsOf returns the recorded forms of action.
func (f *fakeSNS) callsOf(action string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []url.Values
	for _, c := range f.calls {
		if c.Get("Action") == action {
			out = append(out, c)
		}
	}
	return out
}

// The bodies below are SNS's own success and error documents.

func publishOK(id string) answer {
	return answer{200, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <PublishResult>
    <MessageId>` + id + `</MessageId>
  </PublishResult>
  <ResponseMetadata>
    <RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId>
  </ResponseMetadata>
</PublishResponse>`}
}

func createOK(arn string) answer {
	return answer{200, `<CreatePlatformEndpointResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <CreatePlatformEndpointResult>
    <EndpointArn>` + arn + `</EndpointArn>
  </CreatePlatformEndpointResult>
  <ResponseMetadata>
    <RequestId>6613341d-3e15-53f7-bf3c-7e56994ba278</RequestId>
  </ResponseMetadata>
</CreatePlatformEndpointResponse>`}
}

func setAttributesOK() answer {
	return answer{200, `<SetEndpointAttributesResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <ResponseMetadata>
    <RequestId>2fe0bfc7-3e85-5ee5-a9e2-f58b35e85f6a</RequestId>
  </ResponseMetadata>
</SetEndpointAttributesResponse>`}
}

// getAttributesOK is a GetEndpointAttributesResponse with attrs, in key
// order, their values XML-escaped as SNS does.
func getAttributesOK(attrs map[string]string) answer {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		b.WriteString("      <entry>\n        <key>")
		xml.EscapeText(&b, []byte(k))
		b.WriteString("</key>\n        <value>")
		xml.EscapeText(&b, []byte(attrs[k]))
		b.WriteString("</value>\n      </entry>\n")
	}
	return answer{200, `<GetEndpointAttributesResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <GetEndpointAttributesResult>
    <Attributes>
` + b.String() + `    </Attributes>
  </GetEndpointAttributesResult>
  <ResponseMetadata>
    <RequestId>6c725a19-a142-5b77-94f9-1055a9ea04e7</RequestId>
  </ResponseMetadata>
</GetEndpointAttributesResponse>`}
}

func deleteEndpointOK() answer {
	return answer{200, `<DeleteEndpointResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <ResponseMetadata>
    <RequestId>c1d2b191-353c-5a5f-8969-fbdd3900afa8</RequestId>
  </ResponseMetadata>
</DeleteEndpointResponse>`}
}

// endpointExists is SNS's answer to creating an endpoint for a token that
// arn already has, with other attributes.
func endpointExists(arn string) answer {
	return snsError(400, "Sender", "InvalidParameter",
		"Invalid parameter: Token Reason: Endpoint "+arn+" already exists with the same Token, but different attributes.")
}

func snsError(status int, typ, code, msg string) answer {
	return answer{status, fmt.Sprintf(`<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <Error>
    <Type>%s</Type>
    <Code>%s</Code>
    <Message>%s</Message>
  </Error>
  <RequestId>%s</RequestId>
</ErrorResponse>`, typ, code, msg, errorRequestID)}
}

// errorRequestID is the request id the fake answers with, in the
// x-amzn-RequestId header as SNS does and in error bodies.
const errorRequestID = "9dd01905-5012-5f99-8663-4b3ecd0dfaef"

// attr is a decoded message attribute.
type attr struct{ Type, Value string }

// messageAttributes decodes MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue}.
func messageAttributes(form url.Values) map[string]attr {
	out := map[string]attr{}
	for i := 1; ; i++ {
		p := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name := form.Get(p + "Name")
		if name == "" {
			return out
		}
		out[name] = attr{form.Get(p + "Value.DataType"), form.Get(p + "Value.StringValue")}
	}
}

// attributes decodes a string map: Attributes.entry.N.{key,value}.
func attributes(form url.Values) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		p := fmt.Sprintf("Attributes.entry.%d.", i)
		k := form.Get(p + "key")
		if k == "" {
			return out
		}
		out[k] = form.Get(p + "value")
	}
}
