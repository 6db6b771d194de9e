package sdkapi

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strings"
)

//go:embed files/herald.js files/herald-sw.js
var files embed.FS

// sdkFile is one of the SDK's files as served, with its ETag.
type sdkFile struct {
	body []byte
	etag string
}

// sdkFiles are served at /sdk/v1/<name>: the SDK module and the service
// worker customers copy to their own origin.
var sdkFiles = func() map[string]sdkFile {
	out := map[string]sdkFile{}
	for _, name := range []string{"herald.js", "herald-sw.js"} {
		b, err := files.ReadFile("files/" + name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		out["/sdk/v1/"+name] = sdkFile{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return out
}()

// serveFile answers GET of an SDK file, to any origin (a module script is
// fetched with CORS), cached for an hour and revalidated by ETag; false
// when path is not one.
func serveFile(w http.ResponseWriter, r *http.Request) bool {
	f, ok := sdkFiles[r.URL.Path]
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.Contains(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	if r.Method == http.MethodGet {
		_, _ = w.Write(f.body)
	}
	return true
}

// ServiceWorker is the SDK's service worker, for a site that serves it
// itself (make run's demo).
func ServiceWorker() []byte { return sdkFiles["/sdk/v1/herald-sw.js"].body }
