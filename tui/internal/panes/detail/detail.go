// Package detail is the full-screen view opened with enter: a delivery's
// rendered request and every attempt with its response, an entry with its
// policy explanations and JSON, or a connection test's answer. Values are
// shown as the engine gives them: it has masked every secret already (one
// policy, core/mask, for the console, the CLI and the logs alike).
package detail

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

type loadedMsg struct {
	tag      int
	delivery *api.DeliveryDetail
	entry    *api.EntryDetail
	err      error
}

// Model is the detail view.
type Model struct {
	c        *ui.Common
	vp       viewport.Model
	open     ui.OpenMsg
	tag      int
	loading  bool
	err      error
	delivery *api.DeliveryDetail
	entry    *api.EntryDetail
	width    int
	height   int
	// attempt is the number of the attempt whose stored request is
	// shown, 0 for the last that stored one; diff shows it against what
	// would be sent now.
	attempt int
	diff    bool
	// highlight is the events filter's terms, marked in the details.
	highlight []string
}

// New returns a closed detail view.
func New(c *ui.Common) *Model {
	vp := viewport.New(0, 0)
	vp.Style = c.Styles.Plain.Style
	return &Model{c: c, vp: vp}
}

// SetSize sets the body size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.vp.Width, m.vp.Height = w, h
	m.render()
}

// Open shows what msg asks for and starts loading it.
func (m *Model) Open(msg ui.OpenMsg) tea.Cmd {
	m.open = msg
	m.delivery, m.entry, m.err = nil, nil, nil
	m.attempt, m.diff = 0, false
	m.vp.GotoTop()
	if msg.View == ui.ViewTestResult {
		m.loading = false
		m.render()
		return nil
	}
	m.loading = true
	m.render()
	return m.load()
}

func (m *Model) load() tea.Cmd {
	m.tag++
	tag, open := m.tag, m.open
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		switch open.View {
		case ui.ViewDeliveryDetail:
			d, err := c.API.Delivery(ctx, open.DeliveryID)
			return loadedMsg{tag: tag, delivery: &d, err: err}
		default:
			e, err := c.API.Entry(ctx, open.EntryID)
			return loadedMsg{tag: tag, entry: &e, err: err}
		}
	})
}

// Selection is the delivery shown, so r retries it from here.
func (m *Model) Selection() ui.Selection {
	if m.delivery == nil {
		return ui.Selection{Subscription: m.open.Subscription}
	}
	return ui.Selection{Subscription: m.delivery.Subscription, DeliveryID: m.delivery.ID, DeliveryState: m.delivery.State, EntryID: m.delivery.EntryID}
}

// Title is the view's border title.
func (m *Model) Title() string {
	switch m.open.View {
	case ui.ViewDeliveryDetail:
		return "Delivery " + m.open.DeliveryID
	case ui.ViewEntryDetail:
		return "Entry " + m.open.EntryID
	case ui.ViewTestResult:
		return "Connection test · " + m.open.Test.Subscription
	}
	return "Detail"
}

// Info is the bottom-border note.
func (m *Model) Info() string {
	if m.delivery != nil {
		return fmt.Sprintf("%3.0f%% · [ ] attempt · d diff · esc back", m.vp.ScrollPercent()*100)
	}
	return fmt.Sprintf("%3.0f%% · esc back · ↑/↓ pgup/pgdn scroll", m.vp.ScrollPercent()*100)
}

// Apply reloads the delivery shown when the engine reports on it.
func (m *Model) Apply(events []api.Event) tea.Cmd {
	if m.open.View != ui.ViewDeliveryDetail {
		return nil
	}
	for _, ev := range events {
		if ev.Delivery != nil && ev.Delivery.ID == m.open.DeliveryID {
			return m.load()
		}
	}
	return nil
}

// Update handles keys and loaded data.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.tag != m.tag {
			return nil
		}
		m.loading = false
		m.err = msg.err
		if msg.err == nil {
			m.delivery, m.entry = msg.delivery, msg.entry
		}
		m.render()
	case tea.KeyMsg:
		if m.c.Keys.Nav.Back.Is(msg) {
			return ui.Close
		}
		if m.delivery != nil {
			switch {
			case m.c.Keys.Detail.PrevAttempt.Is(msg):
				m.stepAttempt(-1)
				return nil
			case m.c.Keys.Detail.NextAttempt.Is(msg):
				m.stepAttempt(+1)
				return nil
			case m.c.Keys.Detail.Diff.Is(msg):
				m.diff = !m.diff
				m.render()
				return nil
			}
		}
		switch {
		case m.c.Keys.Nav.Top.Is(msg):
			m.vp.GotoTop()
			return nil
		case m.c.Keys.Nav.Bottom.Is(msg):
			m.vp.GotoBottom()
			return nil
		}
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd
	}
	return nil
}

