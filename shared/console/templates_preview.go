package console

import (
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/html"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
)

// tplPreview is one language of a template as its channel's device shows
// it, with its variables written by name ({{name}}) so that the person
// sees where the values go.
type tplPreview struct {
	Channel notify.Channel
	// Language is the variation ("" for the default text).
	Language string
	Title    string
	Body     string
	Icon     *imageRef
	Image    *imageRef
	Buttons  []notify.Button
	// SMS: how the text travels (channel.SMSSegments).
	Encoding string
	Units    int
	Segments int
	// Email: the subject and, when the email has HTML, the sandboxed
	// frame that shows it (EmailSrc empty: the page shows it itself).
	Subject      string
	HasHTML      bool
	EmailFrame   string
	EmailSrc     string
	ImagesSrc    string
	RemoteImages int
	// WhatsApp's approved template and what fills its parameters.
	WhatsApp *notify.WhatsAppTemplate
	Params   []waParam
	// Gaps are the fields some clients do not show; Warnings what the
	// devices do to the text (send.go's warnings).
	Gaps     []clientWarning
	Warnings []string
}

// imageRef is a push's image or icon. The console does not load it (its
// policy allows no other origin, and loading it would tell that server
// who looks): the preview names it and links to it.
type imageRef struct {
	URL, Name, Host string
}

func newImageRef(raw string) *imageRef {
	if raw == "" {
		return nil
	}
	ref := &imageRef{URL: raw, Name: raw}
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		ref.Host = u.Host
		if b := path.Base(u.Path); b != "." && b != "/" {
			ref.Name = b
		}
	}
	if !strings.HasPrefix(raw, "https://") && !strings.HasPrefix(raw, "http://") {
		ref.URL = "" // not a link to follow
	}
	return ref
}

// waParam is a numbered WhatsApp parameter and the variable that fills it.
type waParam struct {
	N   int
	Var string
}

// clientWarning is a field of a push that some clients do not show.
type clientWarning struct {
	Where, Says string
}

// clientGap is one fact about a push field a client leaves out. Every row
// names where the fact comes from; when in doubt a fact is left out, so
// that the preview never warns about what is in fact shown.
type clientGap struct {
	channel notify.Channel
	// field is icon, image, buttons, or buttons>2 (more than two).
	field string
	where string
	// says may name the iOS category ({category}).
	says string
}

var clientGaps = []clientGap{
	// Firebase, "Send an image in the notification payload" (Apple apps):
	// "To be able to receive and handle notification images in an Apple
	// app, you must add a Notification Service Extension". Herald sets
	// mutable-content for it (shared/sns/push.go apnsPayload).
	{notify.ChannelPush, "image", "iOS", "shows the image only if the app has a notification service extension that downloads it."},
	// APNs' aps dictionary has no icon: iOS shows the app's icon (Apple,
	// "Generating a remote notification"). FCM's AndroidNotification.icon
	// names a drawable of the app, not a URL, so Herald sends the icon as
	// data (shared/sns/push.go fcmPayload) and Android shows the app's
	// small icon unless the app draws the notification itself.
	{notify.ChannelPush, "icon", "iOS", "always shows the app's icon; this icon is not shown."},
	{notify.ChannelPush, "icon", "Android", "shows the app's icon; this icon only if the app builds the notification itself from the message's data."},
	// iOS shows action buttons from a notification category the app
	// registered (Apple, "Declaring your actionable notification types");
	// Herald names it herald.<button ids> (shared/sns/push.go
	// apnsCategory). FCM notification messages have no action buttons
	// (FCM HTTP v1 AndroidNotification has no actions), so Herald sends
	// them as data.
	{notify.ChannelPush, "buttons", "iOS", "shows the buttons only if the app registered the notification category {category}."},
	{notify.ChannelPush, "buttons", "Android", "shows the buttons only if the app builds the notification itself from the message's data."},
	// MDN browser-compat-data, api.Notification.image and
	// api.Notification.actions: neither Firefox nor Safari supports them.
	{notify.ChannelWebPush, "image", "Firefox and Safari", "do not show the image."},
	{notify.ChannelWebPush, "buttons", "Firefox and Safari (macOS, iPhone and iPad)", "do not show buttons."},
	// Chrome blog, "Notification Actions in Chrome 48": "Currently Chrome
	// only supports two actions on each notification"
	// (Notification.maxActions).
	{notify.ChannelWebPush, "buttons>2", "Chrome and Edge", "show the first 2 buttons only."},
}

