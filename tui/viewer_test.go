package tui

import (
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// TestPagerIsLocalOnly: over SSH (Remote) o never starts a program on the
// server; it says why and what to use instead.
func TestPagerIsLocalOnly(t *testing.T) {
	m := newModel(demo(t), Options{Remote: true, Now: fixedNow})
	for name, cmd := range map[string]func() any{
		"o on a pane":   func() any { return m.openViewer(true)() },
		"o in a viewer": func() any { return m.pager("x", "text")() },
	} {
		msg, ok := cmd().(ui.ToastMsg)
		if !ok || msg.Level != ui.LevelError || !strings.Contains(msg.Text, "only in a local console") {
			t.Errorf("%s: got %#v, want the local-only error", name, msg)
		}
	}
}
