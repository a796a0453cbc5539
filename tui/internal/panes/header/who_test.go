package header

import (
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

// TestWhoStaysAtEveryWidth: who is at the console (and the role) shows at
// 80 columns and below, abbreviated before anything else is dropped.
func TestWhoStaysAtEveryWidth(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	c := uitest.Common(t, fake, keys.Operator)
	c.Actor = "maya-okafor-laptop-key"
	m := New(c)
	st := fake.Stats()
	st.Instance = "relay-eu-west-1"
	m.SetStats(st)
	m.Observe(api.Action{Actor: "alice", Kind: "pause", Target: "teams-oncall", At: uitest.Now().Add(-time.Second)})
	for w, want := range map[int]string{
		200: "relay-eu-west-1 · maya-okafor-laptop-key · operator",
		100: "maya-okafor-laptop-key · operator",
		80:  "maya-okafor-lap… · op",
		60:  "maya-okafor-lap… · op",
	} {
		m.SetWidth(w)
		line2 := strings.Split(m.View(), "\n")[1]
		if !strings.Contains(line2, want) {
			t.Errorf("at %d columns the header's second line lacks %q: %q", w, want, line2)
		}
	}
}
