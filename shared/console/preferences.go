package console

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/unsubscribe"
)

// The recipients' preference page (seed 004, CONSOLE.md journey 11): a
// person opens the signed link of an email's footer, or one their app got
// from POST /v1/users/{id}/preference-link, and chooses, per kind of
// notification, which channels reach them, or unsubscribes from
// everything. There is no session: the link's token names one user of
// one workspace (signed with the unsubscribe secret under its own label,
// so it cannot be altered to reach another user), and state-changing
// requests from another site are refused by the browser's cross-origin
// check (wrap), which, with the token itself, is the page's CSRF defence.
// A GET changes nothing, so that link scanners that fetch every URL of a
// mail change nobody's preferences.

// preferenceRoutes registers the recipients' preference page (seed 004).
func (c *Console) preferenceRoutes(route routeFunc) {
	route("GET /preferences/{token}", public, c.preferencesPage)
	route("POST /preferences/{token}", public, c.savePreferencesPage)
}

// pageChannels are the channels the page offers, in the order it shows
// them.
var pageChannels = []notify.Channel{notify.ChannelWebPush, notify.ChannelPush, notify.ChannelEmail, notify.ChannelSMS, notify.ChannelWhatsApp, notify.ChannelInApp}

// prefSwitch is one switch of the page: a channel of a category.
type prefSwitch struct {
	ID, Name, Label string
	Channel         notify.Channel
	On              bool
}

// prefCategory is a kind of notification and its switches.
type prefCategory struct {
	ID, Name string
	Switches []prefSwitch
}

// prefPage is what html/preferences.html shows.
type prefPage struct {
	Lang string
	// T are the page's words in Lang.
	T map[string]string
	// Flash says what the last save did; Error why this one failed.
	Flash, Error string
	// Problem, when set, is why there is no page to show (a link that is
	// not valid or has expired).
	Problem    string
	Categories []prefCategory
	// Channels are the channels shown, space separated: a save writes
	// those and leaves the others (a device registered meanwhile) alone.
	Channels  string
	Languages []languageChoice
}

// prefFlashes are the messages a redirect may ask the page to show
// (?done=…), by catalog key: a fixed set.
var prefFlashes = []string{"saved", "unsubscribed"}

func (c *Console) preferencesPage(w http.ResponseWriter, r *http.Request, _ *session) error {
	u, problem, err := c.recipient(r)
	if err != nil {
		return c.prefFailure(w, r, u, err)
	}
	if problem != "" {
		c.prefProblem(w, r, problem)
		return nil
	}
	p, err := c.prefPageOf(r, u)
	if err != nil {
		return c.prefFailure(w, r, u, err)
	}
	if done := r.URL.Query().Get("done"); slices.Contains(prefFlashes, done) {
		p.Flash = p.T[done]
	}
	c.renderPrefs(w, http.StatusOK, p)
	return nil
}

func (c *Console) savePreferencesPage(w http.ResponseWriter, r *http.Request, _ *session) error {
	u, problem, err := c.recipient(r)
	if err != nil {
		return c.prefFailure(w, r, u, err)
	}
	if problem != "" {
		c.prefProblem(w, r, problem)
		return nil
	}
	var change func(*notify.Preferences) error
	done, detail := "saved", "the preference page's switches"
	switch r.PostForm.Get("action") {
	case "unsubscribe":
		change, done, detail = unsubscribeAll, "unsubscribed", "unsubscribed from everything on the preference page"
	case "save":
		s, err := parseSwitches(r.PostForm)
		if err != nil {
			return c.prefFailure(w, r, u, err)
		}
		change = s.apply
	default:
		return c.prefFailure(w, r, u, notify.Errorf(notify.CodeBadRequest, "the form could not be read"))
	}
	if _, err := c.svc.Users.UpdatePreferences(r.Context(), u.WorkspaceID, u.ID, change); err != nil {
		// Show what the person chose, with why it was not saved.
		_ = change(&u.Preferences)
		return c.prefFailure(w, r, u, err)
	}
	if c.svc.Operators != nil {
		c.svc.Operators.Audit(r.Context(), notify.AuditEntry{WorkspaceID: u.WorkspaceID, Actor: "user " + u.ID, Action: "user.preferences", Target: u.ID, Detail: detail})
	}
	q := url.Values{"done": {done}}
	if l := r.URL.Query().Get("lang"); preferenceCatalogs[l] != nil {
		q.Set("lang", l)
	}
	http.Redirect(w, r, r.URL.Path+"?"+q.Encode(), http.StatusSeeOther)
	return nil
}

