package send

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/shared/address"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
)

// audienceForms names every form an audience takes.
const audienceForms = `{"userIds": [...]} (up to 10,000 of your user ids), {"addresses": [...]} (phones or emails, up to 10,000), {"filter": {...}, "expectedCount": n} (users by status, type, tags, language, attributes, pushEnabled...; n from a dry run) or, for a spreadsheet, POST /v1/uploads`

// audience validates the audience and returns its recipients, deduplicated.
func (s *Sender) audience(in Input) ([]notify.Recipient, notify.Source, []notify.FieldError) {
	a := in.Audience
	if a == nil {
		return nil, "", []notify.FieldError{{Field: "audience", Problem: "required: one of " + audienceForms}}
	}
	given := 0
	for _, set := range []bool{a.UserIDs != nil, a.Addresses != nil, a.Filter != nil, a.UploadID != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, "", []notify.FieldError{{Field: "audience", Problem: "give exactly one of " + audienceForms}}
	}
	if a.UploadID != "" {
		return nil, "", []notify.FieldError{{Field: "audience.uploadId", Problem: "a spreadsheet is sent by its upload: POST /v1/uploads with the templateId and channel, then PUT the file to its uploadUrl; the upload creates the notification (GET /v1/uploads/{id} names it)"}}
	}
	if a.Filter != nil {
		return nil, notify.SourceFilter, nil
	}
	var out []notify.Recipient
	var bad []notify.FieldError
	if a.UserIDs != nil {
		out, bad = userRecipients(a.UserIDs, s.maxList())
	} else {
		out, bad = s.addressRecipients(in.Channel, a.Addresses)
	}
	source := notify.SourceList
	if len(out) == 1 {
		source = notify.SourceSingle
	}
	return out, source, bad
}

// maxList bounds a list audience: a larger one travels in the request
// body, and is a filter or an upload instead.
func (s *Sender) maxList() int {
	if s.MaxListRecipients <= 0 {
		return 10000
	}
	return s.MaxListRecipients
}

// maxListProblems bounds the problems a list reports: the first ten are
// enough to see what is wrong with it.
const maxListProblems = 10

// userRecipients checks a list of user ids and returns them as
// recipients, each once.
func userRecipients(ids []string, max int) ([]notify.Recipient, []notify.FieldError) {
	if len(ids) == 0 || len(ids) > max {
		return nil, []notify.FieldError{{Field: "audience.userIds", Problem: fmt.Sprintf("1 to %d user ids; larger audiences use a filter or an upload", max)}}
	}
	var out []notify.Recipient
	var bad []notify.FieldError
	seen := map[string]bool{}
	for i, id := range ids {
		if profile.ValidID("", id) != nil {
			bad = append(bad, notify.FieldError{Field: fmt.Sprintf("audience.userIds[%d]", i), Problem: "not a valid user id"})
			if len(bad) >= maxListProblems {
				break
			}
			continue
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, notify.Recipient{UserID: id})
		}
	}
	return out, bad
}

// addressRecipients checks a list of raw addresses of the channel's kind
// and returns them normalized as recipients, each once: two spellings of
// one phone number are one recipient.
func (s *Sender) addressRecipients(ch notify.Channel, addrs []string) ([]notify.Recipient, []notify.FieldError) {
	if max := s.maxList(); len(addrs) == 0 || len(addrs) > max {
		return nil, []notify.FieldError{{Field: "audience.addresses", Problem: fmt.Sprintf("1 to %d addresses; larger audiences use an upload", max)}}
	}
	kind := ch.AddressKind()
	if kind == "" && ch == notify.ChannelInApp {
		return nil, []notify.FieldError{{Field: "audience.addresses", Problem: "inapp goes to users' inboxes: use userIds"}}
	}
	if kind == "" {
		return nil, []notify.FieldError{{Field: "audience.addresses", Problem: "push and webpush go to users' devices: use userIds"}}
	}
	var out []notify.Recipient
	var bad []notify.FieldError
	seen := map[string]bool{}
	for i, addr := range addrs {
		norm, err := address.Normalize(kind, addr, s.DefaultRegion)
		if err != nil {
			bad = append(bad, notify.FieldError{Field: fmt.Sprintf("audience.addresses[%d]", i), Problem: err.Error()})
			if len(bad) >= maxListProblems {
				break
			}
			continue
		}
		if !seen[norm] {
			seen[norm] = true
			out = append(out, notify.Recipient{Address: norm})
		}
	}
	return out, bad
}

// CountList applies the standing rules to a list audience: users by id
// (unknown ones are skipped as unknown_user) or raw addresses (all reached).
func (s *Sender) CountList(ctx context.Context, p Prepared) (audience.Count, error) {
	c := audience.Count{Matched: len(p.Recipients), Skipped: map[string]int{}}
	for i := 0; i < len(p.Recipients); i += 100 {
		batch := p.Recipients[i:min(i+100, len(p.Recipients))]
		var ids []string
		for _, rc := range batch {
			if rc.UserID != "" {
				ids = append(ids, rc.UserID)
			}
		}
		users := map[string]notify.User{}
		if len(ids) > 0 {
			var err error
			if users, err = s.Store.GetUsers(ctx, p.N.WorkspaceID, ids); err != nil {
				return c, err
			}
		}
		for _, rc := range batch {
			if rc.UserID == "" {
				c.Recipients++
				continue
			}
			u, ok := users[rc.UserID]
			reason := notify.ReasonUnknownUser
			if ok {
				reason = notify.StandingSkip(p.N, p.N.Channel, u)
			}
			if reason != "" {
				c.Skipped[reason]++
				continue
			}
			c.Recipients++
			if len(c.Sample) < audience.SampleSize {
				c.Sample = append(c.Sample, u)
			}
		}
	}
	return c, nil
}
