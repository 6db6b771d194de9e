package render

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// TestCompiledRendersAsRender: a compiled template renders what Render
// renders, for every template, language and set of variables here.
func TestCompiledRendersAsRender(t *testing.T) {
	templates := []notify.Template{
		{},
		{Title: "Plain", Body: "no variables at all"},
		{Title: "Hi {{name}}", Body: "{{a}}{{b}}{{a}} and {{ name }}!", Route: "offers/{{id}}"},
		{Title: "Save {{offer}}", Body: "Hi {{name}}, {{offer}} off",
			Variations: map[string]notify.Variation{
				"es":    {Title: "Ahorra {{offer}}", Body: "Hola {{name}}, {{offer}} de descuento"},
				"pt-BR": {Body: "Olá {{name}}"},
				"fr":    {Title: "", Body: ""},
			}},
		{Title: "Bill", Body: "Pay {{amount}}", Email: &notify.EmailExtras{Subject: "Your bill, {{name}}",
			HTML: `<p>Hi {{name}}</p><a href="{{link}}">pay</a><img src='{{ image }}'><a href={{link}}>x</a> {{attributes.plan}}`}},
		{Title: "No subject", Body: "b", Email: &notify.EmailExtras{HTML: "<b>{{name}}</b>"}},
		{Title: "{{1}} and {{2}}", Body: "{{ 1 }}"},
	}
	varSets := []map[string]string{
		nil,
		{"name": "Ana", "offer": "10%", "a": "A", "b": "B", "id": "u1", "amount": "5 €", "link": "https://pay.example.com/?a=1&b=2",
			"image": "javascript:alert(1)", "attributes.plan": "pro", "1": "one", "2": "two"},
		{"name": `Ana <b>"&'`, "link": "mailto:x@example.com", "image": "  HTTP://X"},
		{"name": "", "link": ""},
	}
	for i, tpl := range templates {
		c := Compile(tpl)
		for _, lang := range []string{"", "es-MX", "pt", "fr", "de"} {
			for j, vars := range varSets {
				t.Run(fmt.Sprintf("template %d %q vars %d", i, lang, j), func(t *testing.T) {
					want, wantMissing := Render(tpl, lang, vars)
					got, gotMissing := c.Render(lang, func(name string) (string, bool) {
						v, ok := vars[name]
						return v, ok
					})
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("Compiled.Render (-Render +compiled):\n%s", diff)
					}
					if diff := cmp.Diff(wantMissing, gotMissing); diff != "" {
						t.Errorf("missing (-Render +compiled):\n%s", diff)
					}
				})
			}
		}
	}
}

func BenchmarkRender(b *testing.B) {
	tpl := notify.Template{Title: "Your energy report, {{name}}", Body: "Hello {{name}},\n\n" + string(make([]byte, 400))}
	vars := map[string]string{"name": "User 42"}
	b.Run("Render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Render(tpl, "", vars)
		}
	})
	b.Run("Compiled", func(b *testing.B) {
		c := Compile(tpl)
		lookup := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
		b.ReportAllocs()
		for b.Loop() {
			c.Render("", lookup)
		}
	})
}