// recipient is the user the request's token names. problem is the
// catalog key of why there is none to show ("invalid", "expired"): a
// token that is not one, has been altered, or names a user that is no
// more all answer alike, so that a guess learns nothing.
func (c *Console) recipient(r *http.Request) (u notify.User, problem string, err error) {
	secret, err := c.linkSecret(r.Context())
	if err != nil {
		return notify.User{}, "", err
	}
	ws, id, gen, expires, ok := unsubscribe.ParsePreferences(secret, r.PathValue("token"))
	if !ok {
		return notify.User{}, "invalid", nil
	}
	if !expires.IsZero() && c.opts.Now().After(expires) {
		return notify.User{}, "expired", nil
	}
	u, err = c.svc.Users.Get(r.Context(), ws, id)
	if notify.IsCode(err, notify.CodeNotFound) {
		return notify.User{}, "invalid", nil
	}
	if err != nil {
		return notify.User{}, "", err
	}
	if unsubscribe.Generation(u.SealKey) != gen {
		// Deleted and made again under the same id: another person.
		return notify.User{}, "invalid", nil
	}
	u.WorkspaceID = ws
	return u, "", nil
}

// prefPageOf is u's page: the workspace's categories (those the send
// form and AI composition offer), then any other the user has
// preferences for, each with a switch per channel the user can be reached
// on (an address or a device), on when a notification of that category
// would go on that channel.
func (c *Console) prefPageOf(r *http.Request, u notify.User) (prefPage, error) {
	lang := pageLanguage(r, u.Language)
	p := prefPage{Lang: lang, T: catalog(lang), Languages: languageChoices(lang)}
	settings, err := c.svc.Store.GetComposeSettings(r.Context(), u.WorkspaceID)
	if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
		return p, err
	}
	cats := compose.OptionsOf(settings).Categories
	known := map[string]bool{}
	for _, cat := range cats {
		known[cat.ID] = true
	}
	var extra []string
	for _, m := range []map[string]bool{u.Preferences.Categories, boolKeys(u.Preferences.CategoryChannels)} {
		for id := range m {
			if !known[id] {
				known[id] = true
				extra = append(extra, id)
			}
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		cats = append(cats, notify.ComposeChoice{ID: id, Name: id})
	}
	chans := reachable(u)
	names := make([]string, len(chans))
	for i, ch := range chans {
		names[i] = string(ch)
	}
	p.Channels = strings.Join(names, " ")
	if len(chans) == 0 {
		return p, nil
	}
	for i, cat := range cats {
		pc := prefCategory{ID: cat.ID, Name: cat.Name}
		for _, ch := range chans {
			pc.Switches = append(pc.Switches, prefSwitch{
				ID: "s" + strconv.Itoa(i) + "-" + string(ch), Name: "c" + strconv.Itoa(i), Label: p.T["channel."+string(ch)], Channel: ch,
				On: notify.PreferenceSkip(notify.Notification{Category: cat.ID}, ch, notify.User{Preferences: u.Preferences}) == ""})
		}
		p.Categories = append(p.Categories, pc)
	}
	return p, nil
}

