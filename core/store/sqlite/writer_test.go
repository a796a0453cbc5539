package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

const hangGuard = 10 * time.Second

func openTest(t *testing.T, o Options) *Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(t.TempDir(), "test.db")
	}
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// holdWriter parks the writer goroutine inside a transaction until release
// is called, so tests can queue requests deterministically.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	entered, leave := make(chan struct{}), make(chan struct{})
	finished := make(chan error, 1)
	go func() {
		_, err := do(context.Background(), s, durable, func(*wtx) (struct{}, error) {
			close(entered)
			<-leave
			return struct{}{}, nil
		})
		finished <- err
	}()
	select {
	case <-entered:
	case <-time.After(hangGuard):
		t.Fatalf("writer did not start the holding request")
	}
	return func() {
		close(leave)
		if err := <-finished; err != nil {
			t.Errorf("holding request: %v", err)
		}
	}
}

// waitQueued waits until n requests sit in the writer's queue.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for len(s.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", len(s.reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func newEntry(id, deliveryID string) store.NewEntry {
	return store.NewEntry{
		EntrySummary: store.EntrySummary{ID: id},
		Deliveries:   []store.NewDelivery{{ID: deliveryID, Subscription: "hook", State: store.Pending}},
	}
}

// TestGroupIsolatesFailures queues three ingests behind a held writer: they
// run in one commit, and the middle one failing in SQL (a delivery ID that
// is already taken, which only the database can see) rolls back alone.
func TestGroupIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if _, err := s.Ingest(ctx, []store.NewEntry{newEntry("first", "taken")}, nil); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	release := holdWriter(t, s)
	calls := []struct {
		entry store.NewEntry
		fail  bool
	}{
		{newEntry("good-1", "d1"), false},
		{newEntry("bad", "taken"), true},
		{newEntry("good-2", "d2"), false},
	}
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Ingest(ctx, []store.NewEntry{c.entry}, nil)
		}()
		waitQueued(t, s, i+1) // keep the queue in call order
	}
	before := s.commits.Load()
	release()
	wg.Wait()
	if got := s.commits.Load() - before; got != 2 { // the holding request, then one group
		t.Fatalf("commits = %d, want 2 (holder + one group of three)", got)
	}
	for i, c := range calls {
		if c.fail != (errs[i] != nil) {
			t.Fatalf("ingest %s: err = %v, want failure %v", c.entry.ID, errs[i], c.fail)
		}
		_, err := s.GetEntry(ctx, c.entry.ID)
		if stored := err == nil; stored == c.fail {
			t.Fatalf("entry %s stored = %v, want %v (err %v)", c.entry.ID, stored, !c.fail, err)
		}
	}
}

// TestGroupSingleFailure: a lone failing request rolls back without
// affecting the next one.
func TestGroupSingleFailure(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if _, err := s.Ingest(ctx, []store.NewEntry{newEntry("a", "taken")}, nil); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if _, err := s.Ingest(ctx, []store.NewEntry{newEntry("b", "fresh"), newEntry("c", "taken")}, nil); err == nil {
		t.Fatalf("Ingest reusing a delivery ID succeeded")
	}
	if _, err := s.GetEntry(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("entry b of the failed call: %v, want ErrNotFound", err)
	}
	if _, err := s.Ingest(ctx, []store.NewEntry{newEntry("d", "fresh")}, nil); err != nil {
		t.Fatalf("Ingest after a failure: %v", err)
	}
}

// TestCanceledWhileQueued: a request whose caller gave up before the writer
// reached it is not executed.
func TestCanceledWhileQueued(t *testing.T) {
	s := openTest(t, Options{})
	release := holdWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Ingest(ctx, []store.NewEntry{newEntry("gone", "d")}, nil)
		errc <- err
	}()
	waitQueued(t, s, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Ingest: %v, want context.Canceled", err)
	}
	release()
	// A later write proves the writer went past the canceled request.
	if _, err := s.Ingest(context.Background(), []store.NewEntry{newEntry("later", "d2")}, nil); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if _, err := s.GetEntry(context.Background(), "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("canceled ingest was stored: %v", err)
	}
	if got := s.active.Load(); got != 0 {
		t.Fatalf("active callers = %d after all returned", got)
	}
}

