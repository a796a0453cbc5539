package tui

import (
	"fmt"
	"strings"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/panes/subs"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// View draws the whole screen: header, panes (or a full-screen view) and
// the footer, exactly the terminal's size.
func (m *Model) View() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	l := m.layout
	if l.tooSmall {
		return m.tooSmall()
	}
	var b strings.Builder
	b.Grow(m.width * m.height * 2)
	b.WriteString(m.header.View())
	b.WriteByte('\n')
	if v := m.view(); v != 0 {
		b.WriteString(m.fullView(v))
	} else if l.wide {
		b.WriteString(m.frame(paneEvents, l.events))
		b.WriteByte('\n')
		left := strings.Split(m.frame(panePolicy, l.policy), "\n")
		right := strings.Split(m.frame(paneDeliveries, l.deliveries), "\n")
		for i := range left {
			b.WriteString(left[i])
			if i < len(right) {
				b.WriteString(right[i])
			}
			b.WriteByte('\n')
		}
		b.WriteString(m.frame(paneSubs, l.subs))
	} else {
		b.WriteString(m.frame(paneEvents, l.events))
		b.WriteByte('\n')
		b.WriteString(m.stackedFrame(l.secondary))
	}
	b.WriteByte('\n')
	b.WriteString(m.footer())
	return b.String()
}

func (m *Model) tooSmall() string {
	// One short line each, so the notice itself fits down to 20×3.
	msg := []string{
		"terminal too small",
		fmt.Sprintf("need %d×%d", MinWidth, MinHeight),
		fmt.Sprintf("have %d×%d", m.termW, m.termH),
	}
	if m.height < len(msg) {
		msg = []string{fmt.Sprintf("too small: need %d×%d", MinWidth, MinHeight)}
	}
	lines := make([]string, m.height)
	for i := range lines {
		lines[i] = strings.Repeat(" ", m.width)
	}
	top := max((m.height-len(msg))/2, 0)
	for i, t := range msg {
		if top+i >= m.height {
			break
		}
		pad := max((m.width-ui.Width(t))/2, 0)
		lines[top+i] = ui.Fit(strings.Repeat(" ", pad)+t, m.width)
	}
	return strings.Join(lines, "\n")
}

// paneName is the short name shown in titles and tabs.
func paneName(i int) string {
	return [...]string{"Events", "Policy", "Deliveries", "Subscriptions"}[i]
}

func (m *Model) frame(i int, b box) string {
	p := m.panes[i]
	title := fmt.Sprintf("%d %s", i+1, p.Title())
	return m.c.Styles.Frame(title, p.Info(), m.focus == i, b.w, b.h, strings.Split(p.View(), "\n"))
}

// stackedFrame draws the lower pane of the narrow layout with tabs naming
// the panes it can show.
func (m *Model) stackedFrame(b box) string {
	sec := m.secondary
	var tabs []string
	for i := panePolicy; i < paneCount; i++ {
		name := fmt.Sprintf("%d %s", i+1, paneName(i))
		if i == sec {
			name = fmt.Sprintf("[%d %s]", i+1, m.panes[i].Title())
		}
		tabs = append(tabs, name)
	}
	title := strings.Join(tabs, " · ")
	p := m.panes[sec]
	return m.c.Styles.Frame(title, p.Info(), m.focus == sec, b.w, b.h, strings.Split(p.View(), "\n"))
}

func (m *Model) fullView(v ui.View) string {
	type full interface {
		View() string
		Title() string
		Info() string
	}
	var f full
	switch v {
	case ui.ViewHelp:
		f = m.help
	case ui.ViewForm:
		f = m.form
	case ui.ViewTemplates:
		f = m.tpl
	case ui.ViewSearch:
		f = m.search
	case ui.ViewViewer:
		f = m.viewer
	default:
		f = m.detail
	}
	return m.c.Styles.Frame(f.Title(), f.Info(), true, m.width, m.layout.body, strings.Split(f.View(), "\n"))
}

// footer is one line: the prompt, the filter being typed, a toast, or key
// hints for where the focus is.
func (m *Model) footer() string {
	s := m.c.Styles
	w := m.width
	switch m.mode {
	case modePrompt:
		return ui.Fit(s.Prompt.Render("? "+m.prompt.Question+" (y/N) "), w)
	case modeRange:
		return m.rangeFooter(w)
	case modePalette:
		line := m.palette.View()
		if m.paletteNote != "" {
			line += "  " + s.Dim.Render(m.paletteNote)
		}
		return ui.Fit(line, w)
	case modeFilter:
		line := m.filterIn.View()
		if m.filterErr != "" {
			line += "  " + s.Error.Render("✗ "+m.filterErr)
		} else {
			line += "  " + s.Dim.Render(fmt.Sprintf("%s of %s · enter keep · esc clear", ui.Count(m.events.Visible()), ui.Count(m.events.Len())))
		}
		return ui.Fit(line, w)
	}
	if m.toast.text != "" {
		if m.toast.level == ui.LevelError {
			return ui.Fit(s.Error.Render("✗ "+m.toast.text), w)
		}
		return ui.Fit(s.Info.Render("✓ "+m.toast.text), w)
	}
	key := hintKey{m.view(), m.focus, m.c.Styles, w}
	if m.hintCache.key != key {
		m.hintCache.key, m.hintCache.s = key, ui.Fit(m.hints(), w)
	}
	return m.hintCache.s
}

