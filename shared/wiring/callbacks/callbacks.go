// Package callbacks builds, from a wiring.Graph, the routes that carry no
// API key: the providers' webhooks (each checks its provider's signature)
// and the one-click unsubscribe links. The callbacks function serves them
// on AWS, the local server beside the API. It is a package of its own so
// that the callbacks function links neither the API nor the services.
package callbacks

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/unsubscribe"
	"github.com/heraldhq/herald/shared/webhook"
	"github.com/heraldhq/herald/shared/wiring"
)

// Routes are the routes that carry no API key: the providers' webhooks
// and the unsubscribe links.
type Routes struct {
	// HTTP routes /webhooks/… and /unsubscribe/.
	HTTP *http.ServeMux
	// SMS is the SMS status endpoint, which also reads the CloudWatch Logs
	// subscription records of SNS's SMS delivery status.
	SMS *webhook.SMS
	// SNS are the endpoints that take SNS notifications, each for the
	// topics it is configured with.
	SNS []webhook.SNSReceiver
}

// New builds the callback routes the configuration turns on: the
// WhatsApp webhook always, the SNS endpoints of the topics configured (push
// only with push, SNS's platform endpoints), and the unsubscribe links when
// there is a secret. With Ports.Secrets, the routes that need a secret
// (WhatsApp's, the unsubscribe links) read it on their first request.
func New(g *wiring.Graph, push webhook.PushEndpoints) Routes {
	cfg, store, log, figures := g.Config, g.Ports.Store, g.Log, g.Ports.Figures
	// SNSOptions holds a certificate cache, so each endpoint's is filled
	// in place rather than copied.
	sns := func(o *webhook.SNSOptions, topics []string) {
		o.TopicARNs, o.Certs = topics, g.Ports.SNSCerts
	}
	c := Routes{HTTP: http.NewServeMux()}
	c.HTTP.Handle("/webhooks/whatsapp", secretRoute(g, func(cfg config.Config) http.Handler {
		return &webhook.WhatsApp{AppSecret: cfg.WhatsApp.AppSecret, VerifyToken: cfg.WhatsApp.VerifyToken,
			ReplySecret: []byte(cfg.UnsubscribeSecret), Store: store, Log: log, Metrics: figures}
	}))
	c.SMS = &webhook.SMS{Store: store, Log: log, Metrics: figures}
	sns(&c.SMS.SNSOptions, cfg.SMSStatusTopics)
	if len(cfg.SMSStatusTopics) > 0 {
		c.HTTP.Handle("/webhooks/sms", c.SMS)
		c.SNS = append(c.SNS, c.SMS)
	}
	if len(cfg.SESEventTopics) > 0 {
		ses := &webhook.SES{Store: store, Log: log, Metrics: figures}
		sns(&ses.SNSOptions, cfg.SESEventTopics)
		c.HTTP.Handle("/webhooks/ses", ses)
		c.SNS = append(c.SNS, ses)
	}
	if len(cfg.PushEventTopics) > 0 && push != nil {
		p := &webhook.Push{Store: store, Endpoints: push, Log: log, Metrics: figures}
		sns(&p.SNSOptions, cfg.PushEventTopics)
		c.HTTP.Handle("/webhooks/push", p)
		c.SNS = append(c.SNS, p)
	}
	if cfg.UnsubscribeSecret != "" || g.Ports.Secrets != nil {
		c.HTTP.Handle("/unsubscribe/", secretRoute(g, func(cfg config.Config) http.Handler {
			if cfg.UnsubscribeSecret == "" {
				return http.NotFoundHandler() // no secret, no links: as if there were no route
			}
			return &unsubscribe.Handler{Secret: []byte(cfg.UnsubscribeSecret), Users: store, Log: log}
		}))
	}
	return c
}

// secretRoute serves with the handler build makes of the configuration's
// secrets: made at once when the graph holds them, or on the route's first
// request when they are read on first need (Ports.Secrets: the callbacks
// function reads SSM Parameter Store then, so that a cold start, and the
// delivery reports that need no secret, do not wait for it). A failed
// read answers 500, which providers retry, and is tried again by the next
// request.
func secretRoute(g *wiring.Graph, build func(config.Config) http.Handler) http.Handler {
	if g.Ports.Secrets == nil {
		return build(g.Config)
	}
	secrets := wiring.Secrets(g)
	handler := wiring.Lazy(func(ctx context.Context) (http.Handler, error) {
		cfg, err := secrets(ctx)
		if err != nil {
			return nil, err
		}
		return build(cfg), nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, err := handler(r.Context())
		if err != nil {
			g.Log.Error("callbacks: read the secrets", "path", r.URL.Path, "err", err.Error())
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	})
}
