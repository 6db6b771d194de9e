package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRefuse: what the edge refuses is answered in the API's error shape,
// with the code of its status.
func TestRefuse(t *testing.T) {
	tests := []struct {
		status   int
		wantCode string
	}{
		{http.StatusBadRequest, "bad_request"},
		{http.StatusNotFound, "not_found"},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		Refuse(w, tt.status, "the request cannot be read")
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("Refuse(%d) body %q: %v", tt.status, w.Body.String(), err)
		}
		if w.Code != tt.status || body.Error.Code != tt.wantCode || body.Error.Message != "the request cannot be read" {
			t.Errorf("Refuse(%d) = %d %+v, want %d %s", tt.status, w.Code, body.Error, tt.status, tt.wantCode)
		}
		if got := w.Header().Get("Content-Type"); got != "application/json" {
			t.Errorf("Refuse(%d) Content-Type = %q, want application/json", tt.status, got)
		}
	}
}
