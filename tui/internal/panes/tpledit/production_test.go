package tpledit

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/enginetest"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

// Saving, on the real engine, a template that LaunchDarkly's Go renderer
// would render differently says so, and the preview lists where, with the
// line, until the text changes again.
func TestSaveShowsProductionWarnings(t *testing.T) {
	eng := enginetest.Start(t, "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: https://hooks.example.com/x\n", nil)
	m := New(uitest.Common(t, eng, keys.Operator))
	m.SetSize(160, 40)
	run(m, m.Open("chat", ""))
	for m.bufs[m.cur].info.Key != "default" {
		run(m, m.Update(uitest.Key("tab")))
	}
	var cmds []tea.Cmd
	for _, line := range []string{"", "{{#if title}}", "{{/if}}", "  {{#if kind}}", "  {{/if}}", ""} {
		cmds = append(cmds, typeText(m, line), m.Update(tea.KeyMsg{Type: tea.KeyEnter}))
	}
	run(m, tea.Batch(cmds...))
	run(m, m.Update(uitest.Key("ctrl+s")))
	out := run(m, m.Update(uitest.Key("y")))
	if !strings.Contains(toasts(out), "saved default template of chat") || !strings.Contains(toasts(out), "LaunchDarkly's renderer would send it differently (1 warning in the preview)") {
		t.Fatalf("save: %q", toasts(out))
	}
	run(m, m.edited()) // the preview of the saved text
	ws := m.bufs[m.cur].info.Warnings
	if len(ws) != 1 || ws[0].Line != 4 || ws[0].Col != 3 || !strings.HasSuffix(ws[0].Msg, "a standalone `{{#if kind}}` line keeps its indentation and newline under Go Handlebars") {
		t.Fatalf("warnings = %+v", ws)
	}
	if v := m.View(); !strings.Contains(v, "! 4:3 Go Handlebars (LaunchDarkly's renderer): a standalone `{{#if") {
		t.Fatalf("the preview does not show the warning:\n%s", v)
	}
	run(m, typeText(m, "x"))
	if v := m.View(); strings.Contains(v, "Go Handlebars") {
		t.Fatalf("the warning outlives the edit:\n%s", v)
	}
}
