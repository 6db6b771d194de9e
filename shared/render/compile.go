package render

import (
	"html"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
)

// Compiled is a template parsed once for many recipients: a send renders
// the same template for every one of them, and Render scans its texts with
// regular expressions each time. Render gives, for each recipient, what
// Render(t, language, vars) gives with the same variables; its variables
// come from a lookup function, so that a caller layering several sources
// (the send's, the user's, the recipient's) need not merge them into a map
// per recipient.
type Compiled struct {
	t          notify.Template
	base       compiledTexts
	variations map[string]compiledTexts
}

// compiledTexts are the texts of one variation.
type compiledTexts struct {
	title, body, subject, html compiledText
}

// compiledText is a text cut into literal text and variables; the
// values of an HTML text's variables are escaped.
type compiledText struct {
	segs []segment
	html bool
}

// segment is literal text, or a variable (name set) whose value is
// escaped for HTML when html is set and, for one that is a whole URL
// attribute, kept only when it is a safe URL.
type segment struct {
	text, name string
	url        bool
}

// Lookup gives the value of a variable and whether there is one.
type Lookup func(name string) (string, bool)

// Compile parses t's texts: its title and body, each variation's, and its
// email subject and HTML.
func Compile(t notify.Template) *Compiled {
	c := &Compiled{t: t}
	var subject, htmlText string
	if t.Email != nil {
		subject, htmlText = t.Email.Subject, t.Email.HTML
	}
	c.base = compiledTexts{title: compile(t.Title, false), body: compile(t.Body, false), subject: compile(subject, false), html: compile(htmlText, true)}
	if len(t.Variations) > 0 {
		c.variations = make(map[string]compiledTexts, len(t.Variations))
		for k, v := range t.Variations {
			vt := c.base
			if v.Title != "" {
				vt.title = compile(v.Title, false)
			}
			vt.body = compile(v.Body, false)
			c.variations[k] = vt
		}
	}
	return c
}

func compile(text string, inHTML bool) compiledText {
	out := compiledText{html: inHTML}
	last := 0
	for _, loc := range varPattern.FindAllStringSubmatchIndex(text, -1) {
		if loc[0] > last {
			out.segs = append(out.segs, segment{text: text[last:loc[0]]})
		}
		s := segment{name: text[loc[2]:loc[3]]}
		if inHTML {
			s.url = urlAttribute.MatchString(text[:loc[0]])
		}
		out.segs = append(out.segs, s)
		last = loc[1]
	}
	if last < len(text) {
		out.segs = append(out.segs, segment{text: text[last:]})
	}
	return out
}

// render appends the text to b with the variables of lookup, adding the
// missing ones to missing, as Text (or HTML, for an HTML text) does.
func (c compiledText) render(b *strings.Builder, lookup Lookup, missing []string) []string {
	for _, s := range c.segs {
		if s.name == "" {
			b.WriteString(s.text)
			continue
		}
		v, ok := lookup(s.name)
		if !ok {
			missing = append(missing, s.name)
			v = ""
		}
		switch {
		case s.url:
			if !safeURL(v) {
				v = "#"
			}
			b.WriteString(html.EscapeString(v))
		case c.html:
			b.WriteString(html.EscapeString(v))
		default:
			b.WriteString(v)
		}
	}
	return missing
}

// string renders the text alone.
func (c compiledText) string(lookup Lookup, missing []string) (string, []string) {
	switch {
	case len(c.segs) == 0:
		return "", missing
	case len(c.segs) == 1 && c.segs[0].name == "":
		return c.segs[0].text, missing
	}
	var b strings.Builder
	missing = c.render(&b, lookup, missing)
	return b.String(), missing
}

// Render renders the template in the best variation for language, as
// Render does. Missing lists every variable that lookup lacks, without
// duplicates.
func (c *Compiled) Render(language string, lookup Lookup) (Message, []string) {
	texts := c.base
	lang := Variation(c.t, language)
	if lang != "" {
		texts = c.variations[lang]
	}
	var m Message
	var missing []string
	m.Language = lang
	m.Title, missing = texts.title.string(lookup, missing)
	m.Body, missing = texts.body.string(lookup, missing)
	m.Route = c.t.Route
	if m.Route == "" {
		m.Route = DefaultRoute
	}
	if c.t.Email != nil {
		m.Subject, missing = texts.subject.string(lookup, missing)
		m.HTML, missing = texts.html.string(lookup, missing)
	}
	if m.Subject == "" {
		m.Subject = m.Title
	}
	return m, dedupe(missing)
}
