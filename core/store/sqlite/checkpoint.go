package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"
)

// Checkpoints copy the WAL's frames back into the database file. SQLite's
// default runs one inside the commit that pushes the log past 1,000 frames,
// so the writer — the one goroutine every write waits for — spent about
// half its time copying pages and waiting for the two fsyncs a checkpoint
// makes. Here the writer's connection has automatic checkpoints off and a
// checkpointer goroutine with a connection of its own runs PASSIVE
// checkpoints after commits, in parallel with the writer.
//
// A passive checkpoint racing a busy writer rarely finds the log fully
// copied, and SQLite restarts the log from its start only then. So when
// the log has grown past Options.WALMaxFrames, the writer itself checkpoints
// between two groups: it has only the frames the checkpointer has not
// copied yet to write, and its next commit starts the log over.
// Options.WALMaxFrames sets that bound.
const (
	// ckptEvery spaces background checkpoints: each costs two fsyncs, and
	// a few dozen a second keep the log short without queueing behind
	// each other.
	ckptEvery = 25 * time.Millisecond
)

// openCheckpointer opens the checkpointer's connection. It writes only the
// database file's pages the WAL already holds, so it needs no cache.
func (s *Store) openCheckpointer(ctx context.Context, path string, busy time.Duration) error {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	q.Add("_pragma", "cache_size(-256)")
	db, err := sql.Open("sqlite", dsn(path, q))
	if err != nil {
		return fmt.Errorf("sqlite store: open checkpointer for %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("sqlite store: open checkpointer for %s: %w", path, err)
	}
	s.cdb, s.cconn = db, conn
	return nil
}

// checkpointer runs passive checkpoints while commits come in, until Close.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-s.ckptKick:
		case <-s.closing:
			return
		}
		// Let a few more commits land before copying: one checkpoint then
		// covers them all.
		t.Reset(ckptEvery)
		select {
		case <-t.C:
		case <-s.closing:
			t.Stop()
			return
		}
		busy, frames, err := checkpoint(s.cconn)
		switch {
		case err != nil:
			s.log.Warn("background checkpoint failed; the writer will checkpoint", "err", err)
			s.walFrames.Store(s.walMax)
		case !busy: // busy: the writer's own checkpoint runs, and says nothing of the log
			s.walFrames.Store(frames)
		}
	}
}

// kickCheckpointer tells the checkpointer a commit added frames.
func (s *Store) kickCheckpointer() {
	select {
	case s.ckptKick <- struct{}{}:
	default:
	}
}

// checkpointIfLong runs a checkpoint on the writer's connection when the
// log has grown past its bound; see the comment at the top.
func (w *wtx) checkpointIfLong() {
	if w.s.walFrames.Load() < w.s.walMax {
		return
	}
	busy, _, err := checkpoint(w.s.wconn)
	if err != nil {
		w.s.log.Warn("checkpoint failed", "err", err)
	}
	if busy {
		return // the checkpointer is at it: look again before the next group
	}
	// The next commit restarts the log when this copied all of it; if a
	// reader held some back, the checkpointer's next look says so.
	w.s.walFrames.Store(0)
}

// checkpoint runs a PASSIVE checkpoint on conn. It returns whether another
// checkpoint was running (nothing done), and how many frames the log held.
func checkpoint(conn *sql.Conn) (busy bool, frames int64, err error) {
	var b, log, done int64
	err = conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&b, &log, &done)
	if err != nil {
		return false, 0, fmt.Errorf("wal_checkpoint: %w", err)
	}
	return b != 0, log, nil
}
