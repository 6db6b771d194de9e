package httpapi

import (
	"net/http"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

// Metrics is where the delivery figures GET /v1/metrics answers come
// from: the local mode's in-memory figures (shared/memmetrics).
type Metrics interface {
	Snapshot() metrics.Snapshot
}

// getMetrics answers the delivery figures of this process since it
// started: what its dispatch workers sent, failed and skipped, by channel
// and reason, provider latency and queue age, and what the providers
// reported back. They are the process's, all workspaces together (the
// local mode has one), and hold counts and durations only.
//
// On AWS no function keeps such figures: the dispatch and callbacks
// functions write them as CloudWatch metrics, so the route says where to
// look instead (503 not_configured).
func (s *Server) getMetrics(w http.ResponseWriter, _ *http.Request, _ notify.APIKey) error {
	if s.metrics == nil {
		return notify.Errorf(notify.CodeNotConfigured, "delivery figures are kept in memory by the local mode only; on AWS they are "+
			"CloudWatch metrics (namespace Herald/<stack name>): open the dashboard in the stack's DeliveryDashboardUrl output")
	}
	writeJSON(w, http.StatusOK, s.metrics.Snapshot())
	return nil
}
