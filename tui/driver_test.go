package tui

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

// fixedNow is the clock of every test: views that say "5s ago" stay put.
func fixedNow() time.Time { return uitest.Now() }

// driver runs a root model without a terminal: it executes commands on
// goroutines, feeds their messages back into Update and stops when
// nothing has arrived for quiet. Timers run on uitest.After: debounces
// fire at once, toast expiry and the stats poll never, so tests see a
// settled screen without sleeping; a feed with no events just waits.
type driver struct {
	t        testing.TB
	m        *Model
	msgs     chan tea.Msg
	quiet    time.Duration
	fake     api.API
	inflight atomic.Int64 // commands running
	toasts   int          // toast messages handled
}

func newDriver(t testing.TB, fake api.API, w, h int, mutate ...func(*Options)) *driver {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts := Options{
		Renderer:      ui.PlainRenderer(),
		Actor:         "local",
		Role:          Operator,
		Now:           fixedNow,
		Context:       ctx,
		StatsInterval: time.Hour,
		BatchInterval: 5 * time.Millisecond,
		after:         uitest.After,
	}
	for _, f := range mutate {
		f(&opts)
	}
	d := &driver{t: t, m: newModel(fake, opts), msgs: make(chan tea.Msg, 1024), quiet: 20 * time.Millisecond, fake: fake}
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(d.m.Init())
	d.settle()
	return d
}

func demo(t testing.TB) *fakeapi.API {
	a := fakeapi.Demo(fixedNow)
	return a
}

// run executes cmd (and batches within it) in the background.
func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	d.inflight.Add(1)
	go func() {
		defer d.inflight.Add(-1)
		msg := cmd()
		if msg == nil {
			return
		}
		select {
		case d.msgs <- msg:
		default:
			d.t.Errorf("driver: message queue full, dropped %T", msg)
		}
	}()
}

// send delivers msg to Update now and runs what it returns.
func (d *driver) send(msg tea.Msg) {
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
		return
	case tea.QuitMsg:
		return
	case ui.ToastMsg:
		d.toasts++
	}
	if seq, ok := sequence(msg); ok {
		// tea.Sequence: run the commands one after the other.
		d.inflight.Add(1)
		go func() {
			defer d.inflight.Add(-1)
			for _, c := range seq {
				if c == nil {
					continue
				}
				if msg := c(); msg != nil {
					d.msgs <- msg
				}
			}
		}()
		return
	}
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

// sequence returns the commands of a tea.Sequence's message, whose type
// Bubble Tea does not export.
func sequence(msg tea.Msg) ([]tea.Cmd, bool) {
	v := reflect.ValueOf(msg)
	if !v.IsValid() || v.Kind() != reflect.Slice || v.Type().Elem() != reflect.TypeFor[tea.Cmd]() || v.Type() == reflect.TypeFor[tea.BatchMsg]() {
		return nil, false
	}
	out := make([]tea.Cmd, v.Len())
	for i := range out {
		out[i] = v.Index(i).Interface().(tea.Cmd)
	}
	return out, true
}

// settle handles messages until every command has finished, except the
// one waiting on the live feed, and nothing arrived for the quiet period.
func (d *driver) settle() {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-time.After(d.quiet):
			waiting := int64(0)
			if d.m.batcher != nil && !d.m.feedClosed {
				waiting = 1 // the feed's next batch
			}
			if d.inflight.Load() <= waiting && len(d.msgs) == 0 {
				return
			}
			if time.Now().After(deadline) {
				d.t.Fatalf("driver: %d commands still running after 10s", d.inflight.Load())
			}
		}
	}
}

// keys types each key and settles after each.
func (d *driver) keys(ks ...tea.KeyMsg) {
	for _, k := range ks {
		d.send(k)
		d.settle()
	}
}

// typeText types runes one at a time, settling at the end.
func (d *driver) typeText(s string) {
	for _, r := range s {
		d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	d.settle()
}

func runeKey(r rune) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}} }

func runes(s string) []tea.KeyMsg {
	var out []tea.KeyMsg
	for _, r := range s {
		out = append(out, runeKey(r))
	}
	return out
}

func keyOf(t tea.KeyType) tea.KeyMsg { return tea.KeyMsg{Type: t} }

func (d *driver) view() string { return d.m.View() }
