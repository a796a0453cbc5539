package source_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/source/ldfake"
)

const testToken = "api-0123456789abcdef"

func startFake(t *testing.T) *ldfake.Server {
	t.Helper()
	fake, err := ldfake.Start(ldfake.Config{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	return fake
}

// runPoller starts a poller and returns a stop function that cancels it
// and waits for Run to return.
func runPoller(t *testing.T, cfg source.PollerConfig, st *memStore) (*source.Poller, func()) {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	if cfg.Interval == 0 {
		cfg.Interval = 20 * time.Millisecond
	}
	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = 10 * time.Millisecond
	}
	p, err := source.NewPoller(cfg, st, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run returned %v, want nil after cancel", err)
			}
		})
	}
	t.Cleanup(stop)
	return p, stop
}

// addEntries adds n entries named prefix-i dated from start, step ms apart.
func addEntries(t *testing.T, fake *ldfake.Server, prefix string, n int, start, step int64) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		if err := fake.Add(entryJSON(id, start+int64(i)*step)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func checkNoRepeats(t *testing.T, st *memStore) {
	t.Helper()
	if r := st.repeats(); len(r) > 0 {
		t.Errorf("entries handed to Ingest more than once: %v", r)
	}
}

func TestPollerPagesOldestFirst(t *testing.T) {
	fake := startFake(t)
	now := time.Now().UnixMilli()
	want := addEntries(t, fake, "p", 47, now-47_000, 1000)
	st := newMemStore()
	p, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 5, Backfill: time.Hour}, st)
	eventually(t, "47 entries and a completed poll", func() bool { return st.count() == 47 && !p.Status().LastSuccess.IsZero() })
	stop()

	if got := st.stored(); !slices.Equal(got, want) {
		t.Errorf("stored %v,\nwant oldest first %v", got, want)
	}
	checkNoRepeats(t, st)
	reqs := fake.Requests()
	pagedBack, details := 0, 0
	for _, r := range reqs {
		if r.Path != "/api/v2/auditlog" {
			details++
			continue
		}
		if r.Status != 200 {
			t.Errorf("request %v answered %d", r.Query, r.Status)
		}
		if r.Query.Get("limit") != "5" || r.Query.Get("after") == "" {
			t.Errorf("query %v: want limit=5 and after", r.Query)
		}
		if r.Query.Get("before") != "" {
			pagedBack++
		}
	}
	if pagedBack < 9 {
		t.Errorf("%d requests with before, want at least 9 to page through 47 entries by 5", pagedBack)
	}
	if details != 47 {
		t.Errorf("%d detail requests, want one per entry (47)", details)
	}
	s := p.Status()
	if s.State != source.PollerStopped || s.Ingested != 47 || s.LastSuccess.IsZero() || s.Requests < 10 || s.Cursor.UnixMilli() != now-1000 {
		t.Errorf("status %+v", s)
	}
}

func TestPollerPicksUpNewEntriesWhileRunning(t *testing.T) {
	fake := startFake(t)
	now := time.Now().UnixMilli()
	addEntries(t, fake, "old", 3, now-10_000, 1000)
	st := newMemStore()
	_, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 2, Backfill: time.Minute}, st)
	eventually(t, "3 entries", func() bool { return st.count() == 3 })
	addEntries(t, fake, "new", 4, time.Now().UnixMilli(), 1)
	eventually(t, "7 entries", func() bool { return st.count() == 7 })
	stop()
	checkNoRepeats(t, st)
}

func TestPollerWithoutBackfillTakesOnlyNewEntries(t *testing.T) {
	fake := startFake(t)
	addEntries(t, fake, "before-start", 5, time.Now().Add(-time.Hour).UnixMilli(), 1000)
	st := newMemStore()
	_, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL()}, st)
	// The starting point is committed before any entry arrives.
	eventually(t, "the initial cursor", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.history) > 0
	})
	want := addEntries(t, fake, "after-start", 2, time.Now().UnixMilli()+5, 1)
	eventually(t, "2 entries", func() bool { return st.count() == 2 })
	stop()
	if got := st.stored(); !slices.Equal(got, want) {
		t.Errorf("stored %v, want only %v", got, want)
	}
}

