package form

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// replacer is the replace-secret prompt: the new value typed twice, or
// pasted once (a paste is not a typo).
type replacer struct {
	key     string
	inputs  [2]textinput.Model
	at      int  // the input being typed in
	pasted  bool // the first value arrived as one paste
	err     string
	onField int
}

type clearMsg struct{ sub, key string }

type plannedMsg struct {
	sub    string
	plan   api.FormPlan
	values map[string]any
	err    error
}

type undoneMsg struct {
	sub, what string
	err       error
}

func (m *Model) newSecretInput() textinput.Model {
	in := m.c.Styles.NewInput()
	in.EchoMode = textinput.EchoPassword
	in.EchoCharacter = '•'
	in.Width = inputWidth(m.width) - 12
	return in
}

// secretKey handles keys on a secret field: typing never changes it.
func (m *Model) secretKey(f *field, msg tea.KeyMsg) tea.Cmd {
	k := m.c.Keys.Form
	switch {
	case k.Replace.Is(msg):
		if d := k.Replace.Denied; d != "" {
			return ui.Toast(ui.LevelError, d)
		}
		r := &replacer{key: f.def.Key, onField: m.cursor}
		r.inputs[0], r.inputs[1] = m.newSecretInput(), m.newSecretInput()
		r.inputs[0].Placeholder = "new value"
		r.inputs[1].Placeholder = "the same again"
		r.inputs[0].Focus()
		m.replace = r
		f.err = ""
		return nil
	case k.Clear.Is(msg):
		if d := k.Clear.Denied; d != "" {
			return ui.Toast(ui.LevelError, d)
		}
		if f.def.Required {
			f.err = "is required: it cannot be cleared, only replaced (enter)"
			return nil
		}
		if !f.def.Set && !f.replaced {
			return ui.Toastf("%s is not set", f.def.Name)
		}
		sub, key := m.sub, f.def.Key
		return ui.Confirm(fmt.Sprintf("clear the secret %s of %s? (it is saved only after ctrl+s and a second yes)", f.def.Name, sub),
			func() tea.Msg { return clearMsg{sub: sub, key: key} })
	case msg.Type == tea.KeyRunes || msg.Type == tea.KeySpace || msg.Type == tea.KeyBackspace:
		f.err = "is a secret: typing does not change it; press enter to replace it"
		return nil
	}
	return nil
}

// replaceKey drives the replace-secret prompt.
func (m *Model) replaceKey(msg tea.KeyMsg) tea.Cmd {
	r := m.replace
	switch msg.Type {
	case tea.KeyEsc:
		m.replace = nil
		return ui.Toastf("secret left unchanged")
	case tea.KeyEnter:
		first := r.inputs[0].Value()
		if first == "" {
			r.err = "empty: type the new value (to remove the secret, esc then del)"
			return nil
		}
		if r.at == 0 && !r.pasted {
			r.at = 1
			r.inputs[0].Blur()
			r.inputs[1].Focus()
			r.err = ""
			return nil
		}
		if r.at == 1 && r.inputs[1].Value() != first {
			r.inputs[1].Reset()
			r.err = "the two values differ: type it again"
			return nil
		}
		for i := range m.fields {
			if f := &m.fields[i]; f.def.Key == r.key {
				f.replacement, f.replaced, f.cleared, f.err = first, true, false, ""
				f.revealed, f.plain = false, ""
			}
		}
		m.replace = nil
		return ui.Toastf("replacement ready: ctrl+s reviews and saves it")
	}
	var cmd tea.Cmd
	if msg.Paste && r.at == 0 && r.inputs[0].Value() == "" {
		r.pasted = true
	} else if r.at == 0 {
		r.pasted = false
	}
	r.inputs[r.at], cmd = r.inputs[r.at].Update(msg)
	r.err = ""
	return cmd
}

func (m *Model) replaceView() []string {
	s, r := m.c.Styles, m.replace
	out := []string{
		"    " + s.Label.Render("replace secret") + s.Dim.Render(" · typed twice, or pasted once · esc cancels"),
		"      new value  [ " + r.inputs[0].View() + " ]",
	}
	if r.at == 1 {
		out = append(out, "      again      [ "+r.inputs[1].View()+" ]")
	}
	if r.err != "" {
		out = append(out, "      "+s.Error.Render("✗ "+r.err))
	}
	return out
}

