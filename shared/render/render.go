// Package render fills {{variables}} in message text and picks the language
// variation of a template for a recipient.
package render

import (
	"html"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
)

// varPattern matches {{name}}, {{ name }}, {{attributes.plan}} and the
// numbered WhatsApp parameters {{1}}.
var varPattern = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*\}\}`)

// Variables returns the distinct variable names used in texts, sorted.
func Variables(texts ...string) []string {
	seen := map[string]bool{}
	vars := []string{}
	for _, text := range texts {
		for _, m := range varPattern.FindAllStringSubmatch(text, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				vars = append(vars, m[1])
			}
		}
	}
	sort.Strings(vars)
	return vars
}

// TemplateVariables returns the variables of every text of t, including its
// variations and email parts.
func TemplateVariables(t notify.Template) []string {
	texts := []string{t.Title, t.Body}
	if t.Email != nil {
		texts = append(texts, t.Email.Subject, t.Email.HTML)
	}
	for _, v := range t.Variations {
		texts = append(texts, v.Title, v.Body)
	}
	return Variables(texts...)
}

// Required lists the variables a recipient's message needs filled: those
// t's texts use and, for an approved WhatsApp template, the variables its
// numbered parameters map to (in place of the numbers), sorted.
func Required(t notify.Template) []string {
	vars := TemplateVariables(t)
	if t.WhatsApp == nil {
		return vars
	}
	seen := map[string]bool{}
	out := []string{}
	for _, v := range vars {
		if _, err := strconv.Atoi(v); err == nil && len(t.WhatsApp.Parameters) > 0 {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	for _, p := range t.WhatsApp.Parameters {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Text replaces every {{variable}} of text found in vars. Missing variables
// are left out of the result and reported, in order of first use.
func Text(text string, vars map[string]string) (string, []string) {
	var missing []string
	out := varPattern.ReplaceAllStringFunc(text, func(m string) string {
		name := varPattern.FindStringSubmatch(m)[1]
		if v, ok := vars[name]; ok {
			return v
		}
		missing = append(missing, name)
		return ""
	})
	return out, missing
}

// HTML renders an email's HTML: like Text, but every value is escaped for
// HTML (a name like `Ana <b>` or one with a quote cannot add markup or
// leave its attribute), and a value that is a whole URL attribute (href,
// src, action…) is kept only when it is an http, https or mailto URL (a
// "javascript:" link in a variable becomes "#"). The template's own
// markup is the operator's and is kept as written.
func HTML(text string, vars map[string]string) (string, []string) {
	var missing []string
	var b strings.Builder
	last := 0
	for _, loc := range varPattern.FindAllStringSubmatchIndex(text, -1) {
		b.WriteString(text[last:loc[0]])
		name := text[loc[2]:loc[3]]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
		}
		if urlAttribute.MatchString(text[:loc[0]]) && !safeURL(v) {
			v = "#"
		}
		b.WriteString(html.EscapeString(v))
		last = loc[1]
	}
	b.WriteString(text[last:])
	return b.String(), missing
}

// urlAttribute matches text that ends inside a URL-valued attribute, just
// after its opening quote (or =): what follows is the start of the URL.
var urlAttribute = regexp.MustCompile(`(?i)\b(href|src|action|formaction|background|poster|cite|data)\s*=\s*["']?\s*$`)

// safeURL reports whether a value may start a URL attribute: an http,
// https or mailto URL (empty is harmless).
func safeURL(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v == "" || strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "mailto:")
}

// Message is a template rendered for one recipient.
type Message struct {
	Title   string
	Body    string
	Route   string
	Subject string
	HTML    string
	// Language is the variation used ("" for the template's default text).
	Language string
}

// DefaultRoute is where a push opens when no route is given: the app's home.
const DefaultRoute = "home"

