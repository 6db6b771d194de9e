package secrets

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/heraldhq/herald/shared/config"
)

// parameters is a fake Parameter Store that pages its answer.
type parameters struct {
	byName map[string]string
	asked  []string
}

func (p *parameters) GetParametersByPath(_ context.Context, in *ssm.GetParametersByPathInput, _ ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	p.asked = append(p.asked, aws.ToString(in.Path))
	if !aws.ToBool(in.WithDecryption) {
		return nil, fmt.Errorf("secrets read without decryption")
	}
	var all []types.Parameter
	for name, v := range p.byName {
		all = append(all, types.Parameter{Name: aws.String(name), Value: aws.String(v)})
	}
	sort.Slice(all, func(i, j int) bool { return *all[i].Name < *all[j].Name })
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	end := min(start+2, len(all))
	out := &ssm.GetParametersByPathOutput{Parameters: all[start:end]}
	if end < len(all) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func TestLoad(t *testing.T) {
	ps := &parameters{byName: map[string]string{
		"/herald/prod/whatsapp-access-token": "EAA", "/herald/prod/whatsapp-phone-number-id": "1055",
		"/herald/prod/whatsapp-app-secret": "app", "/herald/prod/vapid-public-key": "BPub", "/herald/prod/vapid-private-key": "priv",
		"/herald/prod/unsubscribe-secret": "u", "/herald/prod/unrelated": "x",
	}}
	c := config.Config{SecretsPath: "/herald/prod", WhatsApp: config.WhatsAppConfig{AppSecret: "from-env", VerifyToken: "env-verify"}}
	if err := Load(t.Context(), &c, ps); err != nil {
		t.Fatal(err)
	}
	want := config.WhatsAppConfig{AccessToken: "EAA", PhoneNumberID: "1055", AppSecret: "app", VerifyToken: "env-verify"}
	if c.WhatsApp != want || c.VAPID.PublicKey != "BPub" || c.VAPID.PrivateKey != "priv" || c.UnsubscribeSecret != "u" {
		t.Errorf("LoadSecrets = %+v", c)
	}
	if len(ps.asked) != 4 || ps.asked[0] != "/herald/prod/" {
		t.Errorf("asked %v, want every page of /herald/prod/", ps.asked)
	}
	half := &parameters{byName: map[string]string{"/h/vapid-private-key": "priv"}}
	if err := Load(t.Context(), &config.Config{SecretsPath: "/h/"}, half); err == nil {
		t.Errorf("half a VAPID key pair accepted")
	}
	if err := Load(t.Context(), &config.Config{}, nil); err != nil {
		t.Errorf("no secrets path: %v", err)
	}
}
