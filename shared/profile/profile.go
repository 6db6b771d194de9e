// Package profile is the user service: the rules about a workspace's users
// (their profile fields, devices, push permission, preferences, presence
// and WhatsApp conversation window) written once, so that every edge that
// changes users (the HTTP API, the spreadsheet users import, the operator
// console) applies the same ones. The edges only decode, call and encode.
package profile

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/heraldhq/herald/shared/address"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
)

// Limits on what one user may carry.
const (
	MaxAttributes     = 50
	MaxTags           = 50
	MaxAttributeValue = 1024
)

// idPattern is what ids chosen by callers may look like: no '#', '/',
// spaces or control characters, so they are safe inside store keys and paths.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9._:@+\-]{1,128}$`)

// ValidID checks an id chosen by a caller (a user id); field names it in
// the error.
func ValidID(field, id string) error {
	if !idPattern.MatchString(id) || id == "." || id == ".." {
		return notify.Invalid(notify.FieldError{Field: field, Problem: "must be 1–128 characters of letters, digits and . _ : @ + -"})
	}
	return nil
}

// Input is a user's profile as a caller gives it (the body of PUT
// /v1/users/{id}, a users:batch item, a row of a users import). Absent (or null) fields keep
// their stored value; a field sent as "" (or an empty list or map) clears it.
type Input struct {
	ID         *string            `json:"id"`
	Name       *string            `json:"name"`
	Email      *string            `json:"email"`
	Phone      *string            `json:"phone"`
	Status     *string            `json:"status"`
	Type       *string            `json:"type"`
	Language   *string            `json:"language"`
	Timezone   *string            `json:"timezone"`
	Attributes *map[string]string `json:"attributes"`
	// MergeAttributes adds Attributes to the user's instead of replacing
	// them (a users import sets only the columns it has).
	MergeAttributes bool      `json:"-"`
	Tags            *[]string `json:"tags"`
}

// Apply validates in and merges it into u; fields are named with prefix
// in the *notify.Error it returns. National phone numbers are read in region.
func (in Input) Apply(u *notify.User, region, prefix string) error {
	var bad []notify.FieldError
	add := func(field, problem string) {
		bad = append(bad, notify.FieldError{Field: prefix + field, Problem: problem})
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	if in.Name != nil {
		if v := str(in.Name); len(v) > 256 {
			add("name", "at most 256 characters")
		} else {
			u.Name = v
		}
	}
	if in.Email != nil {
		v := str(in.Email)
		if v != "" {
			norm, err := address.Email(v)
			if err != nil {
				add("email", err.Error())
			}
			v = norm
		}
		u.Email = v
	}
	if in.Phone != nil {
		v := str(in.Phone)
		if v != "" {
			e164, err := address.Phone(v, region)
			if err != nil {
				add("phone", err.Error())
			}
			v = e164
		}
		u.Phone = v
	}
	if in.Status != nil {
		if v := str(in.Status); len(v) > 64 {
			add("status", "at most 64 characters")
		} else {
			u.Status = v
		}
	}
	if in.Type != nil {
		switch v := str(in.Type); v {
		case "", "client", "newsletter":
			u.Type = v
		default:
			add("type", "must be client or newsletter")
		}
	}
	if in.Language != nil {
		v := str(in.Language)
		if v != "" {
			tag, err := language.Parse(v)
			if err != nil {
				add("language", "not a BCP 47 language tag")
			} else {
				v = tag.String()
			}
		}
		u.Language = v
	}
	if in.Timezone != nil {
		v := str(in.Timezone)
		if v != "" {
			if _, err := time.LoadLocation(v); err != nil || v == "Local" {
				add("timezone", "not an IANA time zone such as Europe/Madrid")
			}
		}
		u.Timezone = v
	}
	if in.Attributes != nil {
		attrs := *in.Attributes
		if len(attrs) > MaxAttributes {
			add("attributes", fmt.Sprintf("at most %d attributes", MaxAttributes))
		}
		for k, v := range attrs {
			if k == "" || len(k) > 64 {
				add("attributes", "names must be 1–64 characters")
				break
			}
			if len(v) > MaxAttributeValue {
				add("attributes."+k, fmt.Sprintf("at most %d characters", MaxAttributeValue))
			}
		}
		if in.MergeAttributes && len(u.Attributes) > 0 {
			merged := make(map[string]string, len(u.Attributes)+len(attrs))
			for k, v := range u.Attributes {
				merged[k] = v
			}
			for k, v := range attrs {
				merged[k] = v
			}
			if len(merged) > MaxAttributes {
				add("attributes", fmt.Sprintf("at most %d attributes; the user would have %d", MaxAttributes, len(merged)))
			}
			attrs = merged
		}
		u.Attributes = attrs
		if len(attrs) == 0 {
			u.Attributes = nil
		}
	}
	if in.Tags != nil {
		tags := *in.Tags
		if len(tags) > MaxTags {
			add("tags", fmt.Sprintf("at most %d tags", MaxTags))
		}
		seen := map[string]bool{}
		var clean []string
		for i, t := range tags {
			t = strings.TrimSpace(t)
			if t == "" || len(t) > 64 {
				add(fmt.Sprintf("tags[%d]", i), "must be 1–64 characters")
				continue
			}
			if !seen[t] {
				seen[t] = true
				clean = append(clean, t)
			}
		}
		u.Tags = clean
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	return nil
}

// UpsertStore is what Upsert needs of the store: the users import calls
// Upsert with a store that has only these.
type UpsertStore interface {
	GetUser(ctx context.Context, workspaceID, id string) (notify.User, error)
	PutUser(ctx context.Context, u notify.User) (notify.User, error)
}

// Upsert merges in into user id of workspace ws, or into a new user, and
// stores the result. prefix names the fields in a validation error.
func Upsert(ctx context.Context, store UpsertStore, ws, id string, in Input, region, prefix string, now time.Time) (notify.User, error) {
	if err := ValidID(prefix+"id", id); err != nil {
		return notify.User{}, err
	}
	if err := notify.CheckText(in, strings.TrimSuffix(prefix, ".")); err != nil {
		return notify.User{}, err
	}
	now = now.UTC().Truncate(time.Millisecond)
	u, err := store.GetUser(ctx, ws, id)
	if notify.IsCode(err, notify.CodeNotFound) {
		u = notify.User{WorkspaceID: ws, ID: id, PushPermission: notify.PermissionAsk, SealKey: seal.NewKey(), CreatedAt: now}
	} else if err != nil {
		return notify.User{}, err
	}
	if err := in.Apply(&u, region, prefix); err != nil {
		return notify.User{}, err
	}
	u.UpdatedAt = now
	return store.PutUser(ctx, u)
}
