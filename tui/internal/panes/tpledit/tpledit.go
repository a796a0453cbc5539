// Package tpledit is the full-screen template editor: one buffer per
// template of the subscription (flag, project, environment, member,
// default, validation), a live preview of the request the selected entry
// would produce, rendered as you type, and saving with conflict detection.
package tpledit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Debounce is how long typing must pause before the preview renders.
const Debounce = 150 * time.Millisecond

type buffer struct {
	info api.TemplateInfo // as last loaded or saved: the base of edits
	ta   textarea.Model
}

func (b *buffer) dirty() bool { return b.ta.Value() != b.info.Source }

// limit is the most characters the buffer takes: ui.MaxTemplateLen, or
// the template as loaded when it is longer.
func (b *buffer) limit() int {
	return max(ui.MaxTemplateLen, utf8.RuneCountInString(b.info.Source))
}

// fit cuts typed or pasted runes to what room characters allow, counting
// a tab as the four spaces the editor turns it into.
func fit(rs []rune, room int) []rune {
	n := 0
	for i, r := range rs {
		w := 1
		if r == '\t' {
			w = 4
		}
		if n+w > room {
			return rs[:i]
		}
		n += w
	}
	return rs
}

type loadedMsg struct {
	sub  string
	tpls []api.TemplateInfo
	err  error
}

// previewTick is the preview timer firing; it carries the counts it was
// started at.
type previewTick struct{ gen, typed int }

type previewMsg struct {
	gen     int
	key     string
	preview api.Preview
	err     error
}

type savedMsg struct {
	sub, key string
	info     api.TemplateInfo
	err      error
	who      string // for conflicts: who changed it since, when known
}

// Model is the template editor.
type Model struct {
	c        *ui.Common
	sub      string
	entryID  string
	opened   time.Time
	bufs     []buffer
	cur      int
	loaded   bool
	err      error
	readOnly string

	gen       int  // bumps on every edit; previews carry the gen they rendered
	typed     int  // bumps on every edit typed; the preview timer waits for it to rest
	waiting   bool // a preview timer is pending
	shownGen  int
	preview   *api.Preview
	previewOf string // template key of the preview
	prevErr   error
	pvp       viewport.Model
	status    string // last save problem, shown above the editor
	saving    bool
	review    *review // the save's question, when asked (review.go)

	width, height int
}

// New returns a closed editor.
func New(c *ui.Common) *Model {
	vp := viewport.New(0, 0)
	vp.Style = c.Styles.Plain.Style
	return &Model{c: c, pvp: vp}
}

// Open loads sub's templates; previews render entryID ("" = a sample).
func (m *Model) Open(sub, entryID string) tea.Cmd {
	// A preview timer still pending stays the one timer.
	*m = Model{c: m.c, sub: sub, entryID: entryID, opened: m.c.Now(), pvp: m.pvp, width: m.width, height: m.height, waiting: m.waiting}
	if !m.c.Operator() {
		m.readOnly = "viewer role cannot edit"
	}
	m.pvp.SetContent("")
	return m.reload()
}

func (m *Model) reload() tea.Cmd {
	sub := m.sub
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		t, err := c.API.Templates(sub)
		return loadedMsg{sub: sub, tpls: t, err: err}
	})
}

// Current is the template being edited and its buffer's text.
func (m *Model) Current() (api.TemplateInfo, string, bool) {
	if len(m.bufs) == 0 {
		return api.TemplateInfo{}, "", false
	}
	b := &m.bufs[m.cur]
	return b.info, b.ta.Value(), true
}

// Preview is the preview shown, or nil.
func (m *Model) Preview() *api.Preview { return m.preview }

// Dirty counts templates with unsaved edits.
func (m *Model) Dirty() int {
	n := 0
	for i := range m.bufs {
		if m.bufs[i].dirty() {
			n++
		}
	}
	return n
}

// Selection is the subscription being edited.
func (m *Model) Selection() ui.Selection { return ui.Selection{Subscription: m.sub} }

// SetSize sets the body size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	ew, eh, pw, ph := m.areas()
	for i := range m.bufs {
		m.bufs[i].ta.SetWidth(ew)
		m.bufs[i].ta.SetHeight(eh)
	}
	m.pvp.Width, m.pvp.Height = pw, ph
	m.renderPreview()
}

