package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/console"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
	"github.com/heraldhq/herald/shared/wiring"
	"github.com/heraldhq/herald/shared/wiring/services"
)

// Operators is the service of the console's people.
func Operators(s *Set) *operator.Service {
	g := s.Graph
	return wiring.Shared(g, "operators", func() *operator.Service {
		return &operator.Service{Store: g.Ports.Store, IDs: g.IDs, Now: g.Now, Log: g.Log, SessionTTL: g.Config.Console.SessionTTL}
	})
}

// Console is the operators' console over the same services as the API.
// secure marks its cookies Secure on every request (behind API Gateway,
// which speaks only https).
func Console(s *Set, secure bool) *console.Console {
	g := s.Graph
	cfg := g.Config
	cc := cfg.Console
	svc := console.Services{Store: g.Ports.Store, Operators: Operators(s), Users: Users(s), Sends: services.Sends(g), Compose: Composer(s),
		Reports: ingest.Reporter{Store: g.Ports.Store, Blobs: g.Ports.Blobs, Config: IngestConfig(s)}, Templates: Templates(s), Keys: Keys(s)}
	var uploadOrigin string
	if s.Uploads != nil {
		// New send makes the API's uploads; the result sheets of
		// spreadsheet sends read their files (on AWS the api function has
		// the bucket only here, not among the graph's ports).
		u := *s.Uploads
		u.Ingest = IngestConfig(s)
		svc.Uploads = u.Service(g.Ports.Store, g.IDs, g.Now)
		if svc.Reports.Blobs == nil {
			svc.Reports.Blobs = u.Blobs
		}
		uploadOrigin = originOf(g, &u)
	}
	if g.Ports.Scheduler != nil {
		svc.Campaigns = services.Campaigns(g)
	}
	opts := console.Options{Now: g.Now, Log: g.Log, Grace: cc.Grace, SecureCookies: secure,
		ComposeHelp: compose.NotConfigured,
		Prices:      map[notify.Channel]float64{}, UploadOrigin: uploadOrigin,
		Channels: channelSetups(g.Config, s.Used), ComposeRate: g.Config.Compose.RatePerMinute,
		// The recipients' preference page checks the links the API and
		// the email footers sign with it.
		LinkSecret: []byte(cfg.UnsubscribeSecret), ReadLinkSecret: wiring.ReadLinkSecret(g)}
	opts.DemoURL = s.DemoURL
	if cc.Grace == 0 {
		opts.Grace = -1
	}
	for ch, p := range cc.Prices {
		opts.Prices[notify.Channel(ch)] = p
	}
	for _, d := range cc.Destinations {
		opts.Destinations = append(opts.Destinations, console.Destination{Route: d.Route, Label: d.Label})
	}
	return console.New(svc, opts)
}

// originOf is the origin of u's upload URLs, which New send's script PUTs
// files to: the bucket's on AWS, learnt from a URL presigned for nothing
// (presigning is local: no request is made), or the local server's public
// URL. Empty when it cannot be told, and the console's own origin then.
func originOf(g *wiring.Graph, u *httpapi.Uploads) string {
	raw := u.PublicURL
	if u.PresignPut != nil {
		var err error
		if raw, err = u.PresignPut(context.Background(), "uploads/origin/probe", time.Minute); err != nil {
			g.Log.Warn("console: the uploads' origin is unknown; the browser cannot PUT spreadsheets there", "err", err.Error())
			return ""
		}
	}
	p, err := url.Parse(raw)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// Root serves the API under /v1, the browser SDK's routes under /sdk/ and
// the console everywhere else. The path / is both: the console for a
// browser (which asks for text/html), the API's index for everyone else.
func Root(api, sdk, consoleHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1", api)
	mux.Handle("/v1/", api)
	mux.Handle("/sdk", sdk)
	mux.Handle("/sdk/", sdk)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && !strings.Contains(r.Header.Get("Accept"), "text/html") {
			api.ServeHTTP(w, r)
			return
		}
		consoleHandler.ServeHTTP(w, r)
	}))
	return mux
}

