package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func TestHighlight(t *testing.T) {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI)
	st := NewStyles(r).Match
	mark := func(s string) string { return st.Render(s) }
	tests := []struct {
		line  string
		terms []string
		want  string
	}{
		{"Turned on new-checkout", []string{"checkout"}, "Turned on new-" + mark("checkout")},
		{"CheckOut and checkout", []string{"checkout"}, mark("CheckOut") + " and " + mark("checkout")},
		{"abcdef", []string{"bcd", "cde"}, "a" + mark("bcde") + "f"}, // overlaps merge
		{"nothing here", []string{"zzz"}, "nothing here"},
		{"no terms", nil, "no terms"},
		{"İstanbul web", []string{"web"}, "İstanbul web"}, // case folding changes offsets: left plain
	}
	for _, tt := range tests {
		if got := Highlight(tt.line, tt.terms, st); got != tt.want {
			t.Errorf("Highlight(%q, %q) = %q, want %q", tt.line, tt.terms, got, tt.want)
		}
		if !strings.Contains(mark("x"), "\x1b[") {
			t.Fatal("the match style renders nothing: the test would prove nothing")
		}
	}
}
