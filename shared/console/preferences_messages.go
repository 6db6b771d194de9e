package console

import (
	"net/http"
	"strings"
)

// preferenceCatalogs are the words of the recipients' preference page by
// language (the base of a BCP 47 tag: "pt" serves pt-BR and pt-PT). To add
// a language, add its map with English's keys and its name to
// languageNames; a key it lacks is shown in English. The email footer's
// link to the page has its own words (package unsubscribe).
var preferenceCatalogs = map[string]map[string]string{
	"en": {
		"title":            "Your notification preferences",
		"intro":            "Choose, for each kind of message, how we may reach you. Switched off, you get no more messages of that kind on that channel.",
		"save":             "Save preferences",
		"unsaved":          "You have changes that are not saved yet.",
		"saved":            "Your preferences are saved.",
		"unsubscribed":     "You are unsubscribed from everything. Switch on what you want to receive again, and save.",
		"everythingTitle":  "No more messages",
		"everythingHelp":   "Stop every notification, on every channel. You can come back to this page to switch them on again.",
		"unsubscribeAll":   "Unsubscribe from everything",
		"noChannels":       "We have no way to reach you yet, so there is nothing to choose here.",
		"language":         "Language",
		"invalid":          "This link is not valid. Open the link in one of our messages again.",
		"expired":          "This link has expired. Open the link in a more recent message from us.",
		"failed":           "Something went wrong and nothing was saved. Please try again.",
		"channel.webpush":  "Web push",
		"channel.push":     "Mobile push",
		"channel.email":    "Email",
		"channel.sms":      "SMS",
		"channel.whatsapp": "WhatsApp",
		"channel.inapp":    "Messages in the app",
	},
	"es": {
		"title":            "Tus preferencias de notificación",
		"intro":            "Elige, para cada tipo de mensaje, cómo podemos contactarte. Si lo desactivas, no recibirás más mensajes de ese tipo por ese canal.",
		"save":             "Guardar preferencias",
		"unsaved":          "Tienes cambios sin guardar.",
		"saved":            "Tus preferencias se han guardado.",
		"unsubscribed":     "Te has dado de baja de todo. Activa lo que quieras volver a recibir y guarda.",
		"everythingTitle":  "No quiero más mensajes",
		"everythingHelp":   "Deja de recibir todas las notificaciones, por todos los canales. Puedes volver a esta página para activarlas de nuevo.",
		"unsubscribeAll":   "Darme de baja de todo",
		"noChannels":       "Aún no tenemos forma de contactarte, así que no hay nada que elegir.",
		"language":         "Idioma",
		"invalid":          "Este enlace no es válido. Vuelve a abrir el enlace de uno de nuestros mensajes.",
		"expired":          "Este enlace ha caducado. Abre el enlace de un mensaje nuestro más reciente.",
		"failed":           "Algo ha fallado y no se ha guardado nada. Inténtalo de nuevo.",
		"channel.webpush":  "Notificaciones web",
		"channel.push":     "Notificaciones en el móvil",
		"channel.email":    "Correo electrónico",
		"channel.sms":      "SMS",
		"channel.whatsapp": "WhatsApp",
		"channel.inapp":    "Mensajes en la aplicación",
	},
	"pl": {
		"title":            "Twoje ustawienia powiadomień",
		"intro":            "Wybierz dla każdego rodzaju wiadomości, jak możemy się z Tobą kontaktować. Po wyłączeniu nie otrzymasz już wiadomości tego rodzaju tym kanałem.",
		"save":             "Zapisz ustawienia",
		"unsaved":          "Masz niezapisane zmiany.",
		"saved":            "Twoje ustawienia zostały zapisane.",
		"unsubscribed":     "Wypisano Cię ze wszystkiego. Włącz to, co chcesz znowu otrzymywać, i zapisz.",
		"everythingTitle":  "Żadnych wiadomości",
		"everythingHelp":   "Wyłącz wszystkie powiadomienia we wszystkich kanałach. Możesz wrócić na tę stronę, aby je ponownie włączyć.",
		"unsubscribeAll":   "Wypisz mnie ze wszystkiego",
		"noChannels":       "Nie mamy jeszcze jak się z Tobą kontaktować, więc nie ma tu nic do wyboru.",
		"language":         "Język",
		"invalid":          "Ten link jest nieprawidłowy. Otwórz ponownie link z jednej z naszych wiadomości.",
		"expired":          "Ten link wygasł. Otwórz link z nowszej wiadomości od nas.",
		"failed":           "Coś poszło nie tak i nic nie zostało zapisane. Spróbuj ponownie.",
		"channel.webpush":  "Powiadomienia w przeglądarce",
		"channel.push":     "Powiadomienia w aplikacji",
		"channel.email":    "E-mail",
		"channel.sms":      "SMS",
		"channel.whatsapp": "WhatsApp",
		"channel.inapp":    "Wiadomości w skrzynce aplikacji",
	},
	"pt": {
		"title":            "As suas preferências de notificação",
		"intro":            "Escolha, para cada tipo de mensagem, como podemos contactá-lo. Se desativar, deixa de receber mensagens desse tipo nesse canal.",
		"save":             "Guardar preferências",
		"unsaved":          "Tem alterações por guardar.",
		"saved":            "As suas preferências foram guardadas.",
		"unsubscribed":     "Cancelou todas as subscrições. Ative o que quiser voltar a receber e guarde.",
		"everythingTitle":  "Não quero mais mensagens",
		"everythingHelp":   "Deixe de receber todas as notificações, em todos os canais. Pode voltar a esta página para as ativar de novo.",
		"unsubscribeAll":   "Cancelar todas as subscrições",
		"noChannels":       "Ainda não temos forma de o contactar, por isso não há nada a escolher.",
		"language":         "Idioma",
		"invalid":          "Esta ligação não é válida. Abra novamente a ligação de uma das nossas mensagens.",
		"expired":          "Esta ligação expirou. Abra a ligação de uma mensagem nossa mais recente.",
		"failed":           "Algo correu mal e nada foi guardado. Tente novamente.",
		"channel.webpush":  "Notificações no navegador",
		"channel.push":     "Notificações no telemóvel",
		"channel.email":    "Email",
		"channel.sms":      "SMS",
		"channel.whatsapp": "WhatsApp",
		"channel.inapp":    "Mensagens na aplicação",
	},
}

