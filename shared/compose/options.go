package compose

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/notify"
)

// Tones are the intents an operator picks from. Their descriptions go into
// the prompt word for word, so they say what the text should do.
var Tones = []notify.ComposeChoice{
	{ID: "activation", Name: "Activation", Description: "Get the customer to take a first step they have not taken yet: try a feature, finish setting up, make a first use. Clear benefit, one concrete action, a welcoming voice."},
	{ID: "recurrence", Name: "Recurrence", Description: "Bring back a customer who has used the product before: remind them of the value they already got and invite them to come back or repeat the action. Friendly, familiar, never guilt-tripping."},
	{ID: "cross_selling", Name: "Cross-selling", Description: "Suggest a complementary product or service that fits what the customer already has. Explain why it suits them; helpful, not pushy."},
	{ID: "warning", Name: "Warning", Description: "Tell the customer about something that needs their attention (a deadline, an unusual event, a required action). Calm, precise and factual; say what happens and what to do. No exclamation marks, no jokes, no sales."},
	{ID: "fun_fact", Name: "Fun fact", Description: "Share a surprising, true and relevant fact that makes the customer smile and relates to the category. Light and curious; end with a gentle link to the product."},
}

// DefaultCategories are the subjects a workspace writes about until it
// saves its own list.
var DefaultCategories = []notify.ComposeChoice{
	{ID: "self_consumption", Name: "Self-consumption", Description: "Producing and using one's own energy, for example with solar panels and batteries at home: savings, independence, how much of their own production they use."},
	{ID: "energy_savings", Name: "Energy savings", Description: "Using less energy and paying less: habits, off-peak hours, efficient appliances, understanding the bill and consumption."},
	{ID: "cross_selling", Name: "Cross-selling", Description: "Other products and services of the company that complement the customer's current contract, such as maintenance, insurance, charging points or another supply."},
	{ID: "switching", Name: "Switching", Description: "Moving the customer's supply or contract to the company or to a better plan: what changes, what they gain, how simple the change is."},
	{ID: "energy_communities", Name: "Energy communities", Description: "Joining or benefiting from a local energy community: neighbours sharing renewable production, shared savings, local impact."},
}

// Limits of what a workspace may save.
const (
	MaxCategories        = 50
	maxChoiceName        = 60
	maxChoiceDescription = 500
	MaxBrand             = 1000
	maxBrief             = 2000
	maxFacts             = 10
	maxFact              = 300
	maxKeepVariables     = 10
	MaxVariants          = 5
	DefaultVariants      = 3
	maxSMSSegments       = 3
)

var choiceID = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,39}$`)

// Options are what an operator may choose in a workspace.
type Options struct {
	Tones      []notify.ComposeChoice `json:"tones"`
	Categories []notify.ComposeChoice `json:"categories"`
	// Brand describes the company in every prompt (empty: none).
	Brand string `json:"brand,omitempty"`
}

// OptionsOf returns the options of a workspace with settings s (the zero
// value for a workspace that saved none).
func OptionsOf(s notify.ComposeSettings) Options {
	o := Options{Tones: Tones, Categories: DefaultCategories, Brand: s.Brand}
	if len(s.Categories) > 0 {
		o.Categories = s.Categories
	}
	return o
}

func find(list []notify.ComposeChoice, id string) (notify.ComposeChoice, bool) {
	for _, c := range list {
		if c.ID == id {
			return c, true
		}
	}
	return notify.ComposeChoice{}, false
}

func ids(list []notify.ComposeChoice) string {
	s := make([]string, len(list))
	for i, c := range list {
		s[i] = c.ID
	}
	return strings.Join(s, ", ")
}

// ValidSettings checks what a workspace wants to save: categories with
// unique ids of lowercase letters, digits and _, a name and a description
// (the prompt relies on it), and a brand description of bounded length.
// An empty list of categories restores the defaults.
func ValidSettings(s notify.ComposeSettings) error {
	var bad []notify.FieldError
	add := func(f, p string) { bad = append(bad, notify.FieldError{Field: f, Problem: p}) }
	if len(s.Categories) > MaxCategories {
		add("categories", fmt.Sprintf("at most %d categories", MaxCategories))
	}
	seen := map[string]bool{}
	for i, c := range s.Categories {
		f := fmt.Sprintf("categories[%d]", i)
		switch {
		case !choiceID.MatchString(c.ID):
			add(f+".id", "1–40 lowercase letters, digits or _, starting with a letter or digit")
		case seen[c.ID]:
			add(f+".id", "duplicate id "+c.ID)
		}
		seen[c.ID] = true
		if n := utf8.RuneCountInString(strings.TrimSpace(c.Name)); n == 0 || n > maxChoiceName {
			add(f+".name", fmt.Sprintf("required, at most %d characters", maxChoiceName))
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(c.Description)); n == 0 || n > maxChoiceDescription {
			add(f+".description", fmt.Sprintf("required (the prompt uses it), at most %d characters", maxChoiceDescription))
		}
		if hasControl(c.Name) || hasControl(c.Description) {
			add(f, "no control characters or line breaks")
		}
	}
	if utf8.RuneCountInString(s.Brand) > MaxBrand {
		add("brand", fmt.Sprintf("at most %d characters", MaxBrand))
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	return nil
}

// hasControl reports control characters, line breaks included: a
// description is one line of the prompt.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// SettingsStore keeps a workspace's AI composition settings; notify.Store
// is one.
type SettingsStore interface {
	PutComposeSettings(ctx context.Context, s notify.ComposeSettings) error
}

// SaveSettings replaces what workspace workspaceID changed of AI
// composition (its categories, nil or empty for the defaults, and its
// brand) after trimming and checking them (ValidSettings), and returns the
// options they give. The API's PUT /v1/compose/options and the console's
// AI settings both save through it.
func SaveSettings(ctx context.Context, s SettingsStore, workspaceID string, categories []notify.ComposeChoice, brand string, now time.Time) (Options, error) {
	set := notify.ComposeSettings{WorkspaceID: workspaceID, Categories: categories, Brand: strings.TrimSpace(brand), UpdatedAt: now.UTC().Truncate(time.Millisecond)}
	for i := range set.Categories {
		c := &set.Categories[i]
		c.ID, c.Name, c.Description = strings.TrimSpace(c.ID), strings.TrimSpace(c.Name), strings.TrimSpace(c.Description)
	}
	if err := ValidSettings(set); err != nil {
		return Options{}, err
	}
	if err := s.PutComposeSettings(ctx, set); err != nil {
		return Options{}, fmt.Errorf("save compose settings of %s: %w", workspaceID, err)
	}
	return OptionsOf(set), nil
}
