package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/seal"
)

// WhatsAppWindow is how long after the user's last message free-form
// WhatsApp text is allowed.
const WhatsAppWindow = 24 * time.Hour

// deliver decides what to do with one recipient and does it, on the
// notification's channel and then on its fallback channels in order while
// a channel skips or fails permanently. It returns the delivery to record
// (the first one sent; when none is, the primary channel's outcome, whose
// reason explains why), or an error when the send must be retried later.
// giveUp turns a transient send error into a failure with a reason (see
// Dispatcher.giveUp); with noSend nothing is sent, and a recipient no rule
// skips fails with ReasonDispatchFailed.
func (d *Dispatcher) deliver(ctx context.Context, n notify.Notification, tpl *render.Compiled, chunk string, r notify.Recipient, u *notify.User, noSend bool, giveUp func(error) string) (notify.Delivery, error) {
	on := func(ch notify.Channel) (notify.Delivery, error) {
		dl, err := d.deliverOn(ctx, n, tpl, ch, chunk, r, u, noSend)
		if err != nil {
			if reason := giveUp(err); reason != "" {
				dl.Status, dl.Reason = notify.DeliveryFailed, reason
				return dl, nil
			}
		}
		return dl, err
	}
	primary, err := on(n.Channel)
	if err != nil || primary.Status == notify.DeliverySent || primary.Status == notify.DeliveryDelivered || !fallsBack(primary.Reason) {
		return primary, err
	}
	for _, ch := range n.Fallback {
		dl, err := on(ch)
		if err != nil {
			return dl, err // retried later: the primary's skip is cheap to decide again
		}
		if dl.Status == notify.DeliverySent || dl.Status == notify.DeliveryDelivered {
			return dl, nil
		}
	}
	return primary, nil
}

// fallsBack reports whether a skip or failure with this reason may be
// tried on a fallback channel: not when the send is cancelled, the user
// unknown, or the content cannot be rendered on any channel.
func fallsBack(reason string) bool {
	switch reason {
	case notify.ReasonCancelled, notify.ReasonUnknownUser, notify.ReasonMissingVariable:
		return false
	}
	return true
}