// Render renders t in the best variation for language with vars. Missing
// lists every variable that vars lacks, without duplicates.
func Render(t notify.Template, language string, vars map[string]string) (Message, []string) {
	title, body := t.Title, t.Body
	lang := Variation(t, language)
	if lang != "" {
		v := t.Variations[lang]
		if v.Title != "" {
			title = v.Title
		}
		body = v.Body
	}
	var m Message
	var missing, miss []string
	m.Language = lang
	m.Title, miss = Text(title, vars)
	missing = append(missing, miss...)
	m.Body, miss = Text(body, vars)
	missing = append(missing, miss...)
	m.Route = t.Route
	if m.Route == "" {
		m.Route = DefaultRoute
	}
	if t.Email != nil {
		m.Subject, miss = Text(t.Email.Subject, vars)
		missing = append(missing, miss...)
		m.HTML, miss = HTML(t.Email.HTML, vars)
		missing = append(missing, miss...)
	}
	if m.Subject == "" {
		m.Subject = m.Title
	}
	return m, dedupe(missing)
}

// Variation returns the key of t.Variations that best fits a BCP 47
// language: the exact tag (any case), then its base language ("es" for
// "es-MX"), then a variation of the same base ("es-ES" for "es-MX"); "" when
// none fits and the default text applies.
func Variation(t notify.Template, language string) string {
	if language == "" || len(t.Variations) == 0 {
		return ""
	}
	lang := strings.ToLower(language)
	base, _, _ := strings.Cut(lang, "-")
	var sameBase []string
	for k := range t.Variations {
		lk := strings.ToLower(k)
		if lk == lang {
			return k
		}
		if kb, _, _ := strings.Cut(lk, "-"); kb == base {
			sameBase = append(sameBase, k)
		}
	}
	sort.Strings(sameBase)
	for _, k := range sameBase {
		if strings.EqualFold(k, base) {
			return k
		}
	}
	if len(sameBase) > 0 {
		return sameBase[0]
	}
	return ""
}

// UserVariables are the variables a user provides to every message: id,
// name, email, phone, language, status, type, and each attribute both by its
// own name and as attributes.<name>. Attributes never shadow the profile.
func UserVariables(u notify.User) map[string]string {
	vars := make(map[string]string, 8+2*len(u.Attributes))
	for k, v := range u.Attributes {
		vars[k] = v
		vars["attributes."+k] = v
	}
	set := func(k, v string) {
		if v != "" {
			vars[k] = v
		}
	}
	vars["id"] = u.ID
	set("name", u.Name)
	set("email", u.Email)
	set("phone", u.Phone)
	set("language", u.Language)
	set("status", u.Status)
	set("type", u.Type)
	return vars
}

// UserVariable is the one variable name of UserVariables(u), without
// building the map: what a count over a million users can afford.
func UserVariable(u notify.User, name string) string {
	v, _ := LookupUserVariable(&u, name)
	return v
}

// LookupUserVariable is UserVariables(*u)[name] and whether it is set,
// without the map: the profile's fields (id always, the others when not
// empty) over the attributes, by their own name and as attributes.<name>.
// A send renders a million recipients through it.
func LookupUserVariable(u *notify.User, name string) (string, bool) {
	var v string
	switch name {
	case "id":
		return u.ID, true
	case "name":
		v = u.Name
	case "email":
		v = u.Email
	case "phone":
		v = u.Phone
	case "language":
		v = u.Language
	case "status":
		v = u.Status
	case "type":
		v = u.Type
	}
	if v != "" {
		return v, true
	}
	if a, ok := u.Attributes[name]; ok {
		return a, true
	}
	if attr, ok := strings.CutPrefix(name, "attributes."); ok {
		if a, ok := u.Attributes[attr]; ok {
			return a, true
		}
	}
	return "", false
}

// Merge layers variable maps: later maps win.
func Merge(layers ...map[string]string) map[string]string {
	n := 0
	for _, l := range layers {
		n += len(l)
	}
	out := make(map[string]string, n)
	for _, l := range layers {
		for k, v := range l {
			out[k] = v
		}
	}
	return out
}

func dedupe(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	seen := map[string]bool{}
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
