package unsubscribe

import (
	"context"
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
