package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
)

// usersPerPage is the users table's page size.
const usersPerPage = 50

// userQuery is the users table's search and filters as the form holds
// them (and as the send form receives them).
type userQuery struct {
	Q, Status, Type, Tag, Language string
	// Push, Email and Phone are "", "yes" or "no".
	Push, Email, Phone string
	Channel            notify.Channel
}

func readUserQuery(v url.Values) userQuery {
	q := userQuery{Q: strings.TrimSpace(v.Get("q")), Status: strings.TrimSpace(v.Get("status")), Type: strings.TrimSpace(v.Get("type")),
		Tag: strings.TrimSpace(v.Get("tag")), Language: strings.TrimSpace(v.Get("language")),
		Push: yesNo(v.Get("push")), Email: yesNo(v.Get("email")), Phone: yesNo(v.Get("phone")), Channel: notify.Channel(v.Get("channel"))}
	if !q.Channel.Valid() {
		q.Channel = notify.ChannelPush
	}
	return q
}

func yesNo(s string) string {
	if s == "yes" || s == "no" {
		return s
	}
	return ""
}

func boolOf(s string) *bool {
	switch s {
	case "yes":
		t := true
		return &t
	case "no":
		f := false
		return &f
	}
	return nil
}

// Filter is the audience the query selects.
func (q userQuery) Filter() notify.UserFilter {
	f := notify.UserFilter{Type: q.Type, Language: q.Language, PushEnabled: boolOf(q.Push), HasEmail: boolOf(q.Email), HasPhone: boolOf(q.Phone), Q: q.Q}
	if q.Status != "" {
		f.Status = []string{q.Status}
	}
	if q.Tag != "" {
		f.Tags = []string{q.Tag}
	}
	return f
}

// Values are the query as URL parameters (links to the send form, paging).
func (q userQuery) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Q, "status": q.Status, "type": q.Type, "tag": q.Tag, "language": q.Language,
		"push": q.Push, "email": q.Email, "phone": q.Phone} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Channel != "" && q.Channel != notify.ChannelPush {
		v.Set("channel", string(q.Channel))
	}
	return v
}

// Filtered reports whether any filter is set.
func (q userQuery) Filtered() bool { return !q.Filter().IsZero() }

// Describe is the audience in words, for the history's recipient type.
func (q userQuery) Describe() string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+" "+v)
		}
	}
	add("search", q.Q)
	add("status", q.Status)
	add("type", q.Type)
	add("tag", q.Tag)
	add("language", q.Language)
	add("push enabled", q.Push)
	add("has email", q.Email)
	add("has phone", q.Phone)
	if len(parts) == 0 {
		return "Users: everyone"
	}
	d := "Users: " + strings.Join(parts, ", ")
	if len(d) > 120 {
		d = d[:117] + "..."
	}
	return d
}

var channels = []notify.Channel{notify.ChannelPush, notify.ChannelWebPush, notify.ChannelSMS, notify.ChannelEmail, notify.ChannelWhatsApp, notify.ChannelInApp}

type usersPage struct {
	Query    userQuery
	Users    []notify.User
	Next     string
	Prev     bool
	SendURL  string
	Channels []notify.Channel
	Error    *notify.Error
}

func (usersPage) PageTitle() string { return "Users" }

func (c *Console) users(w http.ResponseWriter, r *http.Request, s *session) error {
	v := r.URL.Query()
	q := readUserQuery(v)
	p := notify.Page{Limit: usersPerPage, Cursor: v.Get("after")}
	users, next, err := c.svc.Users.List(r.Context(), s.WorkspaceID, q.Filter(), p)
	if err != nil {
		err = notify.CursorError(err)
		if e, ok := err.(*notify.Error); ok && e.Code != notify.CodeInternal {
			c.render(w, r, s, e.HTTPStatus(), "users", usersPage{Query: q, Channels: channels, Error: e})
			return nil
		}
		return err
	}
	c.render(w, r, s, http.StatusOK, "users", usersPage{Query: q, Users: users, Next: next, Prev: p.Cursor != "",
		SendURL: "/send?" + q.Values().Encode(), Channels: channels})
	return nil
}

// reachView is the count the "Send notification to N users" button shows.
type reachView struct {
	Users      int            `json:"users"`
	Recipients int            `json:"recipients"`
	Skipped    map[string]int `json:"skipped"`
	Label      string         `json:"label"`
}