// View renders the scrolled content.
func (m *Model) View() string { return m.vp.View() }

func (m *Model) render() {
	if m.width <= 0 {
		return
	}
	var b strings.Builder
	s := m.c.Styles
	switch {
	case m.loading:
		b.WriteString(s.Dim.Render("loading…"))
	case m.err != nil:
		b.WriteString(s.Error.Render("could not load: " + m.err.Error()))
	case m.open.View == ui.ViewTestResult && m.open.Test != nil:
		m.writeTest(&b, m.open.Test)
	case m.delivery != nil:
		m.writeDelivery(&b, m.delivery)
	case m.entry != nil:
		m.writeEntry(&b, m.entry)
	}
	// Wrap long lines so nothing is cut off at the right edge.
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if ui.Width(l) <= m.width {
			out = append(out, l)
			continue
		}
		out = append(out, ui.WrapIndent(l, m.width)...)
	}
	m.markMatches(out)
	m.vp.SetContent(strings.Join(out, "\n"))
}

func (m *Model) section(b *strings.Builder, title string) {
	b.WriteString("\n")
	b.WriteString(m.c.Styles.Title.Render(title))
	b.WriteString("\n")
}

func (m *Model) kv(b *strings.Builder, k, v string) {
	if v == "" {
		return
	}
	b.WriteString(m.c.Styles.Dim.Render(fmt.Sprintf("  %-14s ", k)))
	b.WriteString(v)
	b.WriteString("\n")
}

func (m *Model) writeRequest(b *strings.Builder, r api.RequestView) {
	if r.Skipped != "" {
		b.WriteString("  nothing would be sent: " + r.Skipped + "\n")
		return
	}
	method := r.Method
	if method == "" {
		method = "POST"
	}
	b.WriteString("  " + m.c.Styles.Bold.Render(method) + " " + r.URL + "\n")
	for _, h := range r.Headers {
		b.WriteString("  " + m.c.Styles.Dim.Render(h.Name+":") + " " + h.Value + "\n")
	}
	m.kv(b, "template", r.Template)
	if r.Note != "" {
		m.kv(b, "note", r.Note)
	}
	if r.Body != "" {
		b.WriteString("\n")
		b.WriteString(indent(prettyJSON(r.Body), "  "))
		b.WriteString("\n")
	}
}

// sentAttempts are the attempts of the delivery shown that stored their
// request, oldest first.
func (m *Model) sentAttempts() []api.AttemptView {
	var out []api.AttemptView
	if m.delivery != nil {
		for _, a := range m.delivery.Attempts {
			if a.Sent != nil {
				out = append(out, a)
			}
		}
	}
	return out
}

// selected is the attempt whose request is shown, nil when none stored one.
func (m *Model) selected() *api.AttemptView {
	as := m.sentAttempts()
	if len(as) == 0 {
		return nil
	}
	for i := range as {
		if as[i].Number == m.attempt {
			return &as[i]
		}
	}
	return &as[len(as)-1]
}

// stepAttempt selects the previous (-1) or next (+1) attempt that stored
// its request.
func (m *Model) stepAttempt(dir int) {
	as := m.sentAttempts()
	cur := m.selected()
	if cur == nil {
		return
	}
	for i := range as {
		if as[i].Number == cur.Number {
			if j := i + dir; j >= 0 && j < len(as) {
				m.attempt = as[j].Number
			}
			break
		}
	}
	m.render()
}