// TestReadsDoNotWaitForWrites: the read pool answers while the writer holds
// a transaction open.
func TestReadsDoNotWaitForWrites(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if _, err := s.Ingest(ctx, []store.NewEntry{newEntry("e", "d")}, nil); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	release := holdWriter(t, s)
	defer release()
	rctx, cancel := context.WithTimeout(ctx, hangGuard)
	defer cancel()
	if es, err := s.ListEntries(rctx, store.EntryFilter{}); err != nil || len(es) != 1 {
		t.Fatalf("ListEntries while the writer is busy = %v, %v", es, err)
	}
	if _, _, err := s.GetDelivery(rctx, "d"); err != nil {
		t.Fatalf("GetDelivery while the writer is busy: %v", err)
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	s := openTest(t, Options{})
	if _, err := s.rdb.Exec(`INSERT INTO cursors (source, position, updated_ms) VALUES ('x', 'y', 1)`); err == nil {
		t.Fatalf("the read pool accepted a write")
	}
}

// TestCloseDrains: requests queued when Close is called are committed and
// answered; later calls get ErrClosed.
func TestCloseDrains(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "test.db")
	s := openTest(t, Options{Path: path})
	release := holdWriter(t, s)
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Ingest(ctx, []store.NewEntry{newEntry(fmt.Sprint("e", i), fmt.Sprint("d", i))}, nil)
			errs <- err
		}()
	}
	waitQueued(t, s, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Close must wait for the writer, which is still held.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while the writer held a transaction", err)
	case <-time.After(20 * time.Millisecond):
	}
	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("queued Ingest: %v", err)
		}
	}
	if _, err := s.Ingest(ctx, []store.NewEntry{newEntry("late", "dl")}, nil); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Ingest after Close: %v", err)
	}
	re := openTest(t, Options{Path: path})
	if es, err := re.ListEntries(ctx, store.EntryFilter{}); err != nil || len(es) != n {
		t.Fatalf("entries after reopen = %d, %v; want %d", len(es), err, n)
	}
}

// TestNoGoroutineLeaks: Close stops the writer and every watcher.
func TestNoGoroutineLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "test.db")})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w1 := s.Watch(ctx)
	w2 := s.Watch(context.Background())
	if _, err := s.Ingest(context.Background(), []store.NewEntry{newEntry("e", "d")}, nil); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	cancel()
	for range w1 { // closed by its context
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range w2 { // closed by Close
	}
	deadline := time.Now().Add(hangGuard)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOpenOptions(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), Options{}); err == nil {
		t.Fatalf("Open without Path succeeded")
	}
	if _, err := Open(context.Background(), Options{Path: filepath.Join(dir, "missing", "x.db")}); err == nil {
		t.Fatalf("Open in a missing directory succeeded")
	}
	if _, err := Open(context.Background(), Options{Path: filepath.Join(dir, "x.db"), Synchronous: "sometimes"}); err == nil {
		t.Fatalf("Open with a bad Synchronous succeeded")
	}
	for mode, want := range map[string]int{"": 1, "normal": 1, "FULL": 2} {
		s := openTest(t, Options{Path: filepath.Join(dir, "sync-"+mode+".db"), Synchronous: mode})
		got, err := do(context.Background(), s, outsideTx, func(w *wtx) (int, error) {
			var v int
			err := w.s.wconn.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&v)
			return v, err
		})
		if err != nil || got != want {
			t.Fatalf("Synchronous %q: PRAGMA synchronous = %d, %v; want %d", mode, got, err, want)
		}
	}
}

func TestTimeEncoding(t *testing.T) {
	if encodeTime(time.Time{}) != 0 || !decodeTime(0).IsZero() {
		t.Fatalf("zero time does not map to 0 and back")
	}
	in := time.Date(2026, 1, 2, 3, 4, 5, 678_999_999, time.FixedZone("X", -5*3600))
	out := decodeTime(encodeTime(in))
	if !out.Equal(in.Truncate(time.Millisecond)) || out.Location() != time.UTC {
		t.Fatalf("round trip of %v = %v", in, out)
	}
	if d := decodeDuration(encodeDuration(1234567 * time.Nanosecond)); d != 1234*time.Microsecond {
		t.Fatalf("duration round trip = %v", d)
	}
}