// wide reports whether editor and preview sit side by side.
func (m *Model) wide() bool { return m.width >= 100 }

// areas are the editor's and the preview's sizes. Two lines go to the
// template tabs and the status line.
func (m *Model) areas() (ew, eh, pw, ph int) {
	h := max(m.height-2, 2)
	if m.wide() {
		ew = m.width * 55 / 100
		return ew, h, m.width - ew - 1, h
	}
	eh = max(h/2, 1)
	return m.width, eh, m.width, max(h-eh-1, 1)
}

// Title is the border title.
func (m *Model) Title() string {
	t := "Templates · " + m.sub
	if n := m.Dirty(); n > 0 {
		t += fmt.Sprintf(" · %d unsaved", n)
	}
	if m.readOnly != "" {
		t += " · read-only"
	}
	return t
}

// Info is the bottom-border note.
func (m *Model) Info() string {
	if m.readOnly != "" {
		return m.readOnly + " · tab next template · esc back"
	}
	if m.review != nil {
		return "y save · n back to editing"
	}
	return "ctrl+s review & save · ctrl+r reload · tab next template · pgup/pgdn preview · esc close"
}

// Update handles keys and loaded data.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.sub != m.sub {
			return nil
		}
		if msg.err != nil {
			m.err = msg.err
			return nil
		}
		m.load(msg.tpls)
		return m.previewNow()
	case previewTick:
		m.waiting = false
		switch {
		case msg.typed != m.typed:
			return m.debounce() // more typing since: wait for it to rest
		case msg.gen != m.gen:
			return nil // a preview of what changed since is under way
		}
		return m.previewNow()
	case previewMsg:
		if msg.gen < m.shownGen {
			return nil // an older render finished late
		}
		m.shownGen = msg.gen
		m.previewOf = msg.key
		m.prevErr = msg.err
		if msg.err == nil {
			p := msg.preview
			m.preview = &p
		}
		m.renderPreview()
	case savedMsg:
		return m.saved(msg)
	case undoneMsg:
		if msg.sub != m.sub {
			return nil
		}
		if msg.err != nil {
			return ui.ErrorToast("undo", msg.err)
		}
		return tea.Batch(ui.Toastf("undid the last change of %s: %s", m.sub, msg.what), m.reload())
	case reviewMsg:
		if msg.sub == m.sub {
			rv := msg.rv
			m.review = &rv
		}
	case tea.KeyMsg:
		if m.review != nil {
			return m.reviewKey(msg)
		}
		return m.key(msg)
	}
	return nil
}

func (m *Model) load(tpls []api.TemplateInfo) {
	keep := ""
	if len(m.bufs) > 0 {
		keep = m.bufs[m.cur].info.Key
	}
	ew, eh, _, _ := m.areas()
	m.bufs = m.bufs[:0]
	m.cur = 0
	if keep == "" {
		// Open on a template the integration has: many set only default
		// (and validation), and an empty flag editor says nothing.
		for _, t := range tpls {
			if t.Source != "" {
				keep = t.Key
				break
			}
		}
	}
	for i, t := range tpls {
		ta := m.c.Styles.NewTextarea()
		ta.SetWidth(ew)
		ta.SetHeight(eh)
		ta.SetValue(t.Source)
		toStart(&ta)
		m.bufs = append(m.bufs, buffer{info: t, ta: ta})
		if t.Key == keep {
			m.cur = i
		}
	}
	m.loaded = true
	m.status = ""
	m.focus()
}

// toStart puts the cursor on the first character: SetValue leaves it at
// the end.
func toStart(ta *textarea.Model) {
	for i := 0; i < 100000 && (ta.Line() > 0 || ta.LineInfo().RowOffset > 0); i++ {
		ta.CursorUp()
	}
	ta.CursorStart()
}

func (m *Model) focus() {
	for i := range m.bufs {
		if i == m.cur {
			m.bufs[i].ta.Focus()
		} else {
			m.bufs[i].ta.Blur()
		}
	}
}

