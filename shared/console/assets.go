package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

//go:embed html/*.html
var htmlFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// asset is one embedded file served under its content-hashed name.
type asset struct {
	body        []byte
	contentType string
}

// assets by hashed name, and hashed names by file name: computed once, so
// a changed file gets a new URL and browsers may cache every URL forever.
var assets, hashed = loadAssets()

// assetTypes are the content types of the assets' kinds, as
// mime.TypeByExtension names them (JavaScript's the current name): asking
// it loads the system's MIME database (/etc/mime.types and the like), a
// few milliseconds of every cold start of the functions that link the
// console.
var assetTypes = map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

func loadAssets() (map[string]asset, map[string]string) {
	byHash, byName := map[string]asset{}, map[string]string{}
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(e.Name())
		name := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:])[:12] + ext
		ct, ok := assetTypes[ext]
		if !ok {
			ct = mime.TypeByExtension(ext)
		}
		byHash[name] = asset{body: b, contentType: ct}
		byName[e.Name()] = "/assets/" + name
	}
	return byHash, byName
}

// AssetPath is the URL of an embedded asset by its file name.
func AssetPath(name string) string {
	p, ok := hashed[name]
	if !ok {
		panic(fmt.Sprintf("console: no asset %q", name))
	}
	return p
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(a.body)
}

var funcs = template.FuncMap{
	"asset": AssetPath,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"add":     func(a, b int) int { return a + b },
	"sub":     func(a, b int) int { return a - b },
	"mul":     func(a, b int) int { return a * b },
	"seconds": func(d time.Duration) int { return int(d.Seconds()) },
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"channelName": channelName,
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"permission": func(p notify.PushPermission) string {
		switch p {
		case notify.PermissionAllowed:
			return "Allowed"
		case notify.PermissionBlocked:
			return "Blocked"
		}
		return "Ask"
	},
	"clip":      clip,
	"reason":    reasonText,
	"sentence":  sentence,
	"hasPrefix": strings.HasPrefix,
	"sourceName": func(s notify.Source) string {
		switch s {
		case notify.SourceSingle:
			return "One user"
		case notify.SourceList:
			return "List"
		case notify.SourceFilter:
			return "Segment"
		case notify.SourceSpreadsheet:
			return "Spreadsheet"
		case notify.SourceCampaign:
			return "Campaign"
		}
		return string(s)
	},
	"roleAllows": func(r notify.Role, want string) bool { return r.Allows(notify.Role(want)) },
}

// channelName is how a channel is written on screen.
func channelName(c notify.Channel) string {
	switch c {
	case notify.ChannelPush:
		return "Mobile push"
	case notify.ChannelWebPush:
		return "Web push"
	case notify.ChannelSMS:
		return "SMS"
	case notify.ChannelEmail:
		return "Email"
	case notify.ChannelWhatsApp:
		return "WhatsApp"
	case notify.ChannelInApp:
		return "In-app inbox"
	}
	return string(c)
}

// sentence starts a message with a capital letter: the API's messages are
// written to follow "error: ", the console shows them on their own.
func sentence(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// reasons say in words why a delivery was skipped or failed; the code
// stays beside them, as the API and the result sheet write it.
var reasons = map[string]string{
	notify.ReasonNoConsent:       "switched this channel or kind off",
	notify.ReasonNoDevice:        "no device for push",
	notify.ReasonBlocked:         "push blocked",
	notify.ReasonActiveInApp:     "active in the app: other channels hold back",
	notify.ReasonWindowExpired:   "WhatsApp window expired",
	notify.ReasonInvalidAddress:  "no valid address",
	notify.ReasonDuplicate:       "already a recipient",
	notify.ReasonUnknownUser:     "no such user",
	notify.ReasonMissingVariable: "a variable has no value",
	notify.ReasonCancelled:       "the send was cancelled",
	notify.ReasonProviderError:   "the provider refused it",
}

func reasonText(code string) string {
	head, rest, _ := strings.Cut(code, ":")
	if text, ok := reasons[head]; ok {
		if rest != "" {
			return text + " (" + head + ":" + rest + ")"
		}
		return text + " (" + head + ")"
	}
	return code
}
