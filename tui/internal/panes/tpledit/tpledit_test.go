package tpledit

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

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

func toasts(msgs []tea.Msg) string {
	var b strings.Builder
	for _, m := range msgs {
		if t, ok := m.(ui.ToastMsg); ok {
			b.WriteString(t.Text + "\n")
		}
	}
	return b.String()
}

func setup(t *testing.T, role keys.Role, w int) (*Model, *fakeapi.API) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, role))
	m.SetSize(w, 24)
	run(m, m.Open(fakeapi.SubSlack, "e0028"))
	return m, fake
}

func typeText(m *Model, s string) tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range s {
		cmds = append(cmds, m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}))
	}
	return tea.Batch(cmds...)
}

func TestPreviewFollowsTyping(t *testing.T) {
	m, _ := setup(t, keys.Operator, 120)
	if !strings.Contains(m.View(), `"text": "Turned on flag pricing-page in production"`) {
		t.Fatalf("initial preview:\n%s", m.View())
	}
	if !strings.Contains(m.View(), "[flag]") || !strings.Contains(m.View(), "preview of entry e0028") {
		t.Fatalf("tabs/status:\n%s", m.View())
	}
	// Typing "{{kind}} " at the start; only one render happens, for the
	// last keystroke, after the debounce.
	cmd := typeText(m, "{{kind}} ")
	run(m, cmd)
	if m.Dirty() != 1 || !strings.Contains(m.Title(), "1 unsaved") {
		t.Fatalf("dirty %d", m.Dirty())
	}
	p := m.Preview()
	if p == nil || !strings.HasPrefix(p.Request.Body, "flag {") {
		t.Fatalf("preview body %q", p.Request.Body)
	}
	if !strings.Contains(m.View(), "flag {") {
		t.Fatalf("view:\n%s", m.View())
	}
}

func TestParseErrorsShowWithPositionAndBlockSave(t *testing.T) {
	m, fake := setup(t, keys.Operator, 90)
	run(m, typeText(m, "{{oops"))
	if !strings.Contains(m.View(), "✗ 1:1 error: unclosed {{ (expected }})") {
		t.Fatalf("narrow view:\n%s", m.View())
	}
	out := run(m, m.Update(uitest.Key("ctrl+s")))
	if !strings.Contains(toasts(out), "not saved: 1:1 unclosed {{") {
		t.Fatalf("save: %q", toasts(out))
	}
	for _, c := range fake.Calls() {
		if strings.HasPrefix(c, "SaveTemplate") {
			t.Fatal("a template that does not parse reached the engine")
		}
	}
}

func TestStalePreviewIsIgnored(t *testing.T) {
	m, _ := setup(t, keys.Operator, 120)
	m.gen = 5
	m.Update(previewMsg{gen: 5, key: "flag", preview: api.Preview{Request: api.RequestView{Body: "new"}}})
	m.Update(previewMsg{gen: 3, key: "flag", preview: api.Preview{Request: api.RequestView{Body: "old"}}})
	if m.Preview().Request.Body != "new" {
		t.Fatalf("an older render replaced a newer one: %q", m.Preview().Request.Body)
	}
}

func TestSaveAndConflict(t *testing.T) {
	m, fake := setup(t, keys.Operator, 120)
	run(m, typeText(m, "x"))
	run(m, m.Update(uitest.Key("ctrl+s")))
	// The save shows the source diff and both renders, and waits for y.
	v := m.View()
	if !strings.Contains(v, "Save the flag template of slack-prod?") || !strings.Contains(v, "+ x") || !strings.Contains(v, "saved template | new text") {
		t.Fatalf("review:\n%s", v)
	}
	for _, c := range fake.Calls() {
		if strings.HasPrefix(c, "SaveTemplate") {
			t.Fatal("saved before the answer")
		}
	}
	out := run(m, m.Update(uitest.Key("y")))
	if !strings.Contains(toasts(out), "saved flag template of slack-prod to subscriptions/slack-prod/flag.hbs") {
		t.Fatalf("save: %q", toasts(out))
	}
	if m.Dirty() != 0 {
		t.Fatal("saved buffer still dirty")
	}
	// Someone else saves meanwhile: our next save is refused and says who.
	ts, _ := fake.Templates(fakeapi.SubSlack)
	if _, err := fake.SaveTemplate(t.Context(), "bob", fakeapi.SubSlack, "flag", "{}", ts[0].Hash); err != nil {
		t.Fatal(err)
	}
	run(m, typeText(m, "y"))
	run(m, m.Update(uitest.Key("ctrl+s")))
	out = run(m, m.Update(uitest.Key("y")))
	want := "not saved: the flag template changed since you opened it (by bob just now); reload with ctrl+r"
	if !strings.Contains(toasts(out), want) || !strings.Contains(m.View(), "reload with ctrl+r") {
		t.Fatalf("conflict: %q\n%s", toasts(out), m.View())
	}
	// ctrl+r with edits asks first; confirming reloads bob's version.
	out = run(m, m.Update(uitest.Key("ctrl+r")))
	p, ok := uitest.Find[ui.PromptMsg](out)
	if !ok {
		t.Fatalf("reload should ask: %v", out)
	}
	run(m, p.OnYes)
	if _, src, _ := m.Current(); src != "{}" || m.Dirty() != 0 {
		t.Fatalf("after reload: %q dirty=%d", src, m.Dirty())
	}
}