// writeSent shows the request an attempt sent, or its diff against what
// would be sent now.
func (m *Model) writeSent(b *strings.Builder, a *api.AttemptView, count int) {
	s := m.c.Styles
	r := a.Sent
	tpl := "standard payload"
	if r.Template != "" {
		tpl = "template " + r.Template + " @ " + short(r.TemplateHash)
	}
	title := fmt.Sprintf("Request sent by attempt #%d at %s", a.Number, r.At.Format("2006-01-02 15:04:05"))
	if m.diff {
		title = fmt.Sprintf("Diff: sent by attempt #%d → would send now", a.Number)
	}
	m.section(b, title)
	b.WriteString(s.Dim.Render(fmt.Sprintf("  %s · form values @ %s · %d of %d attempts stored", tpl, short(r.VarsHash), m.indexOf(a.Number), count)) + "\n")
	if m.diff {
		if r.Diff == "" {
			b.WriteString("  the subscription would send the same request now\n")
			return
		}
		for _, l := range strings.Split(strings.TrimRight(r.Diff, "\n"), "\n") {
			switch {
			case strings.HasPrefix(l, "+"):
				l = s.Ok.Render(l)
			case strings.HasPrefix(l, "-"):
				l = s.Fail.Render(l)
			case strings.HasPrefix(l, "@@"):
				l = s.Dim.Render(l)
			}
			b.WriteString("  " + l + "\n")
		}
		return
	}
	b.WriteString("  " + s.Bold.Render(r.Method) + " " + r.URL + "\n")
	for _, h := range r.Headers {
		b.WriteString("  " + s.Dim.Render(h.Name+":") + " " + h.Value + "\n")
	}
	switch {
	case r.BodyError != "":
		b.WriteString("\n  " + s.Fail.Render("body not readable: "+r.BodyError) + "\n")
	case r.BodySize == 0:
		b.WriteString("\n  " + s.Dim.Render("(empty body)") + "\n")
	default:
		b.WriteString("\n" + indent(prettyJSON(r.Body), "  ") + "\n")
	}
}

// indexOf is the 1-based position of attempt n among those that stored a
// request.
func (m *Model) indexOf(n int) int {
	for i, a := range m.sentAttempts() {
		if a.Number == n {
			return i + 1
		}
	}
	return 0
}

// short is the first 12 characters of a hash.
func short(h string) string {
	if h == "" {
		return "-"
	}
	return h[:min(12, len(h))]
}

func (m *Model) writeDelivery(b *strings.Builder, d *api.DeliveryDetail) {
	s := m.c.Styles
	now := m.c.Now()
	st := s.DeliveryStatus(d.State, d.DeliveryView.Attempts, false)
	b.WriteString(st.Render() + "  " + s.Bold.Render(d.Subscription) + "  " + d.EntryKind + " · " + d.EntryTitle + "\n")
	m.kv(b, "entry", d.EntryID)
	m.listItem(b, d.EntryListItem)
	m.kv(b, "reason", d.Reason)
	if !d.NextAttemptAt.IsZero() && d.State == api.Pending {
		m.kv(b, "next attempt", d.NextAttemptAt.Format("15:04:05")+" ("+ui.Until(now, d.NextAttemptAt)+")")
	}
	if d.LastError != "" {
		m.kv(b, "last error", d.LastError)
	}
	if a := m.selected(); a != nil {
		m.writeSent(b, a, len(m.sentAttempts()))
	} else {
		m.section(b, "Request that would be sent now (no attempt stored one)")
		m.writeRequest(b, d.Request)
	}
	m.section(b, fmt.Sprintf("Attempts (%d)", len(d.Attempts)))
	if len(d.Attempts) == 0 {
		b.WriteString(s.Dim.Render("  no attempt yet") + "\n")
	}
	for i := len(d.Attempts) - 1; i >= 0; i-- {
		a := d.Attempts[i]
		code := "no response"
		if a.StatusCode > 0 {
			code = fmt.Sprint(a.StatusCode)
		}
		head := fmt.Sprintf("  #%d  %s  %s  %s  %s", a.Number, a.StartedAt.Format("15:04:05"), code, ui.Latency(a.Duration), a.Trigger)
		style := s.Ok
		if a.StatusCode < 200 || a.StatusCode > 299 {
			style = s.Fail
		}
		b.WriteString(style.Render(head) + "\n")
		m.kv(b, "outcome", a.Outcome)
		if a.Error != "" {
			e := a.Error
			if a.ErrorClass != "" {
				e += " (" + a.ErrorClass + ")"
			}
			m.kv(b, "error", e)
		}
		m.kv(b, "instance", a.Instance)
		m.kv(b, "template", a.Template)
		for _, h := range a.ResponseHeaders {
			m.kv(b, "< "+h.Name, h.Value)
		}
		if a.ResponseBody != "" {
			b.WriteString(indent(prettyJSON(a.ResponseBody), "    ") + "\n")
		}
	}
}

