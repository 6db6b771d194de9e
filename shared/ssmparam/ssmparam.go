// Package ssmparam reads a few SecureString parameters from SSM Parameter
// Store with one signed JSON request (GetParameters), for a function that
// needs a secret or two and has no room for the SSM client: that client
// and its serializers add about 4 MiB to a binary (the api function's
// budget is 24 MiB), while the signer and the JSON encoder this uses are
// in every function already. Package secrets, with the client, serves the
// functions that read a whole path.
package ssmparam

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// maxNames is how many names one GetParameters call takes.
const maxNames = 10

// Reader reads parameters with AWS credentials, in their region.
type Reader struct {
	// Config gives the region and the credentials (the function's role).
	Config aws.Config
	// Endpoint replaces https://ssm.<region>.amazonaws.com (tests).
	Endpoint string
	// Now is the signing clock; nil is time.Now.
	Now func() time.Time
}

// Get returns the decrypted values of the named parameters (full names,
// such as /herald/prod/unsubscribe-secret) that exist; a missing one is
// absent from the answer, not an error.
func (r Reader) Get(ctx context.Context, names ...string) (map[string]string, error) {
	if len(names) == 0 {
		return map[string]string{}, nil
	}
	if len(names) > maxNames {
		return nil, fmt.Errorf("ssm get parameters: %d names, at most %d", len(names), maxNames)
	}
	body, err := json.Marshal(struct {
		Names          []string
		WithDecryption bool
	}{names, true})
	if err != nil {
		return nil, fmt.Errorf("ssm get parameters: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("ssm get parameters: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameters")
	if r.Config.Credentials == nil {
		return nil, errors.New("ssm get parameters: no credentials")
	}
	creds, err := r.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("ssm get parameters: credentials: %w", err)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", r.Config.Region, now()); err != nil {
		return nil, fmt.Errorf("ssm get parameters: sign: %w", err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ssm get parameters: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("ssm get parameters: read answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		_, kind, _ := strings.Cut(e.Type, "#")
		if kind == "" {
			kind = e.Type
		}
		return nil, fmt.Errorf("ssm get parameters: %d %s: %s", res.StatusCode, kind, e.Message)
	}
	var out struct {
		Parameters []struct {
			Name  string
			Value string
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("ssm get parameters: answer: %w", err)
	}
	values := make(map[string]string, len(out.Parameters))
	for _, p := range out.Parameters {
		values[p.Name] = p.Value
	}
	return values, nil
}

func (r Reader) endpoint() string {
	if r.Endpoint != "" {
		return r.Endpoint
	}
	domain := "amazonaws.com"
	if strings.HasPrefix(r.Config.Region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return "https://ssm." + r.Config.Region + "." + domain + "/"
}
