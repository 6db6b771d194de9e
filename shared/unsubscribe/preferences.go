package unsubscribe

import (
	"crypto/hmac"
	"crypto/sha256"
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
// page: the workspace and user ids, the user's generation (Generation of
// their seal key: a user deleted and made again under the same id is a
// new person, whom an old link must not reach) and the link's end, with an
// HMAC over them, under another label than unsubscribe tokens (Token), so
// that neither is taken for the other. A zero expires never ends.
func PreferencesToken(secret []byte, workspaceID, userID, generation string, expires time.Time) string {
	end := int64(0)
	if !expires.IsZero() {
		end = expires.Unix()
	}
	payload := workspaceID + "\x00" + generation + "\x00" + strconv.FormatInt(end, 10) + "\x00" + userID
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac(secret, labelPreferences, payload))
}

// Generation names one incarnation of a user: a digest of their seal key,
// which is made with the user and erased with them.
func Generation(sealKey []byte) string {
	sum := sha256.Sum256(append([]byte("herald user generation\x00"), sealKey...))
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

// ParsePreferences checks a preference token and returns what it names
// and when it ends (zero: never); ok is false for a token secret did not
// sign as a preference token. Whether it has ended, and whether the user
// is still the same generation, are the caller's to say.
func ParsePreferences(secret []byte, token string) (workspaceID, userID, generation string, expires time.Time, ok bool) {
	p, m, found := strings.Cut(token, ".")
	if !found || len(secret) == 0 {
		return "", "", "", time.Time{}, false
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(secret, labelPreferences, string(raw))) {
		return "", "", "", time.Time{}, false
	}
	// The workspace id, generation and end hold no NUL; the user id is the
	// rest, whatever it holds.
	parts := strings.SplitN(string(raw), "\x00", 4)
	if len(parts) != 4 {
		return "", "", "", time.Time{}, false
	}
	end, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || end < 0 || parts[0] == "" || parts[3] == "" {
		return "", "", "", time.Time{}, false
	}
	if end > 0 {
		expires = time.Unix(end, 0).UTC()
	}
	return parts[0], parts[3], parts[1], expires, true
}

// PreferencesURL is the link to user's preference page under base, the
// public URL (https://…, no trailing slash).
func PreferencesURL(base string, secret []byte, workspaceID, userID, generation string, expires time.Time) string {
	return strings.TrimRight(base, "/") + PreferencesPath + PreferencesToken(secret, workspaceID, userID, generation, expires)
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