// TestPruneReclaimsSpace: a big prune truncates the WAL and hands free
// pages back (auto_vacuum=incremental).
func TestPruneReclaimsSpace(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	s.reclaimAfter = 500
	const n = 300 // entries + deliveries removed exceed reclaimAfter
	var es []store.NewEntry
	for i := range n {
		e := newEntry(fmt.Sprint("e", i), fmt.Sprint("d", i))
		e.Raw = make([]byte, 4096) // pages to free
		e.Deliveries[0].State = store.Filtered
		es = append(es, e)
	}
	if _, err := s.Ingest(ctx, es, nil); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	res, err := s.Prune(ctx, store.PruneParams{Now: time.Now().Add(time.Hour), MaxAge: time.Minute})
	if err != nil || res.Entries != n || res.Deliveries != n {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	free, err := do(ctx, s, outsideTx, func(w *wtx) (int, error) {
		var v int
		err := w.s.wconn.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&v)
		return v, err
	})
	if err != nil || free != 0 {
		t.Fatalf("freelist_count after a big prune = %d, %v; want 0", free, err)
	}
	if fi, err := os.Stat(s.path + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("WAL after a big prune: %v bytes, %v; want truncated", fi.Size(), err)
	}
}

// TestLeaseOnlyGroupsSkipSync: with synchronous=FULL, a group of claims
// commits with NORMAL and the next durable group is back on FULL.
func TestLeaseOnlyGroupsSkipSync(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{Synchronous: "full"})
	syncNow := func() int {
		v, err := do(ctx, s, outsideTx, func(w *wtx) (int, error) {
			var v int
			err := w.s.wconn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&v)
			return v, err
		})
		if err != nil {
			t.Fatalf("PRAGMA synchronous: %v", err)
		}
		return v
	}
	if _, err := s.Ingest(ctx, []store.NewEntry{newEntry("e", "d")}, nil); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if got := syncNow(); got != 2 {
		t.Fatalf("synchronous after Ingest = %d, want 2 (FULL)", got)
	}
	if _, err := s.Claim(ctx, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 1, Lease: time.Minute}); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if got := syncNow(); got != 1 {
		t.Fatalf("synchronous after a claim-only group = %d, want 1 (NORMAL)", got)
	}
	if _, err := s.Finish(ctx, []store.Outcome{{DeliveryID: "d", Subscription: "hook", Owner: "w", Attempt: 1, State: store.Delivered}}); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if got := syncNow(); got != 2 {
		t.Fatalf("synchronous after Finish = %d, want 2 (FULL)", got)
	}
}

// TestWALStaysBounded: under writes that never pause, the background
// checkpointer alone would never let SQLite restart the log; the writer's
// own checkpoint once the log passes WALMaxFrames makes it start over, so
// the -wal file stays near that bound (plus what one background pass lets
// through) instead of growing with every commit. Nothing written is lost.
func TestWALStaysBounded(t *testing.T) {
	const n = 2000
	walAfter := func(maxFrames int) int64 {
		ctx := context.Background()
		s := openTest(t, Options{WALMaxFrames: maxFrames})
		for i := range n {
			e := newEntry(fmt.Sprint("e", i), fmt.Sprint("d", i))
			e.Raw = make([]byte, 2048)
			if _, err := s.Ingest(ctx, []store.NewEntry{e}, nil); err != nil {
				t.Fatalf("Ingest %d: %v", i, err)
			}
		}
		var count int
		if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM entries").Scan(&count); err != nil || count != n {
			t.Fatalf("entries = %d, %v; want %d", count, err, n)
		}
		fi, err := os.Stat(s.path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	unbounded := walAfter(1 << 30)
	bounded := walAfter(128)
	if unbounded < 4*128*4096*8 {
		t.Fatalf("unbounded -wal is only %d bytes after %d commits: the workload is too small to tell", unbounded, n)
	}
	if bounded > unbounded/3 {
		t.Fatalf("-wal is %d bytes with WALMaxFrames 128, %d without a bound: want it to start over", bounded, unbounded)
	}
	t.Logf("-wal after %d commits: %d bytes bounded, %d unbounded", n, bounded, unbounded)
}
