package tuitest

import (
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestViewerSearch: F opens the selected entry's JSON full screen with line
// numbers; "/" searches as one types, highlights and marks the match,
// n/N move between matches; esc clears the search, then goes back.
func TestViewerSearch(t *testing.T) {
	c := Start(t, Fixture{API: sortEngine(t), Width: 120, Height: 30})
	c.WaitFor("the entries", func(s string) bool { return len(eventRows(s)) == 4 })
	c.Type("F")
	s := c.WaitText("JSON of entry sort-alpha")
	if !regexp.MustCompile(`(?m)^┃ 1 │ \{`).MatchString(s) || !regexp.MustCompile(`(?m)^┃ 2 │ {3}"_id": "sort-alpha",`).MatchString(s) {
		t.Fatalf("no numbered lines:\n%s", s)
	}
	c.Type("/example.com")
	s = c.WaitText("match 1 of 1 (n/N)")
	if !regexp.MustCompile(`(?m)^┃ ?\d+ │›.*"email": "xena@example.com"`).MatchString(s) {
		t.Errorf("the match's line is not marked:\n%s", s)
	}
	c.Press(tea.KeyEnter)
	c.Press(tea.KeyBackspace) // not searching any more: nothing happens
	c.Type("/zzz-nothing")
	c.WaitText("no match")
	c.Press(tea.KeyEsc)
	s = c.WaitFor("the search to clear", func(s string) bool { return !strings.Contains(s, "/zzz") })
	if !strings.Contains(s, "JSON of entry sort-alpha") {
		t.Fatalf("esc in the search left the viewer:\n%s", s)
	}
	c.Type("/e")
	c.Press(tea.KeyEnter)
	c.WaitText("match 1 of ")
	c.Type("n")
	c.WaitText("match 2 of ")
	c.Type("N")
	c.WaitText("match 1 of ")
	c.Press(tea.KeyEsc) // clears the search
	c.Press(tea.KeyEsc) // back
	c.WaitText("1 Events")
}