// newDelivery is the delivery of r on ch, with no outcome yet.
func (d *Dispatcher) newDelivery(n notify.Notification, ch notify.Channel, chunk string, r notify.Recipient) notify.Delivery {
	now := d.now().UTC()
	return notify.Delivery{
		WorkspaceID:    n.WorkspaceID,
		NotificationID: n.ID,
		Key:            r.Key(),
		UserID:         r.UserID,
		Channel:        ch,
		Chunk:          chunk,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
}

// deliverOn is deliver on one channel: the rules that skip the
// recipient, the address, the rendered message (tpl is n's content,
// compiled once for all its recipients), the provider call built for the
// channel and, unless noSend, the call itself.
func (d *Dispatcher) deliverOn(ctx context.Context, n notify.Notification, tpl *render.Compiled, ch notify.Channel, chunk string, r notify.Recipient, u *notify.User, noSend bool) (notify.Delivery, error) {
	dl := d.newDelivery(n, ch, chunk, r)
	now := dl.CreatedAt
	skip := func(reason string) (notify.Delivery, error) {
		dl.Status, dl.Reason = notify.DeliverySkipped, reason
		return dl, nil
	}
	if reason := skipReason(n, ch, r, u, now); reason != "" {
		return skip(reason)
	}
	if ch == notify.ChannelInApp && r.UserID == "" {
		// An inbox is a user's: a raw address has none.
		return skip(notify.ReasonInvalidAddress)
	}
	var lang string
	if u != nil {
		lang = u.Language
	}
	// The address: the customer id for pushes (they go to every device),
	// the phone or email otherwise, sealed with the user's key when stored.
	// It is known before rendering, so that a recipient whose message
	// lacks a variable is shown by address, as every other failure is; a
	// message that lacks a variable fails whether or not there is an
	// address (no fallback channel would render it either).
	var to string
	// Pushes and in-app messages go to the user, not to an address.
	pushed := ch == notify.ChannelPush || ch == notify.ChannelWebPush || ch == notify.ChannelInApp
	if pushed {
		dl.Address = r.UserID
	} else if to = addressOf(r, u, ch); to != "" {
		var err error
		if dl.Address, err = sealFor(u, to); err != nil {
			return dl, err
		}
	}
	msg, missing := tpl.Render(lang, variables{n: &n, r: &r, u: u}.lookup)
	if len(missing) > 0 {
		dl.Status, dl.Reason = notify.DeliveryFailed, notify.ReasonMissingVariable
		return dl, nil
	}
	if !pushed && to == "" {
		return skip(notify.ReasonInvalidAddress)
	}
	// Build the send first: what it finds wrong (a missing parameter, a
	// closed window) is decided before the rate limit and noSend. Only
	// WhatsApp templates read the variables by name.
	var vars map[string]string
	if ch == notify.ChannelWhatsApp {
		vars, _ = variablesFor(n, r, u)
	}
	send := d.buildSend(n, ch, &dl, to, msg, vars, u, now)
	switch {
	case send == nil:
		return dl, nil
	case noSend:
		dl.Status, dl.Reason = notify.DeliveryFailed, ReasonDispatchFailed
		return dl, nil
	}
	return d.call(ctx, ch, send, u, dl)
}

// skipReason applies the rules that skip a recipient before anything is
// rendered: a cancelled or failed send, an unknown user, and the user's
// own rules (ruleSkip). It returns the reason, or "".
func skipReason(n notify.Notification, ch notify.Channel, r notify.Recipient, u *notify.User, now time.Time) string {
	switch {
	case n.Status == notify.StatusCancelled || n.Status == notify.StatusFailed:
		return notify.ReasonCancelled
	case r.UserID != "" && u == nil:
		return notify.ReasonUnknownUser
	case u != nil:
		return ruleSkip(n, ch, *u, now)
	}
	return ""
}

// variablesFor are the variables a recipient's message is rendered with,
// each source overriding the one before: the send's, the user's profile,
// the recipient's own (a spreadsheet row's), and an approved WhatsApp
// template's numbered parameters. lang is the user's language.
func variablesFor(n notify.Notification, r notify.Recipient, u *notify.User) (vars map[string]string, lang string) {
	vars = n.Variables
	if u != nil {
		vars = render.Merge(n.Variables, render.UserVariables(*u))
		lang = u.Language
	}
	vars = render.Merge(vars, r.Variables)
	if t := n.Content.WhatsApp; t != nil {
		// An approved template's text numbers its parameters ({{1}}, {{2}}):
		// they are the variables the template maps them to, in order.
		numbered := make(map[string]string, len(t.Parameters))
		for i, p := range t.Parameters {
			if v, ok := vars[p]; ok {
				numbered[strconv.Itoa(i+1)] = v
			}
		}
		vars = render.Merge(vars, numbered)
	}
	return vars, lang
}

// variables are variablesFor's, looked up through their layers instead of
// merged into a map per recipient: the recipient's own, the user's
// profile (as render.UserVariables gives it), the send's; and an approved
// WhatsApp template's numbered parameters over all of them.
type variables struct {
	n *notify.Notification
	r *notify.Recipient
	u *notify.User
}

func (v variables) lookup(name string) (string, bool) {
	if t := v.n.Content.WhatsApp; t != nil && len(t.Parameters) > 0 {
		if i, err := strconv.Atoi(name); err == nil && i >= 1 && i <= len(t.Parameters) && strconv.Itoa(i) == name {
			if val, ok := v.layered(t.Parameters[i-1]); ok {
				return val, true
			}
		}
	}
	return v.layered(name)
}

func (v variables) layered(name string) (string, bool) {
	if val, ok := v.r.Variables[name]; ok {
		return val, true
	}
	if v.u != nil {
		if val, ok := render.LookupUserVariable(v.u, name); ok {
			return val, true
		}
	}
	val, ok := v.n.Variables[name]
	return val, ok
}

// sendFunc is one provider call, built and ready to be made.
type sendFunc func(context.Context) (channel.Receipt, error)

// buildSend builds the provider call of msg on ch, to to (a phone or an
// email; pushes go to u's devices). A message that cannot be sent gets
// its outcome on dl instead, and no call.
func (d *Dispatcher) buildSend(n notify.Notification, ch notify.Channel, dl *notify.Delivery, to string, msg render.Message, vars map[string]string, u *notify.User, now time.Time) sendFunc {
	env := channel.Envelope{WorkspaceID: n.WorkspaceID, NotificationID: n.ID, RecipientKey: dl.Key, UserID: dl.UserID, Category: n.Category}
	var px notify.PushExtras
	if n.Content.Push != nil {
		px = *n.Content.Push
	}
	switch ch {
	case notify.ChannelPush:
		m := channel.PushMessage{Envelope: env, Devices: devicesOf(u, notify.DeviceFCM, notify.DeviceAPNs),
			Title: msg.Title, Body: msg.Body, Route: msg.Route, Icon: px.Icon, Image: px.Image, Buttons: px.Buttons}
		return func(ctx context.Context) (channel.Receipt, error) { return d.senders.Push.SendPush(ctx, m) }
	case notify.ChannelWebPush:
		m := channel.WebPushMessage{Envelope: env, Devices: devicesOf(u, notify.DeviceWebPush),
			Title: msg.Title, Body: msg.Body, Route: msg.Route, Icon: px.Icon, Image: px.Image, Buttons: px.Buttons}
		return func(ctx context.Context) (channel.Receipt, error) { return d.senders.WebPush.SendWebPush(ctx, m) }
	case notify.ChannelSMS:
		// What the operator pays for is known before sending.
		enc, _, segments := channel.SMSSegments(msg.Body)
		dl.Encoding, dl.Segments = string(enc), segments
		m := channel.SMSMessage{Envelope: env, To: to, Text: msg.Body}
		return func(ctx context.Context) (channel.Receipt, error) { return d.senders.SMS.SendSMS(ctx, m) }
	case notify.ChannelEmail:
		m := channel.EmailMessage{Envelope: env, To: to, Subject: msg.Subject, Text: msg.Body, HTML: msg.HTML}
		if u != nil && d.footer != nil {
			m.Text, m.HTML = withFooter(m.Text, m.HTML, d.footer, env, *u)
		}
		return func(ctx context.Context) (channel.Receipt, error) { return d.senders.Email.SendEmail(ctx, m) }
	case notify.ChannelWhatsApp:
		return d.buildWhatsApp(n, env, dl, to, msg.Body, vars, u, now)
	case notify.ChannelInApp:
		m := channel.InAppMessage{Envelope: env, Title: msg.Title, Body: msg.Body, Route: msg.Route, Icon: px.Icon, Image: px.Image, Buttons: px.Buttons}
		return func(ctx context.Context) (channel.Receipt, error) { return d.senders.InApp.SendInApp(ctx, m) }
	}
	dl.Status, dl.Reason = notify.DeliveryFailed, "unknown_channel"
	return nil
}

// withFooter ends an email's parts with footer's: the text after a blank
// line, the HTML inside its <body> when it has one (at its end otherwise).
func withFooter(text, html string, footer func(channel.Envelope, notify.User) (string, string), env channel.Envelope, u notify.User) (string, string) {
	ft, fh := footer(env, u)
	if ft != "" {
		text = strings.TrimRight(text, "\n") + "\n\n" + ft
	}
	if fh != "" && html != "" {
		if i := strings.LastIndex(strings.ToLower(html), "</body>"); i >= 0 {
			html = html[:i] + fh + html[i:]
		} else {
			html += fh
		}
	}
	return text, html
}

// buildWhatsApp builds a WhatsApp call: an approved template with its
// parameters (failed with missing_variable when one has no value), or
// free-form text, which Meta takes only inside the user's 24-hour window
// (skipped with window_expired outside it).
func (d *Dispatcher) buildWhatsApp(n notify.Notification, env channel.Envelope, dl *notify.Delivery, to, text string, vars map[string]string, u *notify.User, now time.Time) sendFunc {
	wm := channel.WhatsAppMessage{Envelope: env, To: to}
	if t := n.Content.WhatsApp; t != nil && t.Name != "" {
		params := make([]string, len(t.Parameters))
		for i, p := range t.Parameters {
			v, ok := vars[p]
			if !ok {
				dl.Status, dl.Reason = notify.DeliveryFailed, notify.ReasonMissingVariable
				return nil
			}
			params[i] = v
		}
		wm.Template = &channel.WhatsAppTemplate{Name: t.Name, Language: t.Language, Parameters: params, Buttons: t.Buttons}
	} else {
		if u == nil || u.WhatsAppLastInbound == nil || now.After(u.WhatsAppLastInbound.Add(WhatsAppWindow)) {
			dl.Status, dl.Reason = notify.DeliverySkipped, notify.ReasonWindowExpired
			return nil
		}
		wm.Text = text
	}
	return func(ctx context.Context) (channel.Receipt, error) { return d.senders.WhatsApp.SendWhatsApp(ctx, wm) }
}

// call makes the provider call within the channel's rate limit and turns
// its answer into the delivery's outcome: sent (or delivered), failed
// with the provider's code when the error is permanent, or an error to
// retry. Whatever the answer, the devices it reports dead are removed
// and the endpoints it created remembered, and a provider's request to
// wait (Retry-After) pauses the channel.
func (d *Dispatcher) call(ctx context.Context, ch notify.Channel, send sendFunc, u *notify.User, dl notify.Delivery) (notify.Delivery, error) {
	if lim := d.limits[ch]; lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return dl, fmt.Errorf("waiting for the %s rate limit: %w", ch, err)
		}
	}
	start := d.now()
	rc, err := send(ctx)
	d.metrics.ProviderCall(ch, d.now().Sub(start))
	if dead := append(rc.InvalidDevices, channel.InvalidDevices(err)...); len(dead) > 0 && u != nil {
		d.removeDevices(ctx, *u, dead)
	}
	if len(rc.Endpoints) > 0 && u != nil {
		d.rememberEndpoints(ctx, *u, rc.Endpoints)
	}
	if err != nil {
		// New gave every hinted channel a limiter.
		if hint := d.hints[ch]; hint != nil {
			if wait, ok := hint(err); ok && wait > 0 {
				d.limits[ch].Pause(wait)
			}
		}
		if code, ok := channel.IsPermanent(err); ok {
			dl.Status, dl.Reason = notify.DeliveryFailed, code
			return dl, nil
		}
		return dl, fmt.Errorf("send %s: %w", ch, err)
	}
	dl.ProviderMessageID = rc.ProviderMessageID
	dl.Status = notify.DeliverySent
	if rc.Delivered {
		dl.Status = notify.DeliveryDelivered
	}
	return dl, nil
}

