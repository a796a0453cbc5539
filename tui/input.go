package tui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// maxKeysAtOnce is the most keys of one input event acted on outside a
// text input.
const maxKeysAtOnce = 64

// key routes a key press. Modes (prompt, filter) and full-screen views
// see keys first, so a "y" meant for a confirmation never reaches a pane.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !m.typing() {
		// Keys typed quickly (or arriving together over a slow SSH link)
		// can reach us as one event; outside a text input each is its own
		// command, so handle them one by one. Their commands run one after
		// the other while new input keeps coming, so a client sending
		// thousands at once would pile them up: past maxKeysAtOnce, which
		// no one types, the rest are ignored.
		rs := msg.Runes[:min(len(msg.Runes), maxKeysAtOnce)]
		cmds := make([]tea.Cmd, 0, len(rs)+1)
		for _, r := range rs {
			cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
		}
		if len(msg.Runes) > maxKeysAtOnce {
			// Asked for after the keys' own toasts, so it is the one shown.
			cmds = append(cmds, ui.Toast(ui.LevelError, fmt.Sprintf("%s keys arrived at once: acted on the first %d, ignored the rest", ui.Count(len(msg.Runes)), maxKeysAtOnce)))
		}
		return tea.Sequence(cmds...)
	}
	k := m.c.Keys
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	if k.Global.Redraw.Is(msg) {
		return tea.ClearScreen
	}
	switch m.mode {
	case modePrompt:
		return m.answer(msg)
	case modeFilter:
		return m.filterKey(msg)
	case modePalette:
		return m.paletteKey(msg)
	case modeRange:
		return m.rangeKey(msg)
	}
	// Any key dismisses an error toast, as people expect.
	if m.toast.level == ui.LevelError && m.toast.text != "" {
		m.toast = toast{}
	}
	switch m.view() {
	case ui.ViewHelp:
		return m.help.Update(msg)
	case ui.ViewForm:
		return m.form.Update(msg)
	case ui.ViewTemplates:
		return m.tpl.Update(msg)
	}
	if m.view() == ui.ViewViewer {
		switch {
		case m.viewer.Searching():
		case k.Long.Pager.Is(msg):
			return m.pager(m.viewer.Title(), m.viewer.Text())
		case k.Copy.Payload.Is(msg):
			return m.copyText("viewer content", m.viewer.Text())
		case k.Global.Quit.Is(msg):
			return m.quit()
		}
		return m.viewer.Update(msg)
	}
	switch {
	case k.Long.Open.Is(msg) && m.view() != ui.ViewTestResult:
		return m.openViewer(false)
	case k.Long.Pager.Is(msg) && m.view() != ui.ViewTestResult:
		return m.openViewer(true)
	case k.Global.Palette.Is(msg):
		return m.openPalette()
	case k.Copy.ID.Is(msg) && m.view() != ui.ViewTestResult:
		return m.copyID()
	case k.Copy.Payload.Is(msg) && m.view() != ui.ViewTestResult:
		return m.copyPayload()
	}
	switch m.view() {
	case ui.ViewSearch:
		switch {
		case k.Global.Quit.Is(msg):
			return m.quit()
		case k.Global.Help.Is(msg):
			return m.open(ui.OpenMsg{View: ui.ViewHelp})
		}
		return m.search.Update(msg)
	case ui.ViewDeliveryDetail, ui.ViewEntryDetail, ui.ViewTestResult:
		switch {
		case k.Global.Quit.Is(msg):
			return m.quit()
		case k.Global.Help.Is(msg):
			return m.open(ui.OpenMsg{View: ui.ViewHelp})
		case k.Actions.Retry.Is(msg):
			return m.retry(m.detail.Selection())
		}
		return m.detail.Update(msg)
	}
	return m.mainKey(msg)
}

