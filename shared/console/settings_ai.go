package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/notify"
)

// blankRows are the empty rows the AI and destination forms offer for new
// entries (the form works without script: save, and more come back).
const blankRows = 3

// choiceRow is one category row of the AI form.
type choiceRow struct {
	N                     int // 1-based, as the labels say
	ID, Name, Description string
	Problems              []string
}

// aiPage is the AI tab: the model, the rate limit, the tones, the
// workspace's categories and brand (the form) and the usage.
type aiPage struct {
	Model    string
	Off      string
	Rate     int
	Tones    []notify.ComposeChoice
	Rows     []choiceRow
	Brand    string
	Defaults bool
	From, To string
	Usage    []notify.ComposeUsage
	Total    notify.ComposeUsage
	Error    *notify.Error
}

func (aiPage) PageTitle() string { return "AI" }

// usageDays is how far back the AI tab's usage goes (GET
// /v1/compose/usage's default).
const usageDays = 30

func (c *Console) aiPage(w http.ResponseWriter, r *http.Request, s *session, status int, p aiPage) error {
	ctx := r.Context()
	if c.svc.Compose != nil {
		p.Model = c.svc.Compose.ModelID()
	} else {
		p.Off = c.opts.ComposeHelp
		if p.Off == "" {
			p.Off = "AI writing is off: no model is configured."
		}
	}
	p.Rate, p.Tones = c.opts.ComposeRate, compose.Tones
	if p.Rows == nil {
		set, err := c.svc.Store.GetComposeSettings(ctx, s.WorkspaceID)
		if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
			return fmt.Errorf("compose settings of %s: %w", s.WorkspaceID, err)
		}
		o := compose.OptionsOf(set)
		p.Defaults, p.Brand = len(set.Categories) == 0, o.Brand
		for i, cat := range o.Categories {
			p.Rows = append(p.Rows, choiceRow{N: i + 1, ID: cat.ID, Name: cat.Name, Description: cat.Description})
		}
	}
	for range blankRows {
		p.Rows = append(p.Rows, choiceRow{N: len(p.Rows) + 1})
	}
	to := c.opts.Now().UTC()
	from := to.AddDate(0, 0, -(usageDays - 1))
	p.From, p.To = from.Format(time.DateOnly), to.Format(time.DateOnly)
	usage, err := c.svc.Store.ListComposeUsage(ctx, s.WorkspaceID, p.From, p.To)
	if err != nil {
		return fmt.Errorf("compose usage of %s: %w", s.WorkspaceID, err)
	}
	p.Usage = usage
	for _, u := range usage {
		p.Total.Requests += u.Requests
		p.Total.InputTokens += u.InputTokens
		p.Total.OutputTokens += u.OutputTokens
	}
	c.render(w, r, s, status, "settings_ai", p)
	return nil
}

func (c *Console) aiSettings(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.aiPage(w, r, s, http.StatusOK, aiPage{})
}

// saveAISettings saves the categories and brand as PUT
// /v1/compose/options does (compose.SaveSettings). Rows left blank, or
// marked Remove, are left out; "Restore the default categories" saves
// none.
func (c *Console) saveAISettings(w http.ResponseWriter, r *http.Request, s *session) error {
	f := r.PostForm
	var rows []choiceRow
	var cats []notify.ComposeChoice
	for i := 1; f.Has("cat" + strconv.Itoa(i) + ".id"); i++ {
		n := strconv.Itoa(i)
		row := choiceRow{N: i, ID: f.Get("cat" + n + ".id"), Name: f.Get("cat" + n + ".name"), Description: f.Get("cat" + n + ".description")}
		if f.Get("cat"+n+".remove") != "" {
			continue
		}
		if strings.TrimSpace(row.ID+row.Name+row.Description) == "" {
			continue
		}
		row.N = len(rows) + 1
		rows = append(rows, row)
		cats = append(cats, notify.ComposeChoice{ID: row.ID, Name: row.Name, Description: row.Description})
	}
	brand := f.Get("brand")
	if f.Get("defaults") != "" {
		cats, rows = nil, nil
	}
	o, err := compose.SaveSettings(r.Context(), c.svc.Store, s.WorkspaceID, cats, brand, c.opts.Now())
	if err != nil {
		var e *notify.Error
		if !errors.As(err, &e) || e.Code == notify.CodeInternal {
			return err
		}
		shown := *e
		shown.Details = rowProblems(e.Details, "categories", func(i int, problem string) bool {
			if i >= len(rows) {
				return false
			}
			rows[i].Problems = append(rows[i].Problems, problem)
			return true
		})
		if rows == nil {
			rows = []choiceRow{}
		}
		return c.aiPage(w, r, s, e.HTTPStatus(), aiPage{Rows: rows, Brand: brand, Error: &shown})
	}
	ids := make([]string, len(o.Categories))
	for i, cat := range o.Categories {
		ids[i] = cat.ID
	}
	detail := "categories " + strings.Join(ids, ", ")
	if len(cats) == 0 {
		detail = "default categories"
	}
	if o.Brand != "" {
		detail += "; brand set"
	}
	c.svc.Operators.Audit(r.Context(), notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "compose.options", Detail: detail})
	http.Redirect(w, r, "/settings/ai?done=ai", http.StatusSeeOther)
	return nil
}

func init() { flashes["ai"] = "AI settings saved: Generate with AI offers these categories now." }

// rowProblems hands each problem of list[i] (such as "categories[2].name")
// to row(i, "name: problem"), to show beside the form's row, and returns
// the problems no row took.
func rowProblems(details []notify.FieldError, list string, row func(i int, problem string) bool) []notify.FieldError {
	var rest []notify.FieldError
	for _, d := range details {
		head, field, _ := strings.Cut(d.Field, "]")
		if n, ok := strings.CutPrefix(head, list+"["); ok {
			if i, err := strconv.Atoi(n); err == nil {
				field = strings.TrimPrefix(field, ".")
				if field != "" {
					field += ": "
				}
				if row(i, field+d.Problem) {
					continue
				}
			}
		}
		rest = append(rest, d)
	}
	return rest
}
