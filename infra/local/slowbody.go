package main

import (
	"io"
	"net/http"
	"time"
)

// bodyPace keeps a slow client from holding a request open: API Gateway
// does this on AWS; locally the server must. A body must keep coming (no
// pause longer than Idle) and, after Grace, at an average of at least
// MinRate bytes a second, or its reads fail and the request ends with an
// error. A 50 MB spreadsheet at MinRate's 32 KiB/s still fits; fifty
// clients trickling a byte at a time are cut off after Grace.
type bodyPace struct {
	Next    http.Handler
	Idle    time.Duration
	Grace   time.Duration
	MinRate int64 // bytes per second
	Now     func() time.Time
}

// newBodyPace returns the local server's pace: 15 s idle, 30 s grace, 32 KiB/s.
func newBodyPace(next http.Handler) *bodyPace {
	return &bodyPace{Next: next, Idle: 15 * time.Second, Grace: 30 * time.Second, MinRate: 32 << 10, Now: time.Now}
}

func (p *bodyPace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &pacedBody{ReadCloser: r.Body, rc: http.NewResponseController(w), p: p, start: p.Now()}
	}
	p.Next.ServeHTTP(w, r)
}

type pacedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	p     *bodyPace
	start time.Time
	read  int64
}

// Read sets the connection's read deadline before each read: the sooner of
// the idle limit and the time by which the bytes read so far (plus this
// read's share) were due at MinRate after Grace.
func (b *pacedBody) Read(buf []byte) (int, error) {
	now := b.p.Now()
	due := b.start.Add(b.p.Grace + time.Duration(b.read*int64(time.Second)/b.p.MinRate))
	deadline := now.Add(b.p.Idle)
	if due.Before(deadline) {
		deadline = due
	}
	if !deadline.After(now) {
		return 0, errSlowBody
	}
	// A server that cannot set deadlines (a test recorder) just reads.
	_ = b.rc.SetReadDeadline(deadline)
	n, err := b.ReadCloser.Read(buf)
	b.read += int64(n)
	return n, err
}

// errSlowBody ends a body that arrives too slowly.
var errSlowBody = slowBodyError{}

type slowBodyError struct{}

func (slowBodyError) Error() string { return "the request body arrived too slowly" }