func TestPollerHonoursRetryAfter(t *testing.T) {
	for _, resetOnly := range []bool{false, true} {
		name := "Retry-After"
		if resetOnly {
			name = "X-Ratelimit-Reset"
		}
		t.Run(name, func(t *testing.T) {
			fake := startFake(t)
			now := time.Now().UnixMilli()
			addEntries(t, fake, "t", 12, now-12_000, 1000)
			fake.SetThrottle(ldfake.Throttle{Every: 3, RetryAfter: time.Second, ResetOnly: resetOnly})
			st := newMemStore()
			// One request at a time, so that each 429 is followed by the
			// request it delayed.
			p, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 5, Backfill: time.Hour, Interval: time.Hour, DetailFetches: 1}, st)
			eventually(t, "12 entries", func() bool { return st.count() == 12 })
			stop()
			checkNoRepeats(t, st)

			reqs := fake.Requests()
			throttled := 0
			for i, r := range reqs {
				if r.Status != 429 {
					continue
				}
				throttled++
				if i+1 >= len(reqs) {
					t.Fatalf("no request after the 429 at %d", i)
				}
				gap := reqs[i+1].At.Sub(r.At)
				if gap < time.Second-time.Millisecond { // the reset header has ms resolution
					t.Errorf("request %d came %v after a 429 asking for 1s", i+1, gap)
				}
			}
			if throttled == 0 {
				t.Fatalf("no request was throttled: %+v", reqs)
			}
			if s := p.Status(); s.Throttled != int64(throttled) {
				t.Errorf("status counts %d throttled, the server %d", s.Throttled, throttled)
			}
		})
	}
}

func TestPollerRetriesServerErrors(t *testing.T) {
	fake := startFake(t)
	addEntries(t, fake, "s", 4, time.Now().UnixMilli()-4000, 1000)
	fake.FailNext(3, 503)
	st := newMemStore()
	_, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Backfill: time.Hour, Interval: time.Hour}, st)
	eventually(t, "4 entries", func() bool { return st.count() == 4 })
	stop()
	statuses := []int{}
	for _, r := range fake.Requests() {
		statuses = append(statuses, r.Status)
	}
	if !slices.Equal(statuses[:4], []int{503, 503, 503, 200}) {
		t.Errorf("statuses %v, want three 503s then 200", statuses)
	}
}

func TestPollerBadToken(t *testing.T) {
	fake := startFake(t)
	addEntries(t, fake, "x", 2, time.Now().UnixMilli()-2000, 1000)
	st := newMemStore()
	p, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Token: "wrong-token", Backfill: time.Hour, Interval: time.Hour}, st)
	eventually(t, "the error in the status", func() bool { return p.Status().State == source.PollerError })
	s := p.Status()
	stop()
	if !strings.Contains(s.LastError, "refused the access token") || strings.Contains(s.LastError, "wrong-token") {
		t.Errorf("LastError %q: want the refusal, without the token", s.LastError)
	}
	if st.count() != 0 {
		t.Errorf("stored %d entries with a bad token", st.count())
	}
	// A refused token is retried at the next interval, not in a loop.
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests after a 401, want 1 (the next comes after the interval)", n)
	}
}

func TestPollerSendsBareToken(t *testing.T) {
	// ldfake compares the whole header with the token; "Bearer <token>"
	// would be refused.
	fake := startFake(t)
	addEntries(t, fake, "x", 1, time.Now().UnixMilli()-1000, 1)
	st := newMemStore()
	_, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Backfill: time.Hour}, st)
	eventually(t, "1 entry", func() bool { return st.count() == 1 })
	stop()
}

func TestPollerRestartResumes(t *testing.T) {
	fake := startFake(t)
	base := time.Now().UnixMilli() - 60_000
	first := addEntries(t, fake, "a", 20, base, 100)
	st := newMemStore()
	_, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 7, Backfill: time.Hour}, st)
	eventually(t, "20 entries", func() bool { return st.count() == 20 })
	stop()

	// While the relay is down: entries at the very millisecond of the
	// last one ingested, one slightly older (listed late), and newer
	// ones.
	last := base + 19*100
	late := []string{"same-ms-1", "same-ms-2", "late-older"}
	for i, d := range []int64{last, last, last - 50} {
		if err := fake.Add(entryJSON(late[i], d)); err != nil {
			t.Fatal(err)
		}
	}
	newer := addEntries(t, fake, "b", 15, last+1, 10)

	_, stop2 := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 7, Backfill: time.Hour}, st)
	eventually(t, "38 entries", func() bool { return st.count() == 38 })
	stop2()
	checkNoRepeats(t, st)
	got := st.stored()
	if !slices.Equal(got[:20], first) {
		t.Errorf("first run stored %v", got[:20])
	}
	rest := slices.Sorted(slices.Values(got[20:]))
	want := slices.Sorted(slices.Values(append(append([]string{}, late...), newer...)))
	if !slices.Equal(rest, want) {
		t.Errorf("second run stored %v, want %v", rest, want)
	}
}

