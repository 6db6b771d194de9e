// Package config reads Herald's settings from the environment, the same way
// for the local server and the Lambda functions, and builds the logger.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config is every setting Herald reads. The README lists them all.
type Config struct {
	// Local mode.
	Addr    string // HERALD_ADDR, default 127.0.0.1:8080
	DataDir string // HERALD_DATA_DIR, default ./.herald
	APIKey  string // HERALD_API_KEY: the admin key; generated when empty
	Workers int    // HERALD_WORKERS: dispatch workers, default 4
	Fsync   bool   // HERALD_FSYNC=1: fsync every commit (survives power loss, slower)

	// AWS mode.
	Table         string // HERALD_TABLE: the DynamoDB table
	DispatchQueue string // HERALD_DISPATCH_QUEUE_URL: the SQS dispatch queue
	DispatchDLQ   string // HERALD_DISPATCH_DLQ_ARN: its dead-letter queue, whose records dispatch settles
	AudienceQueue string // HERALD_AUDIENCE_QUEUE_URL: the SQS queue of audience walk steps
	Stage         string // HERALD_STAGE: the deployment stage, on every log line
	// MetricsNamespace (HERALD_METRICS_NAMESPACE) is the CloudWatch
	// namespace of the delivery figures the functions write (EMF); empty
	// is "Herald". The template makes it the stack's own.
	MetricsNamespace string
	SendConcurrent   int    // HERALD_SEND_CONCURRENCY: recipients sent at once per batch, default 32
	UploadsBucket    string // HERALD_UPLOADS_BUCKET: the S3 bucket of spreadsheet uploads
	// Scheduler is where campaigns' schedules live on AWS.
	Scheduler SchedulerConfig

	// Providers. A channel whose provider is not configured delivers to the
	// local outbox (local mode) or the sandbox (Lambda).
	WhatsApp WhatsAppConfig
	VAPID    VAPIDConfig
	// SNSEnabled (HERALD_SNS_ENABLED=1) sends SMS through SNS with the AWS
	// SDK's configuration; mobile push goes through SNS when a platform
	// application ARN is set.
	SNSEnabled    bool
	SNSFCMAppARN  string // HERALD_SNS_FCM_APPLICATION_ARN
	SNSAPNsAppARN string // HERALD_SNS_APNS_APPLICATION_ARN
	SMSSenderID   string // HERALD_SMS_SENDER_ID
	SESEnabled    bool   // HERALD_SES_ENABLED=1: email through SES v2
	SESFrom       string // HERALD_SES_FROM, e.g. "Acme <news@acme.example>"
	SESConfigSet  string // HERALD_SES_CONFIGURATION_SET
	// Rates (HERALD_RATE_PUSH, _WEBPUSH, _SMS, _EMAIL, _WHATSAPP) cap each
	// channel's sends per second in one process.
	Rates map[string]float64
	// SESEventTopics (HERALD_SES_EVENTS_TOPIC_ARNS, comma separated) are
	// the SNS topics whose SES events /webhooks/ses accepts, and the
	// callbacks function when SNS hands it their notifications itself;
	// without them the route is off (a valid SNS signature proves only
	// that some topic sent the message).
	SESEventTopics []string
	// SMSStatusTopics (HERALD_SMS_STATUS_TOPIC_ARNS) are the SNS topics
	// whose SMS delivery-status records /webhooks/sms (and the callbacks
	// function) accepts; without them the route is off. On AWS SNS's own
	// records arrive by a CloudWatch Logs subscription, which needs no
	// route; the template's SmsStatusTopic takes records forwarded to it.
	SMSStatusTopics []string
	// PushEventTopics (HERALD_PUSH_EVENTS_TOPIC_ARNS) are the SNS topics
	// whose push platform events /webhooks/push (and the callbacks
	// function) accepts; without them (or without SNS) the route is off.
	PushEventTopics []string
	// SNSTestCert (HERALD_SNS_TEST_CERT), local mode only, is a PEM file
	// whose certificate signs SNS messages in place of AWS's, so that
	// scripted callbacks can reach /webhooks/ses, /sms and /push. The
	// Lambda functions ignore it.
	SNSTestCert       string
	MarketingCategory map[string]bool // HERALD_MARKETING_CATEGORIES, comma separated: promotional SMS, unsubscribe headers
	// UnsubscribeSecret (HERALD_UNSUBSCRIBE_SECRET) signs the one-click
	// unsubscribe links of marketing email, served under PublicURL
	// (HERALD_PUBLIC_URL), and, under another label, WhatsApp quick-reply
	// payloads (dispatch signs, callbacks verify: both need it). Local
	// mode makes and keeps one when unset.
	UnsubscribeSecret string
	PublicURL         string
	// SecretsPath (HERALD_SECRETS_PATH) is where the Lambda functions read
	// their secrets from SSM Parameter Store (see LoadSecrets).
	SecretsPath string

	// TestAllowPrivateEndpoints (HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS=1),
	// local mode only and for tests only, lets Web Push subscriptions
	// point at loopback and private addresses, so that a fake push service
	// on 127.0.0.1 can stand in for a browser's. Off, Herald refuses to
	// register or push to an endpoint off the public internet (package
	// egress). The Lambda functions ignore it.
	TestAllowPrivateEndpoints bool

	// Both.
	LogLevel       slog.Level    // HERALD_LOG_LEVEL: debug, info, warn, error
	DefaultRegion  string        // HERALD_DEFAULT_REGION: region for phones without +, e.g. ES
	MaxBodyBytes   int64         // HERALD_MAX_BODY_BYTES, default 5 MiB
	VisibilityTime time.Duration // HERALD_VISIBILITY_TIMEOUT (local queue), default 30s
	// Spreadsheet limits: HERALD_UPLOAD_MAX_BYTES (default 50 MB),
	// HERALD_UPLOAD_MAX_ROWS (1,000,000), HERALD_UPLOAD_MAX_COLUMNS (256).
	UploadMaxBytes   int64
	UploadMaxRows    int
	UploadMaxColumns int
	MaxReceives      int // HERALD_MAX_RECEIVES (local queue) before dead letter, default 5

	// Compose is AI composition's model.
	Compose ComposeConfig
	// ScheduleGrace (HERALD_SCHEDULE_GRACE, local mode, default 1h) is how
	// late the local scheduler still runs a campaign's time it could not
	// run when due (Herald was stopped); older times are recorded missed.
	ScheduleGrace time.Duration

	// Console is the operators' console.
	Console ConsoleConfig
}

