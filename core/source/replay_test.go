package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/source"
)

func TestReplayerCountsAndPlacesRejections(t *testing.T) {
	st := newMemStore()
	// One entry already stored: replaying it is a duplicate.
	if _, err := st.Ingest(context.Background(), []source.Item{{Raw: entryJSON("e03", 3)}}, nil); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 20 {
		switch i {
		case 4:
			b.WriteString(`{"date": 4, "kind": "flag", "accesses": []}` + "\n") // no _id
		case 9:
			b.WriteString(`{"_id": "bad", "date": }` + "\n") // not JSON
		case 12:
			b.WriteString("\n") // blank lines are fine
		default:
			b.Write(entryJSON(fmt.Sprintf("e%02d", i), int64(i)))
			b.WriteString("\n")
		}
	}
	input := b.String()
	var reports []source.ReplayProgress
	rp := &source.Replayer{Ingester: st, BatchSize: 7, OnProgress: func(p source.ReplayProgress) { reports = append(reports, p) }}
	p, err := rp.Replay(context.Background(), strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	want := source.ReplayProgress{Read: 19, Accepted: 16, Duplicates: 1, Rejected: 2, BytesRead: int64(len(input)), Done: true}
	if p.Read != want.Read || p.Accepted != want.Accepted || p.Duplicates != want.Duplicates || p.Rejected != want.Rejected ||
		p.BytesRead != want.BytesRead || !p.Done {
		t.Errorf("progress %+v, want %+v", p, want)
	}
	wantRej := []string{
		`line 5:1: "_id": required field is missing (the entry id)`,
		`line 10:24: "date": expected a JSON value (object, array, string, number, true, false or null), found "}"`,
	}
	var gotRej []string
	for _, r := range p.Rejections {
		gotRej = append(gotRej, r.String())
	}
	if strings.Join(gotRej, "\n") != strings.Join(wantRej, "\n") {
		t.Errorf("rejections\n  %s\nwant\n  %s", strings.Join(gotRej, "\n  "), strings.Join(wantRej, "\n  "))
	}
	// All 19 items reach the ingester, which answers the 2 refused ones
	// with their errors, in batches of 7: 3 Ingest calls, 3 reports, then
	// the final one.
	if len(reports) != 4 || !reports[3].Done || reports[0].Done {
		t.Fatalf("%d reports: %+v", len(reports), reports)
	}
	if reports[0].Accepted+reports[0].Duplicates+reports[0].Rejected != 7 {
		t.Errorf("first report %+v: want the first batch of 7 counted", reports[0])
	}
	if st.calls != 4 { // the setup call and 3 batches
		t.Errorf("%d Ingest calls", st.calls)
	}

	// Replaying again stores nothing new.
	p2, err := (&source.Replayer{Ingester: st}).Replay(context.Background(), strings.NewReader(input))
	if err != nil || p2.Accepted != 0 || p2.Duplicates != 17 || p2.Rejected != 2 {
		t.Errorf("second replay %+v, %v", p2, err)
	}
}

func TestReplayerStoresWhatPrecedesABrokenStructure(t *testing.T) {
	st := newMemStore()
	input := "[\n" + string(entryJSON("a", 1)) + ",\n" + string(entryJSON("b", 2)) + "\n" // no closing bracket
	p, err := (&source.Replayer{Ingester: st}).Replay(context.Background(), strings.NewReader(input))
	var pe *source.PositionError
	if !errors.As(err, &pe) || pe.Line != 4 {
		t.Fatalf("error %v, want a structure error at line 4", err)
	}
	if p.Accepted != 2 || st.count() != 2 {
		t.Errorf("progress %+v, stored %d: want both entries stored", p, st.count())
	}
}

func TestReplayerStopsWhenTheStoreFails(t *testing.T) {
	st := newMemStore()
	st.setFailing(errors.New("database is locked"))
	input := string(entryJSON("a", 1)) + "\n" + string(entryJSON("b", 2)) + "\n"
	p, err := (&source.Replayer{Ingester: st, BatchSize: 1}).Replay(context.Background(), strings.NewReader(input))
	if err == nil || !strings.Contains(err.Error(), "storing entries from line 1 to line 1: database is locked") {
		t.Fatalf("error %v", err)
	}
	if p.Accepted != 0 || !p.Done {
		t.Errorf("progress %+v", p)
	}
}

func TestReplayerStopsOnCancel(t *testing.T) {
	st := newMemStore()
	ctx, cancel := context.WithCancel(context.Background())
	var in bytes.Buffer
	for i := range 100 {
		in.Write(entryJSON(fmt.Sprint(i), int64(i)))
		in.WriteByte('\n')
	}
	rp := &source.Replayer{Ingester: st, BatchSize: 10, OnProgress: func(p source.ReplayProgress) {
		if p.Accepted >= 20 {
			cancel()
		}
	}}
	p, err := rp.Replay(ctx, &in)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if p.Accepted != 20 || st.count() != 20 {
		t.Errorf("accepted %d, stored %d: want 20", p.Accepted, st.count())
	}
}

// TestReplayListItems replays a saved API page: its items lack the full
// version. Without Details they are counted and stored marked; with a
// poller as Details, their full entries are fetched and stored instead,
// and one whose full entry is gone keeps its list item with the reason.
func TestReplayListItems(t *testing.T) {
	fake := startFake(t)
	var page strings.Builder
	page.WriteString(`{"items":[`)
	for i := range 5 {
		if err := fake.Add(fullEntryJSON(fmt.Sprintf("r%d", i), int64(1000+i))); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			page.WriteString(",")
		}
		if i == 4 {
			page.Write(fullEntryJSON("r4", 1004)) // a full entry: nothing to fetch
		} else {
			page.Write(entryJSON(fmt.Sprintf("r%d", i), int64(1000+i)))
		}
	}
	page.WriteString(`],"_links":{}}`)
	fake.ForgetDetails("r2")

	t.Run("counted and marked", func(t *testing.T) {
		st := newMemStore()
		p, err := (&source.Replayer{Ingester: st}).Replay(context.Background(), strings.NewReader(page.String()))
		if err != nil {
			t.Fatal(err)
		}
		if p.ListItems != 4 || p.DetailsFetched != 0 || p.Accepted != 5 {
			t.Errorf("progress %+v: want 4 list items, none fetched, 5 accepted", p)
		}
		if n := st.note("r0"); !strings.Contains(n, "--fetch-details") {
			t.Errorf("note of r0 %q, want one naming --fetch-details", n)
		}
		if n := st.note("r4"); n != "" {
			t.Errorf("note of the full entry r4: %q", n)
		}
	})
	t.Run("fetched", func(t *testing.T) {
		st := newMemStore()
		poller, err := source.NewPoller(source.PollerConfig{BaseURL: fake.URL(), Token: testToken}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := (&source.Replayer{Ingester: st, Details: poller}).Replay(context.Background(), strings.NewReader(page.String()))
		if err != nil {
			t.Fatal(err)
		}
		if p.ListItems != 4 || p.DetailsFetched != 3 || p.Accepted != 5 {
			t.Errorf("progress %+v: want 4 list items, 3 fetched, 5 accepted", p)
		}
		for _, id := range []string{"r0", "r1", "r3", "r4"} {
			if !bytes.Equal(st.raw(id), fullEntryJSON(id, 1000+int64(id[1]-'0'))) || st.note(id) != "" {
				t.Errorf("%s: stored %s (note %q), want the full entry", id, st.raw(id), st.note(id))
			}
		}
		if n := st.note("r2"); !strings.Contains(n, "404") {
			t.Errorf("note of r2 %q, want the 404", n)
		}
	})
}
