package tuitest

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestPaletteJumpsToAnEntry: ":entry ID" opens that entry; tab completes
// command names and subscription names; an unknown command says so.
func TestPaletteJumpsToAnEntry(t *testing.T) {
	c := Start(t, Fixture{API: sortEngine(t), Width: 140, Height: 30})
	c.WaitFor("the entries", func(s string) bool { return len(eventRows(s)) == 4 })

	c.Type(":en")
	c.Press(tea.KeyTab)
	c.WaitFor("the completed command", func(s string) bool { return strings.HasPrefix(Footer(s), ":entry ") })
	c.Type("sort-bravo")
	c.Press(tea.KeyEnter)
	c.WaitText("Entry sort-bravo")
	c.WaitText("changed bravo") // the detail, loaded from the engine
	c.Press(tea.KeyEsc)
	c.WaitText("1 Events")

	// Completion of a subscription name, then the jump to it.
	c.Type(":sub ar")
	c.Press(tea.KeyTab)
	c.WaitFor("the completed name", func(s string) bool { return strings.HasPrefix(Footer(s), ":sub archive") })
	c.Press(tea.KeyEnter)
	c.WaitText("┏━ 4 Subscriptions")

	c.Type(":frobnicate")
	c.Press(tea.KeyEnter)
	c.WaitText(`no command "frobnicate"`)
}

// TestHelpIsSearchable: "/" in the help narrows it to matching keys and
// commands; esc clears the search, then closes.
func TestHelpIsSearchable(t *testing.T) {
	c := Start(t, Fixture{API: sortEngine(t), Width: 140, Height: 40})
	c.Type("?")
	c.WaitText("toggle color")
	c.Type("/retry")
	s := c.WaitText("Help · operator keys · /retry")
	for _, want := range []string{"retry the failed delivery", ":retry-all", "Commands (:)"} {
		if !strings.Contains(s, want) {
			t.Errorf("the search for retry does not show %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "toggle color") {
		t.Errorf("the search for retry still shows other keys:\n%s", s)
	}
	c.Press(tea.KeyEnter, tea.KeyEsc)
	c.WaitText("toggle color")
	c.Press(tea.KeyEsc)
	c.WaitText("1 Events")
}
