package metrics

import "time"

// Snapshot is the figures of one process since it started, as GET
// /v1/metrics answers them (the local mode; on AWS the same figures are
// CloudWatch metrics). Every list is in a stable order: by channel as
// notify.Channels lists them, then outcome as Outcomes does, then reason.
type Snapshot struct {
	// Since is when the process started counting.
	Since time.Time `json:"since"`
	// Channels are dispatch's totals per channel, with the failure rate
	// the alarms watch on AWS.
	Channels []ChannelTotals `json:"channels"`
	// Deliveries are what dispatch recorded, by channel, outcome (sent,
	// failed, skipped) and reason.
	Deliveries []Count `json:"deliveries"`
	// Callbacks are the statuses providers reported that moved a delivery
	// (delivered, read, failed) and the complaints, by channel and reason.
	Callbacks []Count `json:"callbacks"`
	// ProviderLatency is how long each call to a channel's provider took.
	ProviderLatency []Summary `json:"providerLatency"`
	// QueueAge is how long dispatch messages waited in the queue before
	// their sends started, by the notification's channel.
	QueueAge []Summary `json:"queueAge"`
}

// Count is how many deliveries of a channel had an outcome for a reason
// (None for a send).
type Count struct {
	Channel string `json:"channel"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Count   int64  `json:"count"`
}

// ChannelTotals are dispatch's deliveries of one channel.
type ChannelTotals struct {
	Channel string `json:"channel"`
	Sent    int64  `json:"sent"`
	Failed  int64  `json:"failed"`
	Skipped int64  `json:"skipped"`
	// FailureRate is Failed / (Sent + Failed), as the alarms compute it;
	// nil when nothing was sent or failed.
	FailureRate *float64 `json:"failureRate"`
}

// Summary describes durations of one channel, in milliseconds. The
// percentiles are estimated from the histogram: each is the upper bound
// of the bucket it falls in, at most MaxMs.
type Summary struct {
	Channel string   `json:"channel"`
	Count   int64    `json:"count"`
	SumMs   float64  `json:"sumMs"`
	MinMs   float64  `json:"minMs"`
	MaxMs   float64  `json:"maxMs"`
	P50Ms   float64  `json:"p50Ms"`
	P90Ms   float64  `json:"p90Ms"`
	P99Ms   float64  `json:"p99Ms"`
	Buckets []Bucket `json:"buckets"`
}

// Bucket counts the durations above the previous bucket's bound up to
// LeMs; the last bucket has no bound (LeMs nil).
type Bucket struct {
	LeMs  *float64 `json:"leMs"`
	Count int64    `json:"count"`
}
