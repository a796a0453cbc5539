package helpview

import (
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

func TestHelpListsEveryKeyWithDenials(t *testing.T) {
	c := uitest.Common(t, fakeapi.New(uitest.Now), keys.Viewer)
	m := New(c)
	m.SetSize(140, 60)
	v := m.View()
	for _, sec := range c.Keys.Sections() {
		for _, b := range sec.Bindings {
			if !strings.Contains(v, b.Help().Desc) {
				t.Errorf("help lacks %q", b.Help().Desc)
			}
		}
	}
	if !strings.Contains(v, "✗ viewer role cannot retry") {
		t.Errorf("denial reason missing:\n%s", v)
	}
	for _, k := range []string{"esc", "?", "q"} {
		if _, ok := uitest.Find[ui.CloseMsg](uitest.Exec(m.Update(uitest.Key(k)), time.Second)); !ok {
			t.Errorf("%s should close help", k)
		}
	}
}

func TestHelpFitsNarrow(t *testing.T) {
	c := uitest.Common(t, fakeapi.New(uitest.Now), keys.Operator)
	out := Render(c.Styles, c.Keys.Sections(), 60)
	for _, l := range strings.Split(out, "\n") {
		if ui.Width(l) != 60 {
			t.Fatalf("line %q is %d wide", l, ui.Width(l))
		}
	}
}