// channelSetups say, for Settings, what delivers each channel, from which
// sender, and which variables configure it: from used (what local mode's
// provider.Senders chose) or, without it, from cfg as the dispatch
// function would judge it. Secrets are named, never shown.
func channelSetups(cfg config.Config, used map[string]string) []console.ChannelSetup {
	judged := map[string]string{"push": "sandbox", "webpush": "sandbox", "sms": "sandbox", "email": "sandbox", "whatsapp": "sandbox"}
	fallback := "sandbox"
	if used == nil {
		if cfg.SNSFCMAppARN != "" || cfg.SNSAPNsAppARN != "" {
			judged["push"] = "SNS mobile push"
		}
		if cfg.VAPID.Configured() {
			judged["webpush"] = "Web Push (VAPID)"
		}
		if cfg.SNSEnabled {
			judged["sms"] = "SNS"
		}
		if cfg.SESEnabled {
			judged["email"] = "SES"
		}
		if cfg.WhatsApp.Configured() {
			judged["whatsapp"] = "WhatsApp Cloud API"
		}
		used = judged
	} else {
		fallback = "local outbox"
	}
	set := func(v string) string {
		if v == "" {
			return "not set"
		}
		return "set"
	}
	orNone := func(v string) string {
		if v == "" {
			return "none"
		}
		return v
	}
	// ssm is where the Lambda functions read a secret from instead.
	ssm := func(name string) string {
		if fallback != "sandbox" {
			return ""
		}
		return " (or the SecureString parameter " + name + " under HERALD_SECRETS_PATH)"
	}
	setup := func(ch notify.Channel, key string, identity, env []console.Setting) console.ChannelSetup {
		p := used[key]
		return console.ChannelSetup{Channel: ch, Provider: p, Configured: p != "" && p != fallback, Identity: identity, Env: env}
	}
	out := []console.ChannelSetup{
		setup(notify.ChannelEmail, "email", []console.Setting{{Name: "From", Value: orNone(cfg.SESFrom)}, {Name: "Configuration set", Value: orNone(cfg.SESConfigSet)}},
			[]console.Setting{
				{Name: "HERALD_SES_ENABLED", Value: "1 to send email through Amazon SES v2 (with the AWS SDK's credentials and region)"},
				{Name: "HERALD_SES_FROM", Value: "the verified sender, such as \"Acme <news@acme.example>\""},
				{Name: "HERALD_SES_CONFIGURATION_SET", Value: "optional: the configuration set whose events report deliveries, bounces and complaints"},
			}),
		setup(notify.ChannelSMS, "sms", []console.Setting{{Name: "Sender id", Value: orNone(cfg.SMSSenderID)}},
			[]console.Setting{
				{Name: "HERALD_SNS_ENABLED", Value: "1 to send SMS through Amazon SNS (with the AWS SDK's credentials and region)"},
				{Name: "HERALD_SMS_SENDER_ID", Value: "optional: the alphanumeric sender id, where countries allow one"},
			}),
		setup(notify.ChannelPush, "push", []console.Setting{{Name: "FCM application", Value: set(cfg.SNSFCMAppARN)}, {Name: "APNs application", Value: set(cfg.SNSAPNsAppARN)}},
			[]console.Setting{
				{Name: "HERALD_SNS_FCM_APPLICATION_ARN", Value: "the ARN of the SNS platform application for Android (FCM)"},
				{Name: "HERALD_SNS_APNS_APPLICATION_ARN", Value: "the ARN of the SNS platform application for iOS (APNs)"},
			}),
		setup(notify.ChannelWebPush, "webpush", []console.Setting{{Name: "Subject", Value: orNone(cfg.VAPID.Subject)}, {Name: "Public key", Value: set(cfg.VAPID.PublicKey)}},
			[]console.Setting{
				{Name: "HERALD_VAPID_PUBLIC_KEY", Value: "the VAPID public key (base64url) the SDK subscribes with"},
				{Name: "HERALD_VAPID_PRIVATE_KEY", Value: "its private key, a secret" + ssm("vapid-private-key")},
				{Name: "HERALD_VAPID_SUBJECT", Value: "a mailto: or https: contact for the push services"},
			}),
		setup(notify.ChannelWhatsApp, "whatsapp", []console.Setting{{Name: "Phone number id", Value: orNone(cfg.WhatsApp.PhoneNumberID)}},
			[]console.Setting{
				{Name: "HERALD_WHATSAPP_ACCESS_TOKEN", Value: "the WhatsApp Cloud API access token, a secret" + ssm("whatsapp-access-token")},
				{Name: "HERALD_WHATSAPP_PHONE_NUMBER_ID", Value: "the phone number id messages are sent from" + ssm("whatsapp-phone-number-id")},
				{Name: "HERALD_WHATSAPP_APP_SECRET", Value: "the app secret that checks the webhook's signatures" + ssm("whatsapp-app-secret")},
				{Name: "HERALD_WHATSAPP_VERIFY_TOKEN", Value: "the webhook's verify token" + ssm("whatsapp-verify-token")},
			}),
		// The in-app channel needs no provider: Herald keeps the inbox
		// (wiring.Channels), the same on AWS as locally.
		{Channel: notify.ChannelInApp, Provider: "Herald's inbox", Configured: true,
			Identity: []console.Setting{{Name: "Kept", Value: "90 days"}},
			Note:     "Each user's messages are kept in their inbox, which the customer's app reads with the browser SDK or GET /v1/users/{id}/inbox."},
	}
	if fallback == "sandbox" {
		for i := range out {
			if ch := out[i].Channel; !out[i].Configured && (ch == notify.ChannelWhatsApp || ch == notify.ChannelWebPush) {
				out[i].Note = "The API function serving this page does not read SSM Parameter Store: if the secrets are there, the dispatch function delivers this channel."
			}
		}
	}
	return out
}
