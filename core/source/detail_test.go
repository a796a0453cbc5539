package source_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
)

// fullEntryJSON is entryJSON with the detailed representation's fields.
func fullEntryJSON(id string, date int64) []byte {
	e := entryJSON(id, date)
	return append(e[:len(e)-1], fmt.Appendf(nil, `,"currentVersion":{"_id":"flag-%[1]s","tags":["t"],"customProperties":{"datadog":{"name":"Datadog tags","value":["dd-%[1]s"]}}},"previousVersion":{"_id":"flag-%[1]s"}}`, id)...)
}

func TestPollerIngestsFullEntries(t *testing.T) {
	fake := startFake(t)
	now := time.Now().UnixMilli()
	var want [][]byte
	for i := range 9 {
		raw := fullEntryJSON(fmt.Sprintf("d-%d", i), now-9_000+int64(i)*1000)
		want = append(want, raw)
		if err := fake.Add(raw); err != nil {
			t.Fatal(err)
		}
	}
	// Stored already (say, by the webhook): not fetched again.
	st := newMemStore()
	if _, err := st.Ingest(context.Background(), []source.Item{{Raw: want[4], Source: "webhook"}}, nil); err != nil {
		t.Fatal(err)
	}
	fake.ForgetDetails("d-7")
	p, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 4, Backfill: time.Hour, Interval: time.Hour, DetailFetches: 3}, st)
	eventually(t, "9 entries", func() bool { return st.count() == 9 && !p.Status().LastSuccess.IsZero() })
	stop()
	if r := st.repeats(); fmt.Sprint(r) != "[d-4×2]" {
		t.Errorf("entries handed to Ingest more than once: %v, want only d-4 (by the webhook and the poller)", r)
	}

	for i, raw := range want {
		id := fmt.Sprintf("d-%d", i)
		got := st.raw(id)
		switch i {
		case 7:
			if bytes.Contains(got, []byte("currentVersion")) || !bytes.Contains(got, []byte(`"_id":"d-7"`)) {
				t.Errorf("%s: stored %s, want the list item", id, got)
			}
			if n := st.note(id); !strings.Contains(n, "404") {
				t.Errorf("%s: note %q, want one naming the 404", id, n)
			}
		default:
			if !bytes.Equal(got, raw) {
				t.Errorf("%s: stored\n %s\nwant the full entry\n %s", id, got, raw)
			}
			if n := st.note(id); n != "" {
				t.Errorf("%s: note %q on a full entry", id, n)
			}
		}
	}
	var details []string
	for _, r := range fake.Requests() {
		if id, ok := strings.CutPrefix(r.Path, "/api/v2/auditlog/"); ok {
			details = append(details, id)
		}
	}
	if len(details) != 8 || strings.Contains(fmt.Sprint(details), "d-4") {
		t.Errorf("detail requests %v, want one for each entry but d-4 (stored already)", details)
	}
	if s := p.Status(); s.Details != 7 || s.ListOnly != 1 || s.Ingested != 8 || s.Duplicates != 1 {
		t.Errorf("status details %d, list only %d, ingested %d, duplicates %d; want 7, 1, 8, 1", s.Details, s.ListOnly, s.Ingested, s.Duplicates)
	}
}

func TestPollerFailingLookupHoldsTheBatchBack(t *testing.T) {
	fake := startFake(t)
	if err := fake.Add(fullEntryJSON("r-1", time.Now().UnixMilli()-1000)); err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	st.getErr = fmt.Errorf("disk: %w", store.ErrClosed)
	p, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Backfill: time.Hour, Interval: time.Hour}, st)
	eventually(t, "a failed poll", func() bool { return strings.Contains(p.Status().LastError, "looking up entry r-1") })
	if st.count() != 0 {
		t.Errorf("%d entries stored while the lookup failed", st.count())
	}
	st.mu.Lock()
	st.getErr = nil
	st.mu.Unlock()
	eventually(t, "the entry, once the store answers", func() bool { return st.count() == 1 })
	stop()
	if !bytes.Contains(st.raw("r-1"), []byte("currentVersion")) {
		t.Errorf("stored %s, want the full entry", st.raw("r-1"))
	}
}
