package tpledit

import (
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

func TestLineDiff(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"a\nb\nc", "a\nb\nc", ""},
		{"a\nb\nc", "a\nB\nc", "  a|- b|+ B|  c"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9", "1\n2\n3\n4\n5\n6\n7\n8\nX", "  6|  7|  8|- 9|+ X"},
		{"x\n1\n2\n3\n4\n5\n6\n7\n8\ny", "X\n1\n2\n3\n4\n5\n6\n7\n8\nY", "- x|+ X|  1|  2|  3|  …|  6|  7|  8|- y|+ Y"},
		{"", "new", "- |+ new"},
	}
	for _, tt := range tests {
		if got := strings.Join(lineDiff(tt.a, tt.b, 3), "|"); got != tt.want {
			t.Errorf("lineDiff(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

// Anything but y at the question goes back to the edits, unsaved.
func TestReviewNoKeepsEditing(t *testing.T) {
	m, fake := setup(t, keys.Operator, 80)
	run(m, typeText(m, "x"))
	run(m, m.Update(uitest.Key("ctrl+s")))
	if !strings.Contains(m.View(), "── saved") || !strings.Contains(m.View(), "── new") {
		t.Fatalf("narrow review stacks old and new:\n%s", m.View())
	}
	out := run(m, m.Update(uitest.Key("n")))
	if !strings.Contains(toasts(out), "not saved: still editing") || m.Dirty() != 1 || m.review != nil {
		t.Fatalf("n: %q dirty %d", toasts(out), m.Dirty())
	}
	for _, c := range fake.Calls() {
		if strings.HasPrefix(c, "SaveTemplate") {
			t.Fatal("n saved")
		}
	}
}
