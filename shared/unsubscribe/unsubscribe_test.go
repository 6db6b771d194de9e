package unsubscribe

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

func TestToken(t *testing.T) {
	secret := []byte("s3cret")
	tok := Token(secret, "ws1", "c-42")
	if ws, u, ok := Parse(secret, tok); !ok || ws != "ws1" || u != "c-42" {
		t.Errorf("Parse(Token) = %q %q %v", ws, u, ok)
	}
	for _, bad := range []string{"", "x", tok + "x", strings.Replace(tok, ".", ".A", 1), Token([]byte("other"), "ws1", "c-42"), Token(secret, "ws1", "c-43")[:len(tok)/2] + tok[len(tok)/2:]} {
		if _, _, ok := Parse(secret, bad); ok {
			t.Errorf("Parse(%q) accepted a token it did not make", bad)
		}
	}
	if _, _, ok := Parse(nil, tok); ok {
		t.Errorf("Parse without a secret accepted a token")
	}
}

func TestOneClick(t *testing.T) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := store.PutUser(context.Background(), notify.User{WorkspaceID: "ws1", ID: "c-42", Email: "a@example.com", PushPermission: notify.PermissionAsk, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	secret := []byte("s3cret")
	mux := http.NewServeMux()
	mux.Handle("/unsubscribe/", &Handler{Secret: secret, Users: store, Log: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	link := srv.URL + "/unsubscribe/" + Token(secret, "ws1", "c-42")
	emailOn := func() bool {
		u, err := store.GetUser(context.Background(), "ws1", "c-42")
		if err != nil {
			t.Fatal(err)
		}
		on, set := u.Preferences.Channels[notify.ChannelEmail]
		return !set || on
	}

	// A GET (a link scanner, or a person) changes nothing.
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !emailOn() {
		t.Errorf("GET = %d, email on %v; want the page and nothing changed", res.StatusCode, emailOn())
	}
	// The mail client's one-click POST (RFC 8058) unsubscribes.
	res, err = http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || emailOn() {
		t.Errorf("POST = %d, email on %v; want unsubscribed", res.StatusCode, emailOn())
	}
	// A forged link is refused.
	res, err = http.PostForm(srv.URL+"/unsubscribe/"+Token([]byte("guess"), "ws1", "c-42"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("forged POST = %d, want 404", res.StatusCode)
	}
}

func TestPreferencesToken(t *testing.T) {
	secret := []byte("s3cret")
	end := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	gen := Generation([]byte("c-42's seal key"))
	tok := PreferencesToken(secret, "ws1", "c-42", gen, end)
	if ws, u, g, exp, ok := ParsePreferences(secret, tok); !ok || ws != "ws1" || u != "c-42" || g != gen || !exp.Equal(end) {
		t.Errorf("ParsePreferences(PreferencesToken) = %q %q %q %v %v", ws, u, g, exp, ok)
	}
	forever := PreferencesToken(secret, "ws1", "odd\x00id", gen, time.Time{})
	if ws, u, _, exp, ok := ParsePreferences(secret, forever); !ok || ws != "ws1" || u != "odd\x00id" || !exp.IsZero() {
		t.Errorf("a token without an end = %q %q %v %v", ws, u, exp, ok)
	}
	if Generation([]byte("another key")) == gen || Generation(nil) == gen {
		t.Error("two seal keys give one generation")
	}
	// Another user's token cannot be made from this one: its payload
	// changed (a user, a generation, a later end) breaks the signature.
	payload, sig, _ := strings.Cut(tok, ".")
	forged := func(p string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + sig
	}
	e := fmt.Sprint(end.Unix())
	for _, bad := range []string{"", "x", tok + "x", strings.Replace(tok, ".", ".A", 1), payload,
		forged("ws1\x00" + gen + "\x00" + e + "\x00c-43"), forged("ws1\x00" + gen + "\x00" + fmt.Sprint(end.Add(time.Hour).Unix()) + "\x00c-42"),
		forged("ws2\x00" + gen + "\x00" + e + "\x00c-42"), forged("ws1\x00other\x00" + e + "\x00c-42"),
		PreferencesToken([]byte("other"), "ws1", "c-42", gen, end)} {
		if _, _, _, _, ok := ParsePreferences(secret, bad); ok {
			t.Errorf("ParsePreferences(%q) accepted a token it did not make", bad)
		}
	}
	if _, _, _, _, ok := ParsePreferences(nil, tok); ok {
		t.Error("ParsePreferences without a secret accepted a token")
	}
	// Neither kind of token is the other.
	if _, _, _, _, ok := ParsePreferences(secret, Token(secret, "ws1", "c-42")); ok {
		t.Error("an unsubscribe token opens the preference page")
	}
	if _, _, ok := Parse(secret, tok); ok {
		t.Error("a preference token unsubscribes")
	}
	if _, _, ok := Parse(secret, forever); ok {
		t.Error("a preference token without an end unsubscribes")
	}
	if got, want := PreferencesURL("https://h.example/", secret, "ws1", "c-42", gen, end), "https://h.example/preferences/"+tok; got != want {
		t.Errorf("PreferencesURL = %q, want %q", got, want)
	}
}

func TestEmailFooter(t *testing.T) {
	tests := []struct{ lang, words string }{
		{"", "Manage your preferences"},
		{"en", "Manage your preferences"},
		{"es-MX", "Gestionar tus preferencias"},
		{"pl", "Zarządzaj swoimi preferencjami"},
		{"pt_BR", "Gerir as suas preferências"},
		{"fi", "Manage your preferences"},
	}
	for _, tt := range tests {
		text, html := EmailFooter("https://h.example/preferences/a.b?x=1&y=2", tt.lang)
		if want := tt.words + ": https://h.example/preferences/a.b?x=1&y=2"; !strings.HasSuffix(text, want) {
			t.Errorf("EmailFooter(%q) text = %q, want it to end with %q", tt.lang, text, want)
		}
		if want := `<a href="https://h.example/preferences/a.b?x=1&amp;y=2">` + tt.words + `</a>`; !strings.Contains(html, want) {
			t.Errorf("EmailFooter(%q) html = %q, want %q", tt.lang, html, want)
		}
	}
}
