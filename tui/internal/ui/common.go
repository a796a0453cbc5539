// Package ui holds what every part of the console shares: the engine handle,
// styles, keys, role and clock (Common), the messages panes send to the root,
// and small text helpers.
package ui

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
)

// Role says what the person at the console may do.
type Role = keys.Role

// Roles, re-exported from keys where the bindings are denied by role.
const (
	Viewer   = keys.Viewer
	Operator = keys.Operator
)

// CallTimeout bounds every engine call the console makes.
const CallTimeout = 10 * time.Second

// Common is what every pane needs. The root owns it; panes hold a pointer
// and read it, so a style switch reaches all of them at once.
type Common struct {
	API    api.API
	Styles *Styles
	Keys   *keys.Keys
	Role   Role
	Actor  string
	Now    func() time.Time
	// Ctx ends when the console ends; engine calls derive from it.
	Ctx context.Context
	// After schedules a timer message (debounces, toast expiry, polls);
	// nil means tea.Tick. Tests replace it to control time.
	After func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
}

// Tick returns a command that delivers fn's message after d.
func (c *Common) Tick(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
	if c.After != nil {
		return c.After(d, fn)
	}
	return tea.Tick(d, fn)
}

// Operator reports whether the console may change things.
func (c *Common) Operator() bool { return c.Role == Operator }

// Call runs fn off the event loop with a bounded context and returns its
// message: every engine call that may block goes through here. fn gets c
// itself so it never reaches back into a model that the event loop may be
// changing meanwhile.
func (c *Common) Call(fn func(ctx context.Context, c *Common) tea.Msg) tea.Cmd {
	parent := c.Ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, CallTimeout)
		defer cancel()
		return fn(ctx, c)
	}
}

// Deny returns a toast command explaining why the role cannot use b, or
// nil when it can.
func (c *Common) Deny(b keys.Binding) tea.Cmd {
	if b.Denied == "" {
		return nil
	}
	return Toast(LevelError, b.Denied)
}

// Level is a toast's severity.
type Level int

// Toast levels.
const (
	LevelInfo Level = iota
	LevelError
)

// ToastMsg asks the root to show a transient message in the footer.
type ToastMsg struct {
	Level Level
	Text  string
	// At is when the toast was asked for. Commands run concurrently, so
	// toasts of keys pressed together can arrive out of order; the root
	// shows none older than the one it shows.
	At time.Time
	// Notice marks news of what someone else did (another operator, an
	// endpoint): it waits until the operator's own toast has been up for
	// a moment, so that the answer to a key just pressed is not replaced
	// before it can be read.
	Notice bool
}

// Notice returns a command that shows news of what someone else did in
// the footer; see ToastMsg.Notice.
func Notice(text string) tea.Cmd {
	at := time.Now()
	return func() tea.Msg { return ToastMsg{Text: text, At: at, Notice: true} }
}

// Toast returns a command that shows text in the footer.
func Toast(level Level, text string) tea.Cmd {
	at := time.Now()
	return func() tea.Msg { return ToastMsg{Level: level, Text: text, At: at} }
}

// Toastf formats an info toast.
func Toastf(format string, args ...any) tea.Cmd {
	return Toast(LevelInfo, fmt.Sprintf(format, args...))
}

// ErrorToast shows err prefixed by what was being done.
func ErrorToast(doing string, err error) tea.Cmd {
	return Toast(LevelError, doing+": "+err.Error())
}

// PromptMsg asks the root for a yes/no confirmation; default is No. OnYes
// runs when the user types y.
type PromptMsg struct {
	Question string
	OnYes    tea.Cmd
	OnNo     tea.Cmd
}

// Confirm returns a command that asks question and runs onYes on y.
func Confirm(question string, onYes tea.Cmd) tea.Cmd {
	return func() tea.Msg { return PromptMsg{Question: question, OnYes: onYes} }
}

// EntrySelectedMsg tells every pane which entry the events pane's cursor
// is on; Entry is nil when the list is empty.
type EntrySelectedMsg struct {
	Entry *api.EntryView
}

// SubSelectedMsg tells every pane which subscription the subscriptions
// pane's cursor is on.
type SubSelectedMsg struct {
	Name string
}

// ScopeMsg asks the deliveries pane to list a subscription's or an entry's
// deliveries (exactly one is set) and, with Focus, to take the focus.
type ScopeMsg struct {
	Subscription string
	EntryID      string
	Focus        bool
}

// OpenMsg asks the root to open a full-screen view over the panes.
type OpenMsg struct {
	View View
	// Subscription for forms and templates, DeliveryID/EntryID for details.
	Subscription string
	DeliveryID   string
	EntryID      string
	Test         *TestOutcome
}

// View names a full-screen view.
type View int

// Full-screen views.
const (
	ViewDeliveryDetail View = iota + 1
	ViewEntryDetail
	ViewTestResult
	ViewForm
	ViewTemplates
	ViewHelp
	ViewSearch // entries a filter finds in the store
	ViewViewer // long content, full screen, with line numbers and search
)

// CloseMsg asks the root to close the current full-screen view.
type CloseMsg struct{}

// Close returns a command closing the current full-screen view.
func Close() tea.Msg { return CloseMsg{} }

// TestOutcome is the answer to a connection test, for the detail view.
type TestOutcome struct {
	Subscription string
	Result       api.TestResult
	Err          error
}

// StatsMsg carries the periodic engine poll.
type StatsMsg struct {
	Stats api.Stats
	Subs  []api.SubscriptionInfo
}

// RetryStartedMsg marks a delivery as being retried (optimistic state)
// until the engine reports on it; RetryDoneMsg ends that.
type RetryStartedMsg struct{ DeliveryID string }

// RetryDoneMsg reports the answer of a single retry.
type RetryDoneMsg struct {
	DeliveryID string
	Err        error
}

// StylesChangedMsg tells panes to drop cached renderings.
type StylesChangedMsg struct{}

// Selection is what the focused pane's cursor is on, for actions.
type Selection struct {
	Subscription  string
	DeliveryID    string
	DeliveryState api.State
	Retrying      bool // a retry is already under way
	EntryID       string
	// FailedCount is, in the events pane, how many of the entry's
	// deliveries failed (retry needs exactly one, or the deliveries pane).
	FailedCount int
}