// ConsoleConfig tunes the operators' console (HERALD_CONSOLE_*, HERALD_ADMIN_*).
type ConsoleConfig struct {
	// Grace (HERALD_CONSOLE_UNDO, default 10s, 0 to 5m) is how long a send
	// from the console waits, with Undo, before it is queued; 0 sends at once.
	Grace time.Duration
	// Destinations (HERALD_CONSOLE_DESTINATIONS) are the in-app routes the
	// send form offers, "route=Label" comma separated; Home ("home") when
	// empty.
	Destinations []Destination
	// Prices (HERALD_PRICE_PUSH, _WEBPUSH, _SMS per segment, _EMAIL,
	// _WHATSAPP) are the provider's price per message in US dollars: the
	// confirmation estimates a send's cost with them.
	Prices map[string]float64
	// SessionTTL (HERALD_CONSOLE_SESSION_TTL, default 12h, 5s to 30 days)
	// is how long a sign-in lasts.
	SessionTTL time.Duration
	// AdminEmail and AdminPassword (HERALD_ADMIN_EMAIL,
	// HERALD_ADMIN_PASSWORD), local mode, create or reset that admin at
	// start, for automation; without them the first start prints a
	// one-time link that creates the first admin.
	AdminEmail, AdminPassword string
}

// Destination is one in-app route of the send form.
type Destination struct{ Route, Label string }

// SchedulerConfig is EventBridge Scheduler's side of campaigns
// (HERALD_SCHEDULER_*); the stack's template sets every value.
type SchedulerConfig struct {
	Group         string // HERALD_SCHEDULER_GROUP: the stack's schedule group
	TargetARN     string // HERALD_SCHEDULER_TARGET_ARN: the scheduler function
	RoleARN       string // HERALD_SCHEDULER_ROLE_ARN: the role EventBridge Scheduler assumes
	DeadLetterARN string // HERALD_SCHEDULER_DLQ_ARN: invocations that failed every retry
	// RetryAttempts (HERALD_SCHEDULER_RETRIES, default 5, 0 to 185) and
	// MaxEventAge (HERALD_SCHEDULER_MAX_EVENT_AGE, default 1h, 1m to 24h)
	// bound EventBridge Scheduler's retries of a failed run.
	RetryAttempts int
	MaxEventAge   time.Duration
	// RepairQueue (HERALD_CAMPAIGN_REPAIR_QUEUE_URL) takes the campaigns
	// whose schedule change failed, for the scheduler function to retry.
	RepairQueue string
}

