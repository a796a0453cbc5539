// Package tuitest runs end-to-end console flows in a real Bubble Tea
// program (teatest) against any api.API: the console's fake in its own
// tests, the real engine in the engine's. A flow types keys as a person
// would and reads whole screens through a probe, then checks the engine's
// side through the API.
//
// To run the flows against another engine, build a Fixture describing
// data the engine holds and call the flow functions from a test:
//
//	func TestConsoleFlows(t *testing.T) {
//		fx := tuitest.Fixture{API: eng, FailedDelivery: id, ...}
//		tuitest.RetryFailedDelivery(t, fx)
//		tuitest.EditFormVariable(t, fx)
//		tuitest.EditTemplateWithPreview(t, fx)
//		tuitest.FilterEvents(t, fx)
//	}
package tuitest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui"
)

// Fixture is what the flows need to know about the engine's data.
type Fixture struct {
	API api.API
	// FailedDelivery is a failed delivery whose retry will succeed; its
	// entry is the newest entry with a failed delivery of
	// FailedSubscription, and that is the entry's only failed delivery.
	FailedDelivery     string
	FailedSubscription string
	// FormSubscription has an editable form with FormField, a plain text
	// variable (not secret, not from env:/file:); FormValue is a valid new
	// value for it.
	FormSubscription, FormField, FormValue string
	// TemplateSubscription has an editable template listed first by
	// API.Templates.
	TemplateSubscription string
	// FilterKind is the kind of some entries but not all.
	FilterKind string
	// Width and Height of the terminal; zero means 120×40.
	Width, Height int
	// Timeout bounds each wait; zero means 10s.
	Timeout time.Duration
	// Output, when set, receives what the console writes to the terminal
	// besides frames (OSC 52 copies).
	Output io.Writer
}

func (fx *Fixture) defaults() {
	if fx.Width == 0 {
		fx.Width, fx.Height = 120, 40
	}
	if fx.Timeout == 0 {
		fx.Timeout = 10 * time.Second
	}
}

// Console is a running console under test.
type Console struct {
	t  testing.TB
	tm *teatest.TestModel
	fx Fixture
}

// snapshotMsg asks the probe for the screen as the model draws it now.
type snapshotMsg struct{ ch chan string }

// probe wraps the console's model so tests can read whole screens: the
// program's output is a stream of changed lines, not a screen.
type probe struct{ tea.Model }

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if s, ok := msg.(snapshotMsg); ok {
		s.ch <- p.Model.View()
		return p, nil
	}
	m, cmd := p.Model.Update(msg)
	p.Model = m
	return p, cmd
}

// Start runs a console as an operator named "tester" over fx.API, without
// color. It quits when the test ends.
func Start(t testing.TB, fx Fixture) *Console {
	t.Helper()
	fx.defaults()
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	ctx, cancel := context.WithCancel(context.Background())
	m := tui.New(fx.API, tui.Options{Renderer: r, Actor: "tester", Role: tui.Operator, Context: ctx, BatchInterval: 20 * time.Millisecond, Output: fx.Output})
	tm := teatest.NewTestModel(t, probe{m}, teatest.WithInitialTermSize(fx.Width, fx.Height))
	c := &Console{t: t, tm: tm, fx: fx}
	t.Cleanup(func() {
		cancel()
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	})
	c.WaitFor("the console to load", func(s string) bool {
		return strings.Contains(s, "1 Events") && !strings.Contains(s, "loading history") && !strings.Contains(s, "waiting for engine stats")
	})
	return c
}

// Screen returns the screen as drawn now.
func (c *Console) Screen() string {
	ch := make(chan string, 1)
	c.tm.Send(snapshotMsg{ch})
	select {
	case s := <-ch:
		return s
	case <-time.After(c.fx.Timeout):
		c.t.Fatal("the console did not answer a snapshot")
		return ""
	}
}

// WaitFor waits until cond holds for the screen, failing with the last
// screen after the timeout.
func (c *Console) WaitFor(what string, cond func(screen string) bool) string {
	c.t.Helper()
	deadline := time.Now().Add(c.fx.Timeout)
	for {
		s := c.Screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waiting for %s: timed out; screen:\n%s", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitText waits until the screen contains text.
func (c *Console) WaitText(text string) string {
	c.t.Helper()
	return c.WaitFor(fmt.Sprintf("%q", text), func(s string) bool { return strings.Contains(s, text) })
}

// Type types runes.
func (c *Console) Type(s string) { c.tm.Type(s) }

// Press sends special keys by type.
func (c *Console) Press(keys ...tea.KeyType) {
	for _, k := range keys {
		c.tm.Send(tea.KeyMsg{Type: k})
	}
}

// Footer is the last line of the screen.
func Footer(screen string) string {
	lines := strings.Split(screen, "\n")
	return lines[len(lines)-1]
}

// selectedLine is the line of the focused list's cursor row containing
// text, or "".
func selectedLine(screen, text string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "› ") && strings.Contains(l, text) {
			return l
		}
	}
	return ""
}

// SelectSubscription focuses the subscriptions pane and moves its cursor
// to name.
func (c *Console) SelectSubscription(name string) {
	c.t.Helper()
	c.Type("4")
	c.WaitText("┏━ 4 Subscriptions")
	for i := 0; i < 50; i++ {
		s := c.Screen()
		if l := selectedLine(s, " "+name+" "); l != "" && strings.HasPrefix(strings.TrimLeft(l, "┃│ "), "›") {
			return
		}
		c.Press(tea.KeyDown)
	}
	c.t.Fatalf("subscription %s not found in:\n%s", name, c.Screen())
}

