package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/auditrelay/auditrelay/core/store"
)

// migrationFiles holds the schema, one numbered file per version
// (NNNN_name.sql), with the same version numbers as the SQLite backend.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// LatestVersion is the schema version this binary writes.
func LatestVersion() int {
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return 0
	}
	return len(ms)
}

// ErrSchemaOutdated is returned by Open in MigrateManual mode when the
// database needs migrations this binary has.
var ErrSchemaOutdated = errors.New("database schema is older than this binary: run `auditrelay migrate`")

const sqlBootstrap = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer     PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL
)`

// migrate brings the schema up to date (or, with apply false, only checks
// it), holding a session advisory lock for the schema so that instances
// booting together run each migration once. Each migration runs in its own
// transaction with its schema_migrations row. It refuses a schema newer
// than the binary knows. It returns the versions applied.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string, apply bool, now time.Time) ([]int, error) {
	return migrateFS(ctx, pool, schema, migrationFiles, "migrations", apply, now)
}

func migrateFS(ctx context.Context, pool *pgxpool.Pool, schema string, fsys fs.FS, dir string, apply bool, now time.Time) ([]int, error) {
	ms, err := store.LoadMigrations(fsys, dir)
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	key := migrateLockKey(schema)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		// A failed unlock leaves the session holding the lock: drop the
		// connection rather than return it to the pool.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := conn.Exec(ctx, sqlBootstrap); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var v int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	latest := len(ms)
	if err := store.CheckVersion(v, latest); err != nil {
		return nil, err
	}
	if v < latest && !apply {
		return nil, fmt.Errorf("%w (database at version %d, binary at %d)", ErrSchemaOutdated, v, latest)
	}
	var applied []int
	for _, m := range ms[v:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, m.Version, m.Name, now)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// migrateLockKey is the session advisory lock of a schema's migrations.
func migrateLockKey(schema string) int64 {
	return lockKey(fnvString(schema), "migrate")
}

// Migrate applies missing migrations to the database of o without opening
// a Store (the `auditrelay migrate` command). It reports the schema and the
// versions it applied; store.ErrSchemaTooNew when the database is newer.
func Migrate(ctx context.Context, o Options) (schema string, applied []int, err error) {
	pool, schema, err := connect(ctx, o)
	if err != nil {
		return "", nil, err
	}
	defer pool.Close()
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	applied, err = migrate(ctx, pool, schema, true, now)
	if err != nil {
		return schema, applied, fmt.Errorf("postgres store: schema %s: %w", schema, err)
	}
	return schema, applied, nil
}