func (c *Console) reach(ctx context.Context, ws string, q userQuery, category string) (reachView, error) {
	n, err := c.svc.Sends.Reach(ctx, ws, q.Filter(), q.Channel, category)
	if err != nil {
		return reachView{}, err
	}
	return reachView{Users: n.Matched, Recipients: n.Recipients, Skipped: n.Skipped,
		Label: "Send notification to " + notify.Quantity(n.Recipients, "user", "users")}, nil
}

// usersCount answers the users page's script: how many the filters reach.
func (c *Console) usersCount(w http.ResponseWriter, r *http.Request, s *session) error {
	q := readUserQuery(r.URL.Query())
	rv, err := c.reach(r.Context(), s.WorkspaceID, q, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rv)
	return nil
}

// deliveryRow is one notification a user received.
type deliveryRow struct {
	N notify.Notification
	D notify.Delivery
}

type userPage struct {
	User         notify.User
	Conversation profile.Conversation
	Active       bool
	Deliveries   []deliveryRow
	Looked       int
	Older        string
	Channels     []notify.Channel
	Categories   []string
	Saved        bool
}

func (p userPage) PageTitle() string {
	if p.User.Name != "" {
		return p.User.Name
	}
	return "User " + p.User.ID
}

// ChannelOn reports whether the user receives a channel (a missing entry is on).
func (p userPage) ChannelOn(ch notify.Channel) bool {
	on, ok := p.User.Preferences.Channels[ch]
	return !ok || on
}

// CategoryOn reports whether the user receives a category.
func (p userPage) CategoryOn(cat string) bool {
	on, ok := p.User.Preferences.Categories[cat]
	return !ok || on
}

// recentLooked is how many of the latest notifications the user page looks
// through for the user's deliveries: deliveries are keyed by notification
// (the send path writes nothing per user beyond them), so a user's
// history is read back from the latest notifications, page by page.
const recentLooked = 100

func (c *Console) user(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	u, err := c.svc.Users.Get(ctx, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	conv, err := c.svc.Users.Conversation(ctx, s.WorkspaceID, u.ID)
	if err != nil {
		return err
	}
	ns, next, err := c.svc.Store.ListNotifications(ctx, s.WorkspaceID, notify.NotificationQuery{}, notify.Page{Limit: recentLooked, Cursor: r.URL.Query().Get("before")})
	if err != nil {
		return notify.CursorError(err)
	}
	var rows []deliveryRow
	for _, n := range ns {
		ds, err := c.svc.Store.GetDeliveries(ctx, s.WorkspaceID, n.ID, []string{u.ID})
		if err != nil {
			return err
		}
		if d, ok := ds[u.ID]; ok {
			rows = append(rows, deliveryRow{N: n, D: d})
		}
	}
	cats := make([]string, 0, len(u.Preferences.Categories))
	for k := range u.Preferences.Categories {
		cats = append(cats, k)
	}
	slices.Sort(cats)
	now := c.opts.Now()
	c.render(w, r, s, http.StatusOK, "user", userPage{User: u, Conversation: conv, Active: u.PresenceUntil != nil && u.PresenceUntil.After(now),
		Deliveries: rows, Looked: len(ns), Older: next, Channels: channels, Categories: cats, Saved: r.URL.Query().Get("saved") != ""})
	return nil
}

// savePreferences sets the switches of the user page: each channel, each
// category, and a new category.
func (c *Console) savePreferences(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	id := r.PathValue("id")
	prefs, err := c.svc.Users.Preferences(ctx, s.WorkspaceID, id)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return notify.Errorf(notify.CodeBadRequest, "the form could not be read: %v", err)
	}
	prefs.Channels = map[notify.Channel]bool{}
	for _, ch := range channels {
		prefs.Channels[ch] = r.PostForm.Get("channel."+string(ch)) == "on"
	}
	cats := map[string]bool{}
	for k := range prefs.Categories {
		cats[k] = r.PostForm.Get("category."+k) == "on"
	}
	if add := strings.TrimSpace(r.PostForm.Get("newCategory")); add != "" {
		cats[add] = false
	}
	prefs.Categories = cats
	if _, err := c.svc.Users.SetPreferences(ctx, s.WorkspaceID, id, prefs); err != nil {
		return err
	}
	c.svc.Operators.Audit(ctx, notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "user.preferences", Target: id})
	http.Redirect(w, r, "/users/"+url.PathEscape(id)+"?saved=1#preferences", http.StatusSeeOther)
	return nil
}

func actor(s *session) string { return "operator " + s.Operator.Email }
