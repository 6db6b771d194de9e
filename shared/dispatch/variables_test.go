package dispatch

import (
	"testing"

	"github.com/heraldhq/herald/shared/notify"
)

// TestVariablesLookupAgreesWithVariablesFor: the lookup through the
// layers finds exactly what the merged map of variablesFor holds.
func TestVariablesLookupAgreesWithVariablesFor(t *testing.T) {
	ana := &notify.User{ID: "u1", Name: "Ana", Language: "es", Attributes: map[string]string{"plan": "pro", "name": "attr-name", "email": "attr-email"}}
	empty := &notify.User{ID: "", Attributes: map[string]string{"phone": "attr-phone", "attributes.odd": "odd"}}
	wa := notify.Template{WhatsApp: &notify.WhatsAppTemplate{Name: "ready", Parameters: []string{"order", "missing", "name"}}}
	tests := []struct {
		name string
		n    notify.Notification
		r    notify.Recipient
		u    *notify.User
	}{
		{"address only", notify.Notification{Variables: map[string]string{"code": "X1"}}, notify.Recipient{Address: "+34600000001"}, nil},
		{"user over send", notify.Notification{Variables: map[string]string{"name": "cliente", "code": "X1", "plan": "basic"}}, notify.Recipient{UserID: "u1"}, ana},
		{"recipient over all", notify.Notification{Variables: map[string]string{"code": "X1"}},
			notify.Recipient{UserID: "u1", Variables: map[string]string{"code": "ROW7", "name": "Ana María", "2": "row-two"}}, ana},
		{"empty profile fields fall to attributes", notify.Notification{Variables: map[string]string{"id": "send-id", "name": "send-name"}}, notify.Recipient{UserID: "x"}, empty},
		{"numbered parameters", notify.Notification{Variables: map[string]string{"order": "A-1"}, Content: wa},
			notify.Recipient{UserID: "u1", Variables: map[string]string{"2": "row-two", "1": "row-one"}}, ana},
	}
	names := []string{"id", "name", "email", "phone", "language", "status", "type", "plan", "attributes.plan", "attributes.name",
		"attributes.odd", "odd", "code", "order", "missing", "1", "2", "3", "4", "01", "nope"}
	for _, tt := range tests {
		want, _ := variablesFor(tt.n, tt.r, tt.u)
		v := variables{n: &tt.n, r: &tt.r, u: tt.u}
		for _, name := range names {
			got, ok := v.lookup(name)
			w, wok := want[name]
			if got != w || ok != wok {
				t.Errorf("%s: lookup(%q) = %q, %t; variablesFor has %q, %t", tt.name, name, got, ok, w, wok)
			}
		}
	}
}
