package compose

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

// Limits are a channel's rules for generated text. They are told to the
// model in the prompt and checked on its answer; GET /v1/compose/options
// shows them so that an editor can count along.
type Limits struct {
	// Title says whether a variant has a title: "required", "optional" or
	// "none" (it must be empty).
	Title string `json:"title"`
	// TitleName is what the channel calls the title (subject, header).
	TitleName string `json:"titleName,omitempty"`
	// MaxTitle and MaxBody are in characters (Unicode code points).
	MaxTitle int `json:"maxTitle,omitempty"`
	MaxBody  int `json:"maxBody"`
	// SMSSegments is the default number of SMS segments a body may take
	// (a request may allow up to 3); zero outside SMS.
	SMSSegments int `json:"smsSegments,omitempty"`
	// NumberedParameters: the body writes variables as WhatsApp's {{1}},
	// {{2}} … instead of {{name}}, and may not start or end with one.
	NumberedParameters bool `json:"numberedParameters,omitempty"`
	// Why the limits are what they are, for the prompt and for people.
	Note string `json:"note"`
}

// ChannelLimits are the rules per channel. The push and web push limits are
// what lock screens and notification centres show without cutting the text
// (iOS shows about 178 characters of body, Android and desktop browsers
// less); the SMS limit is in segments, which is what an SMS costs; the
// WhatsApp ones are Meta's rules for a template's header and body; the
// in-app ones what an inbox list and an opened message show.
var ChannelLimits = map[notify.Channel]Limits{
	notify.ChannelPush: {Title: "required", MaxTitle: 50, MaxBody: 178,
		Note: "a mobile push notification: the lock screen cuts a title over 50 characters and a body over about 178"},
	notify.ChannelWebPush: {Title: "required", MaxTitle: 50, MaxBody: 120,
		Note: "a browser notification: desktop browsers cut a title over 50 characters and a body over about 120"},
	notify.ChannelSMS: {Title: "none", MaxBody: 459, SMSSegments: 1,
		Note: "an SMS: no title; the body is billed by segment (160 GSM-7 characters, or 70 when any character is outside GSM-7, such as an emoji or a curly quote)"},
	notify.ChannelEmail: {Title: "required", TitleName: "subject", MaxTitle: 70, MaxBody: 2000,
		Note: "an email: the title is the subject line (inboxes show about 70 characters); the body is plain text in short paragraphs separated by a blank line, with a greeting and a sign-off"},
	notify.ChannelWhatsApp: {Title: "optional", TitleName: "header", MaxTitle: 60, MaxBody: 1024, NumberedParameters: true,
		Note: "a WhatsApp template message for Meta's approval: an optional header of at most 60 characters without variables, emojis or line breaks, and a body of at most 1024 characters whose variables are numbered parameters {{1}}, {{2}} … that neither start nor end the body"},
	notify.ChannelInApp: {Title: "required", MaxTitle: 80, MaxBody: 300,
		Note: "a message in the inbox inside the customer's own app or website: the inbox lists the title on one line (about 80 characters) and shows the body in full when opened, so the body may say a little more than a push, in two or three short sentences"},
}

// Problem is one rule an answer broke, by the variant's field.
type Problem = notify.FieldError

var (
	// varName is a whole variable name, as keepVariables lists them.
	varName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	// anyBraces matches anything that looks like a placeholder, written
	// right or not: {{ name }}, {name}, {{1}.
	anyBraces = regexp.MustCompile(`\{\{?[^{}]{0,40}\}?\}`)
	// bracketPlaceholder matches fill-in text a model leaves for a human,
	// such as [Company name] or [link].
	bracketPlaceholder = regexp.MustCompile(`\[[^\[\]]{1,40}\]`)
	numberedParam      = regexp.MustCompile(`^\d+$`)
)

// check returns every rule v breaks for request r (already validated): the
// channel's lengths, SMS segments, the variables to keep, WhatsApp's
// parameter rules, and text a human was meant to fill in.
func check(r Request, lim Limits, i int, v Variant) []Problem {
	var bad []Problem
	f := fmt.Sprintf("variants[%d]", i)
	add := func(field, format string, args ...any) {
		bad = append(bad, Problem{Field: f + "." + field, Problem: fmt.Sprintf(format, args...)})
	}
	title, body := v.Title, v.Body
	switch lim.Title {
	case "none":
		if title != "" {
			add("title", "must be empty: %s has no title", r.Channel)
		}
	case "required":
		if strings.TrimSpace(title) == "" {
			add("title", "required for %s", r.Channel)
		}
	}
	if n := utf8.RuneCountInString(title); lim.MaxTitle > 0 && n > lim.MaxTitle {
		add("title", "%d characters; at most %d", n, lim.MaxTitle)
	}
	if strings.TrimSpace(body) == "" {
		add("body", "required")
	}
	if n := utf8.RuneCountInString(body); n > lim.MaxBody {
		add("body", "%d characters; at most %d", n, lim.MaxBody)
	}
	if r.Channel == notify.ChannelSMS {
		enc, units, segs := channel.SMSSegments(body)
		if segs > r.SMSSegments {
			add("body", "%d SMS segments (%s, %d units); at most %d", segs, enc, units, r.SMSSegments)
		}
	}
	if strings.ContainsAny(title, "\r\n") {
		add("title", "must be one line")
	}
	for field, text := range map[string]string{"title": title, "body": body} {
		if r, ok := notify.BadControl(text); ok {
			add(field, "holds the control character %U; write plain text", r)
		}
	}
	if m := bracketPlaceholder.FindString(title + "\n" + body); m != "" {
		add("body", "%s is fill-in text for a person; write the final text (use the brand and facts given, or leave the detail out)", m)
	}
	if lim.NumberedParameters {
		bad = append(bad, checkNumbered(r, f, title, body)...)
	} else {
		bad = append(bad, checkNamed(r, f, title, body)...)
	}
	return bad
}

