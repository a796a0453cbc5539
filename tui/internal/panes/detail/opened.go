package detail

import "github.com/auditrelay/auditrelay/tui/internal/ui"

// Opened is what the view shows: the view and the id it was opened with.
func (m *Model) Opened() ui.OpenMsg { return m.open }
