package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ownTables are the tables auditrelay creates; Reset drops nothing else.
var ownTables = []string{"attempts", "deliveries", "entries", "subscription_state", "cursors", "actions", "leaders", "write_probe", "schema_migrations"}

// ErrForeignObjects is returned by Reset when the schema holds relations
// auditrelay did not create.
var ErrForeignObjects = errors.New("the schema holds tables that are not auditrelay's")

// connect opens a small pool on o's database and schema, without
// migrating, and returns the schema's name.
func connect(ctx context.Context, o Options) (*pgxpool.Pool, string, error) {
	cfg, ours, err := parseURL(o.URL)
	if err != nil {
		return nil, "", err
	}
	if err := ours.apply(&o); err != nil {
		return nil, "", err
	}
	if o.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.Schema}.Sanitize()
		if err := createSchema(ctx, cfg.ConnConfig, o.Schema); err != nil {
			return nil, "", err
		}
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("postgres store: %w", err)
	}
	var cur *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&cur); err != nil {
		pool.Close()
		return nil, "", fmt.Errorf("postgres store: connect: %w", err)
	}
	if cur == nil {
		pool.Close()
		return nil, "", errors.New("postgres store: no schema of search_path exists: create it, or set a schema that exists")
	}
	return pool, *cur, nil
}

// Status reports the schema, the version its database is at (0 when
// auditrelay never migrated it) and the version this binary writes.
func Status(ctx context.Context, o Options) (schema string, db, binary int, err error) {
	pool, schema, err := connect(ctx, o)
	if err != nil {
		return "", 0, 0, err
	}
	defer pool.Close()
	binary = LatestVersion()
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return schema, 0, binary, fmt.Errorf("postgres store: schema %s: %w", schema, err)
	}
	if !exists {
		return schema, 0, binary, nil
	}
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&db); err != nil {
		return schema, 0, binary, fmt.Errorf("postgres store: schema %s: read version: %w", schema, err)
	}
	return schema, db, binary, nil
}

// Reset drops every auditrelay table of o's schema, so that the next Open
// starts from an empty, freshly migrated store (bench uses it). It refuses,
// with ErrForeignObjects naming them, when the schema holds any other
// table, view or sequence: it never empties a database someone else uses.
// It holds the migration lock, so no instance migrates meanwhile.
func Reset(ctx context.Context, o Options) (schema string, err error) {
	pool, schema, err := connect(ctx, o)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`, schema)
	if err != nil {
		return schema, fmt.Errorf("postgres store: schema %s: list tables: %w", schema, err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return schema, fmt.Errorf("postgres store: schema %s: list tables: %w", schema, err)
	}
	var foreign, own []string
	for _, t := range tables {
		if slices.Contains(ownTables, t) {
			own = append(own, t)
		} else {
			foreign = append(foreign, t)
		}
	}
	if len(foreign) > 0 {
		slices.Sort(foreign)
		return schema, fmt.Errorf("%w: schema %s has %s; refusing to reset it (use an empty database, or a schema of its own with search_path)",
			ErrForeignObjects, schema, strings.Join(foreign, ", "))
	}
	if len(own) == 0 {
		return schema, nil
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return schema, err
	}
	defer conn.Release()
	key := migrateLockKey(schema)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return schema, fmt.Errorf("postgres store: migration lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	idents := make([]string, len(own))
	for i, t := range own {
		idents[i] = pgx.Identifier{schema, t}.Sanitize()
	}
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS `+strings.Join(idents, ", ")); err != nil {
		return schema, fmt.Errorf("postgres store: schema %s: drop tables: %w", schema, err)
	}
	return schema, nil
}