// RetryFailedDelivery filters the stream to entries with a failed
// delivery, retries the newest one's with r and confirms with y; the
// engine then delivers it and the entry leaves the status:failed view.
func RetryFailedDelivery(t *testing.T, fx Fixture) {
	c := Start(t, fx)
	filter := "/status:failed sub:" + fx.FailedSubscription
	c.Type(filter)
	c.Press(tea.KeyEnter)
	count := regexp.MustCompile(regexp.QuoteMeta(filter) + ` · (\d+) of`)
	var before int
	c.WaitFor("the filter to apply", func(s string) bool {
		m := count.FindStringSubmatch(s)
		if m == nil {
			return false
		}
		before, _ = strconv.Atoi(m[1])
		return true
	})
	if before == 0 {
		t.Fatalf("no entry has a failed delivery of %s", fx.FailedSubscription)
	}
	c.Type("r")
	s := c.WaitText("(y/N)")
	if !strings.Contains(Footer(s), "retry failed delivery "+fx.FailedDelivery) {
		t.Fatalf("the prompt should name the delivery: %q", Footer(s))
	}
	c.Type("y")
	ctx := context.Background()
	deadline := time.Now().Add(c.fx.Timeout)
	for {
		d, err := fx.API.Delivery(ctx, fx.FailedDelivery)
		if err != nil {
			t.Fatal(err)
		}
		if d.State == api.Delivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s is %s after the retry", fx.FailedDelivery, d.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The console learns it from the live feed: the entry no longer has a
	// failed delivery, so it leaves the filtered stream.
	c.WaitFor("the entry to leave the status:failed view", func(s string) bool {
		m := count.FindStringSubmatch(s)
		n := -1
		if m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		return n == before-1
	})
}

// EditFormVariable opens the subscription's form, replaces one text
// variable, saves with ctrl+s, and checks the engine has the new value.
func EditFormVariable(t *testing.T, fx Fixture) {
	c := Start(t, fx)
	c.SelectSubscription(fx.FormSubscription)
	c.Type("e")
	c.WaitText("Form variables · " + fx.FormSubscription)
	for i := 0; ; i++ {
		s := c.Screen()
		if selectedLine(s, fx.FormField+" · ") != "" {
			break
		}
		if i > 50 {
			t.Fatalf("field %s not found:\n%s", fx.FormField, s)
		}
		c.Press(tea.KeyTab)
	}
	c.Press(tea.KeyCtrlU) // clear the input
	c.Type(fx.FormValue)
	c.WaitText("1 changed")
	c.Press(tea.KeyCtrlS)
	c.WaitText("Save these changes to " + fx.FormSubscription + "?")
	c.Type("y")
	c.WaitText("saved 1 form variable(s) of " + fx.FormSubscription)
	f, err := fx.API.Form(fx.FormSubscription)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range f.Fields {
		if fd.Key == fx.FormField && fd.Value != fx.FormValue {
			t.Fatalf("engine has %s=%q, want %q", fd.Key, fd.Value, fx.FormValue)
		}
	}
}

// EditTemplateWithPreview opens the template editor, types into the first
// template and waits for the live preview to render the new text; then
// leaves without saving (confirming the discard).
func EditTemplateWithPreview(t *testing.T, fx Fixture) {
	c := Start(t, fx)
	c.SelectSubscription(fx.TemplateSubscription)
	c.Type("t")
	c.WaitText("Templates · " + fx.TemplateSubscription)
	before := c.WaitFor("the first preview", func(s string) bool {
		return strings.Contains(s, "POST ") || strings.Contains(s, "nothing would be sent")
	})
	const mark = "PREVIEWMARK"
	if strings.Contains(before, mark) {
		t.Fatal("the mark is already on screen")
	}
	c.Type(mark)
	// The mark shows twice: in the editor and, once rendered, in the preview.
	c.WaitFor("the preview to render the edit", func(s string) bool { return strings.Count(s, mark) >= 2 })
	c.WaitText("1 unsaved")
	ts, err := fx.API.Templates(fx.TemplateSubscription)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ts[0].Source, mark) {
		t.Fatal("the edit reached the engine without saving")
	}
	c.Press(tea.KeyEsc)
	c.WaitText("discard unsaved edits")
	c.Type("y")
	c.WaitText("1 Events")
}

// FilterEvents filters the stream by kind and checks every row shown is
// of that kind, then clears the filter with esc.
func FilterEvents(t *testing.T, fx Fixture) {
	c := Start(t, fx)
	c.Type("/kind:" + fx.FilterKind)
	c.Press(tea.KeyEnter)
	s := c.WaitText("/kind:" + fx.FilterKind + " · ")
	rows := eventRows(s)
	if len(rows) == 0 {
		t.Fatalf("no rows for kind:%s:\n%s", fx.FilterKind, s)
	}
	for _, r := range rows {
		if !strings.Contains(r, " "+fx.FilterKind+" ") {
			t.Errorf("row of another kind shown: %q", r)
		}
	}
	c.Press(tea.KeyEsc)
	c.WaitFor("the filter to clear", func(s string) bool { return !strings.Contains(s, "/kind:") })
}

// eventRows are the events pane's rows (lines starting with a time).
func eventRows(screen string) []string {
	re := regexp.MustCompile(`^[┃│][› ] \d\d:\d\d:\d\d `)
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		if re.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}
