package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != ".herald" || c.Workers != 4 || c.MaxReceives != 5 ||
		c.VisibilityTime != 30*time.Second || c.MaxBodyBytes != 5<<20 || c.LogLevel != slog.LevelInfo || c.Fsync || c.TestAllowPrivateEndpoints {
		t.Errorf("Load(empty) = %+v", c)
	}
	if err := c.RequireAWS(true); err == nil {
		t.Errorf("RequireAWS without HERALD_TABLE = nil, want an error")
	}
}

func TestTestAllowPrivateEndpoints(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "1": true, "true": true} {
		c, err := Load(env(map[string]string{"HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS": v}))
		if err != nil || c.TestAllowPrivateEndpoints != want {
			t.Errorf("HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS=%q: TestAllowPrivateEndpoints = %v, %v; want %v", v, c.TestAllowPrivateEndpoints, err, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"HERALD_WORKERS", "0"},
		{"HERALD_WORKERS", "many"},
		{"HERALD_LOG_LEVEL", "loud"},
		{"HERALD_VISIBILITY_TIMEOUT", "5"},
		{"HERALD_DEFAULT_REGION", "Spain"},
		{"HERALD_MAX_BODY_BYTES", "10"},
	}
	for _, tt := range tests {
		_, err := Load(env(map[string]string{tt.name: tt.value}))
		if err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("Load(%s=%q) = %v, want an error naming the variable", tt.name, tt.value, err)
		}
	}
}

func TestMetricsNamespace(t *testing.T) {
	c, err := Load(env(map[string]string{"HERALD_METRICS_NAMESPACE": "Herald/herald-prod"}))
	if err != nil || c.MetricsNamespace != "Herald/herald-prod" {
		t.Errorf("HERALD_METRICS_NAMESPACE: MetricsNamespace = %q, %v", c.MetricsNamespace, err)
	}
}