// Configured reports whether campaigns can be scheduled on AWS.
func (s SchedulerConfig) Configured() bool { return s.TargetARN != "" && s.RoleARN != "" }

// ComposeConfig chooses the model that writes AI text (HERALD_COMPOSE_*).
type ComposeConfig struct {
	// Provider (HERALD_COMPOSE_PROVIDER) is bedrock, openai or empty (AI
	// composition off: POST /v1/compose answers 503 not_configured).
	Provider string
	// Bedrock: HERALD_BEDROCK_MODEL_ID (a model or inference profile id),
	// HERALD_BEDROCK_REGION (default: the SDK's region), and an optional
	// guardrail, HERALD_BEDROCK_GUARDRAIL_ID with HERALD_BEDROCK_GUARDRAIL_VERSION.
	BedrockModelID          string
	BedrockRegion           string
	BedrockGuardrailID      string
	BedrockGuardrailVersion string
	// OpenAI-compatible: HERALD_OPENAI_BASE_URL (such as
	// http://127.0.0.1:11434/v1 for Ollama), HERALD_OPENAI_MODEL and an
	// optional HERALD_OPENAI_API_KEY.
	OpenAIBaseURL string
	OpenAIModel   string
	OpenAIAPIKey  string
	// RatePerMinute (HERALD_COMPOSE_RATE_PER_MINUTE, default 20) bounds
	// each workspace's requests.
	RatePerMinute int
	// MaxTokens (HERALD_COMPOSE_MAX_TOKENS, default 2048) bounds an answer.
	MaxTokens int
}

// WhatsAppConfig is the WhatsApp Cloud API account (HERALD_WHATSAPP_*).
type WhatsAppConfig struct {
	AccessToken   string // HERALD_WHATSAPP_ACCESS_TOKEN
	PhoneNumberID string // HERALD_WHATSAPP_PHONE_NUMBER_ID
	AppSecret     string // HERALD_WHATSAPP_APP_SECRET: checks webhook signatures
	VerifyToken   string // HERALD_WHATSAPP_VERIFY_TOKEN: the webhook handshake
	BaseURL       string // HERALD_WHATSAPP_BASE_URL: Meta's Graph API by default
}

// Configured reports whether messages can be sent.
func (w WhatsAppConfig) Configured() bool { return w.AccessToken != "" && w.PhoneNumberID != "" }

// VAPIDConfig is the Web Push application server identity (HERALD_VAPID_*).
type VAPIDConfig struct {
	PublicKey  string // HERALD_VAPID_PUBLIC_KEY
	PrivateKey string // HERALD_VAPID_PRIVATE_KEY
	Subject    string // HERALD_VAPID_SUBJECT: mailto: or https: contact
}

// Configured reports whether pushes can be signed.
func (v VAPIDConfig) Configured() bool { return v.PublicKey != "" && v.PrivateKey != "" }

