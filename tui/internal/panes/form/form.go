// Package form is the full-screen editor of a subscription's form
// variables: text and URI inputs, boolean toggles and enum choices, with
// the engine's validation messages under each field. Secrets stay masked
// unless an operator reveals them, and typing never changes one: replacing
// a secret is its own step (the value typed twice, or pasted) and clearing
// it asks first. Values that come from env: or file: references are
// read-only here. A save first shows what changes and asks.
package form

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

type kind int

const (
	kindText kind = iota
	kindBool
	kindEnum
	kindSecret // masked; changed only by replace or clear (secret.go)
)

type field struct {
	def      api.FormField
	kind     kind
	input    textinput.Model
	initial  string // the text value when opened ("" for secrets)
	on, on0  bool   // boolean value, and when opened
	idx      int    // enum choice
	idx0     int
	revealed bool
	err      string
	// A secret's state: the value shown after a reveal, and the edit.
	plain       string
	replacement string
	replaced    bool
	cleared     bool
}

func (f *field) dirty() bool {
	switch f.kind {
	case kindBool:
		return f.on != f.on0
	case kindEnum:
		return f.idx != f.idx0
	case kindSecret:
		return f.replaced || f.cleared
	}
	return f.input.Value() != f.initial
}

func (f *field) value() any {
	switch f.kind {
	case kindBool:
		return f.on
	case kindEnum:
		if f.idx >= 0 && f.idx < len(f.def.AllowedValues) {
			return f.def.AllowedValues[f.idx]
		}
		return ""
	case kindSecret:
		return f.replacement // "" when cleared
	}
	return f.input.Value()
}

func (f *field) readOnly() bool { return f.def.Ref != "" }

type loadedMsg struct {
	sub  string
	form api.Form
	err  error
}

type revealedMsg struct {
	sub, key, value string
	err             error
}

type savedMsg struct {
	sub string
	n   int
	err error
}

// Model is the form editor.
type Model struct {
	c        *ui.Common
	sub      string
	form     api.Form
	fields   []field
	cursor   int
	offset   int
	loaded   bool
	saving   bool
	err      error
	width    int
	height   int
	readOnly string        // why nothing can be edited, "" when editable
	replace  *replacer     // the replace-secret prompt, when open
	plan     *api.FormPlan // the changes awaiting confirmation, when asked
}

// New returns a closed form editor.
func New(c *ui.Common) *Model { return &Model{c: c} }

// SetSize sets the body size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	for i := range m.fields {
		m.fields[i].input.Width = inputWidth(w)
	}
}

// Open loads sub's form.
func (m *Model) Open(sub string) tea.Cmd {
	*m = Model{c: m.c, sub: sub, width: m.width, height: m.height}
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		f, err := c.API.Form(sub)
		return loadedMsg{sub: sub, form: f, err: err}
	})
}

// Dirty counts fields changed since the form was opened.
func (m *Model) Dirty() int {
	n := 0
	for i := range m.fields {
		if m.fields[i].dirty() {
			n++
		}
	}
	return n
}

// Selection is the subscription being edited.
func (m *Model) Selection() ui.Selection { return ui.Selection{Subscription: m.sub} }

// Title is the border title.
func (m *Model) Title() string {
	t := "Form variables · " + m.sub
	if m.form.Integration != "" {
		t += " (" + m.form.Integration + ")"
	}
	if n := m.Dirty(); n > 0 {
		t += " · " + strconv.Itoa(n) + " changed"
	}
	if m.readOnly != "" {
		t += " · read-only"
	}
	return t
}

// Info is the bottom-border note.
func (m *Model) Info() string {
	switch {
	case m.saving:
		return "saving…"
	case m.readOnly != "":
		return m.readOnly + " · esc back"
	}
	switch {
	case m.plan != nil:
		return "y save · n back to editing"
	case m.replace != nil:
		return "enter next / done · esc cancel the replacement"
	}
	return "ctrl+s review & save · esc cancel · ctrl+z undo"
}

func (m *Model) load(f api.Form) {
	m.form, m.loaded = f, true
	switch {
	case !m.c.Operator():
		m.readOnly = "viewer role cannot edit"
	case !f.Editable:
		m.readOnly = "not editable"
		if f.Note != "" {
			m.readOnly += ": " + f.Note
		}
	}
	m.fields = m.fields[:0]
	for _, d := range f.Fields {
		if d.Hidden {
			continue
		}
		fd := field{def: d, input: m.c.Styles.NewInput()}
		fd.input.Width = inputWidth(m.width)
		switch {
		case d.Type == "boolean":
			fd.kind = kindBool
			fd.on, _ = strconv.ParseBool(firstNonEmpty(d.Value, d.Default))
			fd.on0 = fd.on
		case d.Type == "enum" || len(d.AllowedValues) > 0:
			fd.kind = kindEnum
			fd.idx = slices.Index(d.AllowedValues, firstNonEmpty(d.Value, d.Default))
			fd.idx0 = fd.idx
		case d.Secret:
			fd.kind = kindSecret // the engine only ever sends the mask
		default:
			ui.SetText(&fd.input, d.Value, ui.MaxFieldLen)
			fd.initial = d.Value
			fd.input.Placeholder = d.Placeholder
		}
		m.fields = append(m.fields, fd)
	}
	m.focus()
}

