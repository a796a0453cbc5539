package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// syncBuffer collects a store's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func slogTo(w *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// bigEntry is an entry of about 8 KiB, so that a store fills quickly.
func bigEntry(id string) store.NewEntry {
	e := newEntry(id, "dlv_"+id)
	e.Raw = bytes.Repeat([]byte("x"), 8<<10)
	return e
}

// fillUntilFull ingests entries until the store refuses one with
// SQLITE_FULL, and returns the error.
func fillUntilFull(t *testing.T, s *Store, prefix string) error {
	t.Helper()
	for i := range 100_000 {
		if _, err := s.Ingest(context.Background(), []store.NewEntry{bigEntry(fmt.Sprintf("%s%06d", prefix, i))}, nil); err != nil {
			if !strings.Contains(err.Error(), "full") {
				t.Fatalf("ingest #%d failed, but not for a full database: %v", i, err)
			}
			return err
		}
	}
	t.Fatal("the store never filled up")
	return nil
}

// setMaxPageCount caps the database at n pages (0: at its current size).
// Past the cap SQLite fails writes with SQLITE_FULL, as on a full disk.
func setMaxPageCount(t *testing.T, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	_, err := do(ctx, s, outsideTx, func(w *wtx) (struct{}, error) {
		if n == 0 {
			if err := w.s.wconn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&n); err != nil {
				return struct{}{}, err
			}
		}
		_, err := w.s.wconn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n))
		return struct{}{}, err
	})
	if err != nil {
		t.Fatalf("max_page_count: %v", err)
	}
}

// TestProbeWriteFullStore: while the database cannot grow (SQLITE_FULL, as
// on a full disk) the write probe fails, concurrent writers fail without a
// hang and without a spurious rollback error, and once it can grow again
// the probe and writes succeed with no restart.
func TestProbeWriteFullStore(t *testing.T) {
	logs := &syncBuffer{}
	s := openTest(t, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx := context.Background()
	if err := s.ProbeWrite(ctx); err != nil {
		t.Fatalf("ProbeWrite on a healthy store: %v", err)
	}
	setMaxPageCount(t, s, 0)
	fillUntilFull(t, s, "a")

	if err := s.ProbeWrite(ctx); err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("ProbeWrite on a full store = %v, want a failure saying it is full", err)
	}
	// Several writers at once share groups: each fails on its own.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Ingest(ctx, []store.NewEntry{bigEntry(fmt.Sprintf("b%d", i))}, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Errorf("ingest %d into a full store succeeded", i)
		}
	}

	// Until a real write commits (or failureMemory passes), the failures
	// count even if a probe fits.
	if err := s.ProbeWrite(ctx); err == nil {
		t.Fatal("ProbeWrite passed right after writes failed for a full store")
	}
	setMaxPageCount(t, s, 1<<30)
	if res, err := s.Ingest(ctx, []store.NewEntry{bigEntry("b0")}, nil); err != nil || res[0].Duplicate {
		t.Fatalf("ingest after recovery = %+v, %v; want a new entry", res, err)
	}
	if err := s.ProbeWrite(ctx); err != nil {
		t.Fatalf("ProbeWrite once the store can grow again: %v", err)
	}
	if strings.Contains(logs.String(), "cannot rollback") {
		t.Errorf("the log holds a spurious rollback error:\n%s", logs)
	}
}

// TestLockedByAnotherProcess: while another process holds the database's
// write lock, a write waits no longer than its context (not the busy
// timeout), and a write given up that way is not committed behind its
// caller's back once the lock goes. The write probe likewise fails within
// its context, and passes after.
func TestLockedByAnotherProcess(t *testing.T) {
	s := openTest(t, Options{BusyTimeout: time.Minute})
	ctx := context.Background()
	if _, err := s.Ingest(ctx, []store.NewEntry{newEntry("before", "d-before")}, nil); err != nil {
		t.Fatal(err)
	}
	release := lockFromAnotherProcess(t, s.path)

	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := s.Ingest(wctx, []store.NewEntry{newEntry("during", "d-during")}, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ingest while locked = %v, want context.DeadlineExceeded", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = s.ProbeWrite(pctx)
	cancel()
	if err == nil {
		t.Fatal("ProbeWrite succeeded while another process holds the write lock")
	}
	// Readers are not held up (WAL).
	if _, err := s.GetEntry(ctx, "before"); err != nil {
		t.Fatalf("GetEntry while locked: %v", err)
	}

	release()
	if err := s.ProbeWrite(ctx); err != nil {
		t.Fatalf("ProbeWrite after the lock went: %v", err)
	}
	res, err := s.Ingest(ctx, []store.NewEntry{newEntry("during", "d-during")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Duplicate {
		t.Fatal("the ingest that gave up was committed later, behind its caller's back")
	}
}

// TestProbesKeepWALBounded: an idle relay whose /readyz probes the store
// keeps its write-ahead log within its bound, as commits do.
func TestProbesKeepWALBounded(t *testing.T) {
	const n, maxFrames = 1500, 128
	s := openTest(t, Options{WALMaxFrames: maxFrames})
	for i := range n {
		if err := s.ProbeWrite(context.Background()); err != nil {
			t.Fatalf("ProbeWrite %d: %v", i, err)
		}
	}
	fi, err := os.Stat(s.path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// Each probe writes at least 5 pages (about 7): unbounded, the log
	// holds them all. Bounded, it starts over past maxFrames, give or take
	// the probes made while the checkpointer catches up (many, on a busy
	// machine: CI runs other packages' tests beside this one). Half of the
	// least an unbounded log would hold still tells the two apart.
	if limit := int64(n * 5 * 4096 / 2); fi.Size() > limit {
		t.Fatalf("-wal is %d bytes after %d probes, want at most %d (WALMaxFrames %d)", fi.Size(), n, limit, maxFrames)
	}
	t.Logf("-wal is %d bytes after %d probes", fi.Size(), n)
}
