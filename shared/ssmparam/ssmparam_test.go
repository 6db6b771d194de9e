package ssmparam

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"
)

var cfg = aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "TOKEN")}

// fakeSSM answers GetParameters as SSM does, after checking what the
// request says and how it is signed.
func fakeSSM(t *testing.T, stored map[string]string) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameters" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			t.Errorf("request %s %s %v, want a GetParameters JSON call", r.Method, r.URL, r.Header)
		}
		if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/20260301/eu-west-1/ssm/aws4_request") {
			t.Errorf("Authorization = %q, want SigV4 for ssm in eu-west-1", auth)
		}
		if r.Header.Get("X-Amz-Security-Token") != "TOKEN" {
			t.Errorf("the session token is not sent")
		}
		var in struct {
			Names          []string
			WithDecryption bool
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &in); err != nil || !in.WithDecryption {
			t.Errorf("body %s: want names with decryption", b)
		}
		type param struct{ Name, Value, Type string }
		out := struct {
			Parameters        []param
			InvalidParameters []string
		}{Parameters: []param{}, InvalidParameters: []string{}}
		for _, n := range in.Names {
			if v, ok := stored[n]; ok {
				out.Parameters = append(out.Parameters, param{n, v, "SecureString"})
			} else {
				out.InvalidParameters = append(out.InvalidParameters, n)
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
}

func TestGet(t *testing.T) {
	srv := fakeSSM(t, map[string]string{"/herald/prod/unsubscribe-secret": "s3cret"})
	defer srv.Close()
	r := Reader{Config: cfg, Endpoint: srv.URL, Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
	got, err := r.Get(t.Context(), "/herald/prod/unsubscribe-secret", "/herald/prod/missing")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"/herald/prod/unsubscribe-secret": "s3cret"}, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
}

func TestGetRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.ssm#AccessDeniedException","message":"not authorized to perform: ssm:GetParameters"}`)
	}))
	defer srv.Close()
	_, err := Reader{Config: cfg, Endpoint: srv.URL}.Get(t.Context(), "/herald/prod/unsubscribe-secret")
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") || !strings.Contains(err.Error(), "not authorized") {
		t.Errorf("a refused call: %v, want SSM's error", err)
	}
	if _, err := (Reader{Config: cfg, Endpoint: srv.URL}).Get(t.Context(), make([]string, 11)...); err == nil {
		t.Error("11 names were asked for in one call")
	}
}

func TestEndpoint(t *testing.T) {
	for region, want := range map[string]string{"eu-west-1": "https://ssm.eu-west-1.amazonaws.com/", "cn-north-1": "https://ssm.cn-north-1.amazonaws.com.cn/"} {
		if got := (Reader{Config: aws.Config{Region: region}}).endpoint(); got != want {
			t.Errorf("endpoint in %s = %q, want %q", region, got, want)
		}
	}
}
