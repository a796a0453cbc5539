package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// searchStore opens the store search for the events filter when the
// filter reaches past what the stream holds: a time range starting before
// its oldest entry. force searches the store for any filter (:search).
func (m *Model) searchStore(force bool) tea.Cmd {
	q := m.events.Filter()
	if q.Empty() {
		if force {
			return ui.Toast(ui.LevelError, "search: set a filter first (/ or :filter …)")
		}
		return nil
	}
	if !force {
		if !q.HasTime() {
			return nil
		}
		since, _ := q.Bounds()
		oldest, ok := m.events.Oldest()
		if ok && !since.IsZero() && !since.Before(oldest) {
			return nil // the stream holds the whole range
		}
	}
	cmd := m.open(ui.OpenMsg{View: ui.ViewSearch})
	return tea.Batch(cmd, m.search.Open(q))
}

// sortHint is one footer hint for sort keys: "A/K/S/T/M/P sort".
func sortHint(bs ...keys.Binding) keys.Binding {
	var ks []string
	for _, b := range bs {
		ks = append(ks, b.Help().Key)
	}
	return keys.Binding{Binding: key.NewBinding(key.WithHelp(strings.Join(ks, "/"), "sort"))}
}
