package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// The ":" command palette: every action a key does is also a command, plus
// jumps that need an argument (an entry or delivery id, a subscription).
// Tab completes the command, then its argument.

// command is one palette command.
type command struct {
	name, args, help string
	// complete lists the argument's candidates (nil: free text).
	complete func(m *Model) []string
	run      func(m *Model, arg string) tea.Cmd
}

// maxPaletteLen bounds what the palette input holds.
const maxPaletteLen = 512

func subNames(m *Model) []string { return m.subs.Names() }

// withSub selects arg's subscription first (when given), so the action
// that follows applies to it.
func withSub(m *Model, arg string, then func() tea.Cmd) tea.Cmd {
	if arg != "" {
		if !m.subs.Select(arg) {
			return ui.Toast(ui.LevelError, fmt.Sprintf("no subscription %q (tab completes)", arg))
		}
		m.setFocus(paneSubs)
	}
	return then()
}

// commands is the palette's table, in help order.
func commands() []command {
	// sortCmd sorts the list the column belongs to: the store search when
	// open, the focused deliveries or subscriptions pane when it has the
	// column, the deliveries pane for its own columns, else the events.
	sortCmd := func(col sorting.Column) func(*Model, string) tea.Cmd {
		return func(m *Model, _ string) tea.Cmd {
			own := col >= sorting.Tries // the deliveries pane's own columns
			switch {
			case m.view() == ui.ViewSearch && own:
				return ui.Toast(ui.LevelError, "the store search has no "+col.String()+" column")
			case m.view() == ui.ViewSearch:
				return m.search.Update(sortKeyFor(m, col))
			case own || (m.focus == paneDeliveries && col <= sorting.Title):
				return tea.Batch(m.setFocus(paneDeliveries), m.dels.Update(sortKeyFor(m, col)))
			case m.focus == paneSubs && col <= sorting.Title:
				return m.subs.Update(sortKeyFor(m, col))
			}
			m.setFocus(paneEvents)
			m.events.SetSort(m.events.Sort().Toggle(col))
			return nil
		}
	}
	return []command{
		{"entry", "ID", "open an entry by id", nil, func(m *Model, id string) tea.Cmd {
			if id == "" {
				return ui.Toast(ui.LevelError, ":entry needs an entry id")
			}
			return m.open(ui.OpenMsg{View: ui.ViewEntryDetail, EntryID: id})
		}},
		{"delivery", "ID", "open a delivery by id", nil, func(m *Model, id string) tea.Cmd {
			if id == "" {
				return ui.Toast(ui.LevelError, ":delivery needs a delivery id")
			}
			return m.open(ui.OpenMsg{View: ui.ViewDeliveryDetail, DeliveryID: id})
		}},
		{"sub", "NAME", "select a subscription and list its deliveries", subNames, func(m *Model, name string) tea.Cmd {
			if name == "" {
				return ui.Toast(ui.LevelError, ":sub needs a subscription name (tab completes)")
			}
			return withSub(m, name, func() tea.Cmd { return m.scope(ui.ScopeMsg{Subscription: name}) })
		}},
		{"filter", "TERMS", "filter the events (same language as /)", nil, func(m *Model, terms string) tea.Cmd {
			ui.SetText(&m.filterIn, terms, ui.MaxFilterLen)
			m.applyFilter()
			if m.filterErr != "" {
				return ui.Toast(ui.LevelError, m.filterErr)
			}
			m.setFocus(paneEvents)
			return m.searchStore(false)
		}},
		{"search", "TERMS", "search the whole store with a filter", nil, func(m *Model, terms string) tea.Cmd {
			if terms != "" {
				ui.SetText(&m.filterIn, terms, ui.MaxFilterLen)
				m.applyFilter()
				if m.filterErr != "" {
					return ui.Toast(ui.LevelError, m.filterErr)
				}
			}
			return m.searchStore(true)
		}},
		{"retry", "", "retry the selected failed delivery", nil, func(m *Model, _ string) tea.Cmd {
			if m.view() != 0 {
				return m.retry(m.detail.Selection())
			}
			return m.retry(m.panes[m.focus].Selection())
		}},
		{"retry-all", "[NAME]", "retry failed deliveries of a range", subNames, func(m *Model, a string) tea.Cmd { return withSub(m, a, m.retryAll) }},
		{"backfill", "[NAME]", "send the stored entries of a range", subNames, func(m *Model, a string) tea.Cmd { return withSub(m, a, m.resend) }},
		{"pause", "[NAME]", "pause or resume a subscription", subNames, func(m *Model, a string) tea.Cmd { return withSub(m, a, m.pause) }},
		{"test", "[NAME]", "send a connection test", subNames, func(m *Model, a string) tea.Cmd { return withSub(m, a, m.test) }},
		{"form", "[NAME]", "edit form variables", subNames, func(m *Model, a string) tea.Cmd {
			return withSub(m, a, func() tea.Cmd { return m.edit(ui.ViewForm) })
		}},
		{"templates", "[NAME]", "edit templates with live preview", subNames, func(m *Model, a string) tea.Cmd {
			return withSub(m, a, func() tea.Cmd { return m.edit(ui.ViewTemplates) })
		}},
		{"follow", "", "follow / pause the stream", nil, func(m *Model, _ string) tea.Cmd {
			m.setFocus(paneEvents)
			return m.events.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(m.c.Keys.Events.Follow.Keys()[0])})
		}},
		{"sort", "COLUMN", "sort the list: time, kind, status, title, member, where; deliveries also tries, code, latency, next", func(*Model) []string {
			return []string{"time", "kind", "status", "title", "member", "where", "tries", "code", "latency", "next"}
		}, func(m *Model, col string) tea.Cmd {
			for c := sorting.Time; c <= sorting.Next; c++ {
				if c.String() == col || (c == sorting.Where && col == "where") || (c == sorting.Next && col == "next") {
					return sortCmd(c)(m, "")
				}
			}
			return ui.Toast(ui.LevelError, ":sort needs a column: time, kind, status, title, member, where, tries, code, latency, next")
		}},
		{"pane", "1-4", "focus a pane", func(*Model) []string { return []string{"1", "2", "3", "4"} }, func(m *Model, n string) tea.Cmd {
			if len(n) != 1 || n[0] < '1' || n[0] > '4' {
				return ui.Toast(ui.LevelError, ":pane needs 1, 2, 3 or 4")
			}
			m.views = m.views[:0]
			m.resize()
			return m.setFocus(int(n[0] - '1'))
		}},
		{"copy", "", "copy the selected id (OSC 52)", nil, func(m *Model, _ string) tea.Cmd { return m.copyID() }},
		{"copy-payload", "", "copy the entry's JSON or the delivery's request (OSC 52)", nil, func(m *Model, _ string) tea.Cmd { return m.copyPayload() }},
		{"color", "", "toggle color", nil, func(m *Model, _ string) tea.Cmd { return m.toggleColor() }},
		{"help", "", "all keys and commands", nil, func(m *Model, _ string) tea.Cmd { return m.open(ui.OpenMsg{View: ui.ViewHelp}) }},
		{"quit", "", "leave the console", nil, func(m *Model, _ string) tea.Cmd { return m.quit() }},
	}
}

