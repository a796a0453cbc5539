package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// reqKind says how a request must be committed.
type reqKind uint8

const (
	// durable requests commit with the configured synchronous mode.
	durable reqKind = iota
	// leaseOnly requests (claims, leadership) need no fsync of their own:
	// losing one to a power cut only makes a delivery or a lease available
	// again, which at-least-once delivery already allows, and the next
	// durable commit syncs their WAL frames too. A group made only of them
	// commits with synchronous=NORMAL.
	leaseOnly
	// outsideTx requests run alone, outside any transaction (checkpoint,
	// vacuum).
	outsideTx
)

// A request is one write call waiting for the writer goroutine. run executes
// inside the group's transaction, within its own savepoint when the group
// has several requests.
type request struct {
	ctx   context.Context
	run   func(w *wtx) (any, error)
	kind  reqKind
	reply chan response // buffered: the writer never blocks on a caller that left
	// state is queued until either the writer starts running it (after its
	// transaction began, so after any wait for another process's lock) or
	// the caller, whose ctx ended first, abandons it. Whichever moves it
	// first decides: an abandoned request is never run, and the caller of
	// a started one waits for its answer. So a write that returns its
	// context's error was not committed.
	state atomic.Int32
}

// Request states.
const (
	queued int32 = iota
	started
	abandoned
)

// start moves r from queued to started; false when its caller abandoned it.
func (r *request) start() bool { return r.state.CompareAndSwap(queued, started) }

type response struct {
	val any
	err error
}

// do submits fn to the writer and waits for its answer. When ctx ends
// before the writer started fn (it may be waiting for another process's
// lock), fn never runs and do returns ctx.Err(); once fn started, do waits
// for the commit.
func do[T any](ctx context.Context, s *Store, kind reqKind, fn func(w *wtx) (T, error)) (T, error) {
	var zero T
	r := &request{
		ctx:   ctx,
		run:   func(w *wtx) (any, error) { return fn(w) },
		kind:  kind,
		reply: make(chan response, 1),
	}
	resp, err := s.submit(ctx, r)
	if err != nil {
		return zero, err
	}
	if resp.err != nil {
		return zero, resp.err
	}
	return resp.val.(T), nil
}

func (s *Store) submit(ctx context.Context, r *request) (response, error) {
	s.active.Add(1)
	select {
	case <-s.closing:
		s.active.Add(-1)
		return response{}, store.ErrClosed
	default:
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.active.Add(-1)
		return response{}, ctx.Err()
	case <-s.closing:
		s.active.Add(-1)
		return response{}, store.ErrClosed
	}
	// The writer now owns the request and decrements active when it answers.
	select {
	case resp := <-r.reply:
		return resp, nil
	case <-ctx.Done():
		if r.state.CompareAndSwap(queued, abandoned) {
			return response{}, ctx.Err()
		}
		// Started: the group holds the write lock, so its commit is near.
		select {
		case resp := <-r.reply:
			return resp, nil
		case <-s.done:
			return response{}, store.ErrClosed
		}
	case <-s.done:
		// The writer answers before it exits; a request it never saw was
		// queued after its final drain.
		select {
		case resp := <-r.reply:
			return resp, nil
		default:
			return response{}, store.ErrClosed
		}
	}
}

// writer is the only goroutine that writes. It takes a request, gathers
// more (see collect), runs them in one transaction and answers each.
func (s *Store) writer() {
	defer close(s.done)
	w := &wtx{s: s, stmts: make(map[string]*sql.Stmt), sync: s.syncMode, rolledBack: s.rolledBack}
	defer w.closeStmts()
	for {
		select {
		case first := <-s.reqs:
			batch := s.collect(first)
			w.checkpointIfLong()
			s.runBatch(w, batch)
		case <-s.closing:
			for {
				batch := s.drain(nil)
				if len(batch) == 0 {
					return
				}
				s.runBatch(w, batch)
			}
		}
	}
}

