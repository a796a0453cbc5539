package tuitest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/core/engine/enginetest"
	"github.com/auditrelay/auditrelay/core/source"
)

// sortEngine holds four entries whose columns each order them differently;
// the endpoint fails for "echo" only, so the status column has a failure.
func sortEngine(t *testing.T) api.API {
	t.Helper()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), "fail-me") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(sink.Close)
	eng := enginetest.Start(t, fmt.Sprintf("  - name: archive\n    integration: webhook\n    vars:\n      url: %s/archive\n", sink.URL), nil)
	// Arrival order: delta, bravo, echo, alpha.
	entries := []struct{ word, kind, member, res string }{
		{"delta", "segment", "yara", "proj/mango:env/test:segment/s"},
		{"bravo", "project", "walt", "proj/kiwi"},
		{"echo", "flag", "zack", "proj/apple:env/production:flag/f"},
		{"alpha", "member", "xena", "member/m"},
	}
	for i, e := range entries {
		id := "sort-" + e.word
		if e.word == "echo" {
			id += "-fail-me"
		}
		raw := fmt.Sprintf(`{"_id":%q,"date":%d,"kind":%q,"name":%q,"title":"changed %s","accesses":[{"action":"update","resource":%q}],"member":{"_id":"m%d","email":"%s@example.com"}}`,
			id, time.Now().UnixMilli(), e.kind, e.word, e.word, e.res, i, e.member)
		if _, err := eng.Ingest(context.Background(), []source.Item{{Raw: []byte(raw), Source: "test"}}, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct receive times, in this order
	}
	return eng
}

// TestSortEventsByEachColumn: each sort key orders the events pane by its
// column, pressing it again reverses, the title and the footer say so.
func TestSortEventsByEachColumn(t *testing.T) {
	c := Start(t, Fixture{API: sortEngine(t), Width: 160, Height: 30})
	c.WaitFor("the failure", func(s string) bool { return strings.Contains(s, "✗1") && len(eventRows(s)) == 4 })
	if f := Footer(c.Screen()); !strings.Contains(f, "A/K/S/T/M/P sort") {
		t.Errorf("the footer does not show the sort keys: %q", f)
	}
	word := regexp.MustCompile(`changed (\w+)`)
	order := func(s string) string {
		var ws []string
		for _, r := range eventRows(s) {
			if m := word.FindStringSubmatch(r); m != nil {
				ws = append(ws, m[1])
			}
		}
		return strings.Join(ws, " ")
	}
	cases := []struct{ key, label, want string }{
		{"A", "time ↑", "delta bravo echo alpha"},
		{"A", "time ↓", "alpha echo bravo delta"},
		{"K", "kind ↑", "echo alpha bravo delta"}, // flag, member, project, segment
		{"K", "kind ↓", "delta bravo alpha echo"},
		{"S", "status ↑", "echo"}, // failed first; the rest delivered
		{"T", "title ↑", "alpha bravo delta echo"},
		{"T", "title ↓", "echo delta bravo alpha"},
		{"M", "member ↑", "bravo alpha delta echo"},      // walt, xena, yara, zack
		{"P", "project/env ↑", "alpha echo bravo delta"}, // "", apple, kiwi, mango
	}
	for _, tc := range cases {
		c.Type(tc.key)
		s := c.WaitText("Events · sorted by " + tc.label)
		if got := order(s); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s (%s): rows %q, want %q", tc.key, tc.label, got, tc.want)
		}
	}
	// f goes back to arrival order and follows.
	c.Type("f")
	s := c.WaitText("● following")
	if got := order(s); got != "delta bravo echo alpha" {
		t.Errorf("arrival order: %q", got)
	}
}

// TestSortDeliveriesByEachColumn: the deliveries pane of a subscription
// sorts by its columns with the same keys, shown in the footer; again
// reverses; :sort reaches the focused pane. (Every column's order is checked in the pane's own
// TestSortByEachColumn; here the times, tries and latencies of a real
// engine's deliveries are too alike to tell.)
func TestSortDeliveriesByEachColumn(t *testing.T) {
	c := Start(t, Fixture{API: sortEngine(t), Width: 160, Height: 40})
	c.WaitFor("the failure", func(s string) bool { return strings.Contains(s, "✗1") && len(eventRows(s)) == 4 })
	c.SelectSubscription("archive")
	c.Press(tea.KeyEnter)
	word := regexp.MustCompile(`changed (\w+)`)
	// The focused deliveries pane is the second ┃-bordered box on its lines.
	order := func(s string) string {
		var ws []string
		for _, l := range strings.Split(s, "\n") {
			parts := strings.Split(l, "┃")
			if len(parts) < 3 || !strings.Contains(parts[0], "│") {
				continue
			}
			if m := word.FindStringSubmatch(parts[1]); m != nil {
				ws = append(ws, m[1])
			}
		}
		return strings.Join(ws, " ")
	}
	s := c.WaitFor("the deliveries", func(s string) bool {
		return strings.Contains(s, "┏━ 3 Deliveries · archive") && len(strings.Fields(order(s))) == 4
	})
	if f := Footer(s); !strings.Contains(f, "S/A/K/T/#/E/L/N sort") {
		t.Errorf("the footer does not show the sort keys: %q", f)
	}
	cases := []struct{ key, label, want string }{
		{"T", "entry ↑", "alpha bravo delta echo"},
		{"T", "entry ↓", "echo delta bravo alpha"},
		{"K", "kind ↑", "echo alpha bravo delta"}, // flag, member, project, segment
		{"K", "kind ↓", "delta bravo alpha echo"},
		{"S", "state ↑", "echo"}, // failed first; the rest delivered
		{"S", "state ↓", "* echo"},
		{"E", "code ↑", "* echo"}, // 200s, then its 400
		{"E", "code ↓", "echo"},
		{"A", "updated ↑", ""},
		{"#", "tries ↑", ""},
		{"L", "latency ↑", ""},
		{"N", "next retry ↑", ""},
	}
	for _, tc := range cases {
		c.Type(tc.key)
		s := c.WaitText("Deliveries · archive · sorted by " + tc.label)
		got := order(s)
		ok := strings.HasPrefix(got, tc.want)
		if last, found := strings.CutPrefix(tc.want, "* "); found {
			ok = strings.HasSuffix(got, last)
		}
		if !ok || len(strings.Fields(got)) != 4 {
			t.Errorf("%s (%s): rows %q, want %q", tc.key, tc.label, got, tc.want)
		}
	}

	// The palette's :sort sorts the focused pane by a column it has, and
	// sends the deliveries pane's own columns there.
	c.Type(":sort code")
	c.Press(tea.KeyEnter)
	c.WaitText("Deliveries · archive · sorted by code ↑")
	c.Type("4")
	c.WaitText("┏━ 4 Subscriptions")
	c.Type(":sort title")
	c.Press(tea.KeyEnter)
	c.WaitText("sorted by name ↑") // the subscriptions pane's word for its title column
	c.Type(":sort latency")
	c.Press(tea.KeyEnter)
	c.WaitText("┏━ 3 Deliveries · archive · sorted by latency ↑")
}