func TestSwitchTemplatesKeepsEdits(t *testing.T) {
	m, _ := setup(t, keys.Operator, 120)
	run(m, typeText(m, "A"))
	run(m, m.Update(uitest.Key("tab")))
	if info, _, _ := m.Current(); info.Key != "default" {
		t.Fatalf("tab → %s", info.Key)
	}
	if !strings.Contains(m.View(), "flag*") {
		t.Fatalf("the edited tab should be marked:\n%s", m.View())
	}
	run(m, m.Update(uitest.Key("shift+tab")))
	if _, src, _ := m.Current(); !strings.HasPrefix(src, "A{") {
		t.Fatalf("edit lost: %q", src)
	}
	if p, ok := uitest.Find[ui.PromptMsg](run(m, m.Update(uitest.Key("esc")))); !ok || !strings.Contains(p.Question, "discard unsaved edits to 1 template(s)?") {
		t.Fatal("esc with edits should ask")
	}
}

func TestViewerIsReadOnly(t *testing.T) {
	m, fake := setup(t, keys.Viewer, 120)
	out := run(m, typeText(m, "x"))
	if !strings.Contains(toasts(out), "viewer role cannot edit") || m.Dirty() != 0 {
		t.Fatalf("typing: %q dirty=%d", toasts(out), m.Dirty())
	}
	run(m, m.Update(uitest.Key("down"))) // moving is fine
	out = run(m, m.Update(uitest.Key("ctrl+s")))
	if !strings.Contains(toasts(out), "viewer role cannot edit") {
		t.Fatalf("save: %q", toasts(out))
	}
	for _, c := range fake.Calls() {
		if strings.HasPrefix(c, "SaveTemplate") {
			t.Fatal("viewer reached SaveTemplate")
		}
	}
	if _, ok := uitest.Find[ui.CloseMsg](run(m, m.Update(uitest.Key("esc")))); !ok {
		t.Fatal("esc closes without asking for a viewer")
	}
}

// TestPreviewCutsLargeBodies: a body as large as the render budget allows
// is shown up to 64 KiB, with how much is left out.
func TestPreviewCutsLargeBodies(t *testing.T) {
	m, _ := setup(t, keys.Operator, 120)
	body := strings.Repeat("é", 300<<10) // 600 KiB
	m.Update(previewMsg{gen: m.gen, key: m.bufs[m.cur].info.Key, preview: api.Preview{Request: api.RequestView{Method: "POST", URL: "https://example.com", Body: body}}})
	m.pvp.GotoBottom()
	view := m.View()
	if !strings.Contains(view, "… 548,864 more bytes not shown (the body is 614,400") {
		t.Fatalf("view:\n%s", view)
	}
	if got := previewBody(body); !utf8.ValidString(got) || !strings.HasPrefix(got, strings.Repeat("é", 32<<10)+"\n…") {
		t.Fatalf("cut %q…", got[:40])
	}
	if small := "{}"; previewBody(small) != small {
		t.Fatal("a small body was changed")
	}
}

// TestTemplateTakesAtMostMaxTemplateLen: what is pasted or typed past
// ui.MaxTemplateLen characters (characters of no width included) is
// refused with a toast; a template already longer opens whole.
func TestTemplateTakesAtMostMaxTemplateLen(t *testing.T) {
	m, fake := setup(t, keys.Operator, 120)
	paste := func(s string) []tea.Msg {
		return run(m, m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true}))
	}
	count := func() int {
		_, src, _ := m.Current()
		return utf8.RuneCountInString(src)
	}
	before := count()
	out := paste(strings.Repeat("x", ui.MaxTemplateLen))
	if n := count(); n != ui.MaxTemplateLen {
		t.Fatalf("the template holds %d characters; want %d", n, ui.MaxTemplateLen)
	}
	if want := fmt.Sprintf("template is at its limit of 65,536 characters; %d not inserted", before); !strings.Contains(toasts(out), want) {
		t.Errorf("a paste cut at the limit: toasts %q, want %q", toasts(out), want)
	}
	for _, s := range []string{"y", "\u200b\u200b\u200b", "\t"} {
		out := paste(s)
		if !strings.Contains(toasts(out), "template is at its limit of 65,536 characters") {
			t.Errorf("%q past the limit: toasts %q", s, toasts(out))
		}
		if n := count(); n != ui.MaxTemplateLen {
			t.Fatalf("after %q the template holds %d characters", s, n)
		}
	}

	long := strings.Repeat("z", ui.MaxTemplateLen+10)
	ts, _ := fake.Templates(fakeapi.SubSlack)
	if _, err := fake.SaveTemplate(t.Context(), "bob", fakeapi.SubSlack, "flag", long, ts[0].Hash); err != nil {
		t.Fatal(err)
	}
	run(m, m.Open(fakeapi.SubSlack, "e0028"))
	if info, src, _ := m.Current(); info.Key != "flag" || src != long || m.Dirty() != 0 {
		t.Fatalf("%s template opened with %d characters (dirty %d); want the stored %d", info.Key, len(src), m.Dirty(), len(long))
	}
}

// TestOnePreviewTimerHoweverFastKeysCome: thousands of keys typed start
// one preview timer, and the preview follows once typing rests.
func TestOnePreviewTimerHoweverFastKeysCome(t *testing.T) {
	m, _ := setup(t, keys.Operator, 120)
	timers := 0
	m.c.After = func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
		timers++
		return uitest.After(d, fn)
	}
	cmd := typeText(m, strings.Repeat("k", 1000))
	if timers != 1 {
		t.Fatalf("%d timers for 1,000 keys; want 1", timers)
	}
	run(m, cmd)
	if p := m.Preview(); p == nil || !strings.Contains(p.Request.Body, "kkkkk") {
		t.Fatalf("the preview did not follow the typing")
	}
}
