// Package callbacks builds, from a wiring.Graph, the routes that carry no
// API key: the providers' webhooks (each checks its provider's signature)
// and the one-click unsubscribe links. The callbacks function serves them
// on AWS, the local server beside the API. It is a package of its own so
// that the callbacks function links neither the API nor the services.
package callbacks

import (
	"net/http"

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
// there is a secret.
func New(g *wiring.Graph, push webhook.PushEndpoints) Routes {
	cfg, store, log, figures := g.Config, g.Ports.Store, g.Log, g.Ports.Figures
	// SNSOptions holds a certificate cache, so each endpoint's is filled
	// in place rather than copied.
	sns := func(o *webhook.SNSOptions, topics []string) {
		o.TopicARNs, o.Certs = topics, g.Ports.SNSCerts
	}
	c := Routes{HTTP: http.NewServeMux()}
	c.HTTP.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: cfg.WhatsApp.AppSecret, VerifyToken: cfg.WhatsApp.VerifyToken,
		ReplySecret: []byte(cfg.UnsubscribeSecret), Store: store, Log: log, Metrics: figures})
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
	if cfg.UnsubscribeSecret != "" {
		c.HTTP.Handle("/unsubscribe/", &unsubscribe.Handler{Secret: []byte(cfg.UnsubscribeSecret), Users: store, Log: log})
	}
	return c
}
