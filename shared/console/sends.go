package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/spreadsheet"
	"github.com/heraldhq/herald/shared/upload"
)

// sendsRoutes registers New send with a number list or a spreadsheet (seed 002).
func (c *Console) sendsRoutes(route routeFunc) {
	route("GET /sends/new", viewer, c.newSend)
	route("POST /sends/review", editor, c.sendsReview)
	route("GET /sends/sample.csv", viewer, c.sample(spreadsheet.CSV))
	route("GET /sends/sample.xlsx", viewer, c.sample(spreadsheet.XLSX))
	route("POST /sends/uploads", editor|streamed, c.createSendUpload)
	route("GET /sends/uploads/{id}", viewer, c.sendUpload)
}

// uploadSource is what the Content-Security-Policy's connect-src adds for
// New send's script: the origin of the upload URLs, when it is another.
func (c *Console) uploadSource() string {
	o := c.opts.UploadOrigin
	if o == "" || strings.ContainsAny(o, " ;'\"\r\n") {
		return ""
	}
	return " " + o
}

// galleryPerPage is how many templates the gallery reads at a time.
const galleryPerPage = 100

// galleryCard is a template in New send's gallery: its text with every
// variable shown by name.
type galleryCard struct {
	T       notify.Template
	Title   string
	Body    string
	Current bool
}

// sendsPage is New send: the gallery, the chosen template, the columns a
// spreadsheet for it needs, and the two ways to send it.
type sendsPage struct {
	Cards    []galleryCard
	Next     string
	Template *notify.Template
	Preview  galleryCard
	// Kind is what the template's channel sends to: phone or email.
	Kind string
	// Variables are the template's variables, one column each after the
	// address.
	Variables []string
	// File says the spreadsheet was chosen (else the typed list).
	File bool
	// The typed list and the values of the variables.
	Addresses string
	Values    map[string]string
	// ListErrors are the typed entries that are not addresses.
	ListErrors []listError
	Error      *notify.Error
	// UploadsOff says why spreadsheets cannot be sent here.
	UploadsOff string
	// MaxFile is the largest file, in words.
	MaxFile string
	CanSend bool
}

func (sendsPage) PageTitle() string { return "New send" }

// Noun is what a recipient is called for the chosen template's channel.
func (p sendsPage) Noun() string {
	if p.Kind == "email" {
		return "email addresses"
	}
	return "numbers"
}

// Columns are the headers a spreadsheet for the template must have, in
// order: the address, then one per variable.
func (p sendsPage) Columns() []string { return append([]string{p.Kind}, p.Variables...) }

// FieldError is the problem of one field of the typed list's form.
func (p sendsPage) FieldError(field string) string {
	if p.Error == nil {
		return ""
	}
	for _, d := range p.Error.Details {
		if d.Field == field {
			return d.Problem
		}
	}
	return ""
}

// Problems are the problems that belong to no field of the page.
func (p sendsPage) Problems() []notify.FieldError {
	if p.Error == nil {
		return nil
	}
	var out []notify.FieldError
	for _, d := range p.Error.Details {
		if strings.HasPrefix(d.Field, "audience.addresses") || strings.HasPrefix(d.Field, "variables.") {
			continue
		}
		out = append(out, d)
	}
	return out
}

// listError is a typed entry that is not an address: its place in the
// list (from 1), what was typed, and why.
type listError struct {
	N       int
	Value   string
	Problem string
}

