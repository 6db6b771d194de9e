package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/infra/browsertest"
)

// Journey 11, the recipient's side (seed 004): a customer's app gets a
// link to a user's preference page through the API; the user opens it on
// their phone, in Spanish, switches SMS off for one kind of notification
// and saves. An SMS of that kind is then skipped (no_consent) while one of
// another kind reaches them; every email they get ends with a link to the
// same page, where they can also unsubscribe from everything.
func TestConsolePreferencesOnAPhone(t *testing.T) {
	s := consoleServer(t, nil)
	s.users(map[string]any{"id": "ana", "name": "Ana", "email": "ana@example.com", "phone": "+34600000042", "language": "es"})
	link := s.must(200, "POST", "/v1/users/ana/preference-link", map[string]any{"ttlSeconds": 3600})
	url, _ := link["url"].(string)
	if !strings.HasPrefix(url, s.base+"/preferences/") || link["expiresAt"] == nil {
		t.Fatalf("preference link = %v, want a page under %s/preferences/ with its end", link, s.base)
	}

	b := browsertest.Start(t) // no sign-in: the recipient is no operator
	b.Phone()
	b.Visit(url)
	b.WaitText("Tus preferencias de notificación", 0)
	if b.Value("Switching: SMS") != "true" || b.Value("Energy savings: SMS") != "true" {
		t.Fatal("a user who turned nothing off sees switches off")
	}
	var width int
	b.Eval(`document.documentElement.scrollWidth`, &width)
	if width > 390 {
		t.Errorf("the page is %d pixels wide on a 390-pixel phone: it scrolls sideways", width)
	}
	screen(t, b, "console-preferences-phone")

	b.Uncheck("Switching: SMS")
	b.WaitText("Tienes cambios sin guardar.", 0)
	screen(t, b, "console-preferences-phone-changed")
	b.ClickButton("Guardar preferencias")
	b.WaitText("Tus preferencias se han guardado.", 0)
	if b.Value("Switching: SMS") != "false" || b.Value("Switching: Correo electrónico") != "true" || b.Value("Energy savings: SMS") != "true" {
		t.Error("after saving, the switches are not as the user left them")
	}
	screen(t, b, "console-preferences-phone-saved")
	prefs := s.must(200, "GET", "/v1/users/ana/preferences", nil)
	if cc, _ := prefs["categoryChannels"].(map[string]any); cc == nil || cc["switching"] == nil || cc["switching"].(map[string]any)["sms"] != false {
		t.Fatalf("preferences after the save = %v, want categoryChannels.switching.sms false", prefs)
	}

	// An SMS of that kind is skipped for want of consent; one of another
	// kind reaches the outbox.
	skipped := s.must(202, "POST", "/v1/notifications", map[string]any{"channel": "sms", "category": "switching",
		"content": map[string]any{"body": "Cámbiate a la tarifa nocturna"}, "audience": map[string]any{"userIds": []string{"ana"}}})["id"].(string)
	sent := s.must(202, "POST", "/v1/notifications", map[string]any{"channel": "sms", "category": "energy_savings",
		"content": map[string]any{"body": "Consejo: pon la lavadora de noche"}, "audience": map[string]any{"userIds": []string{"ana"}}})["id"].(string)
	s.waitStatus(skipped, "completed")
	s.waitStatus(sent, "completed")
	dl := s.must(200, "GET", "/v1/notifications/"+skipped+"/deliveries", nil)["items"].([]any)
	if len(dl) != 1 || dl[0].(map[string]any)["status"] != "skipped" || dl[0].(map[string]any)["reason"] != "no_consent" {
		t.Errorf("deliveries of the switching SMS = %v, want one skipped with no_consent", dl)
	}
	dl = s.must(200, "GET", "/v1/notifications/"+sent+"/deliveries", nil)["items"].([]any)
	if len(dl) != 1 || dl[0].(map[string]any)["status"] == "skipped" {
		t.Errorf("deliveries of the energy_savings SMS = %v, want it sent", dl)
	}
	var bodies []string
	for _, it := range s.must(200, "GET", "/v1/outbox?channel=sms", nil)["items"].([]any) {
		bodies = append(bodies, it.(map[string]any)["body"].(string))
	}
	if len(bodies) != 1 || bodies[0] != "Consejo: pon la lavadora de noche" {
		t.Errorf("SMS outbox = %q, want the energy_savings SMS alone", bodies)
	}

	// An email's footer links to the same page, in the user's language.
	mail := s.must(202, "POST", "/v1/notifications", map[string]any{"channel": "email", "category": "energy_savings",
		"content": map[string]any{"title": "Tu factura", "body": "Ya tienes tu factura."}, "audience": map[string]any{"userIds": []string{"ana"}}})["id"].(string)
	s.waitStatus(mail, "completed")
	emails := s.must(200, "GET", "/v1/outbox?channel=email", nil)["items"].([]any)
	if len(emails) != 1 {
		t.Fatalf("email outbox = %v, want one email", emails)
	}
	footer := regexp.MustCompile(`Gestionar tus preferencias: (\S+/preferences/\S+)`).FindStringSubmatch(emails[0].(map[string]any)["body"].(string))
	if footer == nil {
		t.Fatalf("the email = %v, want it to end with the link to the preference page", emails[0])
	}
	b.Visit(footer[1])
	b.WaitText("Tus preferencias de notificación", 0)
	if b.Value("Switching: SMS") != "false" {
		t.Error("the email's link opens a page that does not show the saved switches")
	}

	b.ClickButton("Darme de baja de todo")
	b.WaitText("Te has dado de baja de todo.", 0)
	screen(t, b, "console-preferences-phone-unsubscribed")
	channels, _ := s.must(200, "GET", "/v1/users/ana/preferences", nil)["channels"].(map[string]any)
	for _, ch := range []string{"push", "webpush", "sms", "email", "whatsapp"} {
		if channels[ch] != false {
			t.Errorf("after Unsubscribe from everything, channel %s = %v, want false", ch, channels[ch])
		}
	}
}
