package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldhq/herald/shared/notify"
)

func TestVariables(t *testing.T) {
	got := Variables("Hi {{ name }}", "{{offer}} off for {{name}}, plan {{attributes.plan}} {{1}} {{ bad var }}")
	want := []string{"1", "attributes.plan", "name", "offer"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Variables mismatch (-want +got):\n%s", diff)
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		text        string
		vars        map[string]string
		want        string
		wantMissing []string
	}{
		{"Hi {{name}}", map[string]string{"name": "Ana"}, "Hi Ana", nil},
		{"Hi {{ name }}!", map[string]string{"name": "Ana"}, "Hi Ana!", nil},
		{"{{a}}{{b}}{{a}}", map[string]string{"b": "x"}, "x", []string{"a", "a"}},
		{"no vars", nil, "no vars", nil},
		{"{{v}}", map[string]string{"v": "{{name}}"}, "{{name}}", nil}, // values are not re-rendered
	}
	for _, tt := range tests {
		got, missing := Text(tt.text, tt.vars)
		if got != tt.want || !cmp.Equal(missing, tt.wantMissing) {
			t.Errorf("Text(%q) = %q, %v; want %q, %v", tt.text, got, missing, tt.want, tt.wantMissing)
		}
	}
}

func TestRenderVariation(t *testing.T) {
	tpl := notify.Template{
		Title: "Save energy", Body: "Hi {{name}}, {{offer}} off",
		Variations: map[string]notify.Variation{
			"es":    {Title: "Ahorra", Body: "Hola {{name}}, {{offer}} de descuento"},
			"pt-BR": {Body: "Olá {{name}}"},
		},
	}
	tests := []struct {
		lang      string
		wantTitle string
		wantBody  string
		wantLang  string
	}{
		{"es-MX", "Ahorra", "Hola Ana, 10% de descuento", "es"},
		{"ES", "Ahorra", "Hola Ana, 10% de descuento", "es"},
		{"pt-PT", "Save energy", "Olá Ana", "pt-BR"},
		{"pl", "Save energy", "Hi Ana, 10% off", ""},
		{"", "Save energy", "Hi Ana, 10% off", ""},
	}
	for _, tt := range tests {
		m, missing := Render(tpl, tt.lang, map[string]string{"name": "Ana", "offer": "10%"})
		if m.Title != tt.wantTitle || m.Body != tt.wantBody || m.Language != tt.wantLang || len(missing) != 0 {
			t.Errorf("Render(lang %q) = %q/%q/%q missing %v; want %q/%q/%q", tt.lang, m.Title, m.Body, m.Language, missing, tt.wantTitle, tt.wantBody, tt.wantLang)
		}
		if m.Route != DefaultRoute {
			t.Errorf("Render route = %q, want %q", m.Route, DefaultRoute)
		}
	}
	_, missing := Render(tpl, "", map[string]string{})
	if diff := cmp.Diff([]string{"name", "offer"}, missing); diff != "" {
		t.Errorf("Render missing (-want +got):\n%s", diff)
	}
}

func TestUserVariables(t *testing.T) {
	u := notify.User{ID: "c1", Name: "Ana", Attributes: map[string]string{"plan": "solar", "name": "shadow"}}
	vars := UserVariables(u)
	if vars["name"] != "Ana" || vars["plan"] != "solar" || vars["attributes.plan"] != "solar" || vars["id"] != "c1" {
		t.Errorf("UserVariables = %v", vars)
	}
	merged := Merge(map[string]string{"name": "Customer", "offer": "5%"}, vars, map[string]string{"offer": "10%"})
	if merged["name"] != "Ana" || merged["offer"] != "10%" {
		t.Errorf("Merge = %v, want name Ana (user over default) and offer 10%% (recipient over all)", merged)
	}
}

