package console

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
)

// settingsRoutes registers the admins' settings beyond operators and the
// audit trail (API keys, channels, AI, destinations, the browser SDK). Every one is an
// admin's, reading included: keys, providers and usage are not a viewer's
// business.
func (c *Console) settingsRoutes(route routeFunc) {
	route("GET /settings", admin, c.settingsHome)
	route("GET /settings/keys", admin, c.keys)
	route("POST /settings/keys", admin, c.createKey)
	route("GET /settings/keys/{id}/revoke", admin, c.revokeKeyForm)
	route("POST /settings/keys/{id}/revoke", admin, c.revokeKey)
	route("GET /settings/channels", admin, c.channelSettings)
	route("GET /settings/ai", admin, c.aiSettings)
	route("POST /settings/ai", admin, c.saveAISettings)
	route("GET /settings/destinations", admin, c.destinationSettings)
	route("POST /settings/destinations", admin, c.saveDestinations)
	route("GET /settings/sdk", admin, c.sdkSettings)
	route("POST /settings/sdk", admin, c.saveSDKOrigins)
	route("POST /settings/sdk/signing-key", admin, c.showSigningKey)
}

// settingsTab is one tab of Settings.
type settingsTab struct {
	Path, Name, About string
}

// settingsTabs are Settings' tabs, in the order the navigation shows them.
var settingsTabs = []settingsTab{
	{"/settings/keys", "API keys", "Keys for your servers to call Herald's API: create one with its scopes, see when each was last used, revoke one."},
	{"/settings/operators", "Operators", "The people who use this console: invite one, change a role, send a password reset link, remove one."},
	{"/settings/audit", "Audit trail", "Who did what: sends, keys, operators and settings, newest first."},
	{"/settings/channels", "Channels", "Which provider delivers each channel, from which sender, and what to set to configure the others."},
	{"/settings/ai", "AI", "The tones and categories of Generate with AI, the model's usage and its rate limit."},
	{"/settings/destinations", "Destinations", "The places in your app a push may open, offered in the send form."},
	{"/settings/sdk", "Browser SDK", "The sites whose pages may use the SDK (web push permission, the in-app inbox, presence), the snippet, and the signing key of user tokens."},
}

func init() {
	// settingsTabs is the tabs' navigation, current (a tab's path) marked:
	// every Settings page, operators and audit trail included, shows it.
	funcs["settingsTabs"] = func(current string) template.HTML {
		var b strings.Builder
		b.WriteString(`<nav class="tabs" aria-label="Settings"><ul>`)
		for _, t := range settingsTabs {
			b.WriteString(`<li><a href="` + template.HTMLEscapeString(t.Path) + `"`)
			if t.Path == current {
				b.WriteString(` aria-current="page"`)
			}
			b.WriteString(`>` + template.HTMLEscapeString(t.Name) + `</a></li>`)
		}
		b.WriteString(`</ul></nav>`)
		return template.HTML(b.String()) // fixed paths and names, escaped
	}
}

type settingsHomePage struct{ Tabs []settingsTab }

func (settingsHomePage) PageTitle() string { return "Settings" }

// settingsHome lists the tabs with what each is for.
func (c *Console) settingsHome(w http.ResponseWriter, r *http.Request, s *session) error {
	c.render(w, r, s, http.StatusOK, "settings", settingsHomePage{Tabs: settingsTabs})
	return nil
}

type operatorsPage struct {
	Operators []notify.Operator
	Me        string
	Link      string
	LinkFor   string
	Roles     []notify.Role
	Error     *notify.Error
}

func (operatorsPage) PageTitle() string { return "Operators" }

var roles = []notify.Role{notify.RoleAdmin, notify.RoleEditor, notify.RoleViewer}

func (c *Console) operatorsPage(w http.ResponseWriter, r *http.Request, s *session, status int, p operatorsPage) error {
	ops, err := c.svc.Store.ListOperators(r.Context(), s.WorkspaceID)
	if err != nil {
		return err
	}
	p.Operators, p.Me, p.Roles = ops, s.Operator.ID, roles
	c.render(w, r, s, status, "operators", p)
	return nil
}

func (c *Console) operators(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.operatorsPage(w, r, s, http.StatusOK, operatorsPage{})
}

// origin is the console's own origin as the browser reached it, for links.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// showable turns a caller's mistake into a message on the page; anything
// else is returned.
func (c *Console) showable(w http.ResponseWriter, r *http.Request, s *session, err error) error {
	var e *notify.Error
	if !errors.As(err, &e) || e.Code == notify.CodeInternal {
		return err
	}
	return c.operatorsPage(w, r, s, e.HTTPStatus(), operatorsPage{Error: e})
}

func (c *Console) invite(w http.ResponseWriter, r *http.Request, s *session) error {
	email := r.PostFormValue("email")
	l, err := c.svc.Operators.Invite(r.Context(), s.Operator, email, notify.Role(r.PostFormValue("role")))
	if err != nil {
		return c.showable(w, r, s, err)
	}
	return c.operatorsPage(w, r, s, http.StatusOK, operatorsPage{Link: origin(r) + "/invite/" + l.Secret, LinkFor: "Invitation for " + l.Token.Email + " as " + string(l.Token.Role)})
}

func (c *Console) setRole(w http.ResponseWriter, r *http.Request, s *session) error {
	if _, err := c.svc.Operators.SetRole(r.Context(), s.Operator, r.PathValue("id"), notify.Role(r.PostFormValue("role"))); err != nil {
		return c.showable(w, r, s, err)
	}
	http.Redirect(w, r, "/settings/operators?done=role", http.StatusSeeOther)
	return nil
}

func (c *Console) resetLink(w http.ResponseWriter, r *http.Request, s *session) error {
	l, err := c.svc.Operators.ResetLink(r.Context(), s.Operator, r.PathValue("id"))
	if err != nil {
		return c.showable(w, r, s, err)
	}
	return c.operatorsPage(w, r, s, http.StatusOK, operatorsPage{Link: origin(r) + "/reset/" + l.Secret, LinkFor: "Password reset link for " + l.Token.Email})
}

func (c *Console) removeOperator(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.svc.Operators.Remove(r.Context(), s.Operator, r.PathValue("id")); err != nil {
		return c.showable(w, r, s, err)
	}
	http.Redirect(w, r, "/settings/operators?done=removed", http.StatusSeeOther)
	return nil
}

type auditPage struct {
	Entries []notify.AuditEntry
	Next    string
	Prev    bool
}

func (auditPage) PageTitle() string { return "Audit trail" }

func (c *Console) audit(w http.ResponseWriter, r *http.Request, s *session) error {
	after := r.URL.Query().Get("after")
	es, next, err := c.svc.Store.ListAudit(r.Context(), s.WorkspaceID, notify.Page{Limit: 100, Cursor: after})
	if err != nil {
		return notify.CursorError(err)
	}
	c.render(w, r, s, http.StatusOK, "audit", auditPage{Entries: es, Next: next, Prev: after != ""})
	return nil
}