func TestPollerSameMillisecondAtPageBoundary(t *testing.T) {
	fake := startFake(t)
	d := time.Now().UnixMilli() - 10_000
	// Limit 5: the first page ends inside the group at d+1.
	var want []string
	for _, g := range []struct {
		date int64
		n    int
	}{{d, 3}, {d + 1, 4}, {d + 2, 3}} {
		want = append(want, addEntries(t, fake, fmt.Sprintf("ms%d", g.date-d), g.n, g.date, 0)...)
	}
	st := newMemStore()
	_, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 5, Backfill: time.Hour, Interval: time.Hour}, st)
	eventually(t, "10 entries", func() bool { return st.count() == 10 })
	stop()
	checkNoRepeats(t, st)
	if got := slices.Sorted(slices.Values(st.stored())); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("stored %v, want %v", got, want)
	}
}

func TestPollerSameMillisecondAcrossPolls(t *testing.T) {
	// With no lookback, the cursor still remembers the ids of the newest
	// millisecond: an entry of that millisecond listed after a poll is
	// picked up, and the others are not repeated.
	fake := startFake(t)
	d := time.Now().UnixMilli() - 5000
	addEntries(t, fake, "first", 2, d, 0)
	st := newMemStore()
	p, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Backfill: time.Hour, Lookback: -1, Interval: time.Hour}, st)
	eventually(t, "2 entries", func() bool { return st.count() == 2 })
	if err := fake.Add(entryJSON("third", d)); err != nil {
		t.Fatal(err)
	}
	p.PollNow()
	eventually(t, "3 entries", func() bool { return st.count() == 3 })
	stop()
	checkNoRepeats(t, st)
}

func TestPollerMoreEntriesInOneMillisecondThanAPage(t *testing.T) {
	// Paging by date cannot list more than a page of one millisecond;
	// the poller must still finish its poll rather than loop.
	fake := startFake(t)
	d := time.Now().UnixMilli() - 5000
	addEntries(t, fake, "crowd", 7, d, 0)
	addEntries(t, fake, "older", 2, d-10, 1)
	st := newMemStore()
	p, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 5, Backfill: time.Hour, Interval: time.Hour}, st)
	eventually(t, "a completed poll", func() bool { return !p.Status().LastSuccess.IsZero() })
	stop()
	checkNoRepeats(t, st)
	ids := st.stored()
	if len(ids) < 7 || !slices.Contains(ids, "older-000") || !slices.Contains(ids, "older-001") {
		t.Errorf("stored %v: want at least a page of the crowd and both older entries", ids)
	}
}

func TestPollerLargeBacklogInWindows(t *testing.T) {
	fake := startFake(t)
	now := time.Now().UnixMilli()
	want := addEntries(t, fake, "w", 40, now-40_000, 1000)
	st := newMemStore()
	_, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 3, MaxBacklog: 7, BatchSize: 4, Backfill: time.Hour, Interval: time.Hour}, st)
	eventually(t, "40 entries", func() bool { return st.count() == 40 })
	stop()
	checkNoRepeats(t, st)
	if got := st.stored(); !slices.Equal(got, want) {
		t.Errorf("stored %v,\nwant oldest first %v", got, want)
	}
}

func TestPollerRetriesStoreFailures(t *testing.T) {
	fake := startFake(t)
	addEntries(t, fake, "f", 3, time.Now().UnixMilli()-3000, 1000)
	st := newMemStore()
	st.getErrs = 2
	st.setFailing(fmt.Errorf("database is locked"))
	p, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Backfill: time.Hour}, st)
	eventually(t, "the store error in the status", func() bool {
		return strings.Contains(p.Status().LastError, "database is locked")
	})
	st.setFailing(nil)
	eventually(t, "3 entries", func() bool { return st.count() == 3 })
	stop()
	checkNoRepeats(t, st)
}

