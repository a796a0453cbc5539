package sorting

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
)

// TestEveryColumnHasItsOwnKey: each column's key leads back to it, no two
// columns share a key, and a column not among those asked for is not
// found.
func TestEveryColumnHasItsOwnKey(t *testing.T) {
	k := keys.New(keys.Operator).Sort
	all := []Column{Time, Kind, Status, Title, Member, Where, Tries, Code, Latency, Next}
	seen := map[string]Column{}
	for _, col := range all {
		ks := Key(k, col).Keys()
		if len(ks) == 0 {
			t.Fatalf("%s has no key", col)
		}
		if other, dup := seen[ks[0]]; dup {
			t.Fatalf("%s and %s share the key %q", col, other, ks[0])
		}
		seen[ks[0]] = col
		msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(ks[0])}
		if got, ok := ColumnOf(k, msg, all...); !ok || got != col {
			t.Errorf("key %q: ColumnOf = %s, %v; want %s", ks[0], got, ok, col)
		}
		if got, ok := ColumnOf(k, msg, None); ok {
			t.Errorf("key %q found %s among no columns", ks[0], got)
		}
	}
	if len(Key(k, None).Keys()) != 0 {
		t.Error("arrival order has a key")
	}
}