// inputWidth leaves room for the indent, the brackets and the cursor.
func inputWidth(w int) int { return max(w-10, 10) }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (m *Model) focus() {
	for i := range m.fields {
		if i == m.cursor && m.fields[i].kind == kindText && !m.fields[i].readOnly() && m.readOnly == "" {
			m.fields[i].input.Focus()
		} else {
			m.fields[i].input.Blur()
		}
	}
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
		m.load(msg.form)
	case revealedMsg:
		if msg.sub != m.sub {
			return nil
		}
		if msg.err != nil {
			return ui.ErrorToast("reveal "+msg.key, msg.err)
		}
		for i := range m.fields {
			f := &m.fields[i]
			if f.def.Key == msg.key {
				f.revealed, f.plain = true, msg.value
			}
		}
	case savedMsg:
		if msg.sub != m.sub {
			return nil
		}
		m.saving = false
		var fe *api.FormError
		switch {
		case errors.As(msg.err, &fe):
			m.applyErrors(fe.Fields)
			return ui.Toast(ui.LevelError, fmt.Sprintf("not saved: %d field(s) need fixing", len(fe.Fields)))
		case msg.err != nil:
			return ui.ErrorToast("save form variables", msg.err)
		}
		return tea.Batch(ui.Toastf("saved %d form variable(s) of %s", msg.n, m.sub), ui.Close)
	case plannedMsg, clearMsg, undoneMsg:
		return m.updateEdit(msg)
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) applyErrors(errs map[string]string) {
	for i := range m.fields {
		m.fields[i].err = errs[m.fields[i].def.Key]
	}
	// Jump to the first bad field.
	for i := range m.fields {
		if m.fields[i].err != "" {
			m.cursor = i
			m.focus()
			return
		}
	}
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.c.Keys.Form
	if m.plan != nil {
		return m.confirmKey(msg)
	}
	if m.replace != nil {
		return m.replaceKey(msg)
	}
	if k.Undo.Is(msg) {
		return m.undo()
	}
	if k.Cancel.Is(msg) {
		if n := m.Dirty(); n > 0 {
			return ui.Confirm(fmt.Sprintf("discard %d unsaved change(s) to %s?", n, m.sub), ui.Close)
		}
		return ui.Close
	}
	if !m.loaded || len(m.fields) == 0 {
		return nil
	}
	f := &m.fields[m.cursor]
	switch {
	case k.Next.Is(msg):
		m.cursor = (m.cursor + 1) % len(m.fields)
		m.focus()
		return nil
	case k.Prev.Is(msg):
		m.cursor = (m.cursor - 1 + len(m.fields)) % len(m.fields)
		m.focus()
		return nil
	case k.Save.Is(msg):
		if k.Save.Denied != "" {
			return ui.Toast(ui.LevelError, k.Save.Denied)
		}
		return m.save()
	case k.Reveal.Is(msg):
		return m.reveal(f)
	}
	if f.kind == kindSecret && m.readOnly == "" && !f.readOnly() {
		return m.secretKey(f, msg)
	}
	if m.readOnly != "" || f.readOnly() {
		why := m.readOnly
		if why == "" {
			why = f.def.Name + " comes from " + f.def.Ref + " (read-only here)"
		}
		return ui.Toast(ui.LevelError, why)
	}
	switch f.kind {
	case kindBool:
		if k.Toggle.Is(msg) || k.Cycle.Is(msg) {
			f.on = !f.on
			f.err = ""
		}
		return nil
	case kindEnum:
		n := len(f.def.AllowedValues)
		if n == 0 {
			return nil
		}
		switch {
		case msg.String() == "left":
			f.idx = (f.idx - 1 + n) % n
		case k.Toggle.Is(msg) || k.Cycle.Is(msg):
			f.idx = (f.idx + 1) % n
		}
		f.err = ""
		return nil
	}
	var cmd tea.Cmd
	f.input, cmd = f.input.Update(msg)
	f.err = ""
	return cmd
}

