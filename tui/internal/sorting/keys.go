package sorting

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
)

// Key is col's sort key, so one key sorts one column in every pane.
func Key(k keys.Sort, col Column) keys.Binding {
	switch col {
	case Time:
		return k.Time
	case Kind:
		return k.Kind
	case Status:
		return k.Status
	case Title:
		return k.Title
	case Member:
		return k.Member
	case Where:
		return k.Where
	case Tries:
		return k.Tries
	case Code:
		return k.Code
	case Latency:
		return k.Latency
	case Next:
		return k.Next
	}
	return keys.Binding{}
}

// ColumnOf is the column among cols whose sort key msg is.
func ColumnOf(k keys.Sort, msg tea.KeyMsg, cols ...Column) (Column, bool) {
	for _, col := range cols {
		if Key(k, col).Is(msg) {
			return col, true
		}
	}
	return None, false
}
