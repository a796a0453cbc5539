package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" database/sql driver

	"github.com/auditrelay/auditrelay/core/store"
)

// Defaults for Options.
const (
	GroupCommitWindowDefault = 2 * time.Millisecond
	MaxBatchDefault          = 128
	ReadersDefault           = 4
	// WALMaxFramesDefault is 256 MiB of 4 KiB pages: a log start-over
	// every few seconds at 1,000 entries/s rather than every second, which
	// kept p99 under 16 ms instead of 16-26 ms on the test VM.
	WALMaxFramesDefault = 65536
	BusyTimeoutDefault  = 10 * time.Second
)

// Options configure Open.
type Options struct {
	// Path is the database file; its directory must exist. The file and its
	// -wal and -shm companions are created when missing.
	Path string
	// Instance identifies this process in changes and logs.
	Instance string
	// Synchronous is "normal" (default: in WAL mode a commit survives a
	// process crash, the last commits may roll back on power loss) or
	// "full" (a commit also survives power loss; one fsync per group commit).
	Synchronous string
	// GroupCommitWindow bounds how long the writer waits, after taking a
	// request, for callers that are already inside a write call to submit
	// theirs, so that they share one commit. A lone caller never waits.
	// Default GroupCommitWindowDefault; negative disables waiting.
	GroupCommitWindow time.Duration
	// MaxBatch caps the requests in one commit. Default MaxBatchDefault.
	MaxBatch int
	// Readers is the size of the read-only pool serving queries. Default
	// ReadersDefault.
	Readers int
	// WALMaxFrames bounds the write-ahead log: past it, the writer
	// completes a checkpoint itself so the log starts over (see
	// checkpoint.go). Default WALMaxFramesDefault.
	WALMaxFrames int
	// BusyTimeout is how long a connection waits for a lock another process
	// holds. Default BusyTimeoutDefault.
	BusyTimeout time.Duration
	// Logger receives migrations, commit failures and prune summaries; nil
	// discards.
	Logger *slog.Logger
	// Now is the store's clock, used where a params struct has no Now; nil
	// means time.Now.
	Now func() time.Time
}

// Store is the SQLite implementation of store.Store. One goroutine owns the
// only writing connection and commits requests in groups; a separate pool
// of read-only connections serves queries, so readers never wait for writes.
type Store struct {
	path     string
	syncMode string // "normal" or "full"
	instance string
	log      *slog.Logger
	now      func() time.Time
	window   time.Duration
	maxBatch int
	// reclaimAfter is how many rows a prune removes before it reclaims space.
	reclaimAfter int

	wdb   *sql.DB
	wconn *sql.Conn // owned by the writer goroutine once it runs
	rdb   *sql.DB
	// rolledBack is set by wconn's rollback hook; see wtx.
	rolledBack *atomic.Bool
	// The outcome of real writes, for ProbeWrite: when a group with
	// changes last committed (unix ns), and the last failure of a group
	// for the store's sake (not a request's own error).
	lastCommit    atomic.Int64
	lastFailure   atomic.Pointer[writeFailure]
	failureMemory time.Duration

	reqs    chan *request
	closing chan struct{} // closed by Close: stop accepting, drain, exit
	done    chan struct{} // closed when the writer goroutine has exited
	// active counts callers inside a write method whose request has not been
	// answered yet; the writer waits for them (up to window) to join a group.
	active atomic.Int64
	// commits counts committed groups (for tests and benchmarks).
	commits atomic.Int64

	// The checkpointer's connection, and walFrames: the log's length when
	// it last looked; see checkpoint.go.
	cdb       *sql.DB
	cconn     *sql.Conn
	ckptKick  chan struct{}
	ckptDone  chan struct{}
	walFrames atomic.Int64
	walMax    int64

	hub *store.Hub // this store's watchers

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating and migrating when needed) the database at o.Path.
// It fails with store.ErrSchemaTooNew when a newer auditrelay migrated it.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Path == "" {
		return nil, errors.New("sqlite store: Options.Path is empty")
	}
	abs, err := filepath.Abs(o.Path)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: path %q: %w", o.Path, err)
	}
	if fi, err := os.Stat(filepath.Dir(abs)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("sqlite store: directory of %s does not exist or is not a directory", abs)
	}
	syncMode := strings.ToLower(o.Synchronous)
	switch syncMode {
	case "":
		syncMode = "normal"
	case "normal", "full":
	default:
		return nil, fmt.Errorf("sqlite store: Options.Synchronous %q: expected \"normal\" or \"full\"", o.Synchronous)
	}
	s := &Store{
		path:     abs,
		syncMode: syncMode,
		instance: o.Instance,
		log:      o.Logger,
		now:      o.Now,
		window:   o.GroupCommitWindow,
		maxBatch: o.MaxBatch,
		walMax:   int64(o.WALMaxFrames),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
		ckptKick: make(chan struct{}, 1),
		ckptDone: make(chan struct{}),
		hub:      store.NewHub(),

		rolledBack:    new(atomic.Bool),
		failureMemory: failureMemoryDefault,
		reclaimAfter:  reclaimAfterDefault,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.window == 0 {
		s.window = GroupCommitWindowDefault
	}
	if s.maxBatch <= 0 {
		s.maxBatch = MaxBatchDefault
	}
	if s.walMax <= 0 {
		s.walMax = WALMaxFramesDefault
	}
	readers := o.Readers
	if readers <= 0 {
		readers = ReadersDefault
	}
	busy := o.BusyTimeout
	if busy <= 0 {
		busy = BusyTimeoutDefault
	}
	s.reqs = make(chan *request, s.maxBatch)

	if err := s.openWriter(ctx, abs, syncMode, busy); err != nil {
		return nil, explain(abs, err)
	}
	if err := s.openReaders(ctx, abs, busy, readers); err != nil {
		_ = s.wconn.Close()
		_ = s.wdb.Close()
		return nil, err
	}
	if err := s.openCheckpointer(ctx, abs, busy); err != nil {
		_ = s.rdb.Close()
		_ = s.wconn.Close()
		_ = s.wdb.Close()
		return nil, err
	}
	go s.writer()
	go s.checkpointer()
	return s, nil
}