// drain appends whatever is queued, up to maxBatch.
func (s *Store) drain(batch []*request) []*request {
	for len(batch) < s.maxBatch {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// collect builds a group: everything already queued; then, after letting
// the callers answered by the last commit run once, whatever they queued;
// then, while callers are inside a write method without a request in the
// group yet, it waits for them up to the window. A fixed linger would tax
// every group by the whole window once all callers are in it; waiting only
// for known callers groups as much without that cost (PostgreSQL's
// commit_delay with commit_siblings works the same way).
func (s *Store) collect(first *request) []*request {
	batch := s.drain([]*request{first})
	if s.window <= 0 {
		return batch
	}
	// Callers answered by the last commit may be about to come back: let
	// them run once before deciding the group is complete.
	runtime.Gosched()
	batch = s.drain(batch)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for len(batch) < s.maxBatch && s.active.Load() > int64(len(batch)) {
		if timer == nil {
			timer = time.NewTimer(s.window)
		}
		select {
		case r := <-s.reqs:
			batch = s.drain(append(batch, r))
		case <-timer.C:
			return batch
		case <-s.closing:
			return batch
		}
	}
	return batch
}

func (s *Store) runBatch(w *wtx, batch []*request) {
	for i := 0; i < len(batch); {
		if batch[i].kind == outsideTx {
			s.runAlone(w, batch[i])
			i++
			continue
		}
		j := i
		for j < len(batch) && batch[j].kind != outsideTx {
			j++
		}
		s.runGroup(w, batch[i:j])
		i = j
	}
}

func (s *Store) answer(r *request, resp response) {
	s.active.Add(-1)
	r.reply <- resp
}

func (s *Store) runAlone(w *wtx, r *request) {
	if err := r.ctx.Err(); err != nil || !r.start() {
		s.answer(r, response{err: abandonedErr(r)})
		return
	}
	w.changes = nil
	val, err := r.run(w)
	s.answer(r, response{val: val, err: err})
}

// abandonedErr is the answer to a request that is not run; its caller has
// most likely returned already.
func abandonedErr(r *request) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

// runGroup runs requests in one BEGIN IMMEDIATE … COMMIT. A failing request
// must not take the others down with it, but wrapping each in a savepoint
// makes SQLite copy every page a request touches into a sub-journal first,
// which cost as much as the request itself. Requests rarely fail, so the
// group runs without savepoints; if one fails, the whole group rolls back
// and runs again with a savepoint per request, and only the failing one is
// undone. (Requests only write through w, so running one again is safe.)
func (s *Store) runGroup(w *wtx, batch []*request) {
	// A caller that already gave up does not get its write done.
	live := s.keepWanted(batch, func(r *request) bool {
		return r.ctx.Err() == nil || !r.state.CompareAndSwap(queued, abandoned)
	})
	if len(live) == 0 {
		return
	}
	if err := w.setSync(live); err != nil {
		s.failAll(live, fmt.Errorf("set synchronous: %w", err))
		return
	}
	if err := w.begin(); err != nil {
		s.failGroup(live, fmt.Errorf("begin: %w", err))
		return
	}
	// Callers could give up while BEGIN waited for another process's lock.
	if live = s.keepWanted(live, (*request).start); len(live) == 0 {
		w.rollback()
		return
	}
	if s.tryGroup(w, live, false) {
		return
	}
	if err := w.begin(); err != nil {
		s.failGroup(live, fmt.Errorf("begin: %w", err))
		return
	}
	s.tryGroup(w, live, true)
}

// keepWanted returns the requests keep accepts and answers the others as
// abandoned.
func (s *Store) keepWanted(batch []*request, keep func(*request) bool) []*request {
	live := batch[:0:0]
	for _, r := range batch {
		if !keep(r) {
			s.answer(r, response{err: abandonedErr(r)})
			continue
		}
		live = append(live, r)
	}
	return live
}

// tryGroup runs live in the transaction begun for it and answers every
// request, or, without savepoints, returns false after rolling back when a
// request of several failed.
func (s *Store) tryGroup(w *wtx, live []*request, savepoints bool) bool {
	fail := func(err error) { s.failAll(live, err) }
	resps := make([]response, len(live))
	changes := make([][]store.Change, len(live))
	for i, r := range live {
		if savepoints {
			if err := w.raw("SAVEPOINT req"); err != nil {
				s.abort(w, fail, fmt.Errorf("savepoint: %w", err))
				return true
			}
		}
		w.changes = nil
		val, err := r.run(w)
		if err != nil {
			if w.rolledBack.Load() {
				// SQLite undid the whole transaction itself (disk full,
				// I/O error): nothing is left to roll back or to retry.
				s.failGroup(live, err)
				return true
			}
			if !savepoints {
				if rbErr := w.raw("ROLLBACK"); rbErr != nil {
					s.abort(w, fail, errors.Join(err, fmt.Errorf("rollback: %w", rbErr)))
					return true
				}
				if len(live) > 1 {
					return false // again, with savepoints
				}
				// The caller's own failure: hand it over.
				fail(err)
				return true
			}
			if rbErr := w.raw("ROLLBACK TO req"); rbErr != nil {
				s.abort(w, fail, errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr)))
				return true
			}
			if rbErr := w.raw("RELEASE req"); rbErr != nil {
				s.abort(w, fail, errors.Join(err, fmt.Errorf("release savepoint: %w", rbErr)))
				return true
			}
			resps[i] = response{err: err}
			continue
		}
		if savepoints {
			if err := w.raw("RELEASE req"); err != nil {
				s.abort(w, fail, fmt.Errorf("release savepoint: %w", err))
				return true
			}
		}
		resps[i] = response{val: val}
		changes[i] = w.changes
	}
	if err := w.raw("COMMIT"); err != nil {
		s.abort(w, fail, fmt.Errorf("commit: %w", err))
		return true
	}
	s.commits.Add(1)
	s.kickCheckpointer()
	if slices.ContainsFunc(changes, func(c []store.Change) bool { return len(c) > 0 }) {
		s.lastCommit.Store(time.Now().UnixNano())
	}
	s.publish(mergeChanges(s.instance, changes))
	for i, r := range live {
		s.answer(r, resps[i])
	}
	return true
}

