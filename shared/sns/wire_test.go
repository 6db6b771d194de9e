package sns

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/google/go-cmp/cmp"
)

// TestPublishFormIsTheSDKs: the hand-made Publish sends the form the SDK's
// Publish sends, and reads the same answer.
func TestPublishFormIsTheSDKs(t *testing.T) {
	var forms []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		if err != nil {
			t.Errorf("form %q: %v", body, err)
		}
		forms = append(forms, form)
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>id-&amp;-1</MessageId><SequenceNumber>10000</SequenceNumber></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`)
	}))
	t.Cleanup(srv.Close)
	sdk := sns.New(sns.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	in := &sns.PublishInput{
		Message:          aws.String("Hola Ana, tu pedido & más: 100% listo\n¿ok? +34"),
		MessageStructure: aws.String("json"),
		PhoneNumber:      aws.String("+34600000001"),
		Subject:          aws.String("s"),
		TargetArn:        aws.String("arn:aws:sns:eu-west-1:1:endpoint/GCM/app/x"),
		MessageGroupId:   aws.String("g"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"b.second": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 0xff}},
			"a.first":  {DataType: aws.String("String"), StringValue: aws.String("x y=z")},
			"c.third":  {DataType: aws.String("Number"), StringValue: aws.String("0.5")},
		},
	}
	want, err := sdk.Publish(context.Background(), in)
	if err != nil {
		t.Fatalf("SDK Publish: %v", err)
	}
	got, err := newClient(sdk).Publish(context.Background(), in)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if len(forms) != 2 {
		t.Fatalf("the fake got %d requests, want 2", len(forms))
	}
	if diff := cmp.Diff(forms[0], forms[1]); diff != "" {
		t.Errorf("form (-SDK +hand-made):\n%s", diff)
	}
	if aws.ToString(got.MessageId) != aws.ToString(want.MessageId) || aws.ToString(got.SequenceNumber) != aws.ToString(want.SequenceNumber) {
		t.Errorf("Publish = id %q seq %q, want the SDK's %q %q", aws.ToString(got.MessageId), aws.ToString(got.SequenceNumber),
			aws.ToString(want.MessageId), aws.ToString(want.SequenceNumber))
	}
}