// dsn builds a file: URI so that SQLite's own parameters (mode=ro) apply.
func dsn(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: params.Encode()}
	return u.String()
}

func (s *Store) openWriter(ctx context.Context, path, syncMode string, busy time.Duration) error {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	// Must precede the first table; lets Prune hand pages back to the OS.
	q.Set("_auto_vacuum", "incremental")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+strings.ToUpper(syncMode)+")")
	q.Add("_pragma", "foreign_keys(1)")
	// 4 MB of page cache for the writer. Larger is slower here: SQLite
	// walks the whole cache's hash table at the end of most write
	// transactions (pcache1TruncateUnsafe), which at 16 MB took an eighth
	// of the writer's time; pages it misses come from the OS page cache.
	q.Add("_pragma", "cache_size(-4000)")
	// The checkpointer does it, off the writer's path (checkpoint.go).
	q.Add("_pragma", "wal_autocheckpoint(0)")
	// When the log starts over, give back what it grew past its bound.
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", s.walMax*4096))
	// Savepoints journal the pages they touch; in memory that costs no
	// write(2) per request.
	q.Add("_pragma", "temp_store(MEMORY)")
	db, err := sql.Open("sqlite", dsn(path, q))
	if err != nil {
		return fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	fail := func(err error) error {
		_ = conn.Close()
		_ = db.Close()
		return fmt.Errorf("sqlite store: %s: %w", path, err)
	}
	// SQLite may end a transaction itself after an error (SQLITE_FULL,
	// SQLITE_IOERR, ...); the hook tells the writer, which then does not
	// roll back a second time.
	err = conn.Raw(func(dc any) error {
		h, ok := dc.(interface{ RegisterRollbackHook(msqlite.RollbackHookFn) })
		if !ok {
			return fmt.Errorf("driver connection %T has no rollback hook", dc)
		}
		h.RegisterRollbackHook(func() { s.rolledBack.Store(true) })
		return nil
	})
	if err != nil {
		return fail(err)
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(fmt.Errorf("journal_mode is %q, WAL is required (is the file on a network file system?)", mode))
	}
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return fail(err)
	}
	applied, err := migrate(ctx, conn, ms, encodeTime(s.now()))
	if err != nil {
		return fail(err)
	}
	if len(applied) > 0 {
		s.log.Info("store migrated", "path", path, "versions", applied)
	}
	s.wdb, s.wconn = db, conn
	return nil
}

func (s *Store) openReaders(ctx context.Context, path string, busy time.Duration, n int) error {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	q.Set("_query_only", "1")
	q.Add("_pragma", "cache_size(-4000)")
	db, err := sql.Open("sqlite", dsn(path, q))
	if err != nil {
		return fmt.Errorf("sqlite store: open readers for %s: %w", path, err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return fmt.Errorf("sqlite store: open readers for %s: %w", path, err)
	}
	s.rdb = db
	return nil
}

// Close stops accepting writes, commits what is queued, closes every Watch
// channel and the database. Safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.done
		<-s.ckptDone
		s.hub.Close()
		var errs []error
		if err := s.rdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close readers: %w", err))
		}
		if err := s.cconn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close checkpointer: %w", err))
		}
		if err := s.cdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close checkpointer: %w", err))
		}
		// The writer closes last: SQLite checkpoints and removes the WAL when
		// the last connection goes.
		if err := s.wconn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close writer: %w", err))
		}
		if err := s.wdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close writer: %w", err))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Ping checks that the store is open and the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var one int
	if err := s.rdb.QueryRowContext(ctx, "SELECT 1 FROM schema_migrations LIMIT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// clock returns t, or the store's clock when t is zero.
func (s *Store) clock(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t
}