func (s *Store) failAll(live []*request, err error) {
	for _, r := range live {
		s.answer(r, response{err: err})
	}
}

// failGroup answers every request with err, a failure of the store rather
// than of one request, and logs it once for the group.
func (s *Store) failGroup(live []*request, err error) {
	s.log.Error("store write group failed", "requests", len(live), "err", err)
	s.lastFailure.Store(&writeFailure{at: time.Now(), err: err})
	s.failAll(live, err)
}

// abort rolls the whole group back and answers every request with err.
func (s *Store) abort(w *wtx, fail func(error), err error) {
	w.rollback()
	s.log.Error("store write group failed", "err", err)
	s.lastFailure.Store(&writeFailure{at: time.Now(), err: err})
	fail(err)
}

// wtx is the writer's view of its connection: statements prepared once and
// reused, the connection's synchronous mode and the changes the current
// request made. Only the writer goroutine touches it.
type wtx struct {
	s       *Store
	stmts   map[string]*sql.Stmt
	sync    string // current PRAGMA synchronous of the connection
	changes []store.Change
	// rolledBack is set by the connection's rollback hook: SQLite ended the
	// transaction, by a ROLLBACK or by itself after an error such as
	// SQLITE_FULL or SQLITE_IOERR. begin clears it.
	rolledBack *atomic.Bool
}

// begin starts the write transaction, waiting up to the busy timeout for
// another process's lock.
func (w *wtx) begin() error {
	w.rolledBack.Store(false)
	return w.raw("BEGIN IMMEDIATE")
}

// rollback ends the transaction unless SQLite already rolled it back
// (after SQLITE_FULL, SQLITE_IOERR and the like it may have: a second
// ROLLBACK would only fail with "no transaction is active").
func (w *wtx) rollback() {
	if w.rolledBack.Load() {
		return
	}
	if err := w.raw("ROLLBACK"); err != nil {
		w.s.log.Error("store rollback failed", "err", err)
	}
}

// setSync lowers synchronous to NORMAL for a group of leaseOnly requests
// when the store runs with FULL, and restores FULL for any other group.
func (w *wtx) setSync(group []*request) error {
	want := w.s.syncMode
	if want == "full" && !slices.ContainsFunc(group, func(r *request) bool { return r.kind != leaseOnly }) {
		want = "normal"
	}
	if want == w.sync {
		return nil
	}
	if _, err := w.s.wconn.ExecContext(context.Background(), "PRAGMA synchronous = "+want); err != nil {
		return err
	}
	w.sync = want
	return nil
}

func (w *wtx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := w.s.wconn.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}

// raw runs a statement without arguments or results (transaction control).
func (w *wtx) raw(query string) error {
	_, err := w.exec(query)
	return err
}

func (w *wtx) exec(query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

func (w *wtx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

// queryRow is QueryRow with the prepare error folded into Scan's.
func (w *wtx) queryRow(query string, args ...any) store.Scanner {
	st, err := w.stmt(query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRow(args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (w *wtx) closeStmts() {
	for _, st := range w.stmts {
		_ = st.Close()
	}
}

// changed records a change of the current request, published after commit.
func (w *wtx) changed(c store.Change) {
	w.changes = append(w.changes, c)
}
