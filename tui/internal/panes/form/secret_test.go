package form

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

func saves(fake *fakeapi.API) []string {
	var out []string
	for _, c := range fake.Calls() {
		if strings.HasPrefix(c, "SaveForm") || strings.HasPrefix(c, "PlanForm") {
			out = append(out, c)
		}
	}
	return out
}

// The accident: `e` on the Slack subscription, type q, ctrl+s.
// The secret stays as it was, and the field says how to replace it.
func TestTypingNeverChangesASecret(t *testing.T) {
	m, fake := setup(t, keys.Operator, fakeapi.SubSlack)
	typeText(m, "q")
	press(m, "backspace", "ctrl+u")
	out := press(m, "ctrl+s")
	if !strings.Contains(toasts(out), "nothing changed") || m.Dirty() != 0 {
		t.Fatalf("toasts %q, dirty %d", toasts(out), m.Dirty())
	}
	if c := saves(fake); len(c) != 0 {
		t.Fatalf("the engine was asked to save: %v", c)
	}
	if v := m.View(); !strings.Contains(v, "typing does not change it; press enter to replace it") {
		t.Errorf("no hint on the field:\n%s", v)
	}
}

func TestReplaceSecretTypedTwice(t *testing.T) {
	m, fake := setup(t, keys.Operator, fakeapi.SubSlack)
	const next = "https://hooks.slack.com/services/T000/B000/NEWsecret"
	press(m, "enter")
	if !strings.Contains(m.View(), "replace secret") {
		t.Fatalf("no replace prompt:\n%s", m.View())
	}
	typeText(m, next)
	press(m, "enter")
	typeText(m, next+"x")
	press(m, "enter")
	if v := m.View(); !strings.Contains(v, "the two values differ") || m.Dirty() != 0 {
		t.Fatalf("a mismatch was accepted:\n%s", v)
	}
	typeText(m, next)
	press(m, "enter")
	if m.Dirty() != 1 || strings.Contains(m.View(), "NEWsecret") {
		t.Fatalf("dirty %d, view:\n%s", m.Dirty(), m.View())
	}
	press(m, "ctrl+s")
	v := m.View()
	if !strings.Contains(v, "Save these changes") || !strings.Contains(v, "(new value)") || strings.Contains(v, "secret/") || strings.Contains(v, "NEWsecret") {
		t.Fatalf("diff shows the secret or nothing:\n%s", v)
	}
	press(m, "n") // back to editing, nothing saved
	if c := saves(fake); len(c) != 1 || m.Dirty() != 1 {
		t.Fatalf("after n: calls %v, dirty %d", c, m.Dirty())
	}
	press(m, "ctrl+s")
	out := press(m, "y")
	if _, ok := uitest.Find[ui.CloseMsg](out); !ok {
		t.Fatalf("save: %q", toasts(out))
	}
	if got, _ := fake.RevealSecret(t.Context(), "t", fakeapi.SubSlack, "webhookUrl"); got != next {
		t.Errorf("saved secret %q", got)
	}
}

func TestReplaceSecretPastedOnce(t *testing.T) {
	m, _ := setup(t, keys.Operator, fakeapi.SubSlack)
	press(m, "enter")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("https://hooks.slack.com/services/P"), Paste: true})
	press(m, "enter")
	if m.Dirty() != 1 || m.replace != nil {
		t.Fatalf("a paste needs no second entry: dirty %d", m.Dirty())
	}
}

// An invalid replacement is refused by the engine's check, inline, and
// nothing is saved.
func TestInvalidURLRefusedInline(t *testing.T) {
	m, fake := setup(t, keys.Operator, fakeapi.SubSlack)
	press(m, "enter")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q"), Paste: true})
	press(m, "enter")
	out := press(m, "ctrl+s")
	if !strings.Contains(toasts(out), "1 field(s) need fixing") || !strings.Contains(m.View(), "✗ Incoming webhook URL must be an absolute URL") {
		t.Fatalf("toasts %q view:\n%s", toasts(out), m.View())
	}
	for _, c := range saves(fake) {
		if strings.HasPrefix(c, "SaveForm") {
			t.Fatal("an invalid value was saved")
		}
	}
}

func TestClearSecretAsks(t *testing.T) {
	m, _ := setup(t, keys.Operator, fakeapi.SubSlack)
	press(m, "delete")
	if !strings.Contains(m.View(), "cannot be cleared, only replaced") || m.Dirty() != 0 {
		t.Fatalf("a required secret was cleared:\n%s", m.View())
	}
}

func TestViewerCannotReplaceClearOrUndo(t *testing.T) {
	m, fake := setup(t, keys.Viewer, fakeapi.SubSlack)
	for _, k := range []string{"enter", "delete", "ctrl+z", "ctrl+s"} {
		out := press(m, k)
		if !strings.Contains(toasts(out), "viewer role cannot") {
			t.Errorf("%s: %q", k, toasts(out))
		}
	}
	if m.replace != nil || m.Dirty() != 0 || len(saves(fake)) != 0 {
		t.Fatal("a viewer changed something")
	}
	for _, c := range fake.Calls() {
		if strings.HasPrefix(c, "Undo") {
			t.Fatal("a viewer reached Undo")
		}
	}
}

func TestUndoAsksThenReverts(t *testing.T) {
	m, fake := setup(t, keys.Operator, fakeapi.SubSlack)
	press(m, "tab", "ctrl+u")
	typeText(m, "#ops")
	press(m, "ctrl+s", "y")
	run(m, m.Open(fakeapi.SubSlack))
	out := press(m, "ctrl+z")
	p, ok := uitest.Find[ui.PromptMsg](out)
	if !ok || !strings.Contains(p.Question, "undo the last saved") {
		t.Fatalf("ctrl+z: %v", out)
	}
	out = run(m, p.OnYes)
	if !strings.Contains(toasts(out), "undid the last change of slack-prod") {
		t.Fatalf("undo: %q", toasts(out))
	}
	f, _ := fake.Form(fakeapi.SubSlack)
	if f.Fields[1].Value != "#launches" {
		t.Errorf("channel after undo: %q", f.Fields[1].Value)
	}
}
