package form

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

// run feeds cmd's messages back until nothing more comes, returning
// what reached outside the form (toasts, prompts, close).
func run(m *Model, cmd tea.Cmd) []tea.Msg {
	var out []tea.Msg
	for _, msg := range uitest.Exec(cmd, time.Second) {
		switch msg.(type) {
		case ui.ToastMsg, ui.PromptMsg, ui.CloseMsg:
			out = append(out, msg)
		default:
			out = append(out, run(m, m.Update(msg))...)
		}
	}
	return out
}

func press(m *Model, keys ...string) []tea.Msg {
	var out []tea.Msg
	for _, k := range keys {
		out = append(out, run(m, m.Update(uitest.Key(k)))...)
	}
	return out
}

func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func setup(t *testing.T, role keys.Role, sub string) (*Model, *fakeapi.API) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, role))
	m.SetSize(90, 30)
	run(m, m.Open(sub))
	return m, fake
}

func toasts(msgs []tea.Msg) string {
	var b strings.Builder
	for _, m := range msgs {
		if t, ok := m.(ui.ToastMsg); ok {
			b.WriteString(t.Text + "\n")
		}
	}
	return b.String()
}

func TestEditAndSave(t *testing.T) {
	m, fake := setup(t, keys.Operator, fakeapi.SubSlack)
	press(m, "tab") // channel
	press(m, "ctrl+u")
	typeText(m, "#ops")
	press(m, "tab", " ")     // mentionOnFail: toggle on
	press(m, "tab", "right") // format: detailed → diff
	if m.Dirty() != 3 || !strings.Contains(m.Title(), "3 changed") {
		t.Fatalf("dirty %d title %q", m.Dirty(), m.Title())
	}
	v := m.View()
	for _, want := range []string{"[x] true", "‹ diff ›", "#ops"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	press(m, "ctrl+s")
	if v := m.View(); !strings.Contains(v, "Save these changes to slack-prod?") || !strings.Contains(v, "+ #ops") || !strings.Contains(v, "+ diff") {
		t.Fatalf("the save shows no diff:\n%s", v)
	}
	out := press(m, "y")
	if !strings.Contains(toasts(out), "saved 3 form variable(s) of slack-prod") {
		t.Fatalf("save: %v", out)
	}
	if _, ok := uitest.Find[ui.CloseMsg](out); !ok {
		t.Error("a successful save closes the form")
	}
	f, _ := fake.Form(fakeapi.SubSlack)
	got := map[string]string{}
	for _, fd := range f.Fields {
		got[fd.Key] = fd.Value
	}
	if got["channel"] != "#ops" || got["mentionOnFail"] != "true" || got["format"] != "diff" || got["webhookUrl"] != api.Masked {
		t.Fatalf("saved %v", got)
	}
	if calls := fake.Calls(); calls[len(calls)-1] != "SaveForm slack-prod channel,format,mentionOnFail" {
		t.Errorf("only changed fields are sent: %v", calls)
	}
}

func TestEngineFormErrorIsShownInline(t *testing.T) {
	m, _ := setup(t, keys.Operator, fakeapi.SubSlack)
	out := run(m, m.Update(savedMsg{sub: fakeapi.SubSlack, err: &api.FormError{Fields: map[string]string{"channel": "must start with #"}}}))
	if !strings.Contains(toasts(out), "not saved: 1 field(s) need fixing") {
		t.Fatalf("toast %q", toasts(out))
	}
	if !strings.Contains(m.View(), "✗ Channel must start with #") || m.fields[m.cursor].def.Key != "channel" {
		t.Fatalf("the cursor should jump to the bad field:\n%s", m.View())
	}
	out = run(m, m.Update(savedMsg{sub: fakeapi.SubSlack, err: errors.New("disk full")}))
	if !strings.Contains(toasts(out), "save form variables: disk full") {
		t.Fatalf("toast %q", toasts(out))
	}
}

func TestSecretRevealIsOperatorOnly(t *testing.T) {
	m, fake := setup(t, keys.Operator, fakeapi.SubSlack)
	if strings.Contains(m.View(), "XXXXsecret") {
		t.Fatal("secret shown before reveal")
	}
	press(m, "ctrl+r")
	if !strings.Contains(m.View(), "https://hooks.slack.com/services/T000/B000/XXXXsecret") || !strings.Contains(m.View(), "revealed") {
		t.Fatalf("reveal:\n%s", m.View())
	}
	if m.Dirty() != 0 {
		t.Error("revealing is not an edit")
	}
	press(m, "ctrl+r")
	if strings.Contains(m.View(), "XXXXsecret") {
		t.Fatal("mask again failed")
	}

	v, viewerAPI := setup(t, keys.Viewer, fakeapi.SubSlack)
	out := press(v, "ctrl+r")
	if !strings.Contains(toasts(out), "viewer role cannot reveal secrets") {
		t.Fatalf("viewer reveal: %q", toasts(out))
	}
	for _, c := range viewerAPI.Calls() {
		if strings.HasPrefix(c, "RevealSecret") {
			t.Fatal("viewer reached RevealSecret")
		}
	}
	if calls := fake.Calls(); len(calls) != 1 || calls[0] != "RevealSecret slack-prod webhookUrl" {
		t.Errorf("operator calls %v", calls)
	}
}

func TestViewerAndRefFieldsAreReadOnly(t *testing.T) {
	m, _ := setup(t, keys.Viewer, fakeapi.SubSlack)
	out := press(m, "tab", "a")
	if !strings.Contains(toasts(out), "viewer role cannot edit") || m.Dirty() != 0 {
		t.Fatalf("viewer typing: %q dirty=%d", toasts(out), m.Dirty())
	}
	if !strings.Contains(m.Title(), "read-only") {
		t.Errorf("title %q", m.Title())
	}

	o, _ := setup(t, keys.Operator, fakeapi.SubDatadog)
	if !strings.Contains(o.View(), "(from env:DD_API_KEY, read-only)") {
		t.Fatalf("ref field:\n%s", o.View())
	}
	out = press(o, "a")
	if !strings.Contains(toasts(out), "API key comes from env:DD_API_KEY") {
		t.Fatalf("typing into a ref: %q", toasts(out))
	}

	n, _ := setup(t, keys.Operator, fakeapi.SubLegacy)
	if !strings.Contains(n.Title(), "read-only") {
		t.Errorf("no config file: title %q", n.Title())
	}
}

func TestCancelAsksWhenDirty(t *testing.T) {
	m, _ := setup(t, keys.Operator, fakeapi.SubSlack)
	if _, ok := uitest.Find[ui.CloseMsg](press(m, "esc")); !ok {
		t.Fatal("a clean form closes at once")
	}
	press(m, "tab")
	typeText(m, "x")
	out := press(m, "esc")
	p, ok := uitest.Find[ui.PromptMsg](out)
	if !ok || !strings.Contains(p.Question, "discard 1 unsaved change(s) to slack-prod?") {
		t.Fatalf("esc on a dirty form: %v", out)
	}
}

// TestFieldsTakeAtMostMaxFieldLen: a megabyte pasted into a field stops at
// ui.MaxFieldLen characters, while a value already longer than that opens
// whole and unchanged.
func TestFieldsTakeAtMostMaxFieldLen(t *testing.T) {
	m, api := setup(t, keys.Operator, fakeapi.SubSlack)
	long := strings.Repeat("c", ui.MaxFieldLen+100)
	if err := api.SaveForm(t.Context(), "tester", fakeapi.SubSlack, map[string]any{"channel": long}); err != nil {
		t.Fatal(err)
	}
	run(m, m.Open(fakeapi.SubSlack))
	press(m, "tab") // channel
	if f := m.fields[m.cursor]; f.def.Key != "channel" || f.input.Value() != long || m.Dirty() != 0 {
		t.Fatalf("field %s holds %d characters (dirty %d); want the stored %d", f.def.Key, len(f.input.Value()), m.Dirty(), len(long))
	}
	typeText(m, "x")
	if n := len(m.fields[m.cursor].input.Value()); n != len(long) {
		t.Errorf("a value at its limit grew to %d", n)
	}
	press(m, "ctrl+u")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("p", 1<<20)), Paste: true})
	if n := len([]rune(m.fields[m.cursor].input.Value())); n != len(long) {
		t.Errorf("a 1 MiB paste left %d characters; want the field's limit %d", n, len(long))
	}
	// A field that opened within the limit keeps to MaxFieldLen.
	run(m, m.Open(fakeapi.SubDatadog))
	for i := range m.fields {
		if m.fields[i].kind == kindText && !m.fields[i].readOnly() {
			m.cursor = i
			m.focus()
			break
		}
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(strings.Repeat("p", 1<<20)), Paste: true})
	if n := len([]rune(m.fields[m.cursor].input.Value())); n > ui.MaxFieldLen {
		t.Errorf("a 1 MiB paste left %d characters; want at most %d", n, ui.MaxFieldLen)
	}
}