// removeDevices takes devices the provider reported dead off the user, so
// no later send tries them. A failure is logged: the next send finds the
// device dead again.
func (d *Dispatcher) removeDevices(ctx context.Context, u notify.User, ids []string) {
	dead := map[string]bool{}
	for _, id := range ids {
		dead[id] = true
	}
	_, err := d.store.UpdateUser(context.WithoutCancel(ctx), u.WorkspaceID, u.ID, func(cur *notify.User) error {
		kept := cur.Devices[:0:0]
		for _, dv := range cur.Devices {
			if !dead[dv.ID] {
				kept = append(kept, dv)
			}
		}
		cur.Devices = kept
		return nil
	})
	if err != nil {
		d.log.Warn("remove dead devices", "workspaceId", u.WorkspaceID, "devices", len(ids), "err", err.Error())
		return
	}
	d.log.Info("removed dead devices", "workspaceId", u.WorkspaceID, "devices", len(ids))
}

// rememberEndpoints keeps the provider endpoints created for the user's
// devices on them, so the next send reuses them instead of creating them
// again. A device removed or re-registered meanwhile is left alone; a
// failure is logged: the next send creates (finds) the endpoint again.
func (d *Dispatcher) rememberEndpoints(ctx context.Context, u notify.User, endpoints map[string]string) {
	_, err := d.store.UpdateUser(context.WithoutCancel(ctx), u.WorkspaceID, u.ID, func(cur *notify.User) error {
		changed := false
		for i, dv := range cur.Devices {
			if arn, ok := endpoints[dv.ID]; ok && dv.Endpoint != arn {
				cur.Devices[i].Endpoint = arn
				changed = true
			}
		}
		if !changed {
			return errNothingToRemember
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNothingToRemember) {
		d.log.Warn("remember device endpoints", "workspaceId", u.WorkspaceID, "devices", len(endpoints), "err", err.Error())
	}
}

// errNothingToRemember stops an UpdateUser that would change nothing.
var errNothingToRemember = errors.New("endpoints already remembered")

// ruleSkip applies the delivery rules that depend on the user and returns the
// reason to skip, or "". Presence (the user is in the app) holds back the
// other channels, never the in-app one: it is how a user in the app is
// told.
func ruleSkip(n notify.Notification, ch notify.Channel, u notify.User, now time.Time) string {
	if reason := notify.PreferenceSkip(n, ch, u); reason != "" {
		return reason
	}
	if ch != notify.ChannelInApp && !n.IgnorePresence && u.PresenceUntil != nil && now.Before(*u.PresenceUntil) {
		return notify.ReasonActiveInApp
	}
	// The address is checked with the recipient's, which may be raw.
	if reason := notify.StandingSkip(n, ch, u); reason != notify.ReasonInvalidAddress {
		return reason
	}
	return ""
}

func devicesOf(u *notify.User, kinds ...string) []notify.Device {
	if u == nil {
		return nil
	}
	var out []notify.Device
	for _, dv := range u.Devices {
		for _, k := range kinds {
			if dv.Kind == k {
				out = append(out, dv)
			}
		}
	}
	return out
}

func addressOf(r notify.Recipient, u *notify.User, ch notify.Channel) string {
	if r.Address != "" {
		return r.Address
	}
	if u == nil {
		return ""
	}
	if ch == notify.ChannelEmail {
		return u.Email
	}
	return u.Phone
}

// sealFor encrypts a user's address with the user's key before it is stored
// on the delivery; raw addresses of non-users are kept as they are.
func sealFor(u *notify.User, addr string) (string, error) {
	if u == nil {
		return addr, nil
	}
	if len(u.SealKey) != seal.KeySize {
		// Without a key the address cannot be erased later: keep none.
		return "", nil
	}
	return seal.Seal(u.SealKey, addr)
}
