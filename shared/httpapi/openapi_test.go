package httpapi

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // as the mains load zones: the same names everywhere
	"unicode/utf8"
)

// The OpenAPI document is a contract that clients are generated from and
// fuzzers draw requests from, so its request schemas must say what the
// handlers accept: a body the schema admits is served, a body it refuses
// is answered 422. These tests hold the two together with a small
// validator of the JSON Schema the document uses (OpenAPI 3.0).

// openapiSchemas is the document's components/schemas and its operations.
type openapiDocument struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]any `json:"schemas"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T) openapiDocument {
	t.Helper()
	var doc openapiDocument
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// schemaValidator checks values against the document's schemas.
type schemaValidator struct {
	schemas map[string]any
	regexps map[string]*regexp.Regexp
}

func newSchemaValidator(doc openapiDocument) *schemaValidator {
	return &schemaValidator{schemas: doc.Components.Schemas, regexps: map[string]*regexp.Regexp{}}
}

// uEscape is a \uXXXX escape, which ECMA-262 regular expressions (those of
// JSON Schema) know and Go's do not.
var uEscape = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// pattern compiles a JSON Schema pattern as Go reads it.
func (v *schemaValidator) pattern(p string) (*regexp.Regexp, error) {
	if re, ok := v.regexps[p]; ok {
		return re, nil
	}
	re, err := regexp.Compile(uEscape.ReplaceAllString(p, `\x{$1}`))
	if err != nil {
		return nil, err
	}
	v.regexps[p] = re
	return re, nil
}

// validate returns what is wrong with value against schema, nil when it
// is valid. value is JSON decoded with UseNumber.
func (v *schemaValidator) validate(schema any, value any, path string) []string {
	s, ok := schema.(map[string]any)
	if !ok {
		return []string{path + ": schema is not an object"}
	}
	if ref, ok := s["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/components/schemas/")
		target, exists := v.schemas[name]
		if !found || !exists {
			return []string{path + ": unresolvable $ref " + ref}
		}
		return v.validate(target, value, path)
	}
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, path+": "+fmt.Sprintf(format, args...)) }
	if typ, ok := s["type"].(string); ok && !hasType(value, typ) {
		fail("not of type %s", typ)
		return bad
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return jsonEqual(e, value) }) {
		fail("%v is not one of the enum", value)
	}
	for _, sub := range list(s["allOf"]) {
		bad = append(bad, v.validate(sub, value, path)...)
	}
	if subs := list(s["anyOf"]); len(subs) > 0 && !slices.ContainsFunc(subs, func(sub any) bool { return v.validate(sub, value, path) == nil }) {
		fail("matches none of anyOf")
	}
	if subs := list(s["oneOf"]); len(subs) > 0 {
		n := 0
		for _, sub := range subs {
			if v.validate(sub, value, path) == nil {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of oneOf, want exactly 1", n)
		}
	}
	if not, ok := s["not"]; ok && v.validate(not, value, path) == nil {
		fail("matches not")
	}
	switch x := value.(type) {
	case string:
		n := utf8.RuneCountInString(x)
		if m, ok := number(s["minLength"]); ok && float64(n) < m {
			fail("shorter than %v", m)
		}
		if m, ok := number(s["maxLength"]); ok && float64(n) > m {
			fail("longer than %v", m)
		}
		if p, ok := s["pattern"].(string); ok {
			re, err := v.pattern(p)
			if err != nil {
				fail("pattern %q: %v", p, err)
			} else if !re.MatchString(x) {
				fail("%q does not match %q", x, p)
			}
		}
		switch s["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				fail("%q is not a date-time", x)
			}
		case "email":
			if a, err := mail.ParseAddress(x); err != nil || a.Address != x {
				fail("%q is not an email address", x)
			}
		}
	case json.Number:
		f, _ := x.Float64()
		if m, ok := number(s["minimum"]); ok && f < m {
			fail("%v is under the minimum %v", x, m)
		}
		if m, ok := number(s["maximum"]); ok && f > m {
			fail("%v is over the maximum %v", x, m)
		}
	case []any:
		if m, ok := number(s["minItems"]); ok && float64(len(x)) < m {
			fail("fewer than %v items", m)
		}
		if m, ok := number(s["maxItems"]); ok && float64(len(x)) > m {
			fail("more than %v items", m)
		}
		if s["uniqueItems"] == true {
			for i := range x {
				for j := range i {
					if jsonEqual(x[i], x[j]) {
						fail("items %d and %d are equal", j, i)
					}
				}
			}
		}
		if items, ok := s["items"]; ok {
			for i, item := range x {
				bad = append(bad, v.validate(items, item, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case map[string]any:
		for _, r := range list(s["required"]) {
			if _, ok := x[r.(string)]; !ok {
				fail("%s is required", r)
			}
		}
		if m, ok := number(s["maxProperties"]); ok && float64(len(x)) > m {
			fail("more than %v properties", m)
		}
		props, _ := s["properties"].(map[string]any)
		for _, k := range sortedKeys(x) {
			if p, ok := props[k]; ok {
				bad = append(bad, v.validate(p, x[k], path+"."+k)...)
				continue
			}
			switch extra := s["additionalProperties"].(type) {
			case bool:
				if !extra {
					fail("%s is not allowed", k)
				}
			case map[string]any:
				bad = append(bad, v.validate(extra, x[k], path+"."+k)...)
			}
		}
	}
	return bad
}

func hasType(value any, typ string) bool {
	switch x := value.(type) {
	case string:
		return typ == "string"
	case bool:
		return typ == "boolean"
	case json.Number:
		if typ == "number" {
			return true
		}
		_, ok := new(big.Int).SetString(x.String(), 10)
		return typ == "integer" && ok
	case []any:
		return typ == "array"
	case map[string]any:
		return typ == "object"
	}
	return false
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// decodeJSON decodes s with numbers kept as written.
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// schemaOf is the request body schema of method path, a $ref.
func schemaOf(t *testing.T, doc openapiDocument, method, path string) any {
	t.Helper()
	var op struct {
		RequestBody struct {
			Content map[string]struct {
				Schema any `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	}
	raw, ok := doc.Paths[path][strings.ToLower(method)]
	if !ok {
		t.Fatalf("%s %s is not documented", method, path)
	}
	if err := json.Unmarshal(raw, &op); err != nil {
		t.Fatal(err)
	}
	mt, ok := op.RequestBody.Content["application/json"]
	if !ok {
		t.Fatalf("%s %s takes no JSON body", method, path)
	}
	return mt.Schema
}