func TestUserVariableAgreesWithUserVariables(t *testing.T) {
	users := []notify.User{
		{ID: "c1", Name: "Ana", Email: "ana@example.com", Attributes: map[string]string{"plan": "solar", "name": "shadow", "email": ""}},
		{ID: "c2", Attributes: map[string]string{"name": "from-attribute", "status": "vip"}},
		{ID: "c3", Phone: "+34600000001", Language: "es", Status: "active", Type: "client"},
	}
	names := []string{"id", "name", "email", "phone", "language", "status", "type", "plan", "attributes.plan", "attributes.name", "nope"}
	for _, u := range users {
		vars := UserVariables(u)
		for _, name := range names {
			if got, want := UserVariable(u, name), vars[name]; got != want {
				t.Errorf("UserVariable(%s, %q) = %q, want %q (as UserVariables)", u.ID, name, got, want)
			}
		}
	}
}

func TestRequired(t *testing.T) {
	tests := []struct {
		name string
		tpl  notify.Template
		want []string
	}{
		{"text and variations", notify.Template{Title: "Hi {{name}}", Body: "{{offer}}", Variations: map[string]notify.Variation{"es": {Body: "{{oferta}}"}}},
			[]string{"name", "oferta", "offer"}},
		{"email parts", notify.Template{Body: "x", Email: &notify.EmailExtras{Subject: "{{subject}}", HTML: "<p>{{html}}</p>"}}, []string{"html", "subject"}},
		{"whatsapp numbers mapped", notify.Template{Body: "Hola {{1}}, {{2}}", WhatsApp: &notify.WhatsAppTemplate{Name: "t", Parameters: []string{"name", "plan"}}},
			[]string{"name", "plan"}},
		{"whatsapp without mapping keeps numbers", notify.Template{Body: "Hola {{1}}", WhatsApp: &notify.WhatsAppTemplate{Name: "t"}}, []string{"1"}},
		{"none", notify.Template{Body: "plain"}, []string{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Required(tt.tpl)); diff != "" {
			t.Errorf("Required(%s) (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestHTMLEscapesValues: a value cannot add markup to an email, leave its
// attribute, or make a link run script; the template's own markup stays.
func TestHTMLEscapesValues(t *testing.T) {
	vars := map[string]string{"name": `U1 <b>x</b>" onmouseover="alert(1)`, "link": "javascript:alert(1)", "site": "https://shop.example/?a=1&b=2", "mail": "mailto:help@shop.example"}
	got, missing := HTML(`<p>Hi {{name}}</p><a href="https://shop.example/?u={{name}}">x</a><a href="{{link}}">go</a><a href='{{site}}'>s</a><a href={{mail}}>m</a><img src="{{missing}}">`, vars)
	want := `<p>Hi U1 &lt;b&gt;x&lt;/b&gt;&#34; onmouseover=&#34;alert(1)</p><a href="https://shop.example/?u=U1 &lt;b&gt;x&lt;/b&gt;&#34; onmouseover=&#34;alert(1)">x</a><a href="#">go</a><a href='https://shop.example/?a=1&amp;b=2'>s</a><a href=mailto:help@shop.example>m</a><img src="">`
	if got != want {
		t.Errorf("HTML =\n %s\nwant\n %s", got, want)
	}
	if len(missing) != 1 || missing[0] != "missing" {
		t.Errorf("missing = %v", missing)
	}
	m, _ := Render(notify.Template{Channel: notify.ChannelEmail, Body: "Hi {{name}}", Email: &notify.EmailExtras{Subject: "For {{name}}", HTML: "<p>{{name}}</p>"}}, "", map[string]string{"name": "<i>Ana</i>"})
	if m.HTML != "<p>&lt;i&gt;Ana&lt;/i&gt;</p>" || m.Body != "Hi <i>Ana</i>" || m.Subject != "For <i>Ana</i>" {
		t.Errorf("Render: html %q, body %q, subject %q (only the HTML part is escaped)", m.HTML, m.Body, m.Subject)
	}
}