func boolKeys(m map[string]map[notify.Channel]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// reachable are the channels u has an address or a device for: a switch
// for a channel that cannot reach them would say nothing true.
func reachable(u notify.User) []notify.Channel {
	var out []notify.Channel
	for _, ch := range pageChannels {
		ok := false
		switch ch {
		case notify.ChannelWebPush:
			ok = hasDevice(u, notify.DeviceWebPush)
		case notify.ChannelPush:
			ok = hasDevice(u, notify.DeviceFCM, notify.DeviceAPNs)
		case notify.ChannelEmail:
			ok = u.Email != ""
		case notify.ChannelSMS, notify.ChannelWhatsApp:
			ok = u.Phone != ""
		case notify.ChannelInApp:
			ok = true // every user has an inbox
		}
		if ok {
			out = append(out, ch)
		}
	}
	return out
}

func hasDevice(u notify.User, kinds ...string) bool {
	return slices.ContainsFunc(u.Devices, func(d notify.Device) bool { return slices.Contains(kinds, d.Kind) })
}

// switches are the page's switches as a save sends them: the channels it
// showed, its categories in order, and for each the channels left on.
type switches struct {
	channels   []notify.Channel
	categories []string
	on         []map[notify.Channel]bool
}

// parseSwitches reads a save: "channels" (the channels shown), each
// "category" in order, and "c<i>", the channels switched on of the i-th.
func parseSwitches(f url.Values) (switches, error) {
	var s switches
	bad := notify.Errorf(notify.CodeBadRequest, "the form could not be read")
	for _, name := range strings.Fields(f.Get("channels")) {
		ch := notify.Channel(name)
		if !ch.Valid() || slices.Contains(s.channels, ch) {
			return s, bad
		}
		s.channels = append(s.channels, ch)
	}
	s.categories = f["category"]
	if len(s.categories) > profile.MaxPreferenceCategories {
		return s, bad
	}
	for i := range s.categories {
		on := map[notify.Channel]bool{}
		for _, name := range f["c"+strconv.Itoa(i)] {
			ch := notify.Channel(name)
			if !slices.Contains(s.channels, ch) {
				return s, bad
			}
			on[ch] = true
		}
		s.on = append(s.on, on)
	}
	return s, nil
}

// apply writes the switches: a channel switched off in a category is off
// there (categoryChannels); one switched on is on, and so is its
// category and the channel itself when they were off (after
// "Unsubscribe from everything", switching SMS on for one kind turns SMS
// back on for it). Only what is off is kept: a missing entry is on.
func (s switches) apply(p *notify.Preferences) error {
	if p.CategoryChannels == nil {
		p.CategoryChannels = map[string]map[notify.Channel]bool{}
	}
	anyOn := map[notify.Channel]bool{}
	for i, cat := range s.categories {
		m := maps.Clone(p.CategoryChannels[cat])
		if m == nil {
			m = map[notify.Channel]bool{}
		}
		catOn := false
		for _, ch := range s.channels {
			if s.on[i][ch] {
				delete(m, ch)
				catOn, anyOn[ch] = true, true
			} else {
				m[ch] = false
			}
		}
		if len(m) == 0 {
			delete(p.CategoryChannels, cat)
		} else {
			p.CategoryChannels[cat] = m
		}
		if on, ok := p.Categories[cat]; catOn && ok && !on {
			p.Categories[cat] = true
		}
	}
	for ch := range anyOn {
		if on, ok := p.Channels[ch]; ok && !on {
			p.Channels[ch] = true
		}
	}
	return nil
}

// unsubscribeAll turns every channel off: nothing reaches the user, on
// any channel, of any kind, until they switch something on again.
func unsubscribeAll(p *notify.Preferences) error {
	p.Channels = map[notify.Channel]bool{}
	for _, ch := range notify.Channels {
		p.Channels[ch] = false
	}
	return nil
}

// prefProblem answers a link that opens no page, in the language the
// person asked for or their browser's.
func (c *Console) prefProblem(w http.ResponseWriter, r *http.Request, problem string) {
	lang := pageLanguage(r, "")
	c.renderPrefs(w, http.StatusNotFound, prefPage{Lang: lang, T: catalog(lang), Problem: catalog(lang)[problem], Languages: languageChoices(lang)})
}

// prefFailure shows err on u's page, with what the person chose: the
// API's words for a refused change, "try again" for anything else (which
// is logged).
func (c *Console) prefFailure(w http.ResponseWriter, r *http.Request, u notify.User, err error) error {
	status := http.StatusInternalServerError
	var e *notify.Error
	if errors.As(err, &e) && e.Code != notify.CodeInternal {
		status = e.HTTPStatus()
	} else {
		c.opts.Log.Error("preference page", "workspaceId", u.WorkspaceID, "err", err.Error())
	}
	p, perr := c.prefPageOf(r, u)
	if perr != nil || u.ID == "" {
		lang := pageLanguage(r, u.Language)
		p = prefPage{Lang: lang, T: catalog(lang), Languages: languageChoices(lang), Problem: catalog(lang)["failed"]}
	} else if status >= 500 {
		p.Error = p.T["failed"]
	} else {
		p.Error = sentence(e.Message)
	}
	c.renderPrefs(w, status, p)
	return nil
}

func (c *Console) renderPrefs(w http.ResponseWriter, status int, p prefPage) {
	var buf strings.Builder
	if err := c.pages["preferences"]().ExecuteTemplate(&buf, "prefs", p); err != nil {
		c.opts.Log.Error("console render", "page", "preferences", "err", err.Error())
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", p.Lang)
	// A person's own page: never indexed, whoever finds the link.
	h.Set("X-Robots-Tag", "noindex")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}
