package boltstore

import (
	"encoding/json"
	"testing"

	"github.com/heraldhq/herald/shared/notify"
)

// TestRawFilterNeverHidesAMatch: whatever the record holds, a user that
// Matches a filter passes the byte test first (it may only let through
// users that then fail Matches).
func TestRawFilterNeverHidesAMatch(t *testing.T) {
	users := []notify.User{
		{ID: "u1", Name: "Ana Pérez", Email: "ANA@Example.com", Phone: "+34600123456", Status: "active", Type: "client", Language: "es", Tags: []string{"vip", "a<b&c"}},
		{ID: "İstanbul-1", Name: "İPEK", Status: "a\"quoted\"", Tags: []string{"ü"}},
		{ID: "K3", Name: "\u212a elvin", Email: "x@y.z", Status: "<script>", Type: "c&d"},
		{ID: "u4", Name: "José", Phone: "+5511987654321", Language: "pt-BR"},
	}
	filters := []notify.UserFilter{
		{Q: "pérez"}, {Q: "PÉREZ"}, {Q: "ana@example"}, {Q: "600 123"}, {Q: "+34 600"}, {Q: "i"}, {Q: "ipek"}, {Q: "i̇pek"}, {Q: "k"},
		{Q: "kelvin"}, {Q: "jos"}, {Q: "josé"}, {Q: "JOSÉ"}, {Q: "987654321"}, {Q: "u"}, {Q: "\""},
		{Status: []string{"active"}}, {Status: []string{"a\"quoted\""}}, {Status: []string{"<script>"}}, {Type: "c&d"}, {Type: "client"},
		{Language: "pt-BR"}, {Tags: []string{"a<b&c"}}, {Tag: "ü"}, {Tags: []string{"vip"}, Status: []string{"active"}},
		{Status: []string{"active", "inactive"}},
	}
	for _, u := range users {
		raw, err := json.Marshal(newUserRecord(u))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range filters {
			if f.Matches(u) && !newRawFilter(f).mayMatch(raw) {
				t.Errorf("user %q matches %+v but the byte test rejects it", u.ID, f)
			}
		}
	}
	// And it does reject: a search for a name nobody has.
	raw, _ := json.Marshal(newUserRecord(users[0]))
	for _, f := range []notify.UserFilter{{Q: "zzz"}, {Status: []string{"inactive"}}, {Type: "prospect"}, {Tags: []string{"gold"}}} {
		if newRawFilter(f).mayMatch(raw) {
			t.Errorf("the byte test lets %+v through for a user it cannot match", f)
		}
	}
}