func (m *Model) previewNow() tea.Cmd {
	if len(m.bufs) == 0 {
		return nil
	}
	b := &m.bufs[m.cur]
	gen, sub, key, src, entry := m.gen, m.sub, b.info.Key, b.ta.Value(), m.entryID
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		p, err := c.API.Preview(ctx, sub, key, src, entry)
		return previewMsg{gen: gen, key: key, preview: p, err: err}
	})
}

func (m *Model) edited() tea.Cmd {
	m.gen++
	m.typed++
	m.status = ""
	return m.debounce()
}

// debounce starts the preview timer unless one is pending. Typing that
// goes on past it starts it again then, so there is one timer however fast
// keys come (a paste typed out, or thousands of keys sent at once over
// SSH), and the preview waits until typing rests.
func (m *Model) debounce() tea.Cmd {
	if m.waiting {
		return nil
	}
	m.waiting = true
	gen, typed := m.gen, m.typed
	return m.c.Tick(Debounce, func(time.Time) tea.Msg { return previewTick{gen, typed} })
}

// navKeys may reach a read-only editor: they move, never change.
func navKey(msg tea.KeyMsg) bool {
	switch msg.String() {
	case "up", "down", "left", "right", "home", "end", "ctrl+a", "ctrl+e", "alt+left", "alt+right", "ctrl+home", "ctrl+end", "alt+<", "alt+>":
		return true
	}
	return false
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.c.Keys.Templates
	switch {
	case k.Cancel.Is(msg):
		if n := m.Dirty(); n > 0 && m.readOnly == "" {
			return ui.Confirm(fmt.Sprintf("discard unsaved edits to %d template(s)?", n), ui.Close)
		}
		return ui.Close
	case !m.loaded || len(m.bufs) == 0:
		return nil
	case k.NextTemplate.Is(msg), k.PrevTemplate.Is(msg):
		d := 1
		if k.PrevTemplate.Is(msg) {
			d = len(m.bufs) - 1
		}
		m.cur = (m.cur + d) % len(m.bufs)
		m.focus()
		m.status = ""
		m.gen++
		return m.previewNow()
	case k.PreviewUp.Is(msg):
		m.pvp.HalfPageUp()
		return nil
	case k.PreviewDown.Is(msg):
		m.pvp.HalfPageDown()
		return nil
	case k.Save.Is(msg):
		if k.Save.Denied != "" {
			return ui.Toast(ui.LevelError, k.Save.Denied)
		}
		return m.save()
	case k.Undo.Is(msg):
		return m.undo()
	case k.Reload.Is(msg):
		if n := m.Dirty(); n > 0 {
			return ui.Confirm(fmt.Sprintf("reload templates and lose edits to %d template(s)?", n), m.reload())
		}
		return m.reload()
	}
	b := &m.bufs[m.cur]
	if m.readOnly != "" || !b.info.Editable {
		if navKey(msg) {
			var cmd tea.Cmd
			b.ta, cmd = b.ta.Update(msg)
			return cmd
		}
		why := m.readOnly
		if why == "" {
			why = b.info.Key + " template is not editable"
			if b.info.Note != "" {
				why += ": " + b.info.Note
			}
		}
		return ui.Toast(ui.LevelError, why)
	}
	before := b.ta.Value()
	var full tea.Cmd
	if msg.Type == tea.KeyRunes || msg.Type == tea.KeySpace {
		if kept := fit(msg.Runes, b.limit()-utf8.RuneCountInString(before)); len(kept) < len(msg.Runes) {
			full = ui.Toast(ui.LevelError, fmt.Sprintf("the %s template is at its limit of %s characters; %s not inserted",
				b.info.Key, ui.Count(b.limit()), ui.Count(len(msg.Runes)-len(kept))))
			if len(kept) == 0 {
				return full
			}
			msg.Runes = kept
		}
	}
	var cmd tea.Cmd
	b.ta, cmd = b.ta.Update(msg)
	if b.ta.Value() != before {
		return tea.Batch(cmd, m.edited(), full)
	}
	return tea.Batch(cmd, full)
}