// Load reads the configuration from getenv (os.Getenv in mains).
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Addr:             or(getenv("HERALD_ADDR"), "127.0.0.1:8080"),
		DataDir:          or(getenv("HERALD_DATA_DIR"), ".herald"),
		APIKey:           strings.TrimSpace(getenv("HERALD_API_KEY")),
		Table:            getenv("HERALD_TABLE"),
		DispatchQueue:    getenv("HERALD_DISPATCH_QUEUE_URL"),
		DispatchDLQ:      getenv("HERALD_DISPATCH_DLQ_ARN"),
		AudienceQueue:    getenv("HERALD_AUDIENCE_QUEUE_URL"),
		UploadsBucket:    getenv("HERALD_UPLOADS_BUCKET"),
		Stage:            getenv("HERALD_STAGE"),
		MetricsNamespace: getenv("HERALD_METRICS_NAMESPACE"),
		DefaultRegion:    strings.ToUpper(getenv("HERALD_DEFAULT_REGION")),
		Fsync:            flag(getenv("HERALD_FSYNC")),
		VisibilityTime:   30 * time.Second,
		WhatsApp: WhatsAppConfig{
			AccessToken: getenv("HERALD_WHATSAPP_ACCESS_TOKEN"), PhoneNumberID: getenv("HERALD_WHATSAPP_PHONE_NUMBER_ID"),
			AppSecret: getenv("HERALD_WHATSAPP_APP_SECRET"), VerifyToken: getenv("HERALD_WHATSAPP_VERIFY_TOKEN"),
			BaseURL: getenv("HERALD_WHATSAPP_BASE_URL"),
		},
		VAPID: VAPIDConfig{PublicKey: getenv("HERALD_VAPID_PUBLIC_KEY"), PrivateKey: getenv("HERALD_VAPID_PRIVATE_KEY"),
			Subject: or(getenv("HERALD_VAPID_SUBJECT"), "mailto:admin@localhost")},
		SNSEnabled:        flag(getenv("HERALD_SNS_ENABLED")),
		SNSFCMAppARN:      getenv("HERALD_SNS_FCM_APPLICATION_ARN"),
		SNSAPNsAppARN:     getenv("HERALD_SNS_APNS_APPLICATION_ARN"),
		SMSSenderID:       getenv("HERALD_SMS_SENDER_ID"),
		SESEnabled:        flag(getenv("HERALD_SES_ENABLED")),
		SESFrom:           getenv("HERALD_SES_FROM"),
		SESConfigSet:      getenv("HERALD_SES_CONFIGURATION_SET"),
		SESEventTopics:    list(getenv("HERALD_SES_EVENTS_TOPIC_ARNS")),
		SMSStatusTopics:   list(getenv("HERALD_SMS_STATUS_TOPIC_ARNS")),
		PushEventTopics:   list(getenv("HERALD_PUSH_EVENTS_TOPIC_ARNS")),
		SNSTestCert:       getenv("HERALD_SNS_TEST_CERT"),
		MarketingCategory: set(getenv("HERALD_MARKETING_CATEGORIES")),
		UnsubscribeSecret: getenv("HERALD_UNSUBSCRIBE_SECRET"),
		PublicURL:         strings.TrimRight(getenv("HERALD_PUBLIC_URL"), "/"),
		SecretsPath:       getenv("HERALD_SECRETS_PATH"),
	}
	c.TestAllowPrivateEndpoints = flag(getenv("HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS"))
	c.Rates = map[string]float64{}
	for _, ch := range []string{"push", "webpush", "sms", "email", "whatsapp"} {
		name := "HERALD_RATE_" + strings.ToUpper(ch)
		if v := getenv(name); v != "" {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r <= 0 || r > 1e6 {
				return c, fmt.Errorf("%s=%q: want sends per second, such as 20", name, v)
			}
			c.Rates[ch] = r
		}
	}
	if c.SESEnabled && c.SESFrom == "" {
		return c, fmt.Errorf("HERALD_SES_ENABLED is set but HERALD_SES_FROM is empty: give the sender, such as \"Acme <news@acme.example>\"")
	}
	if (c.VAPID.PublicKey == "") != (c.VAPID.PrivateKey == "") {
		return c, fmt.Errorf("set both HERALD_VAPID_PUBLIC_KEY and HERALD_VAPID_PRIVATE_KEY, or neither")
	}
	if (c.WhatsApp.AccessToken == "") != (c.WhatsApp.PhoneNumberID == "") {
		return c, fmt.Errorf("set both HERALD_WHATSAPP_ACCESS_TOKEN and HERALD_WHATSAPP_PHONE_NUMBER_ID, or neither")
	}
	var err error
	if c.Workers, err = intVar(getenv, "HERALD_WORKERS", 4, 1, 256); err != nil {
		return c, err
	}
	if c.SendConcurrent, err = intVar(getenv, "HERALD_SEND_CONCURRENCY", 32, 1, 1024); err != nil {
		return c, err
	}
	if c.MaxReceives, err = intVar(getenv, "HERALD_MAX_RECEIVES", 5, 1, 1000); err != nil {
		return c, err
	}
	mb, err := intVar(getenv, "HERALD_MAX_BODY_BYTES", 5<<20, 1024, 6<<20)
	if err != nil {
		return c, err
	}
	c.MaxBodyBytes = int64(mb)
	ub, err := intVar(getenv, "HERALD_UPLOAD_MAX_BYTES", 50_000_000, 1024, 1<<30)
	if err != nil {
		return c, err
	}
	c.UploadMaxBytes = int64(ub)
	if c.UploadMaxRows, err = intVar(getenv, "HERALD_UPLOAD_MAX_ROWS", 1_000_000, 1, 10_000_000); err != nil {
		return c, err
	}
	if c.UploadMaxColumns, err = intVar(getenv, "HERALD_UPLOAD_MAX_COLUMNS", 256, 2, 16384); err != nil {
		return c, err
	}
	if v := getenv("HERALD_VISIBILITY_TIMEOUT"); v != "" {
		if c.VisibilityTime, err = time.ParseDuration(v); err != nil || c.VisibilityTime < time.Second {
			return c, fmt.Errorf("HERALD_VISIBILITY_TIMEOUT=%q: want a duration of at least 1s, such as 30s", v)
		}
	}
	switch strings.ToLower(getenv("HERALD_LOG_LEVEL")) {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, fmt.Errorf("HERALD_LOG_LEVEL=%q: want debug, info, warn or error", getenv("HERALD_LOG_LEVEL"))
	}
	if c.Compose, err = loadCompose(getenv); err != nil {
		return c, err
	}
	if c.Scheduler, err = loadScheduler(getenv); err != nil {
		return c, err
	}
	if c.ScheduleGrace, err = durationVar(getenv, "HERALD_SCHEDULE_GRACE", time.Hour, time.Second, 7*24*time.Hour); err != nil {
		return c, err
	}
	if c.Console, err = loadConsole(getenv); err != nil {
		return c, err
	}
	if c.DefaultRegion != "" && len(c.DefaultRegion) != 2 {
		return c, fmt.Errorf("HERALD_DEFAULT_REGION=%q: want a two-letter region such as ES", c.DefaultRegion)
	}
	return c, nil
}

