package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	msqlite "modernc.org/sqlite"

	"github.com/auditrelay/auditrelay/core/store"
)

// failureMemoryDefault is how long a failed write keeps ProbeWrite failing
// when no write committed since; see ProbeWrite.
const failureMemoryDefault = 10 * time.Second

// writeFailure is a write group that failed for the store's sake.
type writeFailure struct {
	at  time.Time
	err error
}

// ProbeWrite tells whether the store can commit: it commits a write that
// leaves nothing behind (in one transaction it inserts a row of
// store.ProbePad bytes and deletes it), and it also fails while the last
// real write failed for the store's sake less than failureMemory ago with
// none committed since. The probe alone is not enough on a full disk: a small
// write can fit in space a failed larger one left allocated in the
// write-ahead log, and readiness would flap while every webhook fails.
// See store.Store.
func (s *Store) ProbeWrite(ctx context.Context) error {
	_, err := do(ctx, s, outsideTx, func(w *wtx) (struct{}, error) {
		return struct{}{}, w.probe(ctx)
	})
	if err != nil {
		return fmt.Errorf("write probe: %w", explain(s.path, err))
	}
	if f := s.lastFailure.Load(); f != nil && f.at.UnixNano() > s.lastCommit.Load() {
		if ago := time.Since(f.at); ago < s.failureMemory {
			return fmt.Errorf("the last write failed %s ago and none committed since: %w", ago.Round(time.Millisecond), explain(s.path, f.err))
		}
	}
	return nil
}

func (w *wtx) probe(ctx context.Context) error {
	w.rolledBack.Store(false)
	// Only BEGIN waits for another process's lock; it gives up when ctx
	// ends. Once it holds the lock, the rest is short.
	if _, err := w.s.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	fail := func(err error) error {
		w.rollback()
		return err
	}
	res, err := w.exec(`INSERT INTO write_probe (instance, probed_ms, pad) VALUES (?, ?, zeroblob(?))`,
		w.s.instance, encodeTime(w.s.now()), store.ProbePad)
	if err != nil {
		return fail(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fail(err)
	}
	if _, err := w.exec(`DELETE FROM write_probe WHERE id = ?`, id); err != nil {
		return fail(err)
	}
	if err := w.raw("COMMIT"); err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	// Like any commit, the probe's frames must be checkpointed, or an idle
	// relay's log would grow by a probe's pages at every /readyz.
	w.s.kickCheckpointer()
	return nil
}

// SQLite's primary result codes that say something about the file or its
// directory rather than about the SQL.
const (
	codeIOErr    = 10
	codeFull     = 13
	codeCantOpen = 14
	codeReadOnly = 8
)

// explain adds what is wrong with the database's directory to err when
// SQLite's own message does not say it ("unable to open database file",
// "database or disk is full"): a read-only directory or file system, or
// no space left on it.
func explain(path string, err error) error {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case codeIOErr, codeFull, codeCantOpen, codeReadOnly:
	default:
		return err
	}
	if why := diagnose(path, filepath.Dir(path)); why != "" {
		return fmt.Errorf("%s: %w", why, err)
	}
	return err
}
