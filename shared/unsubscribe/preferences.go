package unsubscribe

import (
	"crypto/hmac"
	"encoding/base64"
	"html"
	"strconv"
	"strings"
	"time"
)

// PreferencesPath is where the preference page is served, under the
// public URL: PreferencesPath + token.
const PreferencesPath = "/preferences/"

// PreferencesToken is the unguessable part of a link to user's preference
// page: the workspace and user ids and the link's end with an HMAC over
// them, under another label than unsubscribe tokens (Token), so that
// neither is taken for the other. A zero expires never ends.
func PreferencesToken(secret []byte, workspaceID, userID string, expires time.Time) string {
	end := int64(0)
	if !expires.IsZero() {
		end = expires.Unix()
	}
	payload := workspaceID + "\x00" + userID + "\x00" + strconv.FormatInt(end, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac(secret, labelPreferences, payload))
}

// ParsePreferences checks a preference token and returns what it names
// and when it ends (zero: never); ok is false for a token secret did not
// sign as a preference token. Whether it has ended is the caller's to
// say, against its own clock.
func ParsePreferences(secret []byte, token string) (workspaceID, userID string, expires time.Time, ok bool) {
	p, m, found := strings.Cut(token, ".")
	if !found || len(secret) == 0 {
		return "", "", time.Time{}, false
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(secret, labelPreferences, string(raw))) {
		return "", "", time.Time{}, false
	}
	// The workspace id holds no NUL and the end is a number, so the user
	// id is what lies between them, whatever it holds.
	payload := string(raw)
	ws, rest, found1 := strings.Cut(payload, "\x00")
	i := strings.LastIndexByte(rest, 0)
	if !found1 || i < 0 {
		return "", "", time.Time{}, false
	}
	user, endText := rest[:i], rest[i+1:]
	end, err := strconv.ParseInt(endText, 10, 64)
	if err != nil || end < 0 || ws == "" || user == "" {
		return "", "", time.Time{}, false
	}
	if end > 0 {
		expires = time.Unix(end, 0).UTC()
	}
	return ws, user, expires, true
}

// PreferencesURL is the link to user's preference page under base, the
// public URL (https://…, no trailing slash).
func PreferencesURL(base string, secret []byte, workspaceID, userID string, expires time.Time) string {
	return strings.TrimRight(base, "/") + PreferencesPath + PreferencesToken(secret, workspaceID, userID, expires)
}

// footerWords are the words of the email footer's link, by language; the
// preference page's own catalog (package console) says the rest. English
// is the fallback.
var footerWords = map[string]string{
	"en": "Manage your preferences",
	"es": "Gestionar tus preferencias",
	"pl": "Zarządzaj swoimi preferencjami",
	"pt": "Gerir as suas preferências",
}

// EmailFooter is what every email to a user ends with: a link to their
// preference page, in their language (its base, "es" for "es-MX"), as
// text and as HTML.
func EmailFooter(pageURL, language string) (text, htmlPart string) {
	words, ok := footerWords[baseLanguage(language)]
	if !ok {
		words = footerWords["en"]
	}
	text = "--\n" + words + ": " + pageURL
	htmlPart = `<p style="margin-top:2em;font-size:0.85em;color:#555"><a href="` + html.EscapeString(pageURL) + `">` + html.EscapeString(words) + `</a></p>`
	return text, htmlPart
}

// baseLanguage is the language of a BCP 47 tag, lower case: "pt" for
// "pt-BR".
func baseLanguage(tag string) string {
	base, _, _ := strings.Cut(tag, "-")
	base, _, _ = strings.Cut(base, "_")
	return strings.ToLower(strings.TrimSpace(base))
}
