package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

// heapBound is the most the Go heap may grow while a console draws at any
// size: generous for a 1000×500 screen, far below what a 65535×65535
// terminal used to cost (8 GiB for one frame).
const heapBound = 64 << 20

// TestHugeWindowIsClamped: whatever size the terminal reports, the console
// draws at most MaxWidth×MaxHeight cells, in every view, within a bounded
// heap; the too-small notice still tells the size the terminal has.
func TestHugeWindowIsClamped(t *testing.T) {
	cases := []struct {
		w, h         int
		drawW, drawH int
		notice       string // the too-small notice, if any
	}{
		{65535, 65535, MaxWidth, MaxHeight, ""},
		{65535, 40, MaxWidth, 40, ""},
		{120, 65535, 120, MaxHeight, ""},
		{MaxWidth + 1, MaxHeight + 1, MaxWidth, MaxHeight, ""},
		{MinWidth - 1, 65535, MinWidth - 1, MaxHeight, "have 59×65535"},
		{65535, 10, MaxWidth, 10, "have 65535×10"},
		{-5, -7, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d", c.w, c.h), func(t *testing.T) {
			d := newDriver(t, demo(t), 120, 40)
			heap := uitest.WatchHeap()
			d.send(tea.WindowSizeMsg{Width: c.w, Height: c.h})
			d.settle()
			if c.drawW == 0 {
				if v := d.view(); v != "" {
					t.Fatalf("a %d×%d terminal drew %d bytes", c.w, c.h, len(v))
				}
				return
			}
			checkScreen(t, d.view(), c.drawW, c.drawH)
			if c.notice != "" {
				if !strings.Contains(d.view(), c.notice) {
					t.Errorf("the too-small notice does not say %q", c.notice)
				}
			} else {
				// Every full-screen view, too.
				for _, k := range []tea.KeyMsg{runeKey('?'), keyOf(tea.KeyEsc), keyOf(tea.KeyEnter), keyOf(tea.KeyEsc),
					runeKey('e'), keyOf(tea.KeyEsc), runeKey('t'), keyOf(tea.KeyEsc)} {
					d.keys(k)
					checkScreen(t, d.view(), c.drawW, c.drawH)
				}
			}
			peak, sys := heap.Stop()
			t.Logf("heap growth: peak of objects %.1f MiB, heap system memory %.1f MiB", float64(peak)/(1<<20), float64(sys)/(1<<20))
			if peak > heapBound || sys > heapBound {
				t.Errorf("the heap grew by %d MiB (objects, peak) and %d MiB (system); want at most %d MiB", peak>>20, sys>>20, heapBound>>20)
			}
		})
	}
}

// countingAfter is a test clock for timers (uitest.After) that counts the
// long ones started (toast expiry, polls).
type countingAfter struct{ long int }

func (c *countingAfter) after(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
	if d >= time.Second {
		c.long++
	}
	return uitest.After(d, fn)
}

// TestToastsShareOneTimer: thousands of refused keys (a viewer holding r,
// or sending megabytes of it over SSH) show their toast with one expiry
// timer, not a timer each; the timer, when it fires before the newest
// toast's time, waits for the rest of it.
func TestToastsShareOneTimer(t *testing.T) {
	clock := &countingAfter{}
	d := newDriver(t, demo(t), 120, 40, func(o *Options) {
		o.Role = Viewer
		o.after = clock.after
	})
	base := clock.long // the stats poll's
	for range 20 {
		for range 500 {
			d.send(runeKey('r'))
		}
		d.settle()
	}
	if !strings.Contains(footer(d), "viewer role cannot retry") {
		t.Fatalf("footer %q", footer(d))
	}
	if n := clock.long - base; n != 1 {
		t.Fatalf("%d toast timers started for 10,000 toasts; want 1", n)
	}

	// The timer fires before the toast's time (it was started for an
	// earlier toast): the toast stays, and the timer starts for the rest.
	d.m.toast.until = fixedNow().Add(3 * time.Second)
	d.m.Update(toastExpireMsg{at: fixedNow()})
	if d.m.toast.text == "" || clock.long-base != 2 {
		t.Fatalf("early expiry: toast %q, %d timers started; want the toast kept and a second timer", d.m.toast.text, clock.long-base)
	}
	d.m.Update(toastExpireMsg{at: fixedNow().Add(3 * time.Second)})
	if d.m.toast.text != "" || strings.Contains(footer(d), "cannot retry") {
		t.Fatalf("the toast outlived its time: %q", footer(d))
	}
	// The next toast starts a timer again.
	d.keys(runeKey('r'))
	if n := clock.long - base; n != 3 {
		t.Fatalf("%d timers; want a new one for the next toast", n)
	}
}

// TestFilterTakesAtMostMaxFilterLen: a megabyte pasted or typed into the
// filter stops at ui.MaxFilterLen characters.
func TestFilterTakesAtMostMaxFilterLen(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40)
	d.keys(runeKey('/'))
	d.keys(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("a", 1<<20)), Paste: true})
	if n := len([]rune(d.m.filterIn.Value())); n != ui.MaxFilterLen {
		t.Fatalf("filter holds %d characters after a 1 MiB paste; want %d", n, ui.MaxFilterLen)
	}
	d.typeText("bbbb")
	if v := d.m.filterIn.Value(); len(v) != ui.MaxFilterLen || strings.Contains(v, "b") {
		t.Fatalf("typing past the limit changed the filter (%d characters)", len(v))
	}
	// Still a working filter: it matches nothing, and esc clears it.
	if !strings.Contains(footer(d), "0 of 30") {
		t.Errorf("footer %q", footer(d))
	}
	d.keys(keyOf(tea.KeyEsc))
	if d.m.events.Visible() != 30 {
		t.Errorf("after esc %d visible", d.m.events.Visible())
	}
}

// TestKeysArrivingTogetherAreBounded: of thousands of keys that arrive as
// one event outside a text input (a client flooding its connection), the
// first maxKeysAtOnce are acted on and the rest ignored, with a note; their
// commands would otherwise pile up faster than they run.
func TestKeysArrivingTogetherAreBounded(t *testing.T) {
	d := newDriver(t, demo(t), 120, 40, func(o *Options) { o.Role = Viewer })
	d.toasts = 0
	d.keys(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("r", 10_000))})
	if d.toasts != maxKeysAtOnce+1 {
		t.Errorf("%d toasts; want one per key acted on (%d) and the note", d.toasts, maxKeysAtOnce)
	}
	if want := "10,000 keys arrived at once: acted on the first 64, ignored the rest"; !strings.Contains(footer(d), want) {
		t.Errorf("footer %q, want %q", footer(d), want)
	}
	// A handful, as typed quickly, are all acted on.
	d.toasts = 0
	d.keys(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("rrr")})
	if d.toasts != 3 {
		t.Errorf("%d toasts for 3 keys", d.toasts)
	}
}
