// Command admin does the operator's chores that have no API route, against
// the deployed table (or an emulator, as the AWS SDK's environment says):
//
//	go run ./infra/admin -table herald-HeraldTable-XYZ bootstrap -workspace acme -name "Acme Energy"
//
// bootstrap creates a workspace and its first admin key and prints the key
// once; every other key is created through POST /v1/keys with that one.
//
//	go run ./infra/admin -table herald-HeraldTable-XYZ admin-key -workspace acme
//
// admin-key gives an existing workspace a new admin key, for when its
// admin keys were lost or revoked.
//
//	go run ./infra/admin vapid-keys
//
// vapid-keys prints a new Web Push key pair as HERALD_VAPID_* settings.
//
//	go run ./infra/admin -table herald-HeraldTable-XYZ console-link -workspace acme -url https://abc.execute-api.eu-west-1.amazonaws.com [-email ana@acme.example]
//
// console-link prints the one-time link that creates a workspace's first
// console admin, or, once it has operators, a password reset link for the
// one with -email (for when nobody can sign in).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
	"github.com/heraldhq/herald/shared/webpush"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
}

// workspaceID is what a workspace id may look like: it is part of every key.
var workspaceID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,62}$`)

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	table := fs.String("table", os.Getenv("HERALD_TABLE"), "the DynamoDB table (the stack's TableName output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 && fs.Arg(0) == "vapid-keys" {
		pub, priv, err := webpush.GenerateVAPIDKeys()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "HERALD_VAPID_PUBLIC_KEY=%s\nHERALD_VAPID_PRIVATE_KEY=%s\n", pub, priv)
		return err
	}
	if fs.NArg() > 0 && fs.Arg(0) == "console-link" {
		return consoleLink(ctx, *table, fs.Args()[1:], out)
	}
	if fs.NArg() == 0 || (fs.Arg(0) != "bootstrap" && fs.Arg(0) != "admin-key") {
		return fmt.Errorf("usage: admin -table TABLE bootstrap -workspace ID [-name NAME] | admin -table TABLE admin-key -workspace ID | admin -table TABLE console-link -workspace ID -url URL [-email EMAIL] | admin vapid-keys")
	}
	existing := fs.Arg(0) == "admin-key"
	bs := flag.NewFlagSet(fs.Arg(0), flag.ContinueOnError)
	ws := bs.String("workspace", "", "workspace id: lower-case letters, digits, - and _")
	name := bs.String("name", "", "workspace name (default: the id)")
	if err := bs.Parse(fs.Args()[1:]); err != nil {
		return err
	}
	if *table == "" {
		return fmt.Errorf("-table (or HERALD_TABLE) is required")
	}
	if !workspaceID.MatchString(*ws) {
		return fmt.Errorf("-workspace %q: want 2–63 lower-case letters, digits, - or _", *ws)
	}
	if *name == "" {
		*name = *ws
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	store := dynamo.New(dynamodb.NewFromConfig(cfg), *table)
	now := time.Now().UTC().Truncate(time.Millisecond)
	secret := apikey.New()
	k := notify.APIKey{ID: "key_admin", WorkspaceID: *ws, Name: "admin (bootstrap)", Scopes: []notify.Scope{notify.ScopeAdmin},
		Hash: apikey.Hash(secret), Prefix: apikey.Display(secret), CreatedAt: now}
	if existing {
		if _, err := store.GetWorkspace(ctx, *ws); err != nil {
			return fmt.Errorf("workspace %s: %w", *ws, err)
		}
		k.ID, k.Name = "key_admin_"+strings.ToLower((&notify.IDs{}).New(now)), "admin (admin-key)"
	} else if err := store.CreateWorkspace(ctx, notify.Workspace{ID: *ws, Name: *name, CreatedAt: now}); err != nil {
		return fmt.Errorf("create workspace %s: %w", *ws, err)
	}
	if err := store.CreateAPIKey(ctx, k); err != nil {
		return fmt.Errorf("create admin key: %w", err)
	}
	if existing {
		fmt.Fprintf(out, "a new admin key of workspace %s (shown once):\n%s\n", *ws, secret)
		return nil
	}
	fmt.Fprintf(out, "workspace %s created; its admin key (shown once):\n%s\n", *ws, secret)
	return nil
}

// consoleLink prints a setup or recovery link of a workspace's console.
func consoleLink(ctx context.Context, table string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("console-link", flag.ContinueOnError)
	ws := fs.String("workspace", "", "workspace id")
	base := fs.String("url", "", "the console's address: the stack's ApiUrl output")
	email := fs.String("email", "", "the operator whose password to reset, once the workspace has operators")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if table == "" || *ws == "" || !strings.HasPrefix(*base, "http") {
		return fmt.Errorf("usage: admin -table TABLE console-link -workspace ID -url https://… [-email EMAIL]")
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	store := dynamo.New(dynamodb.NewFromConfig(cfg), table)
	if _, err := store.GetWorkspace(ctx, *ws); err != nil {
		return fmt.Errorf("workspace %s: %w", *ws, err)
	}
	ops := &operator.Service{Store: store, IDs: &notify.IDs{}, Now: time.Now}
	l, err := ops.RecoveryLink(ctx, *ws, *email)
	if err != nil {
		return err
	}
	kind := "create the first admin"
	if l.Token.Kind == notify.TokenReset {
		kind = "reset the password of " + l.Token.Email
	}
	_, err = fmt.Fprintf(out, "one-time link to %s (valid until %s):\n%s/%s/%s\n", kind, l.Token.ExpiresAt.Format(time.RFC3339), strings.TrimRight(*base, "/"), l.Token.Kind, l.Secret)
	return err
}