// gaps are the warnings of clientGaps that apply to a push.
func gaps(ch notify.Channel, px *notify.PushExtras) []clientWarning {
	if px == nil {
		return nil
	}
	ids := make([]string, len(px.Buttons))
	for i, b := range px.Buttons {
		ids[i] = b.ID
	}
	var out []clientWarning
	for _, g := range clientGaps {
		if g.channel != ch {
			continue
		}
		set := false
		switch g.field {
		case "icon":
			set = px.Icon != ""
		case "image":
			set = px.Image != ""
		case "buttons":
			set = len(px.Buttons) > 0
		case "buttons>2":
			set = len(px.Buttons) > 2
		}
		if set {
			out = append(out, clientWarning{Where: g.where, Says: strings.ReplaceAll(g.says, "{category}", "herald."+strings.Join(ids, "."))})
		}
	}
	return out
}

// variationKeys are t's variation languages, sorted.
func variationKeys(t notify.Template) []string {
	keys := make([]string, 0, len(t.Variations))
	for k := range t.Variations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// previews are t's default text and each of its variations as devices
// show them. An email with HTML is shown in the frame named frame from
// src (none when src is empty: the editor has its own frame).
func (c *Console) previews(t notify.Template, frame, src string) []tplPreview {
	names := map[string]string{}
	for _, v := range render.TemplateVariables(t) {
		names[v] = "{{" + v + "}}"
	}
	out := []tplPreview{}
	for _, lang := range append([]string{""}, variationKeys(t)...) {
		m, _ := render.Render(t, lang, names)
		p := tplPreview{Channel: t.Channel, Language: m.Language, Title: m.Title, Body: m.Body}
		switch t.Channel {
		case notify.ChannelPush, notify.ChannelWebPush, notify.ChannelInApp:
			if px := t.Push; px != nil {
				p.Image, p.Buttons = newImageRef(px.Image), px.Buttons
				if lang == "" {
					p.Icon = newImageRef(px.Icon)
				}
			}
			if lang == "" && t.Channel != notify.ChannelInApp {
				// The same in every language: said once.
				p.Gaps = gaps(t.Channel, t.Push)
			}
		case notify.ChannelSMS:
			enc, units, segs := channel.SMSSegments(m.Body)
			p.Encoding, p.Units, p.Segments = string(enc), units, segs
		case notify.ChannelEmail:
			p.Subject, p.HasHTML = m.Subject, m.HTML != ""
			if p.HasHTML && lang == "" && src != "" {
				p.EmailFrame, p.EmailSrc = frame, src
				sep := "?"
				if strings.Contains(src, "?") {
					sep = "&"
				}
				p.ImagesSrc = src + sep + "images=1"
				_, p.RemoteImages = offlineImages(m.HTML)
			}
		case notify.ChannelWhatsApp:
			if wa := t.WhatsApp; wa != nil {
				p.WhatsApp, p.Buttons = wa, wa.Buttons
				for i, v := range wa.Parameters {
					p.Params = append(p.Params, waParam{N: i + 1, Var: v})
				}
			}
		}
		p.Warnings = warnings(t.Channel, m.Title, m.Body)
		out = append(out, p)
	}
	return out
}

// emailURL is the address of a saved email's preview (version 0: the
// latest).
func emailURL(id string, version int) string {
	u := "/templates/" + url.PathEscape(id) + "/email-preview"
	if version > 0 {
		u += "?version=" + strconv.Itoa(version)
	}
	return u
}

// placeholder stands in for a remote image until the person asks for
// them (the email preview's policy allows data: images only).
const placeholder = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='40' height='40'%3E%3Crect width='40' height='40' fill='%23e6e9ed'/%3E%3C/svg%3E"

// offlineImages is an email's HTML with every image that is not a data:
// URL replaced by a placeholder (src), or left out (srcset, background),
// and how many it replaced. The preview's Content-Security-Policy is what
// blocks them; this spares the browser blocked requests and tells the
// person how many images wait for "Load remote images".
func offlineImages(src string) (string, int) {
	var b strings.Builder
	n := 0
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				b.Write(z.Raw())
			}
			return b.String(), n
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			b.Write(z.Raw())
			continue
		}
		raw := string(z.Raw())
		tok := z.Token()
		changed := false
		attrs := tok.Attr[:0:0]
		for _, a := range tok.Attr {
			remote := !strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "data:")
			switch {
			case a.Key == "src" && (tok.Data == "img" || tok.Data == "input" || tok.Data == "source") && remote:
				a.Val = placeholder
				n++
				changed = true
			case (a.Key == "srcset" || a.Key == "background" || a.Key == "poster") && remote:
				changed = true
				continue
			}
			attrs = append(attrs, a)
		}
		if !changed {
			b.WriteString(raw)
			continue
		}
		tok.Attr = attrs
		b.WriteString(tok.String())
	}
}

