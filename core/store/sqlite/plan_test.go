package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/store"
)

// TestQueryPlans checks that the hot statements use the index made for
// their predicate and never sort, on a table with realistic spread.
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	var es []store.NewEntry
	for i := range 2000 {
		sub := fmt.Sprintf("sub-%d", i%5)
		es = append(es, newEntry(fmt.Sprint("e", i), fmt.Sprint("d", i)))
		es[i].Deliveries[0].Subscription = sub
	}
	if _, err := s.Ingest(ctx, es, nil); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if _, err := do(ctx, s, outsideTx, func(w *wtx) (struct{}, error) {
		_, err := w.s.wconn.ExecContext(ctx, "ANALYZE")
		return struct{}{}, err
	}); err != nil {
		t.Fatalf("ANALYZE: %v", err)
	}
	cases := []struct {
		name, query string
		args        []any
		want        string
	}{
		{"claim", sqlClaimDue, []any{"sub-1", 1, 10}, "deliveries_due"},
		{"lease many", sqlLeaseMany, []any{"o", 1, 1, 1, "[1,2,3]"}, "PRIMARY KEY"},
		{"count in flight", sqlCountInFlight, []any{"sub-1"}, "deliveries_due"},
		{"next pending", sqlNextPending, []any{"sub-1"}, "deliveries_due"},
		{"rescue scan", sqlExpiredLease, []any{1, 10}, "deliveries_lease"},
		{"recent deliveries", `SELECT ` + deliveryCols + ` FROM deliveries d JOIN entries e ON e.id = d.entry_id
			ORDER BY d.updated_ms DESC, d.id DESC LIMIT 100`, nil, "deliveries_updated"},
		{"recent entries", `SELECT ` + entrySummaryCols + ` FROM entries ORDER BY received_ms DESC, id DESC LIMIT 100`, nil, "entries_received"},
	}
	for _, c := range cases {
		rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatalf("%s: explain: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, c.want) || strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "SCAN deliveries\n") {
			t.Errorf("%s: plan does not use %s without sorting:\n%s", c.name, c.want, text)
		}
		t.Logf("%s:\n%s", c.name, text)
	}
}
