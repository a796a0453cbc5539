// Package keys defines every key binding of the console as data: one
// struct of bindings per context. The footer hints, the "?" help screen and
// the generated key table all read these values, so they cannot drift from
// what the console does.
package keys

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
)

// Role says what the person at the console may do. The zero value is
// Viewer, so a forgotten role never grants more than reading.
type Role int

// Roles.
const (
	// Viewer sees everything (secrets masked) and changes nothing.
	Viewer Role = iota
	// Operator may also retry, pause, test, edit and reveal secrets.
	Operator
)

func (r Role) String() string {
	if r == Operator {
		return "operator"
	}
	return "viewer"
}

// Binding is a key binding that may be denied to the current role. A
// denied binding still matches its keys, so pressing it can say why nothing
// happens; the help screen shows the reason next to it.
type Binding struct {
	key.Binding
	Denied string
}

// Is reports whether msg (a tea.KeyMsg) is one of b's keys.
func (b Binding) Is(msg fmt.Stringer) bool { return key.Matches(msg, b.Binding) }

func bind(help, desc string, ks ...string) Binding {
	return Binding{Binding: key.NewBinding(key.WithKeys(ks...), key.WithHelp(help, desc))}
}

// Global keys work everywhere except inside text inputs.
type Global struct {
	Quit, Help, NextPane, PrevPane, FocusPane, Redraw, Filter, Faster, Slower, Color, Palette Binding
}

// Nav keys move through lists and scrollable views.
type Nav struct {
	Up, Down, PageUp, PageDown, Top, Bottom, Open, Back Binding
}

// Events keys apply to the events pane.
type Events struct {
	Follow, ClearFilter Binding
}

// Sort keys sort lists by a column, k9s style; again flips the
// direction. The same key sorts the same kind of column in every pane;
// Tries, Code, Latency and Next are the deliveries pane's own columns.
type Sort struct {
	Time, Kind, Status, Title, Member, Where Binding
	Tries, Code, Latency, Next               Binding
}

// Long keys show long content: full screen, or in $PAGER.
type Long struct {
	Open, Pager Binding
}

// Copy keys put text on the terminal's clipboard (OSC 52).
type Copy struct {
	ID, Payload Binding
}

// Actions change the engine's state; most are denied to viewers.
type Actions struct {
	Retry, RetryAll, Resend, Pause, Test, EditForm, EditTemplates Binding
}

// Detail keys apply to a delivery's details.
type Detail struct {
	PrevAttempt, NextAttempt, Diff Binding
}

// Form keys apply to the form-variables editor.
type Form struct {
	Next, Prev, Toggle, Cycle, Reveal, Replace, Clear, Undo, Save, Cancel Binding
}

// Templates keys apply to the template editor.
type Templates struct {
	NextTemplate, PrevTemplate, Save, Reload, Undo, PreviewUp, PreviewDown, Cancel Binding
}

// Filter keys apply while typing a filter.
type Filter struct {
	Apply, Cancel Binding
}

// Prompt keys answer a yes/no question; anything but y means no.
type Prompt struct {
	Yes, No Binding
}

// Keys is the whole keymap for one console session.
type Keys struct {
	Global    Global
	Nav       Nav
	Events    Events
	Sort      Sort
	Copy      Copy
	Long      Long
	Actions   Actions
	Detail    Detail
	Form      Form
	Templates Templates
	Filter    Filter
	Prompt    Prompt
}

