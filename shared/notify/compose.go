package notify

import (
	"fmt"
	"time"
)

// ComposeChoice is one tone or category an operator picks when asking for
// AI-written text. The description is what the prompt tells the model the
// choice means, so it is written for the model as much as for people.
type ComposeChoice struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// ComposeSettings are what a workspace changed of AI composition: its own
// categories (nil keeps the defaults) and a short description of the brand
// that every prompt carries. A workspace that never saved any has none
// (GetComposeSettings answers not_found).
type ComposeSettings struct {
	WorkspaceID string          `json:"-"`
	Categories  []ComposeChoice `json:"categories,omitempty"`
	Brand       string          `json:"brand,omitempty"`
	UpdatedAt   time.Time       `json:"updatedAt"`
}

// ComposeUsage is what a workspace spent on AI composition on one UTC day
// with one model: calls to the model and their tokens. The store adds to it
// atomically; it is kept for billing and quotas, not per request.
type ComposeUsage struct {
	WorkspaceID  string `json:"-"`
	Day          string `json:"day"` // YYYY-MM-DD, UTC
	Model        string `json:"model"`
	Requests     int64  `json:"requests"`
	InputTokens  int64  `json:"inputTokens"`
	OutputTokens int64  `json:"outputTokens"`
}

// CheckDay rejects a day that is not YYYY-MM-DD, naming field: usage is
// kept by day and sorts as text, which is day order only in that
// fixed-width form.
func CheckDay(field, day string) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil || len(day) != len(time.DateOnly) {
		return Invalid(FieldError{Field: field, Problem: fmt.Sprintf("%q is not a day (YYYY-MM-DD)", day)})
	}
	return nil
}