func (m *Model) mainKey(msg tea.KeyMsg) tea.Cmd {
	k := m.c.Keys
	g := k.Global
	a := k.Actions
	switch {
	case g.Quit.Is(msg):
		return m.quit()
	case g.Help.Is(msg):
		return m.open(ui.OpenMsg{View: ui.ViewHelp})
	case g.NextPane.Is(msg):
		return m.setFocus(m.focus + 1)
	case g.PrevPane.Is(msg):
		return m.setFocus(m.focus - 1)
	case g.FocusPane.Is(msg):
		return m.setFocus(int(msg.Runes[0] - '1'))
	case g.Filter.Is(msg):
		m.mode = modeFilter
		ui.SetText(&m.filterIn, m.events.Filter().String(), ui.MaxFilterLen)
		m.filterIn.CursorEnd()
		m.filterErr = ""
		cmd := m.setFocus(paneEvents)
		return tea.Batch(cmd, m.filterIn.Focus())
	case g.Color.Is(msg):
		return m.toggleColor()
	case g.Faster.Is(msg):
		return m.generator(+1)
	case g.Slower.Is(msg):
		return m.generator(-1)
	case m.focus == paneEvents && k.Events.ClearFilter.Is(msg) && !m.events.Filter().Empty():
		m.filterIn.SetValue("")
		m.events.SetFilter(nil)
		return ui.Toastf("filter cleared")
	case a.Retry.Is(msg):
		return m.retry(m.panes[m.focus].Selection())
	case a.RetryAll.Is(msg):
		return m.retryAll()
	case a.Resend.Is(msg):
		return m.resend()
	case a.Pause.Is(msg):
		return m.pause()
	case a.Test.Is(msg):
		return m.test()
	case a.EditForm.Is(msg):
		return m.edit(ui.ViewForm)
	case a.EditTemplates.Is(msg):
		return m.edit(ui.ViewTemplates)
	}
	return m.panes[m.focus].Update(msg)
}

// answer handles the y/N prompt: only y confirms.
func (m *Model) answer(msg tea.KeyMsg) tea.Cmd {
	p := m.prompt
	m.mode, m.prompt = modeNormal, ui.PromptMsg{}
	if m.c.Keys.Prompt.Yes.Is(msg) {
		return p.OnYes
	}
	if p.OnNo != nil {
		return p.OnNo
	}
	return ui.Toastf("cancelled")
}

func (m *Model) filterKey(msg tea.KeyMsg) tea.Cmd {
	k := m.c.Keys.Filter
	switch {
	case k.Apply.Is(msg):
		if m.filterErr != "" {
			return ui.Toast(ui.LevelError, m.filterErr)
		}
		m.mode = modeNormal
		m.filterIn.Blur()
		return m.searchStore(false)
	case k.Cancel.Is(msg):
		m.mode = modeNormal
		m.filterIn.Blur()
		m.filterIn.SetValue("")
		m.filterErr = ""
		m.events.SetFilter(nil)
		return nil
	}
	var cmd tea.Cmd
	before := m.filterIn.Value()
	m.filterIn, cmd = m.filterIn.Update(msg)
	if m.filterIn.Value() != before {
		m.applyFilter()
	}
	return cmd
}

// mouse scrolls the focused pane with the wheel (only with Options.Mouse).
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if msg.Action != tea.MouseActionPress {
		return nil
	}
	var key tea.KeyMsg
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		key = tea.KeyMsg{Type: tea.KeyUp}
	case tea.MouseButtonWheelDown:
		key = tea.KeyMsg{Type: tea.KeyDown}
	default:
		return nil
	}
	if m.view() != 0 || m.mode != modeNormal {
		if m.view() == ui.ViewDeliveryDetail || m.view() == ui.ViewEntryDetail || m.view() == ui.ViewTestResult {
			return m.detail.Update(key)
		}
		return nil
	}
	return m.panes[m.focus].Update(key)
}

// typing reports whether keys go to a text input (the filter, a form
// field, the template editor), which takes runs of characters as text.
func (m *Model) typing() bool {
	if m.mode == modeFilter || m.mode == modePalette || m.mode == modeRange || (m.view() == ui.ViewHelp && m.help.Searching()) ||
		(m.view() == ui.ViewViewer && m.viewer.Searching()) {
		return true
	}
	switch m.view() {
	case ui.ViewForm, ui.ViewTemplates:
		return true
	}
	return false
}