// Logger returns the JSON logger every Herald process uses.
func (c Config) Logger(w io.Writer) *slog.Logger {
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: c.LogLevel}))
	if c.Stage != "" {
		log = log.With("stage", c.Stage)
	}
	return log
}

// RequireAWS checks the settings the Lambda functions need.
func (c Config) RequireAWS(needQueue bool) error {
	if c.Table == "" {
		return fmt.Errorf("HERALD_TABLE is not set")
	}
	if needQueue && c.DispatchQueue == "" {
		return fmt.Errorf("HERALD_DISPATCH_QUEUE_URL is not set")
	}
	return nil
}

func flag(v string) bool { return v == "1" || strings.EqualFold(v, "true") }

func list(csv string) []string {
	var out []string
	for _, v := range strings.Split(csv, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func set(csv string) map[string]bool {
	m := map[string]bool{}
	for _, v := range strings.Split(csv, ",") {
		if v = strings.TrimSpace(v); v != "" {
			m[v] = true
		}
	}
	return m
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func intVar(getenv func(string) string, name string, def, lo, hi int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q: want an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

func loadCompose(getenv func(string) string) (ComposeConfig, error) {
	c := ComposeConfig{
		Provider:                strings.ToLower(strings.TrimSpace(getenv("HERALD_COMPOSE_PROVIDER"))),
		BedrockModelID:          strings.TrimSpace(getenv("HERALD_BEDROCK_MODEL_ID")),
		BedrockRegion:           strings.TrimSpace(getenv("HERALD_BEDROCK_REGION")),
		BedrockGuardrailID:      strings.TrimSpace(getenv("HERALD_BEDROCK_GUARDRAIL_ID")),
		BedrockGuardrailVersion: strings.TrimSpace(getenv("HERALD_BEDROCK_GUARDRAIL_VERSION")),
		OpenAIBaseURL:           strings.TrimSpace(getenv("HERALD_OPENAI_BASE_URL")),
		OpenAIModel:             strings.TrimSpace(getenv("HERALD_OPENAI_MODEL")),
		OpenAIAPIKey:            strings.TrimSpace(getenv("HERALD_OPENAI_API_KEY")),
	}
	var err error
	if c.RatePerMinute, err = intVar(getenv, "HERALD_COMPOSE_RATE_PER_MINUTE", 20, 1, 100_000); err != nil {
		return c, err
	}
	if c.MaxTokens, err = intVar(getenv, "HERALD_COMPOSE_MAX_TOKENS", 2048, 256, 32_000); err != nil {
		return c, err
	}
	switch c.Provider {
	case "":
	case "bedrock":
		if c.BedrockModelID == "" {
			return c, fmt.Errorf("HERALD_COMPOSE_PROVIDER=bedrock needs HERALD_BEDROCK_MODEL_ID: a Bedrock model or inference profile id, such as eu.amazon.nova-lite-v1:0")
		}
		if (c.BedrockGuardrailID == "") != (c.BedrockGuardrailVersion == "") {
			return c, fmt.Errorf("set both HERALD_BEDROCK_GUARDRAIL_ID and HERALD_BEDROCK_GUARDRAIL_VERSION (a version number, or DRAFT), or neither")
		}
	case "openai":
		if c.OpenAIBaseURL == "" || c.OpenAIModel == "" {
			return c, fmt.Errorf("HERALD_COMPOSE_PROVIDER=openai needs HERALD_OPENAI_BASE_URL (such as http://127.0.0.1:11434/v1 for Ollama) and HERALD_OPENAI_MODEL (such as llama3.2)")
		}
	default:
		return c, fmt.Errorf("HERALD_COMPOSE_PROVIDER=%q: want bedrock, openai, or empty for none", c.Provider)
	}
	return c, nil
}

func loadScheduler(getenv func(string) string) (SchedulerConfig, error) {
	s := SchedulerConfig{
		Group: getenv("HERALD_SCHEDULER_GROUP"), TargetARN: getenv("HERALD_SCHEDULER_TARGET_ARN"),
		RoleARN: getenv("HERALD_SCHEDULER_ROLE_ARN"), DeadLetterARN: getenv("HERALD_SCHEDULER_DLQ_ARN"),
		RepairQueue: getenv("HERALD_CAMPAIGN_REPAIR_QUEUE_URL"),
	}
	if (s.TargetARN == "") != (s.RoleARN == "") {
		return s, fmt.Errorf("set both HERALD_SCHEDULER_TARGET_ARN and HERALD_SCHEDULER_ROLE_ARN, or neither")
	}
	var err error
	if s.RetryAttempts, err = intVar(getenv, "HERALD_SCHEDULER_RETRIES", 5, 0, 185); err != nil {
		return s, err
	}
	if s.MaxEventAge, err = durationVar(getenv, "HERALD_SCHEDULER_MAX_EVENT_AGE", time.Hour, time.Minute, 24*time.Hour); err != nil {
		return s, err
	}
	if s.MaxEventAge%time.Second != 0 {
		return s, fmt.Errorf("HERALD_SCHEDULER_MAX_EVENT_AGE=%q: want whole seconds", getenv("HERALD_SCHEDULER_MAX_EVENT_AGE"))
	}
	return s, nil
}

// durationVar reads a duration such as 90s or 2h between lo and hi.
func durationVar(getenv func(string) string, name string, def, lo, hi time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return def, fmt.Errorf("%s=%q: want a duration from %v to %v, such as 1h or 30m", name, v, lo, hi)
	}
	return d, nil
}

func loadConsole(getenv func(string) string) (ConsoleConfig, error) {
	c := ConsoleConfig{Prices: map[string]float64{}, AdminEmail: strings.TrimSpace(getenv("HERALD_ADMIN_EMAIL")), AdminPassword: getenv("HERALD_ADMIN_PASSWORD")}
	var err error
	if c.Grace, err = durationVar(getenv, "HERALD_CONSOLE_UNDO", 10*time.Second, 0, 5*time.Minute); err != nil {
		return c, err
	}
	if c.SessionTTL, err = durationVar(getenv, "HERALD_CONSOLE_SESSION_TTL", 12*time.Hour, 5*time.Second, 30*24*time.Hour); err != nil {
		return c, err
	}
	for _, ch := range []string{"push", "webpush", "sms", "email", "whatsapp"} {
		name := "HERALD_PRICE_" + strings.ToUpper(ch)
		if v := strings.TrimSpace(getenv(name)); v != "" {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil || p < 0 || p > 100 {
				return c, fmt.Errorf("%s must be a price in US dollars between 0 and 100, such as 0.0075", name)
			}
			c.Prices[ch] = p
		}
	}
	if v := strings.TrimSpace(getenv("HERALD_CONSOLE_DESTINATIONS")); v != "" {
		for _, part := range strings.Split(v, ",") {
			route, label, _ := strings.Cut(strings.TrimSpace(part), "=")
			route, label = strings.TrimSpace(route), strings.TrimSpace(label)
			if route == "" || len(route) > 512 || len(label) > 100 {
				return c, fmt.Errorf("HERALD_CONSOLE_DESTINATIONS must be route=Label pairs separated by commas, such as home=Home,offers=Offers")
			}
			if label == "" {
				label = route
			}
			c.Destinations = append(c.Destinations, Destination{Route: route, Label: label})
		}
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return c, fmt.Errorf("set both HERALD_ADMIN_EMAIL and HERALD_ADMIN_PASSWORD, or neither")
	}
	return c, nil
}
