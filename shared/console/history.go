package console

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

const historyPerPage = 50

// historyQuery is the history's search and filters.
type historyQuery struct {
	Q, Channel, Status, Source, Origin, RecipientType, From, To string
}

func (q historyQuery) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Q, "channel": q.Channel, "status": q.Status, "source": q.Source, "origin": q.Origin, "recipientType": q.RecipientType, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// query checks the filters and makes the store's query; dates are whole
// days (from inclusive, to inclusive), UTC.
func (q historyQuery) query() (notify.NotificationQuery, error) {
	nq := notify.NotificationQuery{Q: q.Q, Channel: notify.Channel(q.Channel), Status: notify.Status(q.Status), Source: notify.Source(q.Source), Origin: notify.Origin(q.Origin), RecipientType: q.RecipientType}
	var bad []notify.FieldError
	if nq.Channel != "" && !nq.Channel.Valid() {
		bad = append(bad, notify.FieldError{Field: "channel", Problem: "must be " + notify.ChannelList})
	}
	if nq.Origin != "" && !nq.Origin.Valid() {
		bad = append(bad, notify.FieldError{Field: "origin", Problem: "must be api, console or campaign"})
	}
	if len(q.Q) > 256 {
		bad = append(bad, notify.FieldError{Field: "q", Problem: "at most 256 characters"})
	}
	for _, d := range []struct {
		field, v string
		dst      *time.Time
		add      int
	}{{"from", q.From, &nq.From, 0}, {"to", q.To, &nq.To, 1}} {
		if d.v == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.v)
		if err != nil {
			bad = append(bad, notify.FieldError{Field: d.field, Problem: "must be a date such as 2026-11-01"})
			continue
		}
		*d.dst = t.AddDate(0, 0, d.add)
	}
	if len(bad) > 0 {
		return nq, notify.Invalid(bad...)
	}
	return nq, nil
}

type historyPage struct {
	Query    historyQuery
	Items    []notify.Notification
	Next     string
	Prev     bool
	Channels []notify.Channel
	Statuses []notify.Status
	Sources  []notify.Source
	Origins  []notify.Origin
	Error    *notify.Error
}

func (historyPage) PageTitle() string { return "History" }

// PageURL is the link to a page of the same search, from the cursor after
// ("" for the newest). It is made here, whole, because html/template
// escapes the = and & of a query written after "?" in an href, which
// would drop every filter from the next page.
func (p historyPage) PageURL(after string) string {
	v := p.Query.Values()
	if after != "" {
		v.Set("after", after)
	}
	if len(v) == 0 {
		return "/history"
	}
	return "/history?" + v.Encode()
}

// OriginName is an origin as the "Sent from" filter and the "From" column
// name it; empty for a notification older than origins.
func (historyPage) OriginName(o notify.Origin) string { return originNames[o] }

var originNames = map[notify.Origin]string{notify.OriginAPI: "API", notify.OriginConsole: "Console", notify.OriginCampaign: "Campaign"}

var statuses = []notify.Status{notify.StatusScheduled, notify.StatusQueued, notify.StatusSending, notify.StatusCompleted, notify.StatusCancelled, notify.StatusFailed}
var sources = []notify.Source{notify.SourceSingle, notify.SourceList, notify.SourceFilter, notify.SourceSpreadsheet, notify.SourceCampaign}
var origins = []notify.Origin{notify.OriginAPI, notify.OriginConsole, notify.OriginCampaign}

func (c *Console) history(w http.ResponseWriter, r *http.Request, s *session) error {
	v := r.URL.Query()
	q := historyQuery{Q: strings.TrimSpace(v.Get("q")), Channel: v.Get("channel"), Status: v.Get("status"), Source: v.Get("source"), Origin: v.Get("origin"),
		RecipientType: strings.TrimSpace(v.Get("recipientType")), From: v.Get("from"), To: v.Get("to")}
	p := historyPage{Query: q, Prev: v.Get("after") != "", Channels: channels, Statuses: statuses, Sources: sources, Origins: origins}
	nq, err := q.query()
	if err == nil {
		p.Items, p.Next, err = c.svc.Store.ListNotifications(r.Context(), s.WorkspaceID, nq, notify.Page{Limit: historyPerPage, Cursor: v.Get("after")})
		err = notify.CursorError(err)
	}
	if err != nil {
		e, ok := err.(*notify.Error)
		if !ok || e.Code == notify.CodeInternal {
			return err
		}
		p.Error = e
		c.render(w, r, s, e.HTTPStatus(), "history", p)
		return nil
	}
	c.render(w, r, s, http.StatusOK, "history", p)
	return nil
}

// recipientRow is one recipient of a notification.
type recipientRow struct {
	Address string
	D       notify.Delivery
}

