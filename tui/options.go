package tui

import (
	"context"
	"io"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
)

// Role says what the person at the console may do. The zero value is
// Viewer, so a forgotten role never grants more than reading.
type Role = keys.Role

// Roles.
const (
	// Viewer sees everything (secrets masked) but cannot retry, pause,
	// test, edit or reveal secrets; pressing those keys says so.
	Viewer = keys.Viewer
	// Operator may do everything.
	Operator = keys.Operator
)

// Options configure a console.
type Options struct {
	// Renderer renders every style. Over SSH pass the session's renderer
	// (wish's bubbletea.MakeRenderer) so colors follow the client's
	// terminal; nil means a renderer on Output (or stdout).
	Renderer *lipgloss.Renderer
	// Actor is who acts, recorded with every action: "local" or an SSH key
	// name. Empty means "local".
	Actor string
	// Role is what the actor may do; the zero value is Viewer.
	Role Role
	// NoColor starts without color (also toggled in the console with C).
	// Run sets it when NO_COLOR is set.
	NoColor bool
	// Remote is set for consoles served over SSH: nothing may run on the
	// server for the client (no $PAGER).
	Remote bool
	// Mouse turns on mouse reporting (wheel scrolling). Off by default
	// because it stops the terminal's own text selection.
	Mouse bool
	// Now is the clock; nil means time.Now. Tests pass a fixed clock.
	Now func() time.Time
	// Input and Output are the terminal for Run; nil means stdin/stdout.
	Input  io.Reader
	Output io.Writer
	// Context ends the console's live feed and its engine calls. Run
	// passes its own; over SSH pass the session's context. Nil means the
	// console's feed ends only when the user quits.
	Context context.Context

	// History is how many entries are loaded at start (default 1,000;
	// at most Capacity).
	History int
	// Capacity is how many entries the events pane keeps (default
	// 10,000); older ones are forgotten.
	Capacity int
	// BatchInterval is how long live events are collected before one
	// redraw (default 100ms).
	BatchInterval time.Duration
	// StatsInterval is how often rates and subscriptions are polled
	// (default 1s).
	StatsInterval time.Duration
	// GeneratorRate is the demo generator's rate the +/- keys start from
	// (default 10 entries/s); the engine API cannot report it.
	GeneratorRate float64

	// after replaces timers in tests (see ui.Common.After).
	after func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
}

func (o *Options) defaults() {
	if o.Actor == "" {
		o.Actor = "local"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Capacity <= 0 {
		o.Capacity = 10_000
	}
	if o.History <= 0 {
		o.History = 1_000
	}
	o.History = min(o.History, o.Capacity)
	if o.BatchInterval <= 0 {
		o.BatchInterval = 100 * time.Millisecond
	}
	if o.StatsInterval <= 0 {
		o.StatsInterval = time.Second
	}
	if o.GeneratorRate <= 0 {
		o.GeneratorRate = 10
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
}
