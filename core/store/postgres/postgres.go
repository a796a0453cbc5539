package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrelay/auditrelay/core/store"
)

// Defaults for Options.
const (
	// MaxConnsDefault sizes the pool when neither Options.MaxConns nor the
	// URL's pool_max_conns says otherwise: one connection per busy
	// subscription worker, the outcome committer, concurrent webhook
	// ingests and the console's reads share it.
	MaxConnsDefault = 10
	// PollIntervalDefault is how often the watch poll fallback looks for
	// other instances' changes while notifications are unavailable.
	PollIntervalDefault = time.Second
	// NotifyWindowDefault is the debounce window of outgoing notifications.
	NotifyWindowDefault = 50 * time.Millisecond
)

// MigrateMode says what Open does with a database whose schema is older
// than the binary.
type MigrateMode string

// Migrate modes.
const (
	// MigrateAuto (the default) applies missing migrations at Open, under
	// an advisory lock, so instances starting together do not race.
	MigrateAuto MigrateMode = "auto"
	// MigrateManual refuses to open an outdated schema: an operator runs
	// `auditrelay migrate` first (rolling deploys that want the schema
	// change to be a separate, deliberate step).
	MigrateManual MigrateMode = "manual"
)

// Options configure Open.
type Options struct {
	// URL is a PostgreSQL connection URL or keyword/value string. pgx's own
	// parameters apply (pool_max_conns, default_query_exec_mode, sslmode,
	// search_path, ...), plus these, which Open removes before connecting:
	// auditrelay_migrate=auto|manual (see Migrate) and
	// auditrelay_listen=on|off (see NoListen).
	URL string
	// Schema, when set, is created if missing and used for every table
	// (search_path). Empty uses the connection's current schema
	// (search_path in the URL, else public).
	Schema string
	// Instance identifies this process in changes, notifications and logs.
	Instance string
	// Logger receives migrations, listener reconnects and prune summaries;
	// nil discards.
	Logger *slog.Logger
	// Now is the store's clock, used where a params struct has no Now; nil
	// means time.Now.
	Now func() time.Time
	// MaxConns caps the pool (the listener's connection comes on top). 0
	// means the URL's pool_max_conns, else MaxConnsDefault.
	MaxConns int
	// PollInterval is how often Watch looks for other instances' changes
	// while LISTEN is not connected (or disabled). Default
	// PollIntervalDefault.
	PollInterval time.Duration
	// NotifyWindow is how long changes are gathered into one NOTIFY after
	// the first one went out. Default NotifyWindowDefault; negative sends
	// every change at once.
	NotifyWindow time.Duration
	// NoListen disables LISTEN/NOTIFY (behind PgBouncer in transaction
	// pooling mode, which cannot hold a LISTEN): Watch then relies on the
	// poll fallback alone.
	NoListen bool
	// Migrate is MigrateAuto (default) or MigrateManual.
	Migrate MigrateMode
}

// Store is the PostgreSQL implementation of store.Store, for one or more
// auditrelay instances sharing a database.
type Store struct {
	pool     *pgxpool.Pool
	connCfg  *pgx.ConnConfig // for the listener's own connection
	schema   string
	channel  string // NOTIFY channel, per schema
	lockBase uint64 // mixed into advisory-lock keys, per schema
	instance string
	nonce    string // tells this Store's notifications from others'
	log      *slog.Logger
	now      func() time.Time

	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
	bg        sync.WaitGroup // listener, notifier, poller

	watch     *store.Hub
	notes     *notifier
	listening atomic.Bool // the listener's LISTEN is in place

	ingests    chan *ingestCall // to the ingest grouper; see group.go
	ingestDone chan struct{}    // closed when the grouper has stopped
	grouped    atomic.Int64     // calls stored in a statement shared with others
}

var _ store.Store = (*Store)(nil)

// Open connects to the database, creates or upgrades the schema (see
// Options.Migrate) and starts the change listener. It fails with
// store.ErrSchemaTooNew when a newer auditrelay migrated the database.
func Open(ctx context.Context, o Options) (*Store, error) {
	cfg, ours, err := parseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if err := ours.apply(&o); err != nil {
		return nil, err
	}
	if o.Migrate == "" {
		o.Migrate = MigrateAuto
	}
	if o.Migrate != MigrateAuto && o.Migrate != MigrateManual {
		return nil, fmt.Errorf("postgres store: migrate mode %q: expected auto or manual", o.Migrate)
	}
	if o.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.Schema}.Sanitize()
	}
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		// pgx prepares every statement; after five runs PostgreSQL may
		// switch to a generic plan that cannot see LIMIT $n or the size of
		// an unnest($n) array and hash-joins whole tables. Plans made for
		// the actual values cost a fraction of a millisecond of planning.
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	switch {
	case o.MaxConns > 0:
		cfg.MaxConns = int32(o.MaxConns)
	case !strings.Contains(o.URL, "pool_max_conns"):
		cfg.MaxConns = MaxConnsDefault
	}
	s := &Store{
		connCfg:  cfg.ConnConfig.Copy(),
		instance: o.Instance,
		log:      o.Logger,
		now:      o.Now,
		closing:  make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	s.nonce = hex.EncodeToString(buf)

	if o.Schema != "" {
		if err := createSchema(ctx, cfg.ConnConfig, o.Schema); err != nil {
			return nil, err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	s.pool = pool
	if err := s.init(ctx, o.Migrate); err != nil {
		pool.Close()
		return nil, err
	}
	poll := o.PollInterval
	if poll <= 0 {
		poll = PollIntervalDefault
	}
	window := o.NotifyWindow
	if window == 0 {
		window = NotifyWindowDefault
	}
	s.watch = store.NewHub()
	s.notes = newNotifier(s, window)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.notes.run()
	}()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.listen(o.NoListen, poll)
	}()
	s.ingests, s.ingestDone = make(chan *ingestCall), make(chan struct{})
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.groupIngests()
	}()
	return s, nil
}