func TestNewPollerValidates(t *testing.T) {
	st := newMemStore()
	for _, cfg := range []source.PollerConfig{
		{BaseURL: "", Token: "t"},
		{BaseURL: "ftp://x", Token: "t"},
		{BaseURL: "https://app.launchdarkly.com"},
		{BaseURL: "https://app.launchdarkly.com", Token: "t", Limit: 21},
	} {
		if _, err := source.NewPoller(cfg, st, st); err == nil {
			t.Errorf("NewPoller(%+v) accepted", cfg)
		}
	}
}

func TestPollerRefusesCorruptCursor(t *testing.T) {
	st := newMemStore()
	st.cursors["poller"] = storeCursor("poller", "{not json")
	p, err := source.NewPoller(source.PollerConfig{BaseURL: "http://127.0.0.1:1", Token: "t"}, st, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "poller cursor") {
		t.Errorf("Run = %v, want a cursor error", err)
	}
}

// TestPollerRejectsInvalidItems: auditlog decides which items of a page are
// entries. The others are reported as rejected in auditlog's words and the
// good ones stored; an item whose _id and date could be read moves the
// cursor like an entry, so it is not refused again at every poll, and an
// item that is not even JSON does not spoil the rest of its page.
func TestPollerRejectsInvalidItems(t *testing.T) {
	fake := startFake(t)
	now := time.Now().UnixMilli()
	addEntries(t, fake, "good", 3, now-10_000, 1000)
	badKind := []byte(fmt.Sprintf(`{"_id":"bad-kind","date":%d,"kind":7,"accesses":[]}`, now-5000))
	notUTF8 := fmt.Appendf(nil, `{"_id":"bad-name","date":%d,"name":"caf`+"\xe9"+`","kind":"flag","accesses":[]}`, now-4000)
	if err := fake.Add(badKind, notUTF8); err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	logs := &syncBuffer{}
	p, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Backfill: time.Hour,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}, st)
	eventually(t, "3 entries and 2 rejections", func() bool { return st.count() == 3 && p.Status().Rejected >= 2 })
	// A few more polls: the dated item is not refused again.
	polls := p.Status().Requests
	eventually(t, "three more polls", func() bool { return p.Status().Requests >= polls+3 })
	stop()

	if got := st.stored(); !slices.Equal(got, []string{"good-000", "good-001", "good-002"}) {
		t.Errorf("stored %v", got)
	}
	out := logs.String()
	if strings.Count(out, `id=bad-kind err=`) != 1 || !strings.Contains(out, `\"kind\": expected a string (the resource kind, e.g. \"flag\"), found number"`) {
		t.Errorf("want bad-kind rejected once with auditlog's reason; logs:\n%s", out)
	}
	if !strings.Contains(out, `\"name\": invalid UTF-8: byte 0xE9 in a string (JSON text must be UTF-8)"`) {
		t.Errorf("want the item that is not UTF-8 rejected with its reason; logs:\n%s", out)
	}
	if s := p.Status(); s.LastError != "" || s.Ingested != 3 {
		t.Errorf("status %+v: the page must not fail as a whole", s)
	}
}

// TestPollerWindowsWithinTheLookback walks a backlog larger than
// MaxBacklog whose entries are closer together than the lookback, so that
// each window's pages begin with entries already ingested: every window
// must still make progress.
func TestPollerWindowsWithinTheLookback(t *testing.T) {
	fake := startFake(t)
	want := addEntries(t, fake, "l", 200, time.Now().Add(-30*time.Minute).UnixMilli(), 100)
	st := newMemStore()
	_, stop := runPoller(t, source.PollerConfig{BaseURL: fake.URL(), Limit: 5, MaxBacklog: 50, Backfill: time.Hour, Interval: time.Hour}, st)
	eventually(t, "200 entries", func() bool { return st.count() == 200 })
	stop()
	checkNoRepeats(t, st)
	if got := st.stored(); !slices.Equal(got, want) {
		t.Errorf("stored %v,\nwant oldest first %v", got, want)
	}
}