type notificationPage struct {
	N          notify.Notification
	Recipients []recipientRow
	Next       string
	Status     string
	Statuses   []notify.DeliveryStatus
	Live       bool
	Cancel     bool
	Sent       bool
	Undo       bool
	Until      time.Time
}

// From says where the send was made, beside who made it; empty for a
// notification older than origins.
func (p notificationPage) From() string {
	switch p.N.Origin {
	case notify.OriginAPI:
		return "the API"
	case notify.OriginConsole:
		return "the console"
	case notify.OriginCampaign:
		return "a campaign"
	}
	return ""
}

func (p notificationPage) PageTitle() string {
	if p.N.Title != "" {
		return p.N.Title
	}
	return "Notification " + p.N.ID
}

var deliveryStatuses = []notify.DeliveryStatus{notify.DeliveryQueued, notify.DeliverySent, notify.DeliveryDelivered, notify.DeliveryRead, notify.DeliveryFailed, notify.DeliverySkipped}

// notification shows one send: how many, each recipient's address and
// status, the content with its variables unrendered, the counts (live
// while it sends), and Undo or Cancel while it can be stopped.
func (c *Console) notification(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	n, err := c.svc.Store.GetNotification(ctx, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := r.URL.Query()
	status := notify.DeliveryStatus(v.Get("status"))
	if status != "" && !status.Valid() {
		return notify.Invalid(notify.FieldError{Field: "status", Problem: "must be queued, sent, delivered, read, failed or skipped"})
	}
	ds, next, err := c.svc.Store.ListDeliveries(ctx, s.WorkspaceID, n.ID, status, notify.Page{Limit: 100, Cursor: v.Get("after")})
	if err != nil {
		return notify.CursorError(err)
	}
	addrs, err := send.Addresses(ctx, c.svc.Store, s.WorkspaceID, ds)
	if err != nil {
		return err
	}
	rows := make([]recipientRow, len(ds))
	for i, d := range ds {
		rows[i] = recipientRow{Address: addrs[i], D: d}
	}
	p := notificationPage{N: n, Recipients: rows, Next: next, Status: string(status), Statuses: deliveryStatuses,
		Live: send.Cancellable(n.Status), Cancel: send.Cancellable(n.Status) && s.Operator.Role.Allows(notify.RoleEditor), Sent: v.Get("sent") != ""}
	if n.Status == notify.StatusScheduled && n.ScheduleAt != nil && n.ScheduleAt.Sub(c.opts.Now()) <= c.grace()+2*time.Second {
		p.Undo, p.Until = true, *n.ScheduleAt
	}
	c.render(w, r, s, http.StatusOK, "notification", p)
	return nil
}

// statusView is what the notification page's script refreshes.
type statusView struct {
	Status      notify.Status `json:"status"`
	Counts      notify.Counts `json:"counts"`
	Cancellable bool          `json:"cancellable"`
}

func (c *Console) notificationStatus(w http.ResponseWriter, r *http.Request, s *session) error {
	n, err := c.svc.Store.GetNotification(r.Context(), s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusView{Status: n.Status, Counts: n.Counts, Cancellable: send.Cancellable(n.Status)})
	return nil
}

// cancel stops a send (Undo during the grace period, Cancel while it is
// queued or sending), as the API's cancel does.
func (c *Console) cancel(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	n, err := send.Cancel(ctx, c.svc.Store, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if n.ScheduleAt != nil && c.svc.Campaigns != nil {
		c.svc.Campaigns.CancelSend(ctx, s.WorkspaceID, n.ID)
	}
	c.svc.Operators.Audit(ctx, notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "notification.cancel", Target: n.ID,
		Detail: channelName(n.Channel) + " “" + clip(firstNonEmpty(n.Title, n.Body), 80) + "”", Count: n.Audience.Count})
	http.Redirect(w, r, "/history/"+n.ID+"?done=cancelled", http.StatusSeeOther)
	return nil
}

// report downloads the result sheet: every recipient with status and
// reason, as the API's report.
func (c *Console) report(w http.ResponseWriter, r *http.Request, s *session) error {
	n, err := c.svc.Store.GetNotification(r.Context(), s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	rp := c.svc.Reports
	if n.Source == notify.SourceSpreadsheet && rp.Blobs == nil {
		return notify.Errorf(notify.CodeNotConfigured, "spreadsheet uploads are not configured here, so their result sheets cannot be read")
	}
	f, err := os.CreateTemp(rp.Config.TempDir, "herald-report-*")
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	if err := rp.Report(r.Context(), f, spreadsheet.CSV, n); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="herald-%s.csv"`, n.ID))
	_, err = io.Copy(w, f)
	return err
}
