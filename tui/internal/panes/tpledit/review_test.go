package tpledit

import (
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
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

// ctrl+z asks, then reverts the last saved template and reloads it; a
// viewer is refused.
func TestUndoTemplate(t *testing.T) {
	m, _ := setup(t, keys.Operator, 120)
	_, before, _ := m.Current()
	run(m, typeText(m, "x"))
	run(m, m.Update(uitest.Key("ctrl+s")))
	run(m, m.Update(uitest.Key("y")))
	out := run(m, m.Update(uitest.Key("ctrl+z")))
	p, ok := uitest.Find[ui.PromptMsg](out)
	if !ok || !strings.Contains(p.Question, "undo the last saved form or template change of slack-prod?") {
		t.Fatalf("ctrl+z: %v", out)
	}
	out = run(m, p.OnYes)
	if !strings.Contains(toasts(out), "undid the last change of slack-prod: flag template") {
		t.Fatalf("undo: %q", toasts(out))
	}
	if _, src, _ := m.Current(); src != before {
		t.Errorf("after undo the editor holds %q, want %q", src, before)
	}

	v, fake := setup(t, keys.Viewer, 120)
	if out := run(v, v.Update(uitest.Key("ctrl+z"))); !strings.Contains(toasts(out), "viewer role cannot edit") {
		t.Errorf("viewer ctrl+z: %q", toasts(out))
	}
	for _, c := range fake.Calls() {
		if strings.HasPrefix(c, "Undo") {
			t.Fatal("a viewer reached Undo")
		}
	}
}