// listItem marks an entry stored as a list item of the audit-log API: its
// requests lack what templates read from the full entry.
func (m *Model) listItem(b *strings.Builder, why string) {
	if why != "" {
		b.WriteString("  " + m.c.Styles.Warn.Render("! rendered from a list item only: "+why) + "\n")
	}
}

func (m *Model) writeEntry(b *strings.Builder, e *api.EntryDetail) {
	s := m.c.Styles
	b.WriteString(s.Bold.Render(e.Kind+" · "+e.Title) + "\n")
	m.kv(b, "id", e.ID)
	m.kv(b, "member", e.Member)
	m.kv(b, "project", e.Project)
	m.kv(b, "environment", e.Environment)
	m.kv(b, "date", e.Date.Format("2006-01-02 15:04:05 MST"))
	m.kv(b, "received", e.ReceivedAt.Format("2006-01-02 15:04:05 MST")+" via "+e.Source)
	m.listItem(b, e.ListItem)
	m.section(b, "Policy decisions")
	for _, d := range e.Decisions {
		st := s.DecisionStatus(d)
		b.WriteString("  " + st.Render() + "  " + s.Bold.Render(d.Subscription) + "  " + d.Summary + "\n")
		for _, x := range e.Explanation {
			if x.Subscription != d.Subscription {
				continue
			}
			if x.Text != "" {
				b.WriteString(indent(x.Text, "      ") + "\n")
			}
			if x.PolicyNote != "" {
				b.WriteString("      " + s.Warn.Render("! "+x.PolicyNote) + "\n")
			}
		}
	}
	if len(e.Context) > 0 {
		m.section(b, "Template context")
		b.WriteString(indent(prettyJSON(string(e.Context)), "  ") + "\n")
	}
	if len(e.Raw) > 0 {
		m.section(b, "Raw entry")
		b.WriteString(indent(prettyJSON(string(e.Raw)), "  ") + "\n")
	}
}

func (m *Model) writeTest(b *strings.Builder, t *ui.TestOutcome) {
	s := m.c.Styles
	r := t.Result
	switch {
	case t.Err != nil:
		b.WriteString(s.Fail.Render("✗ test not sent: "+t.Err.Error()) + "\n")
		return
	case r.OK:
		b.WriteString(s.Ok.Render("✓ "+r.Outcome) + "\n")
	default:
		b.WriteString(s.Fail.Render("✗ "+r.Outcome) + "\n")
	}
	if r.Sent != nil {
		m.section(b, fmt.Sprintf("Request sent (%s) at %s", r.What, r.Sent.At.Format("15:04:05")))
		b.WriteString("  " + s.Bold.Render(r.Sent.Method) + " " + r.Sent.URL + "\n")
		for _, h := range r.Sent.Headers {
			b.WriteString("  " + s.Dim.Render(h.Name+":") + " " + h.Value + "\n")
		}
		m.kv(b, "template", r.Sent.Template)
		if r.Sent.Body != "" {
			b.WriteString("\n" + indent(prettyJSON(r.Sent.Body), "  ") + "\n")
		}
	} else {
		m.section(b, fmt.Sprintf("Request rendered, not sent (%s)", r.What))
		m.writeRequest(b, r.Request)
	}
	if r.Sent == nil {
		return
	}
	m.section(b, "Response")
	if r.StatusCode != 0 {
		m.kv(b, "status", fmt.Sprint(r.StatusCode))
		m.kv(b, "latency", ui.Latency(r.Duration))
	}
	if r.Error != "" {
		m.kv(b, "error", r.Error)
	}
	if r.Body == "" {
		b.WriteString(s.Dim.Render("  (empty body)") + "\n")
	} else {
		b.WriteString(indent(prettyJSON(r.Body), "  ") + "\n")
	}
}

func prettyJSON(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[") {
		return s
	}
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(t), "", "  ") != nil {
		return s
	}
	return buf.String()
}

func indent(s, pre string) string {
	s = strings.TrimRight(s, "\n")
	return pre + strings.ReplaceAll(s, "\n", "\n"+pre)
}
