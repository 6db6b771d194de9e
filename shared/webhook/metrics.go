package webhook

import (
	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

// Metrics counts what providers report, for the operator's figures
// (package metrics names them and bounds their dimensions): the
// CloudWatch embedded metric format lines of shared/emf on AWS, the
// in-memory figures of shared/memmetrics locally.
type Metrics interface {
	// Callback counts one report on a channel that moved a delivery
	// (metrics.Delivered, Read, Failed, with the failure's reason), or a
	// complaint.
	Callback(ch notify.Channel, outcome metrics.Outcome, reason string)
}

// count counts a callback when m is set: every endpoint's Metrics is
// optional.
func count(m Metrics, ch notify.Channel, o metrics.Outcome, reason string) {
	if m != nil {
		m.Callback(ch, o, reason)
	}
}
