package send

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/heraldhq/herald/shared/notify"
)

// Text limits shared by templates and inline content.
const (
	MaxTitle = 256
	MaxBody  = 10000
	MaxRoute = 512
	MaxHTML  = 256 << 10
	// MaxVariations and MaxContentBytes keep a template (and the content a
	// notification keeps) well inside DynamoDB's 400 KB item.
	MaxVariations   = 50
	MaxContentBytes = 300 << 10
)

// ValidContent validates the message parts common to templates and inline
// content and returns them as a Template.
func ValidContent(ch notify.Channel, title, body, route string, push *notify.PushExtras, email *notify.EmailExtras, wa *notify.WhatsAppTemplate, variations map[string]notify.Variation, prefix string) (notify.Template, []notify.FieldError) {
	var bad []notify.FieldError
	add := func(f, p string) { bad = append(bad, notify.FieldError{Field: prefix + f, Problem: p}) }
	if !ch.Valid() {
		add("channel", "must be "+notify.ChannelList)
	}
	if utf8.RuneCountInString(title) > MaxTitle {
		add("title", fmt.Sprintf("at most %d characters", MaxTitle))
	}
	if strings.TrimSpace(body) == "" && !(ch == notify.ChannelWhatsApp && wa != nil) {
		add("body", "required")
	}
	if utf8.RuneCountInString(body) > MaxBody {
		add("body", fmt.Sprintf("at most %d characters", MaxBody))
	}
	if len(route) > MaxRoute {
		add("route", fmt.Sprintf("at most %d characters", MaxRoute))
	}
	if (ch == notify.ChannelPush || ch == notify.ChannelWebPush) && strings.TrimSpace(title) == "" {
		add("title", "required for push")
	}
	if push != nil {
		// An in-app message shows a push's icon, image and buttons.
		if ch != notify.ChannelPush && ch != notify.ChannelWebPush && ch != notify.ChannelInApp {
			add("push", "only for push, webpush and inapp")
		}
		if len(push.Buttons) > 3 {
			add("push.buttons", "at most 3 buttons")
		}
		for i, b := range push.Buttons {
			if b.ID == "" || b.Label == "" {
				add(fmt.Sprintf("push.buttons[%d]", i), "id and label are required")
			}
		}
		if len(push.Icon) > 2048 || len(push.Image) > 2048 {
			add("push", "icon and image URLs at most 2048 characters")
		}
	}
	if email != nil {
		if ch != notify.ChannelEmail {
			add("email", "only for email")
		}
		if len(email.HTML) > MaxHTML {
			add("email.html", fmt.Sprintf("at most %d bytes", MaxHTML))
		}
		if utf8.RuneCountInString(email.Subject) > 998 {
			add("email.subject", "at most 998 characters")
		}
	}
	if ch == notify.ChannelEmail && strings.TrimSpace(title) == "" && (email == nil || strings.TrimSpace(email.Subject) == "") {
		add("email.subject", "an email needs a subject (email.subject or title)")
	}
	if wa != nil {
		if ch != notify.ChannelWhatsApp {
			add("whatsapp", "only for whatsapp")
		}
		if wa.Name == "" || len(wa.Name) > 512 {
			add("whatsapp.name", "required: the approved template's name")
		}
		if _, err := language.Parse(strings.ReplaceAll(wa.Language, "_", "-")); err != nil || wa.Language == "" {
			add("whatsapp.language", "required: the template's language code, such as es or en_US")
		}
		switch wa.Category {
		case "marketing", "utility", "authentication":
		default:
			add("whatsapp.category", "must be marketing, utility or authentication")
		}
		for i, p := range wa.Parameters {
			if p == "" {
				add(fmt.Sprintf("whatsapp.parameters[%d]", i), "must name a variable")
			}
		}
		if len(wa.Buttons) > 10 {
			add("whatsapp.buttons", "at most 10 quick replies")
		}
	}
	if len(variations) > MaxVariations {
		add("variations", fmt.Sprintf("at most %d languages", MaxVariations))
	}
	for lang, v := range variations {
		if _, err := language.Parse(lang); err != nil {
			add("variations."+lang, "key must be a BCP 47 language tag")
		}
		if strings.TrimSpace(v.Body) == "" {
			add("variations."+lang+".body", "required")
		}
		if utf8.RuneCountInString(v.Body) > MaxBody || utf8.RuneCountInString(v.Title) > MaxTitle {
			add("variations."+lang, "title or body too long")
		}
	}
	t := notify.Template{Channel: ch, Title: title, Body: body, Route: route, Push: push, Email: email, WhatsApp: wa, Variations: variations}
	if len(bad) == 0 {
		if b, err := json.Marshal(t); err == nil && len(b) > MaxContentBytes {
			add("body", fmt.Sprintf("the content (text, HTML and variations together) is %d KB; at most %d KB", len(b)>>10, MaxContentBytes>>10))
		}
	}
	return t, bad
}