// contractCase is a request body and what the document and the server
// make of it.
type contractCase struct {
	name   string
	method string
	path   string
	body   string
	// valid is what the document says of body; status what the server
	// answers.
	valid  bool
	status int
}

// contractCases are bodies across every shape the document states: each
// channel's content, each audience form, each schedule form, the limits
// that a schema can say. Placeholders: $TPL is a published sms template,
// $SOON a time an hour from now.
var contractCases = []contractCase{
	// Templates: what each channel needs.
	{"push template", "POST", "/v1/templates", `{"name": " Savings tip ", "channel": "push", "title": "Hi {{name}}", "body": "You saved\n\t{{amount}}", "route": "savings", "push": {"icon": "https://example.com/i.png", "buttons": [{"id": "ok", "label": "OK"}]}, "variations": {"es": {"title": "Hola", "body": "Ahorraste"}}, "labels": ["energy"]}`, true, 201},
	{"webpush template", "POST", "/v1/templates", `{"name": "w", "channel": "webpush", "title": "T", "body": "B"}`, true, 201},
	{"sms draft", "POST", "/v1/templates", `{"name": "s", "channel": "sms", "body": "Hi", "status": "draft"}`, true, 201},
	{"email subject in email", "POST", "/v1/templates", `{"name": "e", "channel": "email", "body": "B", "email": {"subject": "S", "html": "<p>B</p>"}}`, true, 201},
	{"email subject as title", "POST", "/v1/templates", `{"name": "e", "channel": "email", "title": "S", "body": "B"}`, true, 201},
	{"whatsapp template without body", "POST", "/v1/templates", `{"name": "wa", "channel": "whatsapp", "whatsapp": {"name": "order_update", "language": "en_US", "category": "utility", "parameters": ["name"], "buttons": [{"id": "y", "label": "Yes"}]}}`, true, 201},
	{"whatsapp free text", "POST", "/v1/templates", `{"name": "wa", "channel": "whatsapp", "body": "Hi"}`, true, 201},
	{"push without title", "POST", "/v1/templates", `{"name": "t", "channel": "push", "body": "B"}`, false, 422},
	{"push with a blank title", "POST", "/v1/templates", `{"name": "t", "channel": "push", "title": " \u3000", "body": "B"}`, false, 422},
	{"sms with push extras", "POST", "/v1/templates", `{"name": "t", "channel": "sms", "body": "B", "push": {}}`, false, 422},
	{"email without subject", "POST", "/v1/templates", `{"name": "t", "channel": "email", "body": "B", "email": {"html": "<p>B</p>"}}`, false, 422},
	{"whatsapp with email extras", "POST", "/v1/templates", `{"name": "t", "channel": "whatsapp", "body": "B", "email": {"subject": "S"}}`, false, 422},
	{"whatsapp unknown language", "POST", "/v1/templates", `{"name": "t", "channel": "whatsapp", "whatsapp": {"name": "x", "language": "zz", "category": "utility"}}`, false, 422},
	{"blank name", "POST", "/v1/templates", `{"name": "   ", "channel": "sms", "body": "B"}`, false, 422},
	{"name with BEL", "POST", "/v1/templates", `{"name": "a\u0007b", "channel": "sms", "body": "B"}`, false, 422},
	{"body with DEL", "POST", "/v1/templates", `{"name": "t", "channel": "sms", "body": "a\u007fb"}`, false, 422},
	{"body with a C1 control", "POST", "/v1/templates", `{"name": "t", "channel": "sms", "body": "a\u0085b"}`, false, 422},
	{"blank variation body", "POST", "/v1/templates", `{"name": "t", "channel": "sms", "body": "B", "variations": {"es": {"body": " "}}}`, false, 422},
	{"empty label", "POST", "/v1/templates", `{"name": "t", "channel": "sms", "body": "B", "labels": [""]}`, false, 422},
	{"unknown field", "POST", "/v1/templates", `{"name": "t", "channel": "sms", "body": "B", "colour": "red"}`, false, 422},
	{"title too long", "POST", "/v1/templates", `{"name": "t", "channel": "push", "title": "` + strings.Repeat("é", 257) + `", "body": "B"}`, false, 422},

	// Sends: content by channel, and each audience form.
	{"sms to an address", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "audience": {"addresses": ["+34600000000"]}}`, true, 202},
	{"email to an address", "POST", "/v1/notifications", `{"channel": "email", "content": {"title": "S", "body": "B"}, "audience": {"addresses": ["ana@example.com"]}}`, true, 202},
	{"push with fallbacks", "POST", "/v1/notifications", `{"channel": "push", "fallback": ["sms", "email"], "content": {"title": "T", "body": "B"}, "audience": {"userIds": ["c-1001"]}}`, true, 202},
	{"template to users", "POST", "/v1/notifications", `{"channel": "sms", "templateId": "$TPL", "variables": {"name": "Ana"}, "audience": {"userIds": ["c-1001", "c-1002", "..."]}}`, true, 202},
	{"inapp with push extras to users", "POST", "/v1/notifications", `{"channel": "inapp", "content": {"body": "Hi", "push": {"icon": "https://cdn.example/i.png"}}, "audience": {"userIds": ["c-1001"]}}`, true, 202},
	{"inapp to an address", "POST", "/v1/notifications", `{"channel": "inapp", "content": {"body": "Hi"}, "audience": {"addresses": ["+34600000000"]}}`, false, 422},
	{"inapp without a body", "POST", "/v1/notifications", `{"channel": "inapp", "content": {"title": "T", "body": " "}, "audience": {"userIds": ["c-1001"]}}`, false, 422},
	{"whatsapp free text to one user", "POST", "/v1/notifications", `{"channel": "whatsapp", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}`, true, 202},
	{"whatsapp template to two phones", "POST", "/v1/notifications", `{"channel": "whatsapp", "content": {"whatsapp": {"name": "x", "language": "es", "category": "marketing"}}, "audience": {"addresses": ["+34600000000", "+34600000001"]}}`, true, 202},
	{"filter with its count", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "audience": {"filter": {"status": ["active"]}, "expectedCount": 1}}`, true, 202},
	{"scheduled", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}, "scheduleAt": "$SOON"}`, true, 202},
	{"dry run of a filter", "POST", "/v1/notifications:dryRun", `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"filter": {"tags": ["vip"], "createdAfter": "2020-01-01T00:00:00Z"}}}`, true, 200},
	{"templateId and content", "POST", "/v1/notifications", `{"channel": "sms", "templateId": "$TPL", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}`, false, 422},
	{"neither templateId nor content", "POST", "/v1/notifications", `{"channel": "sms", "audience": {"userIds": ["c-1001"]}}`, false, 422},
	{"push to an address", "POST", "/v1/notifications", `{"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"addresses": ["+34600000000"]}}`, false, 422},
	{"sms to an email address", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "audience": {"addresses": ["ana@example.com"]}}`, false, 422},
	{"email to a phone", "POST", "/v1/notifications", `{"channel": "email", "content": {"title": "S", "body": "B"}, "audience": {"addresses": ["+34600000000"]}}`, false, 422},
	{"whatsapp free text to two users", "POST", "/v1/notifications", `{"channel": "whatsapp", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001", "c-1002"]}}`, false, 422},
	{"fallback to the same channel", "POST", "/v1/notifications", `{"channel": "sms", "fallback": ["sms"], "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}`, false, 422},
	{"an upload as audience", "POST", "/v1/notifications", `{"channel": "sms", "templateId": "$TPL", "audience": {"uploadId": "01JD6V3C9Q2Y7ZK4W8N5R1T0XM"}}`, false, 422},
	{"two audience forms", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"], "addresses": ["+34600000000"]}}`, false, 422},
	{"user id ..", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": [".."]}}`, false, 422},
	{"user id with a space", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["a b"]}}`, false, 422},
	{"variable too long", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "variables": {"x": "` + strings.Repeat("a", 1025) + `"}, "audience": {"userIds": ["c-1001"]}}`, false, 422},
	{"unknown recipient type", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "recipientType": "vip", "audience": {"userIds": ["c-1001"]}}`, false, 422},
	{"scheduleAt not a time", "POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}, "scheduleAt": "tomorrow"}`, false, 422},

	// Campaigns: each schedule form, and what a campaign's send leaves out.
	{"weekly cron in a zone", "POST", "/v1/campaigns", `{"name": "Monday tips", "schedule": "cron(0 9 ? * MON-FRI *)", "timezone": "Europe/Madrid", "notification": {"channel": "push", "content": {"title": "T", "body": "B"}, "audience": {"filter": {"status": ["active"]}}}}`, true, 201},
	{"rate", "POST", "/v1/campaigns", `{"name": "r", "schedule": "rate(5 minutes)", "notification": {"channel": "email", "content": {"title": "S", "body": "B"}, "audience": {"userIds": ["c-1001"]}}}`, true, 201},
	{"rate of 1", "POST", "/v1/campaigns", `{"name": "r", "schedule": "rate(1 day)", "timezone": "", "notification": {"channel": "sms", "templateId": "$TPL", "audience": {"userIds": ["c-1001"]}}}`, true, 201},
	{"at in a zone", "POST", "/v1/campaigns", `{"name": "a", "schedule": "at(2099-01-01T09:00:00)", "timezone": "America/New_York", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, true, 201},
	{"cron with L and a year range", "POST", "/v1/campaigns", `{"name": "c", "schedule": "cron(0 12 L * ? 2030-2040)", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, true, 201},
	{"cron with n#k", "POST", "/v1/campaigns", `{"name": "c", "schedule": "cron(0/15 8-17 ? JAN,JUL 6#3 *)", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, true, 201},
	{"campaign with scheduleAt", "POST", "/v1/campaigns", `{"name": "c", "schedule": "rate(1 day)", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}, "scheduleAt": "$SOON"}}`, false, 422},
	{"campaign with expectedCount", "POST", "/v1/campaigns", `{"name": "c", "schedule": "rate(1 day)", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"filter": {}, "expectedCount": 1}}}`, false, 422},
	{"plural unit for 1", "POST", "/v1/campaigns", `{"name": "c", "schedule": "rate(1 days)", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, false, 422},
	{"cron with both days", "POST", "/v1/campaigns", `{"name": "c", "schedule": "cron(0 9 * * MON *)", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, false, 422},
	{"cron with 5 fields", "POST", "/v1/campaigns", `{"name": "c", "schedule": "cron(0 9 ? * MON)", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, false, 422},
	{"spaces around the schedule", "POST", "/v1/campaigns", `{"name": "c", "schedule": " rate(5 minutes)", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, false, 422},
	{"unknown zone", "POST", "/v1/campaigns", `{"name": "c", "schedule": "rate(1 day)", "timezone": "Mars/Olympus", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, false, 422},
	{"the machine's zone", "POST", "/v1/campaigns", `{"name": "c", "schedule": "rate(1 day)", "timezone": "Local", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, false, 422},
	{"blank campaign name", "POST", "/v1/campaigns", `{"name": " ", "schedule": "rate(1 day)", "notification": {"channel": "sms", "content": {"body": "Hi"}, "audience": {"userIds": ["c-1001"]}}}`, false, 422},

	// Uploads.
	{"users import", "POST", "/v1/uploads", `{"purpose": "users", "filename": "people.csv"}`, true, 201},
	{"spreadsheet send", "POST", "/v1/uploads", `{"templateId": "$TPL", "channel": "sms", "filename": " customers.xlsx ", "defaultRegion": "es", "category": "x"}`, true, 201},
	{"users import with a template", "POST", "/v1/uploads", `{"purpose": "users", "templateId": "$TPL", "filename": "people.csv"}`, false, 422},
	{"send without a template", "POST", "/v1/uploads", `{"channel": "sms", "filename": "customers.csv"}`, false, 422},
	{"filename with a slash", "POST", "/v1/uploads", `{"purpose": "users", "filename": "a/b.csv"}`, false, 422},
	{"blank filename", "POST", "/v1/uploads", `{"purpose": "users", "filename": "  "}`, false, 422},
	{"push spreadsheet", "POST", "/v1/uploads", `{"templateId": "$TPL", "channel": "push", "filename": "c.csv"}`, false, 422},
	{"three-letter region", "POST", "/v1/uploads", `{"purpose": "users", "filename": "c.csv", "defaultRegion": "ESP"}`, false, 422},

	// Users and keys.
	{"full user", "PUT", "/v1/users/c-1003", `{"name": "Ana García", "email": "ana@example.com", "phone": "+34600000000", "status": "active", "type": "client", "language": "pt_BR", "timezone": "America/Sao_Paulo", "attributes": {"plan": "solar"}, "tags": ["vip", "vip"]}`, true, 200},
	{"user with its own id", "PUT", "/v1/users/c-1003", `{"id": "c-1003", "timezone": "", "language": ""}`, true, 200},
	{"unknown language", "PUT", "/v1/users/c-1003", `{"language": "zz"}`, false, 422},
	{"unknown zone for a user", "PUT", "/v1/users/c-1003", `{"timezone": "Nowhere/City"}`, false, 422},
	{"unknown user type", "PUT", "/v1/users/c-1003", `{"type": "vip"}`, false, 422},
	{"blank tag", "PUT", "/v1/users/c-1003", `{"tags": [" "]}`, false, 422},
	{"attribute too long", "PUT", "/v1/users/c-1003", `{"attributes": {"plan": "` + strings.Repeat("a", 1025) + `"}}`, false, 422},
	{"phone not E.164", "PUT", "/v1/users/c-1003", `{"phone": "+1"}`, false, 422},
	{"key", "POST", "/v1/keys", `{"name": "backend", "scopes": ["send", "read"]}`, true, 201},
	{"blank key name", "POST", "/v1/keys", `{"name": "  ", "scopes": ["send"]}`, false, 422},
	{"key without scopes", "POST", "/v1/keys", `{"name": "k", "scopes": []}`, false, 422},

	// The browser SDK's origins.
	{"origins", "PUT", "/v1/sdk/settings", `{"allowedOrigins": ["https://shop.example", "HTTPS://WWW.Shop.Example/", "http://localhost:3000", "http://127.0.0.1:65535"]}`, true, 200},
	{"no origins", "PUT", "/v1/sdk/settings", `{"allowedOrigins": []}`, true, 200},
	{"an origin with a path", "PUT", "/v1/sdk/settings", `{"allowedOrigins": ["https://shop.example/app"]}`, false, 422},
	{"a wildcard origin", "PUT", "/v1/sdk/settings", `{"allowedOrigins": ["https://*.shop.example"]}`, false, 422},
	{"an origin without a scheme", "PUT", "/v1/sdk/settings", `{"allowedOrigins": ["shop.example"]}`, false, 422},
	{"an origin on port 0", "PUT", "/v1/sdk/settings", `{"allowedOrigins": ["https://shop.example:0"]}`, false, 422},
	{"an origin on port 65536", "PUT", "/v1/sdk/settings", `{"allowedOrigins": ["https://shop.example:65536"]}`, false, 422},
	{"an ftp origin", "PUT", "/v1/sdk/settings", `{"allowedOrigins": ["ftp://shop.example"]}`, false, 422},
	{"origins missing", "PUT", "/v1/sdk/settings", `{}`, false, 422},
}

// TestOpenAPIRequestSchemasMatchHandlers sends every contract case: the
// document must admit exactly the valid ones, and the server serve them
// and refuse the others.
func TestOpenAPIRequestSchemasMatchHandlers(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	v := newSchemaValidator(doc)
	e := newEnv(t)
	tpl := e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "t", "channel": "sms", "body": "Hi {{name}}"}).body["id"].(string)
	e.must(200, "PUT", "/v1/users/c-1001", e.admin, map[string]any{"name": "Ana", "phone": "+34600000009", "status": "active"})
	soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range contractCases {
		body := strings.NewReplacer("$TPL", tpl, "$SOON", soon).Replace(tc.body)
		route := strings.TrimSuffix(tc.path, "/c-1003")
		if route != tc.path {
			route += "/{id}"
		}
		bad := v.validate(schemaOf(t, doc, tc.method, route), decodeJSON(t, body), "body")
		if valid := bad == nil; valid != tc.valid {
			t.Errorf("%s: the document says valid = %v, want %v: %v", tc.name, valid, tc.valid, bad)
		}
		if r := e.do(tc.method, tc.path, e.admin, body); r.status != tc.status {
			t.Errorf("%s: %s %s = %d, want %d: %s", tc.name, tc.method, tc.path, r.status, tc.status, r.raw)
		}
	}
}

// TestOpenAPIExamplesAreValid checks every request schema's example
// against its schema, and that the server takes it: generated clients and
// the fuzzer's examples phase start from them.
func TestOpenAPIExamplesAreValid(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	v := newSchemaValidator(doc)
	e := newEnv(t)
	tpl := e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "t", "channel": "sms", "body": "Hi {{name}}"}).body["id"].(string)
	e.must(200, "PUT", "/v1/users/c-1001", e.admin, map[string]any{"name": "Ana", "status": "active"})
	tests := []struct {
		method, path, route string
		status              int
	}{
		{"POST", "/v1/keys", "/v1/keys", 201},
		{"POST", "/v1/users:batch", "/v1/users:batch", 200},
		{"PUT", "/v1/users/c-1001", "/v1/users/{id}", 200},
		{"POST", "/v1/users/c-1001/devices", "/v1/users/{id}/devices", 201},
		{"PUT", "/v1/users/c-1001/preferences", "/v1/users/{id}/preferences", 200},
		{"POST", "/v1/users/c-1001/preference-link", "/v1/users/{id}/preference-link", 200},
		{"POST", "/v1/users/c-1001/presence", "/v1/users/{id}/presence", 200},
		{"POST", "/v1/templates", "/v1/templates", 201},
		{"POST", "/v1/templates/" + tpl + "/preview", "/v1/templates/{id}/preview", 200},
		{"POST", "/v1/notifications", "/v1/notifications", 202},
		{"POST", "/v1/notifications:dryRun", "/v1/notifications:dryRun", 200},
		{"POST", "/v1/campaigns", "/v1/campaigns", 201},
		{"POST", "/v1/uploads", "/v1/uploads", 201},
		{"PUT", "/v1/compose/options", "/v1/compose/options", 200},
		{"POST", "/v1/users/c-1001/sdk-token", "/v1/users/{id}/sdk-token", 201},
		{"PUT", "/v1/sdk/settings", "/v1/sdk/settings", 200},
		// Last: the example turns the sms template into a push one.
		{"PUT", "/v1/templates/" + tpl, "/v1/templates/{id}", 200},
	}
	for _, tt := range tests {
		schema := schemaOf(t, doc, tt.method, tt.route)
		name, _ := strings.CutPrefix(schema.(map[string]any)["$ref"].(string), "#/components/schemas/")
		example, ok := doc.Components.Schemas[name].(map[string]any)["example"]
		if !ok {
			t.Errorf("%s %s: schema %s has no example", tt.method, tt.route, name)
			continue
		}
		examples := map[string]any{name: example}
		for k, ex := range mediaExamples(t, doc, tt.method, tt.route) {
			examples[name+" "+k] = ex
		}
		for _, k := range sortedKeys(examples) {
			raw, err := json.Marshal(examples[k])
			if err != nil {
				t.Fatal(err)
			}
			// The example's template is one of this workspace's, of its channel.
			body := regexp.MustCompile(`"tpl_[0-9a-z]{26}"`).ReplaceAllString(string(raw), `"`+tpl+`"`)
			if bad := v.validate(schema, decodeJSON(t, body), k); bad != nil {
				t.Errorf("example %s: %v", k, bad)
			}
			if r := e.do(tt.method, tt.path, e.admin, body); r.status != tt.status {
				t.Errorf("%s %s with the example %s = %d, want %d: %s", tt.method, tt.path, k, r.status, tt.status, r.raw)
			}
		}
	}
}

// mediaExamples are the named examples of method path's JSON body.
func mediaExamples(t *testing.T, doc openapiDocument, method, path string) map[string]any {
	t.Helper()
	var op struct {
		RequestBody struct {
			Content map[string]struct {
				Examples map[string]struct {
					Value any `json:"value"`
				} `json:"examples"`
			} `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(doc.Paths[path][strings.ToLower(method)], &op); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for k, ex := range op.RequestBody.Content["application/json"].Examples {
		out[k] = ex.Value
	}
	return out
}

// requestSchemas walks every schema a JSON request body reaches, calling
// visit with each one and the path to it; structural says it was reached
// through properties, items or additionalProperties alone (not through a
// oneOf, anyOf, allOf or not that only adds rules).
func requestSchemas(t *testing.T, doc openapiDocument, visit func(path string, s map[string]any, structural bool)) {
	t.Helper()
	seen := map[string]bool{}
	var walk func(path string, schema any, structural bool)
	walk = func(path string, schema any, structural bool) {
		s, ok := schema.(map[string]any)
		if !ok {
			return
		}
		if ref, ok := s["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			key := fmt.Sprintf("%s/%v", name, structural)
			if seen[key] {
				return
			}
			seen[key] = true
			walk(name, doc.Components.Schemas[name], structural)
			return
		}
		visit(path, s, structural)
		if props, ok := s["properties"].(map[string]any); ok {
			for _, k := range sortedKeys(props) {
				walk(path+"."+k, props[k], structural)
			}
		}
		if items, ok := s["items"]; ok {
			walk(path+"[]", items, structural)
		}
		if extra, ok := s["additionalProperties"].(map[string]any); ok {
			walk(path+".*", extra, structural)
		}
		for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
			for i, sub := range list(s[kw]) {
				walk(fmt.Sprintf("%s/%s[%d]", path, kw, i), sub, false)
			}
		}
		if not, ok := s["not"]; ok {
			walk(path+"/not", not, false)
		}
	}
	for _, path := range sortedKeys(anyMap(doc.Paths)) {
		for method, raw := range doc.Paths[path] {
			var op struct {
				RequestBody struct {
					Content map[string]struct {
						Schema any `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			}
			if json.Unmarshal(raw, &op) != nil {
				continue
			}
			if mt, ok := op.RequestBody.Content["application/json"]; ok {
				walk(strings.ToUpper(method)+" "+path, mt.Schema, true)
			}
		}
	}
}

func anyMap[V any](m map[string]V) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestOpenAPIRequestTextRefusesControlCharacters: the API refuses control
// characters (C0 but tab and line breaks, DEL, C1) in every string of a
// body, so every free string of a request schema says so with a pattern.
func TestOpenAPIRequestTextRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	v := newSchemaValidator(doc)
	requestSchemas(t, doc, func(path string, s map[string]any, structural bool) {
		if s["type"] != "string" || !structural || s["enum"] != nil || s["format"] == "date-time" || s["format"] == "email" || s["format"] == "binary" {
			return
		}
		p, ok := s["pattern"].(string)
		if !ok {
			t.Errorf("%s: a string without a pattern: %v", path, s)
			return
		}
		re, err := v.pattern(p)
		if err != nil {
			t.Errorf("%s: pattern %q: %v", path, p, err)
			return
		}
		for _, bad := range []string{"\x00", "\x1b", "\x7f", "\u0085", "\u009f"} {
			if re.MatchString("a" + bad + "b") {
				t.Errorf("%s: pattern %q admits %q", path, p, bad)
			}
		}
	})
}

// TestOpenAPIRequestObjectsAreClosed: the decoder refuses unknown fields,
// so every object of a request body says additionalProperties false (or
// types its map values).
func TestOpenAPIRequestObjectsAreClosed(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	requestSchemas(t, doc, func(path string, s map[string]any, structural bool) {
		if !structural || s["type"] != "object" {
			return
		}
		if _, ok := s["additionalProperties"]; !ok {
			t.Errorf("%s: an object without additionalProperties", path)
		}
	})
}

// TestOpenAPILinks: every link names an operation and its parameters, and
// the bodies links give are valid bodies of their target.
func TestOpenAPILinks(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	v := newSchemaValidator(doc)
	type operation struct {
		Responses map[string]struct {
			Links map[string]struct {
				OperationID string         `json:"operationId"`
				Parameters  map[string]any `json:"parameters"`
				RequestBody any            `json:"requestBody"`
			} `json:"links"`
		} `json:"responses"`
	}
	type target struct{ method, path string }
	type parameter struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var comps struct {
		Components struct {
			Parameters map[string]parameter `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapiDoc, &comps); err != nil {
		t.Fatal(err)
	}
	ops := map[string]target{}
	params := map[string][]string{} // operationId → in.name
	paramsOf := func(raws []json.RawMessage) []string {
		var out []string
		for _, raw := range raws {
			var p parameter
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			if p.Ref != "" {
				p = comps.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			out = append(out, p.In+"."+p.Name)
		}
		return out
	}
	for path, methods := range doc.Paths {
		var common []json.RawMessage
		if raw, ok := methods["parameters"]; ok {
			if err := json.Unmarshal(raw, &common); err != nil {
				t.Fatal(err)
			}
		}
		for method, raw := range methods {
			var op struct {
				OperationID string            `json:"operationId"`
				Parameters  []json.RawMessage `json:"parameters"`
			}
			if method == "parameters" || json.Unmarshal(raw, &op) != nil {
				continue
			}
			ops[op.OperationID] = target{method, path}
			params[op.OperationID] = paramsOf(append(append([]json.RawMessage{}, common...), op.Parameters...))
		}
	}
	// Plausible values for the runtime expressions links use.
	stand := map[string]any{"$response.body#/channel": "sms", "$response.body#/id": "tpl_01jd6v3c9q2y7zk4w8n5r1t0xm", "$request.path.id": "c-1001", "$request.body#/users/0/id": "c-1001"}
	var substitute func(any) any
	substitute = func(x any) any {
		switch y := x.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, v := range y {
				out[k] = substitute(v)
			}
			return out
		case []any:
			out := make([]any, len(y))
			for i, v := range y {
				out[i] = substitute(v)
			}
			return out
		case string:
			if s, ok := stand[y]; ok {
				return s
			}
			if strings.HasPrefix(y, "$") {
				t.Errorf("link body expression %s has no stand-in value in this test", y)
			}
		}
		return x
	}
	links := 0
	for path, methods := range doc.Paths {
		for method, raw := range methods {
			var op operation
			if method == "parameters" || json.Unmarshal(raw, &op) != nil {
				continue
			}
			for status, resp := range op.Responses {
				for name, l := range resp.Links {
					links++
					where := fmt.Sprintf("%s %s %s link %s", method, path, status, name)
					tg, ok := ops[l.OperationID]
					if !ok {
						t.Errorf("%s: no operation %s", where, l.OperationID)
						continue
					}
					for p := range l.Parameters {
						if !slices.ContainsFunc(params[l.OperationID], func(q string) bool { return q == p || strings.HasSuffix(q, "."+p) }) {
							t.Errorf("%s: %s has no parameter %s (it has %v)", where, l.OperationID, p, params[l.OperationID])
						}
					}
					if l.RequestBody == nil {
						continue
					}
					raw, _ := json.Marshal(substitute(l.RequestBody))
					if bad := v.validate(schemaOf(t, doc, tg.method, tg.path), decodeJSON(t, string(raw)), where); bad != nil {
						t.Errorf("%s: its body is not a valid body of %s: %v", where, l.OperationID, bad)
					}
				}
			}
		}
	}
	if links == 0 {
		t.Fatal("no links")
	}
}

// TestOpenAPITimeZones: every zone the document lists is one the server
// loads (the mains embed the zone database, as this test does).
func TestOpenAPITimeZones(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	zones := list(doc.Components.Schemas["TimeZone"].(map[string]any)["enum"])
	if len(zones) < 400 {
		t.Fatalf("TimeZone lists %d zones, want the zone database's", len(zones))
	}
	for _, z := range zones {
		name := z.(string)
		if _, err := time.LoadLocation(name); err != nil || name == "Local" {
			t.Errorf("TimeZone lists %q, which does not load: %v", name, err)
		}
	}
}