// sortKeyFor is the key message of a column's sort key.
func sortKeyFor(m *Model, col sorting.Column) tea.KeyMsg {
	ks := sorting.Key(m.c.Keys.Sort, col).Keys()
	if len(ks) == 0 {
		return tea.KeyMsg{}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(ks[0])}
}

func (m *Model) newPaletteInput() textinput.Model {
	in := m.c.Styles.NewInput()
	in.Prompt = ":"
	in.PromptStyle = m.c.Styles.Prompt.Style
	in.Placeholder = "entry ID · delivery ID · sub NAME · filter TERMS · retry · pause · help (tab completes)"
	in.CharLimit = maxPaletteLen
	return in
}

// openPalette starts typing a command.
func (m *Model) openPalette() tea.Cmd {
	m.palette = m.newPaletteInput()
	m.palette.Width = min(max(m.width-20, 10), 80)
	m.paletteNote = ""
	m.mode = modePalette
	return m.palette.Focus()
}

// paletteKey handles keys while the palette is open.
func (m *Model) paletteKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		m.mode = modeNormal
		m.palette.Blur()
		return nil
	case tea.KeyEnter:
		m.mode = modeNormal
		m.palette.Blur()
		return m.runCommand(m.palette.Value())
	case tea.KeyTab:
		m.completeCommand()
		return nil
	}
	var cmd tea.Cmd
	m.palette, cmd = m.palette.Update(msg)
	m.paletteNote = m.candidatesNote()
	return cmd
}