func (m *Model) save() tea.Cmd {
	if m.readOnly != "" {
		return ui.Toast(ui.LevelError, m.readOnly)
	}
	b := &m.bufs[m.cur]
	if !b.info.Editable {
		return ui.Toast(ui.LevelError, b.info.Key+" template is not editable: "+b.info.Note)
	}
	if !b.dirty() {
		return ui.Toastf("%s template: nothing changed", b.info.Key)
	}
	// Refuse at once when the preview of exactly this text found a parse
	// error; the engine checks again on save.
	if m.preview != nil && m.shownGen == m.gen && m.previewOf == b.info.Key {
		for _, is := range m.preview.Errors {
			if is.Severity == "error" {
				m.status = fmt.Sprintf("not saved: %d:%d %s", is.Line, is.Col, is.Msg)
				return ui.Toast(ui.LevelError, m.status)
			}
		}
	}
	// Show what changes and ask first (review.go).
	return m.startReview(b)
}

// commit saves src as the key template, from base (the hash it was
// edited from).
func (m *Model) commit(key, src, base string) tea.Cmd {
	m.saving = true
	sub, opened := m.sub, m.opened
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		info, err := c.API.SaveTemplate(ctx, c.Actor, sub, key, src, base)
		msg := savedMsg{sub: sub, key: key, info: info, err: err}
		if errors.Is(err, api.ErrConflict) {
			msg.who = whoChanged(ctx, c.API, sub, key, opened, c.Now())
		}
		return msg
	})
}

// whoChanged names the last person who edited the template since the
// editor opened, from the action log, or "" when unknown.
func whoChanged(ctx context.Context, api api.API, sub, key string, since, now time.Time) string {
	acts, err := api.Actions(ctx, since, 100)
	if err != nil {
		return ""
	}
	for _, a := range acts { // newest first
		// The engine records the key first in Detail ("flag saved to …").
		if a.Kind == "edit-template" && a.Target == sub && (a.Detail == "" || a.Detail == key || strings.HasPrefix(a.Detail, key+" ")) {
			return a.Actor + " " + ui.Ago(now, a.At)
		}
	}
	return ""
}

func (m *Model) saved(msg savedMsg) tea.Cmd {
	if msg.sub != m.sub {
		return nil
	}
	m.saving = false
	switch {
	case errors.Is(msg.err, api.ErrConflict):
		who := "someone else"
		if msg.who != "" {
			who = msg.who
		}
		m.status = fmt.Sprintf("not saved: the %s template changed since you opened it (by %s); reload with ctrl+r", msg.key, who)
		return ui.Toast(ui.LevelError, m.status)
	case msg.err != nil:
		m.status = "not saved: " + msg.err.Error()
		return ui.Toast(ui.LevelError, m.status)
	}
	for i := range m.bufs {
		if m.bufs[i].info.Key == msg.key {
			// Keep what is in the editor: the user may have typed on.
			m.bufs[i].info = msg.info
			if m.bufs[i].info.Source == "" {
				m.bufs[i].info.Source = m.bufs[i].ta.Value()
			}
		}
	}
	m.status = ""
	where := msg.info.Override
	if where == "" {
		where = msg.info.Path
	}
	if n := len(msg.info.Warnings); n > 0 {
		m.renderPreview()
		return ui.Toastf("saved %s template of %s to %s; LaunchDarkly's renderer would send it differently (%d warning%s in the preview)", msg.key, m.sub, where, n, map[bool]string{true: "", false: "s"}[n == 1])
	}
	return ui.Toastf("saved %s template of %s to %s", msg.key, m.sub, where)
}

