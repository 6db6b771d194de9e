package console

import (
	"net/http"

	"github.com/heraldhq/herald/shared/notify"
)

// ChannelSetup is how one channel delivers, as Settings shows it. The
// wiring fills it from the configuration and from what the process
// actually uses; it never holds a secret.
type ChannelSetup struct {
	Channel notify.Channel
	// Provider names what delivers the channel: a provider (SES, SNS,
	// WhatsApp Cloud API, Web Push) or the fallback (the local outbox, the
	// sandbox).
	Provider string
	// Configured is false when the channel falls back: its messages are
	// written to the local outbox (or the sandbox) and reach nobody.
	Configured bool
	// Identity is who the messages come from (SES's from address, the SMS
	// sender id, WhatsApp's phone number id, the VAPID subject, whether
	// the FCM and APNs applications are set).
	Identity []Setting
	// Env are the variables that configure the channel, each with what to
	// set it to.
	Env []Setting
	// Note says what else to know, such as where the secrets live on AWS.
	Note string
}

// Setting is a named value shown in Settings.
type Setting struct{ Name, Value string }

type channelsPage struct{ Channels []ChannelSetup }

func (channelsPage) PageTitle() string { return "Channels" }

// Fallbacks are the channels that reach nobody yet.
func (p channelsPage) Fallbacks() []ChannelSetup {
	var out []ChannelSetup
	for _, ch := range p.Channels {
		if !ch.Configured {
			out = append(out, ch)
		}
	}
	return out
}

func (c *Console) channelSettings(w http.ResponseWriter, r *http.Request, s *session) error {
	c.render(w, r, s, http.StatusOK, "settings_channels", channelsPage{Channels: c.opts.Channels})
	return nil
}