func TestLoggerIsJSONWithStage(t *testing.T) {
	c, err := Load(env(map[string]string{"HERALD_STAGE": "prod", "HERALD_LOG_LEVEL": "warn", "HERALD_DEFAULT_REGION": "es"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DefaultRegion != "ES" {
		t.Errorf("DefaultRegion = %q, want ES", c.DefaultRegion)
	}
	var b strings.Builder
	log := c.Logger(&b)
	log.Info("hidden")
	log.Warn("shown", "notificationId", "n1")
	if got := b.String(); strings.Contains(got, "hidden") || !strings.Contains(got, `"stage":"prod"`) || !strings.HasPrefix(got, "{") {
		t.Errorf("log = %q, want one JSON warn line with the stage", got)
	}
}

func TestForLambda(t *testing.T) {
	base := map[string]string{"HERALD_TABLE": "t", "HERALD_DISPATCH_QUEUE_URL": "https://sqs/q", "AWS_REGION": "eu-west-1",
		"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
		"HERALD_SNS_TEST_CERT": "/tmp/forged.pem", "HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS": "1"}
	c, aws, err := ForLambda(t.Context(), env(base), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.SNSTestCert != "" {
		t.Errorf("ForLambda kept HERALD_SNS_TEST_CERT = %q: on AWS only SNS's own certificates may sign", c.SNSTestCert)
	}
	if c.TestAllowPrivateEndpoints {
		t.Error("ForLambda kept HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS: on AWS, Web Push endpoints must be public")
	}
	creds, err := aws.Credentials.Retrieve(t.Context())
	if err != nil || c.Table != "t" || aws.Region != "eu-west-1" || creds.AccessKeyID != "AKIA" || creds.SessionToken != "token" {
		t.Errorf("ForLambda = %+v, %+v, %v", aws, creds, err)
	}
	for _, missing := range []string{"HERALD_TABLE", "HERALD_DISPATCH_QUEUE_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID"} {
		m := map[string]string{}
		for k, v := range base {
			if k != missing {
				m[k] = v
			}
		}
		if _, _, err := ForLambda(t.Context(), env(m), true); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("ForLambda without %s = %v, want an error naming it", missing, err)
		}
	}
}

func TestRates(t *testing.T) {
	c, err := Load(env(map[string]string{"HERALD_RATE_SMS": "20", "HERALD_RATE_WHATSAPP": "80.5"}))
	if err != nil || c.Rates["sms"] != 20 || c.Rates["whatsapp"] != 80.5 || len(c.Rates) != 2 {
		t.Errorf("Load rates = %v, %v", c.Rates, err)
	}
	for _, bad := range []string{"0", "-1", "fast"} {
		if _, err := Load(env(map[string]string{"HERALD_RATE_EMAIL": bad})); err == nil || !strings.Contains(err.Error(), "HERALD_RATE_EMAIL") {
			t.Errorf("HERALD_RATE_EMAIL=%q: err = %v, want one naming it", bad, err)
		}
	}
}

func TestCompose(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.Compose.Provider != "" || c.Compose.RatePerMinute != 20 || c.Compose.MaxTokens != 2048 {
		t.Errorf("Load(empty).Compose = %+v, %v; want off, 20 a minute, 2048 tokens", c.Compose, err)
	}
	c, err = Load(env(map[string]string{"HERALD_COMPOSE_PROVIDER": "Bedrock", "HERALD_BEDROCK_MODEL_ID": "eu.amazon.nova-lite-v1:0",
		"HERALD_BEDROCK_GUARDRAIL_ID": "gr1", "HERALD_BEDROCK_GUARDRAIL_VERSION": "3", "HERALD_COMPOSE_RATE_PER_MINUTE": "5"}))
	if err != nil || c.Compose.Provider != "bedrock" || c.Compose.BedrockModelID != "eu.amazon.nova-lite-v1:0" || c.Compose.BedrockGuardrailVersion != "3" || c.Compose.RatePerMinute != 5 {
		t.Errorf("Load(bedrock).Compose = %+v, %v", c.Compose, err)
	}
	tests := []struct {
		env  map[string]string
		want string // in the error
	}{
		{map[string]string{"HERALD_COMPOSE_PROVIDER": "gpt"}, "want bedrock, openai"},
		{map[string]string{"HERALD_COMPOSE_PROVIDER": "bedrock"}, "HERALD_BEDROCK_MODEL_ID"},
		{map[string]string{"HERALD_COMPOSE_PROVIDER": "bedrock", "HERALD_BEDROCK_MODEL_ID": "m", "HERALD_BEDROCK_GUARDRAIL_ID": "gr1"}, "HERALD_BEDROCK_GUARDRAIL_VERSION"},
		{map[string]string{"HERALD_COMPOSE_PROVIDER": "openai", "HERALD_OPENAI_MODEL": "llama3.2"}, "HERALD_OPENAI_BASE_URL"},
		{map[string]string{"HERALD_COMPOSE_PROVIDER": "openai", "HERALD_OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}, "HERALD_OPENAI_MODEL"},
		{map[string]string{"HERALD_COMPOSE_RATE_PER_MINUTE": "0"}, "HERALD_COMPOSE_RATE_PER_MINUTE"},
	}
	for _, tt := range tests {
		if _, err := Load(env(tt.env)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%v) = %v, want an error with %q", tt.env, err, tt.want)
		}
	}
}

func TestScheduler(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.Scheduler.Configured() || c.Scheduler.RetryAttempts != 5 || c.Scheduler.MaxEventAge != time.Hour || c.ScheduleGrace != time.Hour {
		t.Errorf("Load(empty) = scheduler %+v, grace %v, %v; want off, 5 retries, 1h, grace 1h", c.Scheduler, c.ScheduleGrace, err)
	}
	c, err = Load(env(map[string]string{"HERALD_SCHEDULER_TARGET_ARN": "arn:aws:lambda:eu-west-1:1:function:s", "HERALD_SCHEDULER_ROLE_ARN": "arn:aws:iam::1:role/r",
		"HERALD_SCHEDULER_GROUP": "herald", "HERALD_SCHEDULER_RETRIES": "0", "HERALD_SCHEDULER_MAX_EVENT_AGE": "15m", "HERALD_SCHEDULE_GRACE": "5m"}))
	if err != nil || !c.Scheduler.Configured() || c.Scheduler.Group != "herald" || c.Scheduler.RetryAttempts != 0 || c.Scheduler.MaxEventAge != 15*time.Minute || c.ScheduleGrace != 5*time.Minute {
		t.Errorf("Load(scheduler) = %+v, grace %v, %v", c.Scheduler, c.ScheduleGrace, err)
	}
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HERALD_SCHEDULER_TARGET_ARN": "arn:aws:lambda:eu-west-1:1:function:s"}, "HERALD_SCHEDULER_ROLE_ARN"},
		{map[string]string{"HERALD_SCHEDULER_RETRIES": "186"}, "HERALD_SCHEDULER_RETRIES"},
		{map[string]string{"HERALD_SCHEDULER_MAX_EVENT_AGE": "30s"}, "HERALD_SCHEDULER_MAX_EVENT_AGE"},
		{map[string]string{"HERALD_SCHEDULER_MAX_EVENT_AGE": "90500ms"}, "whole seconds"},
		{map[string]string{"HERALD_SCHEDULE_GRACE": "soon"}, "HERALD_SCHEDULE_GRACE"},
		{map[string]string{"HERALD_SCHEDULE_GRACE": "0s"}, "HERALD_SCHEDULE_GRACE"},
	}
	for _, tt := range tests {
		if _, err := Load(env(tt.env)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%v) = %v, want an error with %q", tt.env, err, tt.want)
		}
	}
}