func (m *Model) secretValue(f *field) string {
	s := m.c.Styles
	switch {
	case f.cleared:
		return s.Warn.Render("(will be cleared)") + s.Dim.Render("   was "+api.Masked)
	case f.replaced:
		return api.Masked + s.Warn.Render(" (replaced, not saved yet)")
	case f.revealed:
		return s.Input.Render(f.plain) + s.Warn.Render(" revealed")
	case !f.def.Set || f.def.Value == "":
		return s.Dim.Render("(not set)   enter sets it")
	}
	return f.def.Value + s.Dim.Render("   enter replaces · ctrl+r reveals")
}

// updateEdit handles the answers of the save, clear and undo steps.
func (m *Model) updateEdit(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case clearMsg:
		if msg.sub != m.sub {
			return nil
		}
		for i := range m.fields {
			if f := &m.fields[i]; f.def.Key == msg.key {
				f.cleared, f.replaced, f.replacement = true, false, ""
			}
		}
	case plannedMsg:
		if msg.sub != m.sub {
			return nil
		}
		var fe *api.FormError
		switch {
		case errors.As(msg.err, &fe):
			m.applyErrors(fe.Fields)
			n := len(fe.Fields)
			if msg := fe.Fields[""]; msg != "" {
				return ui.Toast(ui.LevelError, "not saved: "+msg)
			}
			return ui.Toast(ui.LevelError, fmt.Sprintf("not saved: %d field(s) need fixing", n))
		case msg.err != nil:
			return ui.ErrorToast("check form variables", msg.err)
		case len(msg.plan.Changes) == 0:
			return ui.Toastf("nothing changed")
		}
		p := msg.plan
		m.plan = &p
	case undoneMsg:
		if msg.sub != m.sub {
			return nil
		}
		if msg.err != nil {
			return ui.ErrorToast("undo", msg.err)
		}
		return tea.Batch(ui.Toastf("undid the last change of %s: %s", m.sub, msg.what), m.Open(m.sub))
	}
	return nil
}

// confirmKey answers the save question: y saves, anything else goes back.
func (m *Model) confirmKey(msg tea.KeyMsg) tea.Cmd {
	if !m.c.Keys.Prompt.Yes.Is(msg) {
		m.plan = nil
		return ui.Toastf("not saved: still editing")
	}
	m.plan = nil
	m.saving = true
	values, sub := m.changes(), m.sub
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		err := c.API.SaveForm(ctx, c.Actor, sub, values)
		return savedMsg{sub: sub, n: len(values), err: err}
	})
}

func (m *Model) planView() string {
	s := m.c.Styles
	lines := []string{s.Label.Render("  Save these changes to " + m.sub + "?"), ""}
	for _, c := range m.plan.Changes {
		name := c.Name
		if name == "" {
			name = c.Key
		}
		old, nw := show(c.Old), show(c.New)
		if c.Secret && c.New != "" {
			nw = api.Masked + " (new value)"
		}
		lines = append(lines,
			"  "+s.Bold.Render(name)+s.Dim.Render(" ("+c.Key+")"),
			"    "+s.Error.Render("- "+ui.Trunc(old, max(m.width-8, 10))),
			"    "+s.Accent.Render("+ "+ui.Trunc(nw, max(m.width-8, 10))),
		)
	}
	lines = append(lines, "", "  "+s.Bold.Render("y")+" save · "+s.Bold.Render("n")+" back to editing (default)")
	return strings.Join(lines[:min(len(lines), max(m.height, 1))], "\n")
}

func show(v string) string {
	if v == "" {
		return "(not set: default)"
	}
	return v
}

// undo asks, then reverts the subscription's last saved form or template
// change.
func (m *Model) undo() tea.Cmd {
	k := m.c.Keys.Form.Undo
	if k.Denied != "" {
		return ui.Toast(ui.LevelError, k.Denied)
	}
	if m.readOnly != "" {
		return ui.Toast(ui.LevelError, m.readOnly)
	}
	sub := m.sub
	return ui.Confirm("undo the last saved form or template change of "+sub+"?", m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		what, err := c.API.Undo(ctx, c.Actor, sub)
		return undoneMsg{sub: sub, what: what, err: err}
	}))
}