// splitList reads a typed list: one entry per line, or separated by
// commas or semicolons; blank entries are dropped.
func splitList(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' })
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// addressField reads the entry a send's field error names
// (audience.addresses[3]); -1 when it names none.
var addressField = regexp.MustCompile(`^audience\.addresses\[(\d+)\]$`)

// listErrors are the field errors of a list send that name one of its
// entries, with what was typed there.
func listErrors(list []string, e *notify.Error) []listError {
	var out []listError
	for _, d := range e.Details {
		m := addressField.FindStringSubmatch(d.Field)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i < len(list) {
			out = append(out, listError{N: i + 1, Value: list[i], Problem: d.Problem})
		}
	}
	return out
}

// sendable reports whether New send offers t: a published template of a
// channel that sends to a phone number or an email address (a push goes
// to users' devices, from Users).
func sendable(t notify.Template) bool {
	return t.SendProblem() == "" && t.Channel.AddressKind() != ""
}

// card shows t with its variables by name.
func card(t notify.Template) galleryCard {
	names := map[string]string{}
	for _, v := range render.Required(t) {
		names[v] = "{{" + v + "}}"
	}
	for _, v := range t.Variables {
		names[v] = "{{" + v + "}}"
	}
	m, _ := render.Render(t, "", names)
	title := m.Title
	if title == "" {
		title = m.Subject
	}
	return galleryCard{T: t, Title: title, Body: m.Body}
}

// sendsBase is New send with the gallery and, when id names one, the
// chosen template.
func (c *Console) sendsBase(ctx context.Context, s *session, id, after string) (sendsPage, error) {
	p := sendsPage{Values: map[string]string{}, CanSend: s.Operator.Role.Allows(notify.RoleEditor)}
	var off *notify.Error
	if errors.As(c.svc.Uploads.Configured(), &off) {
		p.UploadsOff = off.Message
	} else {
		p.MaxFile = size(c.svc.Uploads.Ingest.MaxFileBytes())
	}
	ts, next, err := c.svc.Store.ListTemplates(ctx, s.WorkspaceID, notify.TemplateFilter{}, notify.Page{Limit: galleryPerPage, Cursor: after})
	if err != nil {
		return p, notify.CursorError(err)
	}
	p.Next = next
	for _, t := range ts {
		if sendable(t) {
			cd := card(t)
			cd.Current = t.ID == id
			p.Cards = append(p.Cards, cd)
		}
	}
	if id == "" {
		return p, nil
	}
	t, err := c.svc.Store.GetTemplate(ctx, s.WorkspaceID, id)
	if err != nil {
		return p, err
	}
	if !sendable(t) {
		msg := t.SendProblem()
		if msg == "" {
			msg = fmt.Sprintf("a %s template goes to users' devices: send it from Users", channelName(t.Channel))
		}
		return p, notify.Invalid(notify.FieldError{Field: "template", Problem: msg})
	}
	p.Template, p.Preview = &t, card(t)
	p.Kind, p.Variables = t.Channel.AddressKind(), render.Required(t)
	return p, nil
}

func (c *Console) newSend(w http.ResponseWriter, r *http.Request, s *session) error {
	v := r.URL.Query()
	p, err := c.sendsBase(r.Context(), s, strings.TrimSpace(v.Get("template")), v.Get("after"))
	if err != nil {
		return err
	}
	p.File = v.Get("by") == "file"
	c.render(w, r, s, http.StatusOK, "sends", p)
	return nil
}

// sendsReview checks a typed list as the API would and shows the
// confirmation of the send form (to how many, the cost, that it cannot be
// undone), whose button confirms it through /send/confirm; a problem
// brings New send back with what was typed and the entries at fault.
func (c *Console) sendsReview(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	form := r.PostForm
	p, err := c.sendsBase(ctx, s, strings.TrimSpace(form.Get("template")), "")
	if err != nil {
		return err
	}
	if p.Template == nil {
		return notify.Invalid(notify.FieldError{Field: "template", Problem: "choose a template first"})
	}
	t := *p.Template
	p.Addresses = form.Get("addresses")
	// The confirmation carries the values as the send form's variables
	// (name=value lines); "Edit the list" brings them back.
	given, _ := sendForm{Variables: form.Get("variables")}.vars()
	var lines []string
	for _, name := range p.Variables {
		val, ok := form["var."+name]
		p.Values[name] = given[name]
		if ok {
			p.Values[name] = strings.TrimSpace(strings.NewReplacer("\r", " ", "\n", " ").Replace(val[0]))
		}
		if p.Values[name] != "" {
			lines = append(lines, name+"="+p.Values[name])
		}
	}
	if form.Get("edit") != "" {
		c.render(w, r, s, http.StatusOK, "sends", p)
		return nil
	}
	f := sendForm{TemplateID: t.ID, Channel: t.Channel, Addresses: p.Addresses, Variables: strings.Join(lines, "\n")}
	list := splitList(p.Addresses)
	if len(list) == 0 {
		p.Error = notify.Invalid(notify.FieldError{Field: "addresses", Problem: "type at least one; one per line, or separated by commas or semicolons"})
		c.render(w, r, s, p.Error.HTTPStatus(), "sends", p)
		return nil
	}
	rv, err := c.reviewList(ctx, s, f, t)
	var e *notify.Error
	if errors.As(err, &e) && e.Code != notify.CodeInternal {
		p.Error, p.ListErrors = e, listErrors(list, e)
		c.render(w, r, s, e.HTTPStatus(), "sends", p)
		return nil
	}
	if err != nil {
		return err
	}
	c.render(w, r, s, http.StatusOK, "sends-review", rv)
	return nil
}

// listReview is the confirmation of a typed list's send.
type listReview struct {
	Form      sendForm
	Template  notify.Template
	Count     int
	Addresses []string
	More      int
	Preview   preview
	Segments  int
	Encoding  string
	Cost      string
	Grace     time.Duration
	Warnings  []string
}

func (listReview) PageTitle() string { return "Confirm the send" }

// reviewedShown is how many of a list's addresses the confirmation lists.
const reviewedShown = 20

// reviewList prepares the send as a dry run, with the send form's own
// rules and words, and counts it.
func (c *Console) reviewList(ctx context.Context, s *session, f sendForm, t notify.Template) (listReview, error) {
	dests, err := c.destinations(ctx, s.WorkspaceID)
	if err != nil {
		return listReview{}, err
	}
	in, err := f.input(dests)
	if err != nil {
		return listReview{}, err
	}
	prep, err := c.svc.Sends.Prepare(ctx, send.Options{Mode: send.ModeDryRun, WorkspaceID: s.WorkspaceID, By: actor(s), Origin: notify.OriginConsole}, in)
	if err != nil {
		return listReview{}, err
	}
	cnt, err := c.svc.Sends.CountList(ctx, prep)
	if err != nil {
		return listReview{}, err
	}
	rv := listReview{Form: f, Template: t, Count: cnt.Recipients, Grace: c.grace()}
	for i, rc := range prep.Recipients {
		if i == reviewedShown {
			rv.More = len(prep.Recipients) - i
			break
		}
		rv.Addresses = append(rv.Addresses, rc.Address)
	}
	title, body := t.Summary()
	rv.Preview = renderPreview(sendForm{Title: title, Body: body}, nil, in.Variables)
	rv.Warnings = warnings(t.Channel, rv.Preview.Title, rv.Preview.Body)
	if t.Channel == notify.ChannelSMS {
		enc, _, segs := channel.SMSSegments(rv.Preview.Body)
		rv.Segments, rv.Encoding = segs, string(enc)
	}
	rv.Cost = c.estimate(t.Channel, rv.Count, rv.Segments)
	return rv, nil
}

// sample downloads a spreadsheet built as the chosen template needs it:
// the address column, one column per variable (ingest finds them by
// header, ignoring case), and an example row.
func (c *Console) sample(format spreadsheet.Format) handler {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		p, err := c.sendsBase(r.Context(), s, strings.TrimSpace(r.URL.Query().Get("template")), "")
		if err != nil {
			return err
		}
		if p.Template == nil {
			return notify.Invalid(notify.FieldError{Field: "template", Problem: "required: the template the sheet is for"})
		}
		var buf bytes.Buffer
		sw, err := spreadsheet.NewWriter(&buf, format)
		if err != nil {
			return err
		}
		for _, row := range sampleRows(p.Kind, p.Variables) {
			if err := sw.Write(row); err != nil {
				return err
			}
		}
		if err := sw.Close(); err != nil {
			return err
		}
		ct := "text/csv; charset=utf-8"
		if format == spreadsheet.XLSX {
			ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="herald-sample-%s.%s"`, slug(p.Template.Name, p.Template.ID), format))
		_, err = w.Write(buf.Bytes())
		return err
	}
}

// sampleRows are a sample sheet's header and example row. The example
// phone has no +: a CSV cell that starts with one gets a quote in front
// (spreadsheet.Neutralise), which the file would then carry back, and
// Herald reads a number with its country code and no + as international.
func sampleRows(kind string, vars []string) [][]string {
	example := "34600000000"
	if kind == "email" {
		example = "ana@example.com"
	}
	header, row := []string{kind}, []string{example}
	for _, v := range vars {
		header, row = append(header, v), append(row, "Example "+v)
	}
	return [][]string{header, row}
}

var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug is a file name's part made of name, or of fallback when name has
// no letters or digits.
func slug(name, fallback string) string {
	s := strings.Trim(notSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if s == "" {
		s = strings.ToLower(notSlug.ReplaceAllString(fallback, "-"))
	}
	// Cut, not clipped with an ellipsis: a header's file name stays ASCII.
	return strings.TrimRight(s[:min(len(s), 40)], "-")
}

// uploadCreated is what the script gets to send the file: where to PUT it
// and where to follow it.
type uploadCreated struct {
	ID        string `json:"id"`
	UploadURL string `json:"uploadUrl"`
	StatusURL string `json:"statusUrl"`
}

// createSendUpload starts a spreadsheet send of the chosen template. The
// script asks for the upload (template and filename) and PUTs the file to
// the URL it gets, straight from the browser; without the script the
// form's multipart body brings the file here, streamed to the same store.
func (c *Console) createSendUpload(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.svc.Uploads.Configured(); err != nil {
		return err
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return c.streamSendUpload(w, r, s)
	}
	up, uploadURL, err := c.newUpload(r.Context(), s, r.PostForm.Get("template"), r.PostForm.Get("filename"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, uploadCreated{ID: up.ID, UploadURL: uploadURL, StatusURL: "/sends/uploads/" + up.ID})
	return nil
}

// newUpload creates the upload of a send of template id, by the upload
// service the API uses, and records it in the audit log.
func (c *Console) newUpload(ctx context.Context, s *session, id, filename string) (notify.Upload, string, error) {
	t, err := c.svc.Store.GetTemplate(ctx, s.WorkspaceID, strings.TrimSpace(id))
	if err != nil {
		return notify.Upload{}, "", err
	}
	up, uploadURL, err := c.svc.Uploads.Create(ctx, s.WorkspaceID, actor(s), upload.Input{Origin: notify.OriginConsole, Purpose: notify.UploadPurposeSend,
		TemplateID: t.ID, Channel: t.Channel, Filename: filename})
	if err != nil {
		return up, "", err
	}
	c.svc.Operators.Audit(ctx, notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "sends.upload", Target: up.ID,
		Detail: "spreadsheet “" + clip(up.Filename, 80) + "” with template “" + clip(t.Name, 80) + "” (" + channelName(t.Channel) + ")"})
	return up, uploadURL, nil
}

// multipartSlack bounds a form's parts other than the file, and
// maxMultipartFields their number.
const (
	multipartSlack     = 64 << 10
	maxMultipartFields = 8
)

// streamSendUpload takes the form without the script: the CSRF token
// first (checked before anything else is read), the template, then the
// file, which goes to the blob store as it arrives, bounded by the
// largest file ingestion accepts.
func (c *Console) streamSendUpload(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, c.svc.Uploads.Ingest.MaxFileBytes()+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return notify.Errorf(notify.CodeBadRequest, "the form could not be read")
	}
	forbidden := notify.Errorf(notify.CodeForbidden, "the form's security token is missing or out of date; reload the page and try again")
	token := r.Header.Get(csrfHeader)
	fields := map[string]string{}
	fieldBytes := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			if token == "" || token != s.CSRF {
				return forbidden
			}
			return c.noFile(w, r, s, fields["template"])
		}
		if err != nil {
			return tooBig(err, notify.Errorf(notify.CodeBadRequest, "the form could not be read"))
		}
		if part.FormName() != "file" {
			// The form's own fields (the token first, or a header, then
			// the template) are few and small: more is refused before it
			// is kept, and no field but the token is read before it.
			if token == "" && part.FormName() != csrfField {
				return forbidden
			}
			if len(fields) >= maxMultipartFields {
				return notify.Errorf(notify.CodeBadRequest, "the form has more fields than New send's")
			}
			v, err := io.ReadAll(io.LimitReader(part, 4<<10))
			if err != nil {
				return tooBig(err, notify.Errorf(notify.CodeBadRequest, "the form could not be read"))
			}
			if fieldBytes += len(v); fieldBytes > multipartSlack {
				return notify.Errorf(notify.CodePayloadTooLarge, "the form's fields are larger than %d KB", multipartSlack>>10)
			}
			fields[part.FormName()] = string(v)
			if part.FormName() == csrfField && token == "" {
				token = string(v)
			}
			if token != s.CSRF {
				return forbidden
			}
			continue
		}
		// The token comes before the file: nothing of a forged form is
		// stored.
		if token == "" || token != s.CSRF {
			return forbidden
		}
		name := fileName(part)
		if name == "" {
			return c.noFile(w, r, s, fields["template"])
		}
		up, _, err := c.newUpload(ctx, s, fields["template"], name)
		if err == nil {
			_, err = c.svc.Uploads.PutFile(ctx, s.WorkspaceID, up.ID, part, -1)
		}
		if err != nil {
			return c.fileProblem(w, r, s, fields["template"], tooBig(err, err))
		}
		http.Redirect(w, r, "/sends/uploads/"+up.ID, http.StatusSeeOther)
		return nil
	}
}

// fileName is the base name of the file of a form's part ("" when none
// was chosen): some browsers send the whole path.
func fileName(part *multipart.Part) string {
	n := strings.ReplaceAll(part.FileName(), `\`, "/")
	if n == "" {
		return ""
	}
	return path.Base(n)
}

// tooBig turns a body cut at its bound into the payload_too_large an
// operator can act on, and leaves other errors as other.
func tooBig(err, other error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return notify.Errorf(notify.CodePayloadTooLarge, "the file is over %d bytes (%d MB): split it", mbe.Limit-multipartSlack, (mbe.Limit-multipartSlack)/1e6)
	}
	return other
}

// noFile brings New send back when the form came without a file.
func (c *Console) noFile(w http.ResponseWriter, r *http.Request, s *session, template string) error {
	return c.fileProblem(w, r, s, template, notify.Invalid(notify.FieldError{Field: "file", Problem: "choose the spreadsheet to send (CSV or XLSX)"}))
}

// fileProblem shows New send, spreadsheet chosen, with err: what the
// operator can fix. Other errors are the error page's.
func (c *Console) fileProblem(w http.ResponseWriter, r *http.Request, s *session, template string, err error) error {
	var e *notify.Error
	if !errors.As(err, &e) || e.Code == notify.CodeInternal || e.Code == notify.CodeNotFound {
		return err
	}
	p, perr := c.sendsBase(r.Context(), s, strings.TrimSpace(template), "")
	if perr != nil {
		return perr
	}
	p.File, p.Error = true, e
	c.render(w, r, s, e.HTTPStatus(), "sends", p)
	return nil
}

// uploadView is a spreadsheet send as its screen shows it: the upload's
// verdict on the file and its rows, then the send it made, live.
type uploadView struct {
	ID       string            `json:"id"`
	Filename string            `json:"filename"`
	Template string            `json:"template"`
	Status   string            `json:"status"`
	Message  string            `json:"message"`
	Rejected bool              `json:"rejected"`
	Rows     notify.UploadRows `json:"rows"`
	Errors   []notify.RowError `json:"errors"`
	// Notification is the send of the valid rows, once it exists.
	Notification *statusView `json:"notification,omitempty"`
	History      string      `json:"history,omitempty"`
	// Report is the result sheet, once the send is done.
	Report string `json:"report,omitempty"`
	// Done says nothing will change: the script stops asking.
	Done bool `json:"done"`
}

func (uploadView) PageTitle() string { return "Spreadsheet send" }

// uploadMessages say where a spreadsheet send is, in words.
var uploadMessages = map[notify.UploadStatus]string{
	notify.UploadWaiting:    "Waiting for the file.",
	notify.UploadValidating: "Accepted: checking the file…",
	notify.UploadRejected:   "The file was rejected as a whole: nothing was sent. Fix what is listed below and select the file again.",
	notify.UploadQueued:     "Accepted: the valid rows are queued and go out in turn.",
	notify.UploadCompleted:  "Completed.",
}

// finalMessages say how a spreadsheet's send ended.
var finalMessages = map[notify.Status]string{
	notify.StatusCompleted: "Completed: the valid rows were sent. The result spreadsheet says how each row went.",
	notify.StatusCancelled: "Cancelled: the rows not sent by then were not sent. The result spreadsheet says how each row went.",
	notify.StatusFailed:    "The send failed. The result spreadsheet says how each row went.",
}

// sendUpload shows a spreadsheet send: to people, a page; to the script,
// which asks every second until it is done, JSON.
func (c *Console) sendUpload(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	if err := c.svc.Uploads.Configured(); err != nil {
		return err
	}
	up, err := c.svc.Uploads.Get(ctx, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if up.Purpose != notify.UploadPurposeSend {
		return notify.NotFound("upload", up.ID)
	}
	v := uploadView{ID: up.ID, Filename: up.Filename, Status: string(up.Status), Message: uploadMessages[up.Status],
		Rejected: up.Status == notify.UploadRejected, Rows: up.Rows, Errors: up.Errors, Done: up.Status == notify.UploadRejected}
	if t, err := c.svc.Store.GetTemplate(ctx, s.WorkspaceID, up.TemplateID); err == nil {
		v.Template = t.Name
	} else if !notify.IsCode(err, notify.CodeNotFound) {
		return err
	}
	if up.NotificationID != "" && (up.Status == notify.UploadQueued || up.Status == notify.UploadCompleted) {
		n, err := c.svc.Store.GetNotification(ctx, s.WorkspaceID, up.NotificationID)
		if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
			return err
		}
		if err == nil {
			v.Notification = &statusView{Status: n.Status, Counts: n.Counts, Cancellable: send.Cancellable(n.Status)}
			v.History = "/history/" + n.ID
			if n.Status.Final() {
				v.Report, v.Done = "/history/"+n.ID+"/report.csv", true
				v.Message = finalMessages[n.Status]
			}
		}
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, v)
		return nil
	}
	c.render(w, r, s, http.StatusOK, "sends-upload", v)
	return nil
}

// SelfURL is the page's own address, for the link that refreshes it
// without the script.
func (v uploadView) SelfURL() string { return "/sends/uploads/" + url.PathEscape(v.ID) }

func init() {
	funcs["columnLetter"] = spreadsheet.ColumnLetter
	funcs["ordinal"] = ordinal
}

// ordinal is n as a place in a list: 1st, 2nd, 3rd, 4th, 11th, 21st.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// size is a number of bytes in words: 50 MB, 512 KB.
func size(n int64) string {
	if n >= 1e6 {
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + " MB"
	}
	return strconv.FormatInt(n/1e3, 10) + " KB"
}
