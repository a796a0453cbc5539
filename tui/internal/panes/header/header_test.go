package header

import (
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

func TestHeaderShowsRatesAndOthersActions(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	c := uitest.Common(t, fake, keys.Viewer)
	m := New(c)
	m.SetWidth(120)
	if !strings.Contains(m.View(), "waiting for engine stats") {
		t.Fatal("before the first poll the header should say it waits")
	}
	m.SetStats(fake.Stats())
	m.Observe(api.Action{Actor: "tester", Kind: "retry", Target: "mine", At: uitest.Now()})
	m.Observe(api.Action{Actor: "alice", Kind: "retry", Target: "dlv_0123456789abcdef", At: uitest.Now().Add(-5 * time.Second)})
	m.SetDropped(12)
	v := m.View()
	for _, want := range []string{"entries", "/s", "deliveries", "failed", "p99 1.2s", "queue", "● webhook", "○ poller",
		"alice retried dlv_0123456… 5s ago", "dropped 12", "tester · viewer"} {
		if !strings.Contains(v, want) {
			t.Errorf("header lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "mine") {
		t.Error("the console's own actions are not news")
	}
	for _, l := range strings.Split(v, "\n") {
		if ui.Width(l) != 120 {
			t.Errorf("line is %d wide: %q", ui.Width(l), l)
		}
	}
	m.SetWidth(60)
	for _, l := range strings.Split(m.View(), "\n") {
		if ui.Width(l) != 60 {
			t.Errorf("narrow line is %d wide: %q", ui.Width(l), l)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := map[string]api.Action{
		"bob paused slack":                      {Actor: "bob", Kind: "pause", Target: "slack"},
		"bob retried all failed of slack":       {Actor: "bob", Kind: "retry-all", Target: "slack"},
		"bob edited the flag template of slack": {Actor: "bob", Kind: "edit-template", Target: "slack", Detail: "flag saved to x/flag.hbs"},
		"bob revealed a secret of slack":        {Actor: "bob", Kind: "reveal", Target: "slack"},
		"bob sent a connection test to slack":   {Actor: "bob", Kind: "test", Target: "slack"},
		"bob frobbed slack":                     {Actor: "bob", Kind: "frobbed", Target: "slack"},
	}
	for want, a := range tests {
		if got := Describe(a); got != want {
			t.Errorf("Describe(%+v) = %q, want %q", a, got, want)
		}
	}
}
