package tuitest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/enginetest"
	"github.com/auditrelay/auditrelay/core/store"
)

// TestTimeRangeSearchReachesTheStore: with 200,000 entries stored, one a
// minute going back about 139 days, the console holds the newest 1,000;
// a since:/until: filter on a day 100 days back opens the store search,
// which shows that day's entries, newest first, and pages in more as the
// cursor goes down. The store is filled directly (the test's business,
// not the console's) so that entries can be dated in the past.
func TestTimeRangeSearchReachesTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 200,000 entries")
	}
	eng, st := enginetest.StartWithStore(t, "", nil)
	const n = 200_000
	now := time.Now().Truncate(time.Minute)
	batch := make([]store.NewEntry, 0, 5000)
	for i := range n {
		id := fmt.Sprintf("seed-%06d", i)
		at := now.Add(-time.Duration(i) * time.Minute)
		batch = append(batch, store.NewEntry{
			EntrySummary: store.EntrySummary{ID: id, Date: at, ReceivedAt: at, Source: "test", Kind: "flag",
				Title: fmt.Sprintf("changed flag number %d", i), Member: "maya@example.com", Project: "shop", Environment: "production"},
			Raw: []byte(`{"_id":"` + id + `"}`),
		})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := st.Ingest(context.Background(), batch, nil); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	day := now.Add(-100 * 24 * time.Hour).In(time.Local)
	from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.Local)
	to := from.AddDate(0, 0, 1)
	// Entry i is received i minutes before now; the newest of that day is
	// the first one strictly before to.
	newest := int(now.Sub(to)/time.Minute) + 1

	c := Start(t, Fixture{API: eng, Width: 160, Height: 40, Timeout: 30 * time.Second})
	c.Type("/")
	c.Type(fmt.Sprintf("since:%s until:%s", from.Format("2006-01-02"), to.Format("2006-01-02")))
	c.Press(tea.KeyEnter)
	s := c.WaitText("Search the store · /since:" + from.Format("2006-01-02"))
	s = c.WaitFor("that day's entries", func(s string) bool {
		return strings.Contains(s, fmt.Sprintf("changed flag number %d ", newest)) && strings.Contains(s, "more below")
	})
	if !strings.Contains(s, from.Format("2006-01-02")+" 23:59") {
		t.Errorf("the first row is not the day's last minute:\n%s", s)
	}
	if strings.Contains(s, to.Format("2006-01-02")+" 00:00") {
		t.Errorf("until: is exclusive, yet the next day shows:\n%s", s)
	}
	// Scrolling to the end pages in the rest of the day: 1,440 entries.
	for i := 0; ; i++ {
		c.Type("G")
		s = c.WaitFor("the page to arrive", func(s string) bool { return !strings.Contains(s, "searching…") })
		if strings.Contains(s, " found · all") {
			break
		}
		if i == 20 {
			t.Fatalf("still paging after %d pages:\n%s", i, s)
		}
	}
	if !strings.Contains(s, "1,440 found · all") {
		t.Fatalf("the whole day is not there:\n%s", s)
	}
	c.Type("G")
	c.WaitText("› " + from.Format("2006-01-02") + " 00:00:00")
	// Enter opens the entry; esc comes back to the results.
	c.Press(tea.KeyEnter)
	c.WaitText("seed-")
	c.Press(tea.KeyEsc)
	c.WaitText("1,440 found")
}
