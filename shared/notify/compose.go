package notify

import "time"

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
