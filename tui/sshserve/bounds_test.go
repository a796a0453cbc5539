package sshserve

import (
	"net/http"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/auditrelay/auditrelay/tui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

// heapBound is the most the Go heap may grow in these tests: a generous
// bound for what a console and its client take, far below what the inputs
// they send used to make the server allocate (gigabytes).
const heapBound = 64 << 20

// checkHeap fails the test when the heap grew past heapBound.
func checkHeap(t *testing.T, w *uitest.HeapWatch) {
	t.Helper()
	peak, sys := w.Stop()
	t.Logf("heap growth: peak of objects %.1f MiB, heap system memory %.1f MiB", mib(peak), mib(sys))
	if peak > heapBound || sys > heapBound {
		t.Errorf("the heap grew by %.1f MiB (objects, peak) and %.1f MiB (system); want at most %d MiB", mib(peak), mib(sys), heapBound>>20)
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// frameWidth is the width of the last frame's top line of the events pane
// in out, or -1 when none was drawn.
func frameWidth(out string) int {
	w := -1
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if i := strings.LastIndex(line, "━ 1 Events"); i >= 0 {
			// The line starts at the pane's left border.
			if j := strings.LastIndex(line[:i], "┏"); j >= 0 {
				w = ansi.StringWidth(strings.TrimRight(line[j:], " "))
			}
		}
	}
	return w
}

// TestHugeTerminalSizeIsClamped: a viewer claims a 65535×65535 terminal,
// at connection and again in a window change. The console draws at
// tui.MaxWidth×tui.MaxHeight and keeps working, another session works,
// and the server's heap stays bounded (it used to try to allocate 8 GiB
// for one frame and die).
func TestHugeTerminalSizeIsClamped(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	bob := newUser(t, "viewer", "bob")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, bob)
	heap := uitest.WatchHeap()

	big := openTerminal(t, dial(t, srv, bob), "bob", "", 65535, 65535)
	big.waitText(0, "1 Events")
	if w := frameWidth(big.textSince(0)); w != tui.MaxWidth {
		t.Errorf("frame width %d at 65535 columns; want %d", w, tui.MaxWidth)
	}

	// A window change to a small size and back to the huge one.
	m := big.mark()
	if err := big.sess.WindowChange(24, 80); err != nil {
		t.Fatal(err)
	}
	big.waitText(m, "[2 Policy") // the narrow layout's tabs
	if w := frameWidth(big.textSince(m)); w != 80 {
		t.Errorf("frame width %d at 80 columns", w)
	}
	m = big.mark()
	if err := big.sess.WindowChange(65535, 65535); err != nil {
		t.Fatal(err)
	}
	big.waitText(m, "─ 2 Policy") // the wide layout's pane
	if w := frameWidth(big.textSince(m)); w != tui.MaxWidth {
		t.Errorf("frame width %d after a window change to 65535 columns; want %d", w, tui.MaxWidth)
	}

	// A key still works there, and in a second session.
	m = big.mark()
	big.typeKeys("?")
	big.waitText(m, "Help · viewer keys")
	other := openConsole(t, srv, bob)
	m = other.mark()
	other.typeKeys("?")
	other.waitText(m, "Help · viewer keys")
	if big.isEnded() {
		t.Fatal("the session with the huge terminal ended")
	}
	checkHeap(t, heap)
}

// TestFloodedInputIsBounded: megabytes sent into the filter as one
// bracketed paste (with and without its end), or as one long run of
// characters, are cut to the filter's limit without the server buffering
// them, and the console keeps working.
func TestFloodedInputIsBounded(t *testing.T) {
	const size = 4 << 20
	run := strings.Repeat("a", 64<<10)
	for _, tc := range []struct {
		name        string
		start, end  string
		closesLater bool // the paste's end comes only after the check
	}{
		{name: "bracketed paste", start: "\x1b[200~", end: "\x1b[201~"},
		{name: "paste without its end", start: "\x1b[200~", end: "\x1b[201~", closesLater: true},
		{name: "run of characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
			bob := newUser(t, "viewer", "bob")
			srv := startServer(t, eng, Options{Console: consoleOpts()}, bob)
			c := openConsole(t, srv, bob)
			heap := uitest.WatchHeap()
			m := c.mark()
			c.typeKeys("/")
			c.waitText(m, "esc clear")
			m = c.mark()
			c.typeKeys(tc.start)
			for sent := 0; sent < size; sent += len(run) {
				c.typeKeys(run)
			}
			if tc.closesLater {
				// Everything sent so far is a paste still open: the
				// server holds at most ttyin.MaxPaste of it meanwhile.
				other := openConsole(t, srv, bob)
				m := other.mark()
				other.typeKeys("?")
				other.waitText(m, "Help · viewer keys")
			}
			c.typeKeys(tc.end)
			// The filter took what it takes of the a's; esc, which comes
			// after all of them, clears it, and the console answers keys
			// again.
			c.waitText(m, strings.Repeat("a", 40))
			m = c.mark()
			c.typeKeys("\x1b")
			c.waitText(m, "/ filter")
			m = c.mark()
			c.typeKeys("?")
			c.waitText(m, "Help · viewer keys")
			checkHeap(t, heap)
		})
	}
}
