// Package secrets fills a configuration's secrets from SSM Parameter Store,
// as the Lambda functions that need them do when they start. It is its own
// package so that only those functions carry the SSM client.
package secrets

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/heraldhq/herald/shared/config"
)

// Secret names under HERALD_SECRETS_PATH in SSM Parameter Store, and the
// settings they fill. A secret present in SSM wins over the environment.
var secretNames = map[string]func(*config.Config, string){
	"whatsapp-access-token":    func(c *config.Config, v string) { c.WhatsApp.AccessToken = v },
	"whatsapp-phone-number-id": func(c *config.Config, v string) { c.WhatsApp.PhoneNumberID = v },
	"whatsapp-app-secret":      func(c *config.Config, v string) { c.WhatsApp.AppSecret = v },
	"whatsapp-verify-token":    func(c *config.Config, v string) { c.WhatsApp.VerifyToken = v },
	"vapid-public-key":         func(c *config.Config, v string) { c.VAPID.PublicKey = v },
	"vapid-private-key":        func(c *config.Config, v string) { c.VAPID.PrivateKey = v },
	"unsubscribe-secret":       func(c *config.Config, v string) { c.UnsubscribeSecret = v },
}

// ParameterStore reads the parameters under a path; *ssm.Client is one.
type ParameterStore interface {
	GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
}

// Load fills c's secrets from the SecureString parameters under
// c.SecretsPath (e.g. /herald/prod/), decrypted: once, when a function
// starts. Unknown names are ignored; a missing path is no error (the
// channels whose secrets are absent deliver to the sandbox).
func Load(ctx context.Context, c *config.Config, ps ParameterStore) error {
	if c.SecretsPath == "" {
		return nil
	}
	prefix := strings.TrimRight(c.SecretsPath, "/") + "/"
	in := &ssm.GetParametersByPathInput{Path: aws.String(prefix), WithDecryption: aws.Bool(true), Recursive: aws.Bool(false)}
	for {
		out, err := ps.GetParametersByPath(ctx, in)
		if err != nil {
			return fmt.Errorf("read secrets under %s: %w", prefix, err)
		}
		for _, p := range out.Parameters {
			if set, ok := secretNames[path.Base(aws.ToString(p.Name))]; ok {
				set(c, aws.ToString(p.Value))
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if (c.VAPID.PublicKey == "") != (c.VAPID.PrivateKey == "") {
		return fmt.Errorf("secrets under %s: vapid-public-key and vapid-private-key go together", prefix)
	}
	if (c.WhatsApp.AccessToken == "") != (c.WhatsApp.PhoneNumberID == "") {
		return fmt.Errorf("secrets under %s: whatsapp-access-token and whatsapp-phone-number-id go together", prefix)
	}
	return nil
}