// init finds the schema, checks or migrates it.
func (s *Store) init(ctx context.Context, mode MigrateMode) error {
	var schema *string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres store: connect: %w", err)
	}
	if schema == nil {
		return errors.New("postgres store: no schema of search_path exists: create it, or set a schema that exists")
	}
	s.schema = *schema
	s.channel = "auditrelay_changes:" + s.schema
	s.lockBase = fnvString(s.schema)
	applied, err := migrate(ctx, s.pool, s.schema, mode == MigrateAuto, s.now())
	if err != nil {
		return fmt.Errorf("postgres store: schema %s: %w", s.schema, err)
	}
	if len(applied) > 0 {
		s.log.Info("store migrated", "schema", s.schema, "versions", applied)
	}
	return nil
}

// ourParams are the URL parameters Open understands itself.
type ourParams struct {
	migrate, listen string
}

func (p ourParams) apply(o *Options) error {
	switch p.migrate {
	case "":
	case "auto", "manual":
		if o.Migrate == "" {
			o.Migrate = MigrateMode(p.migrate)
		}
	default:
		return fmt.Errorf("postgres store: URL parameter auditrelay_migrate=%q: expected auto or manual", p.migrate)
	}
	switch p.listen {
	case "", "on":
	case "off":
		o.NoListen = true
	default:
		return fmt.Errorf("postgres store: URL parameter auditrelay_listen=%q: expected on or off", p.listen)
	}
	return nil
}

// parseURL removes the auditrelay_* parameters and parses the rest with
// pgxpool.
func parseURL(raw string) (*pgxpool.Config, ourParams, error) {
	var ours ourParams
	if raw == "" {
		return nil, ours, errors.New("postgres store: empty URL")
	}
	conn := raw
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, ours, fmt.Errorf("postgres store: URL: %w", redact(err))
		}
		q := u.Query()
		ours.migrate, ours.listen = q.Get("auditrelay_migrate"), q.Get("auditrelay_listen")
		for k := range q {
			if strings.HasPrefix(k, "auditrelay_") && k != "auditrelay_migrate" && k != "auditrelay_listen" {
				return nil, ours, fmt.Errorf("postgres store: unknown URL parameter %s (expected auditrelay_migrate or auditrelay_listen)", k)
			}
		}
		q.Del("auditrelay_migrate")
		q.Del("auditrelay_listen")
		// Encode writes a space as "+", which pgx reads literally
		// (options=-c%20x would become the parameter "+x"); a literal "+"
		// is %2B, so every "+" left is a space.
		u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		conn = u.String()
	}
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		// pgx's parse errors do not include the password.
		return nil, ours, fmt.Errorf("postgres store: %w", err)
	}
	return cfg, ours, nil
}

// redact keeps a URL parse error from repeating a password.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// createSchema creates the store's schema on a short-lived connection
// (the pool's connections already point search_path at it).
func createSchema(ctx context.Context, cc *pgx.ConnConfig, schema string) error {
	c := cc.Copy()
	delete(c.RuntimeParams, "search_path")
	conn, err := pgx.ConnectConfig(ctx, c)
	if err != nil {
		return fmt.Errorf("postgres store: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		var pe *pgconn.PgError
		// Two instances creating it at once: one wins, the other sees a
		// unique violation on the catalog; the schema exists either way.
		if !errors.As(err, &pe) || pe.Code != "23505" {
			return fmt.Errorf("postgres store: create schema %s: %w", schema, err)
		}
	}
	return nil
}

// Schema is the schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// Close stops the listener and notifier (sending what they hold), closes
// every Watch channel and the pool. Safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.bg.Wait()
		s.watch.Close()
		s.pool.Close()
	})
	return s.closeErr
}

// Ping checks that the store is open and the database answers with the
// schema in place.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var one int
	if err := s.pool.QueryRow(ctx, `SELECT 1 FROM schema_migrations LIMIT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// checkOpen returns store.ErrClosed once Close began.
func (s *Store) checkOpen() error { return store.CheckOpen(s.closing) }

// clock returns t, or the store's clock when t is zero.
func (s *Store) clock(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t
}

// lockKey is the advisory-lock key for name in this store's schema, so
// that stores in different schemas of one database never wait on each
// other (beyond a 1 in 2^64 collision).
func (s *Store) lockKey(name string) int64 { return lockKey(s.lockBase, name) }

func lockKey(base uint64, name string) int64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(base >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(name))
	return int64(h.Sum64())
}

func fnvString(v string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(v))
	return h.Sum64()
}

// ts and fromTS are the only place times cross into SQL: timestamptz,
// NULL for the zero time, UTC on the way back. PostgreSQL keeps
// microseconds.
func ts(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

func fromTS(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func micros(d time.Duration) int64 { return d.Microseconds() }

func fromMicros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

// codec is the store.Codec of these columns: scanning into tsTime and
// usDuration decodes them as above.
type codec struct{}

func (codec) Time(t *time.Time) any         { return (*tsTime)(t) }
func (codec) Duration(d *time.Duration) any { return (*usDuration)(d) }

// tsTime scans a timestamptz column; NULL is the zero time.
type tsTime time.Time

func (t *tsTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	*t = tsTime(fromTS(v))
	return nil
}

// usDuration scans a bigint microsecond column.
type usDuration time.Duration

func (d *usDuration) ScanInt64(v pgtype.Int8) error {
	*d = usDuration(fromMicros(v.Int64))
	return nil
}

// inTx runs fn in a transaction and commits it; a failing fn rolls back.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return tx.Commit(ctx)
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