// runCommand runs a typed command line.
func (m *Model) runCommand(line string) tea.Cmd {
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	if name == "" {
		return nil
	}
	var hits []command
	for _, c := range commands() {
		if c.name == name {
			hits = []command{c}
			break
		}
		if strings.HasPrefix(c.name, name) {
			hits = append(hits, c)
		}
	}
	switch len(hits) {
	case 0:
		return ui.Toast(ui.LevelError, fmt.Sprintf("no command %q (:help lists them)", name))
	case 1:
		return hits[0].run(m, arg)
	}
	names := make([]string, len(hits))
	for i, c := range hits {
		names[i] = c.name
	}
	return ui.Toast(ui.LevelError, fmt.Sprintf(":%s is ambiguous: %s", name, strings.Join(names, ", ")))
}

// candidates lists completions of the text typed: command names, or the
// command's argument values.
func (m *Model) candidates() (prefix string, list []string) {
	v := m.palette.Value()
	name, arg, hasArg := strings.Cut(v, " ")
	if !hasArg {
		for _, c := range commands() {
			if strings.HasPrefix(c.name, name) {
				list = append(list, c.name)
			}
		}
		return name, list
	}
	for _, c := range commands() {
		if c.name != name || c.complete == nil {
			continue
		}
		for _, s := range c.complete(m) {
			if strings.HasPrefix(s, arg) {
				list = append(list, s)
			}
		}
	}
	sort.Strings(list)
	return arg, list
}

// completeCommand extends the typed word to the longest common prefix of
// its candidates (the whole candidate, and a space, when one is left).
func (m *Model) completeCommand() {
	word, list := m.candidates()
	if len(list) == 0 {
		return
	}
	common := list[0]
	for _, s := range list[1:] {
		for !strings.HasPrefix(s, common) {
			common = common[:len(common)-1]
		}
	}
	v := m.palette.Value()
	v = v[:len(v)-len(word)] + common
	if len(list) == 1 && !strings.Contains(v, " ") {
		v += " "
	}
	ui.SetText(&m.palette, v, maxPaletteLen)
	m.palette.CursorEnd()
	m.paletteNote = m.candidatesNote()
}

// candidatesNote is the footer's completion list, or the command's usage.
func (m *Model) candidatesNote() string {
	_, list := m.candidates()
	name, _, hasArg := strings.Cut(m.palette.Value(), " ")
	if hasArg || len(list) == 1 {
		for _, c := range commands() {
			if c.name == name || (!hasArg && len(list) == 1 && c.name == list[0]) {
				note := c.name
				if c.args != "" {
					note += " " + c.args
				}
				note += ": " + c.help
				if hasArg && len(list) > 0 {
					note += " · " + strings.Join(list[:min(len(list), 8)], " ")
				}
				return note
			}
		}
	}
	if len(list) == 0 {
		return "no such command"
	}
	return strings.Join(list, " ")
}

// commandSection lists the palette's commands for the help screen.
func commandSection() keys.Section {
	sec := keys.Section{Title: "Commands (:)"}
	for _, c := range commands() {
		s := ":" + c.name
		if c.args != "" {
			s += " " + c.args
		}
		sec.Bindings = append(sec.Bindings, keys.Binding{Binding: key.NewBinding(key.WithHelp(s, c.help))})
	}
	return sec
}