// New builds the keymap for role: actions the role may not take carry the
// reason they are denied.
func New(role Role) *Keys {
	k := &Keys{
		Global: Global{
			Quit:      bind("q", "quit", "q", "ctrl+c"),
			Help:      bind("?", "help", "?"),
			NextPane:  bind("tab", "next pane", "tab"),
			PrevPane:  bind("shift+tab", "previous pane", "shift+tab"),
			FocusPane: bind("1-4", "focus pane 1-4", "1", "2", "3", "4"),
			Redraw:    bind("ctrl+l", "redraw the screen", "ctrl+l"),
			Filter:    bind("/", "filter events", "/"),
			Faster:    bind("+", "demo generator faster", "+", "="),
			Slower:    bind("-", "demo generator slower", "-", "_"),
			Color:     bind("C", "toggle color", "C"),
			Palette:   bind(":", "command palette (tab completes)", ":"),
		},
		Nav: Nav{
			Up:       bind("↑/k", "up", "up", "k"),
			Down:     bind("↓/j", "down", "down", "j"),
			PageUp:   bind("pgup", "page up", "pgup", "ctrl+b"),
			PageDown: bind("pgdn", "page down", "pgdown", "ctrl+f"),
			Top:      bind("g", "top", "g", "home"),
			Bottom:   bind("G", "bottom (follow)", "G", "end"),
			Open:     bind("enter", "details", "enter"),
			Back:     bind("esc", "back", "esc"),
		},
		Events: Events{
			Follow:      bind("f", "follow / pause the stream", "f"),
			ClearFilter: bind("esc", "clear the filter", "esc"),
		},
		Sort: Sort{
			Time:   bind("A", "sort by time (age)", "A"),
			Kind:   bind("K", "sort by kind", "K"),
			Status: bind("S", "sort by status (failed first)", "S"),
			Title:  bind("T", "sort by title", "T"),
			Member: bind("M", "sort by member", "M"),
			Where:  bind("P", "sort by project/environment", "P"),
			// The deliveries pane's columns: the tries column reads "#2".
			Tries:   bind("#", "sort deliveries by tries", "#"),
			Code:    bind("E", "sort deliveries by response code (errors last)", "E"),
			Latency: bind("L", "sort deliveries by latency", "L"),
			Next:    bind("N", "sort deliveries by next retry", "N"),
		},
		Long: Long{
			Open:  bind("F", "view the JSON or request full screen", "F"),
			Pager: bind("o", "open it in $PAGER (local only)", "o"),
		},
		Copy: Copy{
			ID:      bind("y", "copy the selected id", "y"),
			Payload: bind("Y", "copy the JSON or request", "Y"),
		},
		Actions: Actions{
			Retry:         bind("r", "retry the failed delivery", "r"),
			RetryAll:      bind("R", "retry failed of the subscription, since…", "R"),
			Resend:        bind("B", "backfill: send it entries since… (24h)", "B"),
			Pause:         bind("p", "pause / resume the subscription", "p"),
			Test:          bind("v", "send a connection test", "v"),
			EditForm:      bind("e", "edit form variables", "e"),
			EditTemplates: bind("t", "edit templates with live preview", "t"),
		},
		Detail: Detail{
			PrevAttempt: bind("[", "request of the previous attempt", "["),
			NextAttempt: bind("]", "request of the next attempt", "]"),
			Diff:        bind("d", "diff: sent vs would send now", "d"),
		},
		Form: Form{
			Next:    bind("tab/↓", "next field", "tab", "down"),
			Prev:    bind("shift+tab/↑", "previous field", "shift+tab", "up"),
			Toggle:  bind("space", "toggle a boolean, next choice", " "),
			Cycle:   bind("←/→", "previous / next choice", "left", "right"),
			Reveal:  bind("ctrl+r", "reveal / mask the secret", "ctrl+r"),
			Replace: bind("enter", "replace the secret (typed twice or pasted)", "enter"),
			Clear:   bind("del", "clear the secret (asks first)", "delete"),
			Undo:    bind("ctrl+z", "undo the last saved change (asks first)", "ctrl+z"),
			Save:    bind("ctrl+s", "review the changes, then save", "ctrl+s"),
			Cancel:  bind("esc", "cancel", "esc"),
		},
		Templates: Templates{
			NextTemplate: bind("tab", "next template", "tab"),
			PrevTemplate: bind("shift+tab", "previous template", "shift+tab"),
			Save:         bind("ctrl+s", "review the changes, then save", "ctrl+s"),
			Reload:       bind("ctrl+r", "reload from disk", "ctrl+r"),
			Undo:         bind("ctrl+z", "undo the last saved change (asks first)", "ctrl+z"),
			PreviewUp:    bind("pgup", "scroll preview up", "pgup"),
			PreviewDown:  bind("pgdn", "scroll preview down", "pgdown"),
			Cancel:       bind("esc", "close", "esc"),
		},
		Filter: Filter{
			Apply:  bind("enter", "keep the filter", "enter"),
			Cancel: bind("esc", "clear the filter", "esc"),
		},
		Prompt: Prompt{
			Yes: bind("y", "yes", "y", "Y"),
			No:  bind("n", "no (default)", "n", "N", "esc", "enter"),
		},
	}
	if role != Operator {
		k.Actions.Retry.Denied = "viewer role cannot retry"
		k.Actions.RetryAll.Denied = "viewer role cannot retry"
		k.Actions.Resend.Denied = "viewer role cannot resend"
		k.Actions.Pause.Denied = "viewer role cannot pause or resume"
		k.Actions.Test.Denied = "viewer role cannot send connection tests"
		k.Actions.EditForm.SetHelp("e", "view form variables (read-only)")
		k.Actions.EditTemplates.SetHelp("t", "view templates with live preview (read-only)")
		k.Form.Reveal.Denied = "viewer role cannot reveal secrets"
		k.Form.Save.Denied = "viewer role cannot edit"
		k.Form.Replace.Denied = "viewer role cannot edit"
		k.Form.Clear.Denied = "viewer role cannot edit"
		k.Form.Undo.Denied = "viewer role cannot edit"
		k.Templates.Save.Denied = "viewer role cannot edit"
		k.Templates.Undo.Denied = "viewer role cannot edit"
		k.Global.Faster.Denied = "viewer role cannot change the demo rate"
		k.Global.Slower.Denied = "viewer role cannot change the demo rate"
	}
	return k
}

