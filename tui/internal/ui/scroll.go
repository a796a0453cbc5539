package ui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
)

// Scroll is a cursor over n rows shown height at a time.
type Scroll struct {
	Cursor, Offset int
}

// Clamp keeps the cursor on a row and the offset such that the cursor is
// visible.
func (s *Scroll) Clamp(n, height int) {
	height = max(height, 1)
	s.Cursor = min(max(s.Cursor, 0), max(n-1, 0))
	if s.Cursor < s.Offset {
		s.Offset = s.Cursor
	}
	if s.Cursor >= s.Offset+height {
		s.Offset = s.Cursor - height + 1
	}
	s.Offset = min(max(s.Offset, 0), max(n-height, 0))
}

// Key moves the cursor for a navigation key and reports whether msg was
// one.
func (s *Scroll) Key(msg tea.KeyMsg, k keys.Nav, n, height int) bool {
	switch {
	case k.Up.Is(msg):
		s.Cursor--
	case k.Down.Is(msg):
		s.Cursor++
	case k.PageUp.Is(msg):
		s.Cursor -= max(height-1, 1)
	case k.PageDown.Is(msg):
		s.Cursor += max(height-1, 1)
	case k.Top.Is(msg):
		s.Cursor = 0
	case k.Bottom.Is(msg):
		s.Cursor = n - 1
	default:
		return false
	}
	s.Clamp(n, height)
	return true
}