// languageNames are the catalogs' languages in their own words, in the
// order the page offers them.
var languageNames = []struct{ Code, Name string }{
	{"en", "English"},
	{"es", "Español"},
	{"pl", "Polski"},
	{"pt", "Português"},
}

// fallbackLanguage is the catalog every other falls back to.
const fallbackLanguage = "en"

// catalog is the page's words in lang, English where lang has none.
func catalog(lang string) map[string]string {
	out := make(map[string]string, len(preferenceCatalogs[fallbackLanguage]))
	for k, v := range preferenceCatalogs[fallbackLanguage] {
		out[k] = v
	}
	for k, v := range preferenceCatalogs[lang] {
		out[k] = v
	}
	return out
}

// baseLanguage is the language of a BCP 47 tag, lower case: "pt" for
// "pt-BR" (or "pt_BR").
func baseLanguage(tag string) string {
	base, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	base, _, _ = strings.Cut(base, "_")
	return strings.ToLower(base)
}

// pageLanguage is the language the page speaks: the one the person chose
// (?lang=), then the user's own (user.Language), then the first the
// browser asks for that the page knows, then English.
func pageLanguage(r *http.Request, userLanguage string) string {
	if l := baseLanguage(r.URL.Query().Get("lang")); preferenceCatalogs[l] != nil {
		return l
	}
	if l := baseLanguage(userLanguage); preferenceCatalogs[l] != nil {
		return l
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(part, ";")
		if l := baseLanguage(tag); preferenceCatalogs[l] != nil {
			return l
		}
	}
	return fallbackLanguage
}

// languageChoice is one language the page offers.
type languageChoice struct {
	Code, Name string
	Current    bool
}

func languageChoices(current string) []languageChoice {
	out := make([]languageChoice, 0, len(languageNames))
	for _, l := range languageNames {
		out = append(out, languageChoice{Code: l.Code, Name: l.Name, Current: l.Code == current})
	}
	return out
}