func (m *Model) reveal(f *field) tea.Cmd {
	if d := m.c.Keys.Form.Reveal.Denied; d != "" {
		return ui.Toast(ui.LevelError, d)
	}
	if !f.def.Secret {
		return ui.Toastf("%s is not a secret", f.def.Name)
	}
	if f.revealed {
		f.revealed, f.plain = false, ""
		return nil
	}
	sub, key := m.sub, f.def.Key
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		v, err := c.API.RevealSecret(ctx, c.Actor, sub, key)
		return revealedMsg{sub: sub, key: key, value: v, err: err}
	})
}

func (m *Model) save() tea.Cmd {
	if m.readOnly != "" {
		return ui.Toast(ui.LevelError, m.readOnly)
	}
	values := m.changes()
	if len(values) == 0 {
		return ui.Toastf("nothing changed")
	}
	// The engine validates (the manifest's rules, the endpoint the values
	// build) and says what would change; saving waits for a yes.
	sub := m.sub
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		p, err := c.API.PlanForm(ctx, sub, values)
		return plannedMsg{sub: sub, plan: p, values: values, err: err}
	})
}

func (m *Model) changes() map[string]any {
	values := map[string]any{}
	for i := range m.fields {
		f := &m.fields[i]
		if f.dirty() && !f.readOnly() {
			values[f.def.Key] = f.value()
		}
	}
	return values
}

// View renders the fields, scrolled to keep the cursor's field in view.
func (m *Model) View() string {
	s := m.c.Styles
	switch {
	case m.err != nil:
		return s.Error.Render("could not load the form: " + m.err.Error())
	case !m.loaded:
		return s.Dim.Render("loading…")
	case len(m.fields) == 0:
		return s.Dim.Render(m.form.Integration + " has no form variables")
	}
	var lines []string
	var start, end int
	if m.readOnly != "" {
		lines = append(lines, s.ReadOnly.Render("  read-only: "+m.readOnly), "")
	}
	if m.plan != nil {
		return m.planView()
	}
	for i := range m.fields {
		if i == m.cursor {
			start = len(lines)
		}
		lines = append(lines, m.fieldLines(i)...)
		if i == m.cursor {
			end = len(lines)
		}
		lines = append(lines, "")
	}
	if start < m.offset {
		m.offset = start
	}
	if end > m.offset+m.height {
		m.offset = end - m.height
	}
	m.offset = min(max(m.offset, 0), max(len(lines)-m.height, 0))
	return strings.Join(lines[m.offset:min(m.offset+m.height, len(lines))], "\n")
}

func (m *Model) fieldLines(i int) []string {
	s := m.c.Styles
	f := &m.fields[i]
	d := f.def
	marker := "  "
	if i == m.cursor {
		marker = s.Accent.Render("› ")
	}
	label := s.Label.Render(d.Name)
	if d.Name == "" {
		label = s.Label.Render(d.Key)
	}
	if d.Required {
		label += s.Error.Render(" *")
	}
	meta := d.Key + " · " + d.Type
	if d.Secret {
		meta += " · secret"
	}
	if f.dirty() {
		meta += " · changed"
	}
	out := []string{marker + label + "  " + s.Dim.Render(meta)}
	var val string
	switch {
	case f.readOnly():
		v := d.Value
		if d.Secret {
			v = api.Masked
		}
		val = s.ReadOnly.Render(v+"  (from "+d.Ref+", read-only)") + s.Dim.Render("  "+refHint(d.Ref))
	case f.kind == kindBool:
		box := "[ ] false"
		if f.on {
			box = "[x] true"
		}
		val = box + s.Dim.Render("   space toggles")
	case f.kind == kindEnum:
		cur := "(none)"
		if f.idx >= 0 && f.idx < len(d.AllowedValues) {
			cur = d.AllowedValues[f.idx]
		}
		val = "‹ " + s.Bold.Render(cur) + " ›" + s.Dim.Render("   "+strings.Join(d.AllowedValues, " | "))
	case f.kind == kindSecret:
		val = m.secretValue(f)
	default:
		val = "[ " + f.input.View() + " ]"
	}
	out = append(out, "    "+val)
	if m.replace != nil && i == m.cursor {
		out = append(out, m.replaceView()...)
	}
	if d.Description != "" {
		out = append(out, "    "+s.Dim.Render(ui.Trunc(d.Description, max(m.width-6, 10))))
	}
	if f.err != "" {
		out = append(out, "    "+s.Error.Render("✗ "+d.Name+" "+f.err))
	}
	return out
}

// refHint says where a value configured by reference is changed.
func refHint(ref string) string {
	switch {
	case strings.HasPrefix(ref, "env:"):
		return "change " + strings.TrimPrefix(ref, "env:") + " in the relay's environment and restart it"
	case strings.HasPrefix(ref, "file:"):
		return "change the file " + strings.TrimPrefix(ref, "file:") + " and restart the relay"
	}
	return "change it where it comes from"
}
