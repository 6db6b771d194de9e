package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/memmetrics"
	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

// TestMetricsRoute: GET /v1/metrics answers the figures it is given, as
// they are, to a key with the read scope; a server without figures (the
// api function on AWS) answers 503 not_configured saying where they are.
func TestMetricsRoute(t *testing.T) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	figures := memmetrics.New(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	figures.Delivery(notify.ChannelSMS, metrics.Sent, "")
	figures.Delivery(notify.ChannelSMS, metrics.Failed, "opted_out")
	figures.ProviderCall(notify.ChannelSMS, 40*time.Millisecond)
	for _, tt := range []struct {
		name    string
		figures Metrics
		status  int
		want    string // in the body
	}{
		{"local", figures, 200, `"deliveries":[{"channel":"sms","outcome":"sent","reason":"none","count":1},{"channel":"sms","outcome":"failed","reason":"opted_out","count":1}]`},
		{"aws", nil, 503, "DeliveryDashboardUrl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(testServer(store, &fakeQueue{}, deps{}, Options{Metrics: tt.figures}))
			defer srv.Close()
			e := &env{t: t, srv: srv, store: store}
			key := e.key("ws_"+tt.name, "k_"+tt.name, notify.ScopeRead)
			r := e.do("GET", "/v1/metrics", key, nil)
			if r.status != tt.status || !strings.Contains(r.raw, tt.want) {
				t.Fatalf("GET /v1/metrics = %d %s, want %d with %s", r.status, r.raw, tt.status, tt.want)
			}
			if tt.status != 200 {
				if r.errCode() != notify.CodeNotConfigured {
					t.Errorf("error code %q, want not_configured", r.errCode())
				}
				return
			}
			var got metrics.Snapshot
			if err := json.Unmarshal([]byte(r.raw), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(figures.Snapshot(), got); diff != "" {
				t.Errorf("answer (-figures +got):\n%s", diff)
			}
		})
	}
}