// hintKey is what the footer hints depend on.
type hintKey struct {
	view   ui.View
	focus  int
	styles *ui.Styles
	width  int
}

type hint struct {
	b     keys.Binding
	label string
}

// hints renders the short help for the current context from the keymap;
// keys the role may not use are left out (the ? screen lists them with
// the reason).
func (m *Model) hints() string {
	k := m.c.Keys
	var hs []hint
	switch m.view() {
	case ui.ViewHelp:
		hs = []hint{{k.Nav.Back, "close"}}
	case ui.ViewViewer:
		hs = []hint{{k.Nav.Down, "scroll"}, {searchBinding(), "search"}, {k.Long.Pager, "pager"}, {k.Copy.Payload, "copy"}, {k.Nav.Back, "back"}}
	case ui.ViewSearch:
		hs = []hint{{k.Nav.Open, "details"}, {k.Nav.Down, "scroll (pages in)"}, {sortHint(k.Sort.Time, k.Sort.Kind, k.Sort.Status, k.Sort.Title, k.Sort.Member, k.Sort.Where), "sort"}, {k.Nav.Back, "back"}, {k.Global.Help, "help"}}
	case ui.ViewForm:
		hs = []hint{{k.Form.Next, "next"}, {k.Form.Toggle, "toggle"}, {k.Form.Reveal, "reveal"}, {k.Form.Save, "save"}, {k.Form.Cancel, "cancel"}}
	case ui.ViewTemplates:
		hs = []hint{{k.Templates.NextTemplate, "next template"}, {k.Templates.Save, "save"}, {k.Templates.Reload, "reload"}, {k.Templates.PreviewDown, "preview"}, {k.Templates.Cancel, "close"}}
	case ui.ViewDeliveryDetail, ui.ViewEntryDetail, ui.ViewTestResult:
		hs = []hint{{k.Nav.Back, "back"}, {k.Nav.Down, "scroll"}, {k.Actions.Retry, "retry"}, {k.Global.Help, "help"}, {k.Global.Quit, "quit"}}
	default:
		switch m.focus {
		case paneEvents:
			hs = []hint{{k.Nav.Open, "details"}, {k.Events.Follow, "follow"}, {k.Global.Filter, "filter"}, {k.Actions.Retry, "retry"}}
		case panePolicy:
			hs = []hint{{k.Nav.Open, "delivery"}, {k.Actions.Retry, "retry"}, {k.Actions.EditForm, "form"}, {k.Actions.EditTemplates, "templates"}}
		case paneDeliveries:
			hs = []hint{{k.Nav.Open, "details"}, {k.Actions.Retry, "retry"}, {k.Actions.RetryAll, "retry all"}}
		case paneSubs:
			hs = []hint{{k.Nav.Open, "deliveries"}, {k.Actions.Pause, "pause/resume"}, {k.Actions.Test, "test"}, {k.Actions.EditForm, "form"}, {k.Actions.EditTemplates, "templates"}, {k.Actions.RetryAll, "retry all"}}
		}
		hs = append(hs, hint{k.Global.NextPane, "pane"}, hint{k.Global.Help, "help"}, hint{k.Global.Quit, "quit"})
		switch m.focus {
		case paneEvents:
			hs = append(hs, hint{sortHint(k.Sort.Time, k.Sort.Kind, k.Sort.Status, k.Sort.Title, k.Sort.Member, k.Sort.Where), "sort"}, hint{k.Global.Palette, "commands"})
		case paneSubs:
			hs = append(hs, hint{sortHint(subs.SortKeys(k.Sort)...), "sort"})
		case paneDeliveries:
			hs = append(hs, hint{sortHint(m.dels.SortKeys(k.Sort)...), "sort"})
		}
	}
	s := m.c.Styles
	var parts []string
	for _, h := range hs {
		if h.b.Denied != "" {
			continue
		}
		parts = append(parts, s.Key.Render(h.b.Help().Key)+" "+s.Dim.Render(h.label))
	}
	return strings.Join(parts, s.Dim.Render(" · "))
}
