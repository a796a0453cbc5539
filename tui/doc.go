// Package tui is auditrelay's console: a Bubble Tea program that tails
// audit-log entries live, explains each subscription's policy decision,
// shows delivery health, retries failed deliveries with one key, and edits
// form variables and templates with a live preview. It talks to the engine
// only through its API (core/engine/api), so the same console runs embedded in the
// daemon, in a separate process, or over SSH (one model per session, built
// with that session's renderer).
//
// Layout: the root model (this package) owns focus, modes, layout, the
// footer, toasts and full-screen views; each pane is a model in
// tui/internal/panes. Live events reach the panes through
// tui/internal/feed, which batches them so redraws stay at a steady rate
// whatever the event rate, and the engine never waits on the console.
//
// Whatever the terminal reports or sends is bounded before the console
// sizes anything from it: the root clamps the window size to
// MaxWidth×MaxHeight where it enters (tea.WindowSizeMsg), so panes never
// see more; tui/internal/ttyin bounds what Bubble Tea buffers of the
// input; text fields have character limits (ui.MaxFilterLen and others).
//
// Use New for a tea.Model (SSH), Run for the local terminal, and Tail for
// line output when stdout is not a terminal.
package tui
