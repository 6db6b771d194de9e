package audience

import (
	"context"
	"encoding/json"

	"github.com/heraldhq/herald/shared/notify"
)

// HandleMessage handles one audience queue message: a step (Job). A step
// that fails returns its error, and comes back after the queue's
// visibility timeout (the audience queue's redrive policy dead-letters it
// after a few tries); a message that is not a step is dropped with a log
// line, since retrying cannot help. The audience function's handler calls
// it with each record's body, and Run with each message it receives.
func (w *Walker) HandleMessage(ctx context.Context, body []byte) error {
	var j Job
	if err := json.Unmarshal(body, &j); err != nil || j.WorkspaceID == "" || j.NotificationID == "" || j.Segments <= 0 {
		w.log().Error("audience queue message that is not a step: dropped")
		return nil
	}
	return w.Handle(ctx, j)
}

// Run takes steps from queue until ctx ends, as the local mode's audience
// worker: each step is deleted once handled, and a failed one comes back
// after the queue's visibility timeout.
func (w *Walker) Run(ctx context.Context, queue notify.Queue) {
	// One at a time: the segments run on parallel workers.
	notify.Consume(ctx, queue, 1, "audience step", w.log(), w.HandleMessage)
}