func (m *Model) renderPreview() {
	if m.width <= 0 {
		return
	}
	s := m.c.Styles
	var b strings.Builder
	switch {
	case m.prevErr != nil:
		b.WriteString(s.Error.Render("preview failed: " + m.prevErr.Error()))
	case m.preview == nil:
		b.WriteString(s.Dim.Render("rendering…"))
	default:
		p := m.preview
		for _, is := range p.Errors {
			style, glyph := s.Warn, "!"
			if is.Severity == "error" {
				style, glyph = s.Fail, "✗"
			}
			b.WriteString(style.Render(fmt.Sprintf("%s %d:%d %s: %s", glyph, is.Line, is.Col, is.Severity, is.Msg)) + "\n")
		}
		// What the last save found about LaunchDarkly's own renderer, as
		// long as the text is what was saved.
		var saved []api.TemplateIssue
		if len(m.bufs) > 0 && m.previewOf == m.bufs[m.cur].info.Key && !m.bufs[m.cur].dirty() {
			saved = m.bufs[m.cur].info.Warnings
		}
		for _, is := range saved {
			where := ""
			if is.Line > 0 {
				where = fmt.Sprintf("%d:%d ", is.Line, is.Col)
			}
			b.WriteString(s.Warn.Render(fmt.Sprintf("! %s%s", where, is.Msg)) + "\n")
		}
		if len(p.Errors)+len(saved) > 0 {
			b.WriteString("\n")
		}
		r := p.Request
		if r.Skipped != "" {
			b.WriteString(s.Dim.Render("nothing would be sent: "+r.Skipped) + "\n")
		} else {
			b.WriteString(s.Bold.Render(r.Method) + " " + r.URL + "\n")
			for _, h := range r.Headers {
				b.WriteString(s.Dim.Render(h.Name+":") + " " + h.Value + "\n")
			}
			b.WriteString("\n" + previewBody(r.Body) + "\n")
		}
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if ui.Width(l) > m.pvp.Width && m.pvp.Width > 0 {
			out = append(out, ui.WrapIndent(l, m.pvp.Width)...)
			continue
		}
		out = append(out, l)
	}
	m.pvp.SetContent(strings.Join(out, "\n"))
}

// View renders the template tabs, the editor and the preview.
func (m *Model) View() string {
	s := m.c.Styles
	switch {
	case m.err != nil:
		return s.Error.Render("could not load templates: " + m.err.Error())
	case !m.loaded:
		return s.Dim.Render("loading…")
	case len(m.bufs) == 0:
		return s.Dim.Render(m.sub + " has no templates")
	case m.review != nil:
		return m.reviewView()
	}
	var tabs []string
	for i := range m.bufs {
		t := m.bufs[i].info.Key
		if m.bufs[i].dirty() {
			t += "*"
		}
		if i == m.cur {
			tabs = append(tabs, s.TitleFocused.Render("["+t+"]"))
		} else {
			tabs = append(tabs, s.Dim.Render(" "+t+" "))
		}
	}
	cur := &m.bufs[m.cur]
	src := cur.info.Override
	if src == "" {
		src = cur.info.Path
	}
	line1 := ui.Fit(strings.Join(tabs, " ")+s.Dim.Render("  "+src), m.width)
	status := s.Dim.Render(fmt.Sprintf("preview of entry %s", orSample(m.entryID)))
	switch {
	case m.saving:
		status = s.Dim.Render("saving…")
	case m.status != "":
		status = s.Error.Render(m.status)
	case !cur.info.Editable:
		status = s.ReadOnly.Render("read-only: " + cur.info.Note)
	}
	line2 := ui.Fit(status, m.width)

	ew, eh, pw, ph := m.areas()
	editor := ui.Lines(cur.ta.View(), ew, eh)
	preview := ui.Lines(m.pvp.View(), pw, ph)
	var b strings.Builder
	b.WriteString(line1 + "\n" + line2)
	if m.wide() {
		sep := s.Border.Render("│")
		for i := 0; i < eh; i++ {
			b.WriteString("\n" + editor[i] + sep + preview[i])
		}
		return b.String()
	}
	for _, l := range editor {
		b.WriteString("\n" + l)
	}
	b.WriteString("\n" + s.Border.Render(ui.Fit("── preview ", m.width)))
	for _, l := range preview {
		b.WriteString("\n" + l)
	}
	return b.String()
}

// maxPreviewBody bounds the body the preview shows: a body can be as
// large as the render budget (1 MiB by default), and wrapping all of it on
// every keystroke would stall the console.
const maxPreviewBody = 64 << 10

// previewBody is body, cut at maxPreviewBody (on a character boundary)
// with a line saying how much is not shown.
func previewBody(body string) string {
	if len(body) <= maxPreviewBody {
		return body
	}
	cut := maxPreviewBody
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return body[:cut] + fmt.Sprintf("\n… %s more bytes not shown (the body is %s bytes)", ui.Count(len(body)-cut), ui.Count(len(body)))
}

func orSample(id string) string {
	if id == "" {
		return "(built-in sample)"
	}
	return id
}
