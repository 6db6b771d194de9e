package main

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ingester is what the handler needs of *ingest.Ingester.
type ingester interface {
	Ingest(ctx context.Context, key string) error
}

// newHandler is the ingest function's handler: S3 ObjectCreated events of
// the uploads bucket, each record's object key (URL-decoded, as S3 sends
// keys encoded) ingested in turn. An error makes Lambda retry the event
// (twice, then its on-failure destination); keys that need nothing are
// not errors, and records of other events are skipped.
func newHandler(g ingester) func(context.Context, events.S3Event) error {
	return func(ctx context.Context, ev events.S3Event) error {
		var errs []error
		for _, r := range ev.Records {
			if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
				continue
			}
			if err := g.Ingest(ctx, r.S3.Object.URLDecodedKey); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}
