package sdkapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSDKFiles: the SDK and its service worker are served to any origin
// (module scripts are fetched with CORS), without a token, with an ETag;
// the SDK stays small.
func TestSDKFiles(t *testing.T) {
	s := New(Services{}, Options{})
	for _, name := range []string{"herald.js", "herald-sw.js"} {
		req := httptest.NewRequest("GET", "/sdk/v1/"+name, nil)
		req.Header.Set("Origin", "https://shop.example")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "*" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") || rec.Body.Len() == 0 {
			t.Fatalf("%s: %d %v", name, rec.Code, rec.Header())
		}
		req = httptest.NewRequest("GET", "/sdk/v1/"+name, nil)
		req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
		rec2 := httptest.NewRecorder()
		s.ServeHTTP(rec2, req)
		if rec2.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", name, rec2.Code)
		}
	}
	if n := len(sdkFiles["/sdk/v1/herald.js"].body); n > 40<<10 {
		t.Errorf("herald.js is %d bytes uncompressed; keep it well under 15 KB gzipped", n)
	}
}