// emailPolicy is the email preview's Content-Security-Policy: no script,
// no request anywhere, inline styles (emails are styled inline), images
// from data: only and, when the person asks, from https:; framed only by
// the console, and sandboxed even when opened on its own.
func emailPolicy(images bool) string {
	img := "data:"
	if images {
		img = "data: https:"
	}
	return "default-src 'none'; style-src 'unsafe-inline'; img-src " + img + "; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
}

// writeEmail answers with t's HTML email in language, its variables by
// name, under emailPolicy.
func writeEmail(w http.ResponseWriter, t notify.Template, language string, images bool) error {
	names := map[string]string{}
	for _, v := range render.TemplateVariables(t) {
		names[v] = "{{" + v + "}}"
	}
	m, _ := render.Render(t, language, names)
	if m.HTML == "" {
		return notify.Errorf(notify.CodeNotFound, "this template has no HTML email to preview")
	}
	body := m.HTML
	if !images {
		body, _ = offlineImages(body)
	}
	h := w.Header()
	h.Set("Content-Security-Policy", emailPolicy(images))
	// The console's own answers may not be framed at all; this one is
	// made to be framed by the console.
	h.Set("X-Frame-Options", "SAMEORIGIN")
	// Images loaded on request must not learn the console's addresses.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, body)
	return nil
}

// emailPreview serves a saved email's HTML for the sandboxed frame of the
// gallery and the editor; ?images=1 lets it load remote images.
func (c *Console) emailPreview(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	q := r.URL.Query()
	t, err := c.svc.Templates.Get(ctx, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if v := q.Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return notify.Errorf(notify.CodeNotFound, "template %s has no version %q", t.ID, v)
		}
		if t, err = c.svc.Store.GetTemplateVersion(ctx, s.WorkspaceID, t.ID, n); err != nil {
			return err
		}
	}
	return writeEmail(w, t, q.Get("language"), q.Get("images") == "1")
}

// draftEmailPreview serves the editor's email as typed, for its frame
// ("Preview email" targets it).
func (c *Console) draftEmailPreview(w http.ResponseWriter, r *http.Request, s *session) error {
	t := readTemplateForm(r.PostForm).template()
	if t.Email == nil || t.Email.HTML == "" {
		w.Header().Set("Content-Security-Policy", emailPolicy(false))
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>No HTML</title><p>This email has no HTML yet: it is sent as its message text.</p>")
		return nil
	}
	return writeEmail(w, t, "", r.PostForm.Get("images") == "1")
}

// previewSet holds the previews' templates (html/templates_preview.html):
// the gallery, the editor and the editor's live preview show the same.
var previewSet = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("preview").Funcs(funcs).ParseFS(htmlFS, "html/templates_preview.html"))
})

func init() {
	funcs["templatePreview"] = func(name string, data any) (template.HTML, error) {
		var b strings.Builder
		if err := previewSet().ExecuteTemplate(&b, name, data); err != nil {
			return "", err
		}
		return template.HTML(b.String()), nil
	}
}
