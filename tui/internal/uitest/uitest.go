// Package uitest helps the console's pane tests: a Common over a fake
// engine with a fixed clock and no color, a way to run commands and get
// their messages, and key messages by name.
package uitest

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Now is the fixed clock of pane tests.
func Now() time.Time { return time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC) }

// Common returns what panes need, over api, for role; its context ends
// with the test.
func Common(tb testing.TB, api api.API, role keys.Role) *ui.Common {
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	return &ui.Common{
		API:    api,
		Styles: ui.NewStyles(ui.PlainRenderer()),
		Keys:   keys.New(role),
		Role:   role,
		Actor:  "tester",
		Now:    Now,
		Ctx:    ctx,
		After:  After,
	}
}

// After is a test clock for timers: short ones (debounces) fire at once,
// long ones (toast expiry, polls) never do, so tests see settled state
// without sleeping.
func After(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
	if d >= time.Second {
		return nil
	}
	return func() tea.Msg { return fn(Now().Add(d)) }
}

// Exec runs cmd, and every command batched inside it, concurrently, and
// returns the messages that arrive within wait (debounce ticks do; toast
// expiries do not).
func Exec(cmd tea.Cmd, wait time.Duration) []tea.Msg {
	out := make(chan tea.Msg, 64)
	pending := 0
	var start func(c tea.Cmd)
	start = func(c tea.Cmd) {
		if c == nil {
			return
		}
		pending++
		go func() { out <- c() }()
	}
	start(cmd)
	var msgs []tea.Msg
	deadline := time.After(wait)
	for pending > 0 {
		select {
		case msg := <-out:
			pending--
			if b, ok := msg.(tea.BatchMsg); ok {
				for _, c := range b {
					start(c)
				}
				continue
			}
			if msg != nil {
				msgs = append(msgs, msg)
			}
		case <-deadline:
			return msgs
		}
	}
	return msgs
}

// Find returns the first message of type T in msgs.
func Find[T any](msgs []tea.Msg) (T, bool) {
	for _, m := range msgs {
		if t, ok := m.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}

// Key returns the key message for a name as Bubble Tea spells it
// ("enter", "ctrl+s", "shift+tab", "a").
func Key(name string) tea.KeyMsg {
	types := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		" ": tea.KeySpace, "space": tea.KeySpace, "backspace": tea.KeyBackspace,
		"ctrl+s": tea.KeyCtrlS, "ctrl+r": tea.KeyCtrlR, "ctrl+u": tea.KeyCtrlU, "ctrl+c": tea.KeyCtrlC,
		"ctrl+l": tea.KeyCtrlL,
	}
	if t, ok := types[name]; ok {
		if t == tea.KeySpace {
			return tea.KeyMsg{Type: t, Runes: []rune{' '}}
		}
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(name)}
}

// HeapWatch measures how much the Go heap grows while it runs: the peak of
// the heap's objects (live and not yet collected), sampled, and the memory
// the heap holds from the system, which never shrinks, so no peak above
// the earlier ones escapes it. Both are over a baseline taken after a
// collection. While it runs the collector runs more often (GOGC 25), so
// that the peak is mostly memory held rather than garbage not collected
// yet.
type HeapWatch struct {
	base, sys0 uint64
	gcPercent  int
	peak       atomic.Uint64
	stop, done chan struct{}
}

// WatchHeap starts measuring.
func WatchHeap() *HeapWatch {
	w := &HeapWatch{gcPercent: debug.SetGCPercent(25), stop: make(chan struct{}), done: make(chan struct{})}
	runtime.GC()
	w.base, w.sys0 = heapObjects(), heapSys()
	w.peak.Store(w.base)
	go func() {
		defer close(w.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				if n := heapObjects(); n > w.peak.Load() {
					w.peak.Store(n)
				}
			}
		}
	}()
	return w
}

// Stop ends the measure and returns the growth of the peak and of the
// heap's system memory, in bytes.
func (w *HeapWatch) Stop() (peak, sys uint64) {
	close(w.stop)
	<-w.done
	debug.SetGCPercent(w.gcPercent)
	if n := heapObjects(); n > w.peak.Load() {
		w.peak.Store(n)
	}
	return w.peak.Load() - w.base, max(heapSys(), w.sys0) - w.sys0
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func heapSys() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapSys
}
