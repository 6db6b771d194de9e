package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
	"github.com/heraldhq/herald/shared/webpush"
)

func TestBootstrap(t *testing.T) {
	endpoint := os.Getenv("HERALD_TEST_DYNAMODB_ENDPOINT")
	if endpoint == "" {
		t.Skip("HERALD_TEST_DYNAMODB_ENDPOINT is not set: start DynamoDB Local (infra/dynamodb-local.sh start) or run make test")
	}
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
	ctx := context.Background()
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	table := fmt.Sprintf("admin-test-%d", time.Now().UnixNano())
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	defer client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})

	var out bytes.Buffer
	if err := run(ctx, []string{"-table", table, "bootstrap", "-workspace", "acme", "-name", "Acme"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	secret := lines[len(lines)-1]
	k, err := apikey.Authenticate(ctx, dynamo.New(client, table), "Bearer "+secret)
	if err != nil || k.WorkspaceID != "acme" || !k.Allows(notify.ScopeAdmin) {
		t.Errorf("printed key authenticates as %+v, %v; want an admin key of acme", k, err)
	}
	// A second bootstrap of the same workspace fails and prints no key.
	out.Reset()
	if err := run(ctx, []string{"-table", table, "bootstrap", "-workspace", "acme"}, &out); err == nil || out.Len() != 0 {
		t.Errorf("second bootstrap = %v, printed %q; want an error and nothing printed", err, out.String())
	}
	if err := run(ctx, []string{"-table", table, "bootstrap", "-workspace", "Bad Id"}, &out); err == nil {
		t.Errorf("bad workspace id accepted")
	}
	// A workspace that lost its admin keys gets a new one; an unknown
	// workspace gets none.
	out.Reset()
	if err := run(ctx, []string{"-table", table, "admin-key", "-workspace", "acme"}, &out); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(out.String()), "\n")
	again, err := apikey.Authenticate(ctx, dynamo.New(client, table), "Bearer "+lines[len(lines)-1])
	if err != nil || again.WorkspaceID != "acme" || !again.Allows(notify.ScopeAdmin) || again.ID == k.ID {
		t.Errorf("admin-key printed a key of %+v, %v; want a second admin key of acme", again, err)
	}
	out.Reset()
	if err := run(ctx, []string{"-table", table, "admin-key", "-workspace", "nobody"}, &out); err == nil || out.Len() != 0 {
		t.Errorf("admin-key of an unknown workspace = %v, printed %q; want an error", err, out.String())
	}

	// console-link: the setup link of a workspace without operators, which
	// creates its first admin; then a reset link for a named operator.
	out.Reset()
	if err := run(ctx, []string{"-table", table, "console-link", "-workspace", "acme", "-url", "https://console.example/"}, &out); err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`https://console\.example/setup/(\S+)`).FindStringSubmatch(out.String())
	if link == nil {
		t.Fatalf("console-link printed %q; want a setup link", out.String())
	}
	store := dynamo.New(client, table)
	ops := &operator.Service{Store: store, IDs: &notify.IDs{}, Now: time.Now}
	if _, err := ops.Setup(ctx, link[1], "ana@acme.example", "Ana", "a long enough password"); err != nil {
		t.Fatalf("the printed setup link: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"-table", table, "console-link", "-workspace", "acme", "-url", "https://console.example"}, &out); err == nil {
		t.Errorf("console-link without -email once there is an admin printed %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"-table", table, "console-link", "-workspace", "acme", "-url", "https://console.example", "-email", "Ana@acme.example"}, &out); err != nil {
		t.Fatal(err)
	}
	reset := regexp.MustCompile(`https://console\.example/reset/(\S+)`).FindStringSubmatch(out.String())
	if reset == nil {
		t.Fatalf("console-link -email printed %q; want a reset link", out.String())
	}
	if in, err := ops.UseLink(ctx, reset[1], "", "another long password"); err != nil || in.Operator.Email != "ana@acme.example" {
		t.Fatalf("the printed reset link: %+v %v", in.Operator, err)
	}
}

func TestVAPIDKeys(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"vapid-keys"}, &out); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	if _, err := webpush.New(webpush.Config{VAPIDPublicKey: env["HERALD_VAPID_PUBLIC_KEY"], VAPIDPrivateKey: env["HERALD_VAPID_PRIVATE_KEY"], Subject: "mailto:ops@example.com"}); err != nil {
		t.Errorf("printed keys %v do not make a Web Push sender: %v", env, err)
	}
}