// Section is a titled group of bindings for help screens.
type Section struct {
	Title    string
	Bindings []Binding
}

// Sections lists every context's bindings in reading order.
func (k *Keys) Sections() []Section {
	return []Section{
		{"Global", []Binding{k.Global.Quit, k.Global.Help, k.Global.NextPane, k.Global.PrevPane, k.Global.FocusPane, k.Global.Filter, k.Global.Palette, k.Global.Redraw, k.Global.Color, k.Global.Faster, k.Global.Slower}},
		{"Lists", []Binding{k.Nav.Up, k.Nav.Down, k.Nav.PageUp, k.Nav.PageDown, k.Nav.Top, k.Nav.Bottom, k.Nav.Open, k.Nav.Back}},
		{"Events", []Binding{k.Events.Follow, k.Events.ClearFilter}},
		{"Sort lists (again: reverse)", []Binding{k.Sort.Time, k.Sort.Kind, k.Sort.Status, k.Sort.Title, k.Sort.Member, k.Sort.Where, k.Sort.Tries, k.Sort.Code, k.Sort.Latency, k.Sort.Next}},
		{"Copy (OSC 52: the terminal must allow it)", []Binding{k.Copy.ID, k.Copy.Payload}},
		{"Long content", []Binding{k.Long.Open, k.Long.Pager}},
		{"Actions", []Binding{k.Actions.Retry, k.Actions.RetryAll, k.Actions.Resend, k.Actions.Pause, k.Actions.Test, k.Actions.EditForm, k.Actions.EditTemplates}},
		{"Delivery details", []Binding{k.Detail.PrevAttempt, k.Detail.NextAttempt, k.Detail.Diff}},
		{"Filter", []Binding{k.Filter.Apply, k.Filter.Cancel}},
		{"Confirm", []Binding{k.Prompt.Yes, k.Prompt.No}},
		{"Form", []Binding{k.Form.Next, k.Form.Prev, k.Form.Toggle, k.Form.Cycle, k.Form.Reveal, k.Form.Replace, k.Form.Clear, k.Form.Undo, k.Form.Save, k.Form.Cancel}},
		{"Templates", []Binding{k.Templates.NextTemplate, k.Templates.PrevTemplate, k.Templates.Save, k.Templates.Reload, k.Templates.Undo, k.Templates.PreviewUp, k.Templates.PreviewDown, k.Templates.Cancel}},
	}
}