// checkNamed: every variable to keep appears exactly as {{name}} at least
// once, and no other placeholder does (it would render empty).
func checkNamed(r Request, f, title, body string) []Problem {
	var bad []Problem
	all := title + "\n" + body
	for _, name := range r.KeepVariables {
		if !strings.Contains(all, "{{"+name+"}}") {
			bad = append(bad, Problem{Field: f + ".body", Problem: fmt.Sprintf("the variable {{%s}} must appear, written exactly so", name)})
		}
	}
	keep := map[string]bool{}
	for _, name := range r.KeepVariables {
		keep["{{"+name+"}}"] = true
	}
	for _, m := range dedupe(anyBraces.FindAllString(all, -1)) {
		if !keep[m] {
			bad = append(bad, Problem{Field: f + ".body", Problem: fmt.Sprintf("%s is not a variable you may use (only %s)", m, listVars(r.KeepVariables))})
		}
	}
	return bad
}

// checkNumbered applies Meta's rules to a WhatsApp template: the header
// has no parameters; the body numbers its parameters {{1}}…{{n}} for the n
// variables to keep, in order, each at least once and no other; and the
// body neither starts nor ends with a parameter.
func checkNumbered(r Request, f, title, body string) []Problem {
	var bad []Problem
	add := func(field, format string, args ...any) {
		bad = append(bad, Problem{Field: f + "." + field, Problem: fmt.Sprintf(format, args...)})
	}
	if anyBraces.MatchString(title) {
		add("title", "a WhatsApp header may not hold variables")
	}
	if hasEmoji(title) {
		add("title", "a WhatsApp header may not hold emojis")
	}
	used := map[int]bool{}
	for _, m := range dedupe(anyBraces.FindAllString(body, -1)) {
		inner := strings.Trim(m, "{}")
		n, err := strconv.Atoi(inner)
		if !strings.HasPrefix(m, "{{") || !strings.HasSuffix(m, "}}") || !numberedParam.MatchString(inner) || err != nil || n < 1 || n > len(r.KeepVariables) {
			add("body", "%s is not a parameter you may use (only %s)", m, numberedList(len(r.KeepVariables)))
			continue
		}
		used[n] = true
	}
	for n := 1; n <= len(r.KeepVariables); n++ {
		if !used[n] {
			add("body", "the parameter {{%d}} (%s) must appear", n, r.KeepVariables[n-1])
		}
	}
	t := strings.TrimSpace(body)
	if strings.HasPrefix(t, "{{") {
		add("body", "a WhatsApp template body may not start with a parameter")
	}
	if strings.HasSuffix(t, "}}") {
		add("body", "a WhatsApp template body may not end with a parameter")
	}
	return bad
}

// checkSet returns the problems of the answer as a whole: the number of
// variants, duplicates, and the language.
func checkSet(r Request, a answer) []Problem {
	var bad []Problem
	if len(a.Variants) != r.Variants {
		bad = append(bad, Problem{Field: "variants", Problem: fmt.Sprintf("%d variants; exactly %d were asked for", len(a.Variants), r.Variants)})
	}
	seen := map[string]int{}
	for i, v := range a.Variants {
		k := strings.ToLower(strings.TrimSpace(v.Title) + "\x00" + strings.TrimSpace(v.Body))
		if j, ok := seen[k]; ok {
			bad = append(bad, Problem{Field: fmt.Sprintf("variants[%d]", i), Problem: fmt.Sprintf("the same text as variants[%d]; write distinct variants", j)})
		}
		seen[k] = i
	}
	if !sameLanguage(a.Language, r.Language) {
		bad = append(bad, Problem{Field: "language", Problem: fmt.Sprintf("answered in %q; every variant must be written in %s (%s)", a.Language, languageName(r.Language), r.Language)})
	}
	return bad
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func listVars(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = "{{" + n + "}}"
	}
	return strings.Join(s, ", ")
}

func numberedList(n int) string {
	if n == 0 {
		return "none"
	}
	s := make([]string, n)
	for i := range s {
		s[i] = "{{" + strconv.Itoa(i+1) + "}}"
	}
	return strings.Join(s, ", ")
}

// hasEmoji reports symbols from the emoji blocks (pictographs, dingbats,
// transport and map symbols, flags, variation selectors).
func hasEmoji(s string) bool {
	for _, r := range s {
		switch {
		case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF, r == 0xFE0F, r == 0x200D:
			return true
		}
	}
	return false
}

// Named returns a WhatsApp body with its numbered parameters replaced by the
// variables they stand for ({{1}} → {{name}}), as a Herald template writes
// them; params[i] is the variable of {{i+1}}.
func Named(body string, params []string) string {
	return anyBraces.ReplaceAllStringFunc(body, func(m string) string {
		n, err := strconv.Atoi(strings.Trim(m, "{}"))
		if err != nil || n < 1 || n > len(params) {
			return m
		}
		return "{{" + params[n-1] + "}}"
	})
}
