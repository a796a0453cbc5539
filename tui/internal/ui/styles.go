package ui

import (
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Style is a lipgloss style whose escape sequences are worked out once.
// The console renders tens of thousands of small single-line strings a
// second; lipgloss.Style.Render measures, splits and pads every one of
// them, while wrapping a line in a known SGR prefix and reset is a string
// concatenation. Multi-line text still goes through lipgloss.
type Style struct {
	lipgloss.Style
	pre, post string
}

func newStyle(st lipgloss.Style) Style {
	const probe = "x"
	out := st.Render(probe)
	i := strings.Index(out, probe)
	if i < 0 {
		return Style{Style: st}
	}
	return Style{Style: st, pre: out[:i], post: out[i+len(probe):]}
}

// Render styles s.
func (st Style) Render(s string) string {
	if st.pre == "" && st.post == "" {
		return s
	}
	if strings.ContainsAny(s, "\n\t") {
		return st.Style.Render(s)
	}
	return st.pre + s + st.post
}

// Styles holds every style the console uses. It is built from one
// lipgloss.Renderer so that an SSH session renders with its client's color
// profile, never the server's.
//
// Colors are ANSI-16 base colors only: they follow the user's terminal
// theme (light or dark) without querying the background, which can hang
// or leak escape sequences on some terminals.
type Styles struct {
	R *lipgloss.Renderer

	Plain    Style
	Bold     Style
	Dim      Style
	Selected Style // the cursor row (reverse); the "›" marker carries it without color
	Accent   Style

	BorderFocused Style
	Border        Style
	TitleFocused  Style
	Title         Style

	Ok       Style // delivered, connected
	Fail     Style // failed, disconnected
	Warn     Style // retrying, pending
	Paused   Style
	Muted    Style // filtered, skipped
	Spark    Style
	Key      Style // a key in help text
	Error    Style // inline validation messages
	Info     Style
	Prompt   Style
	Input    Style
	Header   Style
	Label    Style
	ReadOnly Style
	Match    Style // a filter's match inside a row or a detail
}

// NewStyles builds the console's styles from r.
func NewStyles(r *lipgloss.Renderer) *Styles {
	c := func(s string) lipgloss.Color { return lipgloss.Color(s) }
	s := &Styles{R: r}
	s.Plain = newStyle(r.NewStyle())
	s.Bold = newStyle(r.NewStyle().Bold(true))
	s.Dim = newStyle(r.NewStyle().Foreground(c("8")))
	s.Selected = newStyle(r.NewStyle().Reverse(true))
	s.Accent = newStyle(r.NewStyle().Foreground(c("12")))
	s.BorderFocused = newStyle(r.NewStyle().Foreground(c("12")))
	s.Border = newStyle(r.NewStyle().Foreground(c("8")))
	s.TitleFocused = newStyle(r.NewStyle().Foreground(c("12")).Bold(true))
	s.Title = newStyle(r.NewStyle().Bold(true))
	s.Ok = newStyle(r.NewStyle().Foreground(c("2")))
	s.Fail = newStyle(r.NewStyle().Foreground(c("1")).Bold(true))
	s.Warn = newStyle(r.NewStyle().Foreground(c("3")))
	s.Paused = newStyle(r.NewStyle().Foreground(c("5")))
	s.Muted = newStyle(r.NewStyle().Foreground(c("8")))
	s.Spark = newStyle(r.NewStyle().Foreground(c("6")))
	s.Key = newStyle(r.NewStyle().Foreground(c("12")).Bold(true))
	s.Error = newStyle(r.NewStyle().Foreground(c("1")))
	s.Info = newStyle(r.NewStyle().Foreground(c("2")))
	s.Prompt = newStyle(r.NewStyle().Foreground(c("3")).Bold(true))
	s.Input = newStyle(r.NewStyle())
	s.Header = newStyle(r.NewStyle().Bold(true))
	s.Label = newStyle(r.NewStyle().Bold(true))
	s.ReadOnly = newStyle(r.NewStyle().Foreground(c("8")).Italic(true))
	s.Match = newStyle(r.NewStyle().Foreground(c("3")).Underline(true))
	return s
}

// PlainRenderer returns a renderer that never emits color or attributes:
// for NO_COLOR, the in-app color toggle and golden tests.
func PlainRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true) // never query a terminal for it
	return r
}
