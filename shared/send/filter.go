package send

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
)

// filterInput is a user filter in a JSON body (a filter audience).
type filterInput struct {
	Status        []string          `json:"status"`
	Type          string            `json:"type"`
	Tag           string            `json:"tag"`
	Tags          []string          `json:"tags"`
	Language      string            `json:"language"`
	Attributes    map[string]string `json:"attributes"`
	PushEnabled   *bool             `json:"pushEnabled"`
	HasEmail      *bool             `json:"hasEmail"`
	HasPhone      *bool             `json:"hasPhone"`
	CreatedAfter  *time.Time        `json:"createdAfter"`
	CreatedBefore *time.Time        `json:"createdBefore"`
	Q             string            `json:"q"`
}

// ParseFilter decodes and checks the filter of a filter audience; field
// names in errors start with prefix.
func ParseFilter(raw json.RawMessage, prefix string) (notify.UserFilter, error) {
	var in filterInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return notify.UserFilter{}, notify.Invalid(notify.FieldError{Field: strings.TrimSuffix(prefix, "."), Problem: "must be an object of status, type, tag, tags, language, attributes, pushEnabled, hasEmail, hasPhone, createdAfter, createdBefore, q"})
	}
	f := notify.UserFilter{Status: in.Status, Type: in.Type, Tag: in.Tag, Tags: in.Tags, Language: in.Language, Attributes: in.Attributes,
		PushEnabled: in.PushEnabled, HasEmail: in.HasEmail, HasPhone: in.HasPhone, CreatedAfter: in.CreatedAfter, CreatedBefore: in.CreatedBefore, Q: in.Q}
	return f, ValidFilter(f, prefix)
}

// ValidFilter bounds a filter's sizes: it travels in queue messages.
func ValidFilter(f notify.UserFilter, prefix string) error {
	var bad []notify.FieldError
	if len(f.Status) > 20 {
		bad = append(bad, notify.FieldError{Field: prefix + "status", Problem: "at most 20 statuses"})
	}
	if len(f.Tags) > 20 {
		bad = append(bad, notify.FieldError{Field: prefix + "tags", Problem: "at most 20 tags"})
	}
	if len(f.Attributes) > 20 {
		bad = append(bad, notify.FieldError{Field: prefix + "attributes", Problem: "at most 20 attributes"})
	}
	for k, v := range f.Attributes {
		if len(k) > 64 || len(v) > profile.MaxAttributeValue {
			bad = append(bad, notify.FieldError{Field: prefix + "attributes." + k, Problem: fmt.Sprintf("names up to 64 characters, values up to %d", profile.MaxAttributeValue)})
		}
	}
	if f.CreatedAfter != nil && f.CreatedBefore != nil && !f.CreatedAfter.Before(*f.CreatedBefore) {
		bad = append(bad, notify.FieldError{Field: prefix + "createdBefore", Problem: "must be after createdAfter"})
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	return nil
}
