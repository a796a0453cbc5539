package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// TestSentBodyStoredOnce: retries that send the same body store it once
// for the delivery, compressed; a different body is stored again.
func TestSentBodyStoredOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(ctx, Options{Path: path, Instance: "i"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(ctx, []store.NewEntry{{EntrySummary: store.EntrySummary{ID: "e1"},
		Deliveries: []store.NewDelivery{{ID: "d1", Subscription: "hook", State: store.Pending}}}}, nil); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"text":"` + strings.Repeat("flag toggled by alice ", 100) + `"}`)
	bodies := [][]byte{body, body, body, append([]byte(`{"v":2,`), body[1:]...)}
	for i, b := range bodies {
		res, err := s.Claim(ctx, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 1, Lease: time.Minute})
		if err != nil || len(res.Claimed) != 1 {
			t.Fatalf("Claim %d = %+v, %v", i, res, err)
		}
		c := res.Claimed[0]
		rec := &store.Attempt{StatusCode: 500, Request: store.NewSentRequest("POST", nil, b, "v")}
		if _, err := s.Finish(ctx, []store.Outcome{{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "w", Attempt: c.Attempts, State: store.Pending, Record: rec}}); err != nil {
			t.Fatal(err)
		}
	}
	conn := rawConn(t, path)
	var stored, bytes int
	if err := conn.QueryRowContext(ctx, `SELECT count(request_body), coalesce(sum(length(request_body)), 0) FROM attempts`).Scan(&stored, &bytes); err != nil {
		t.Fatal(err)
	}
	if stored != 2 {
		t.Fatalf("%d attempts hold a body, want 2 (one per distinct body)", stored)
	}
	if bytes >= len(body) {
		t.Fatalf("two bodies of %d bytes stored in %d bytes, want compressed below one", len(body), bytes)
	}
	_, as, err := s.GetDelivery(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range as {
		if string(a.Request.Body) != string(bodies[i]) {
			t.Fatalf("attempt %d body = %q", a.Number, a.Request.Body)
		}
	}
}
