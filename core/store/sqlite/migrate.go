package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/auditrelay/auditrelay/core/store"
)

// migrationFiles holds the schema, one numbered file per version
// (NNNN_name.sql); the PostgreSQL backend keeps the same version numbers.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the database on conn up to the last of ms, each migration
// in its own IMMEDIATE transaction together with its schema_migrations row,
// so a failure leaves every earlier version applied. It refuses a database
// whose version is newer than ms knows. It returns the versions applied.
func migrate(ctx context.Context, conn *sql.Conn, ms []store.Migration, nowMs int64) ([]int, error) {
	const bootstrap = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_ms INTEGER NOT NULL
	)`
	if _, err := conn.ExecContext(ctx, bootstrap); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	latest := len(ms)
	var applied []int
	for {
		v, err := schemaVersion(ctx, conn)
		if err != nil {
			return applied, err
		}
		if err := store.CheckVersion(v, latest); err != nil {
			return applied, err
		}
		if v == latest {
			return applied, nil
		}
		m := ms[v]
		ok, err := applyMigration(ctx, conn, m, nowMs)
		if err != nil {
			return applied, err
		}
		if ok {
			applied = append(applied, m.Version)
		}
	}
}

func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// applyMigration runs m unless another process applied it first (the version
// is re-read inside the write lock); it reports whether it ran m.
func applyMigration(ctx context.Context, conn *sql.Conn, m store.Migration, nowMs int64) (ran bool, err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return false, fmt.Errorf("migration %s: begin: %w", m.Name, err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	v, err := schemaVersion(ctx, conn)
	if err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if v >= m.Version {
		_, err = conn.ExecContext(ctx, "COMMIT")
		return false, err
	}
	if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)`, m.Version, m.Name, nowMs); err != nil {
		return false, fmt.Errorf("migration %s: record version: %w", m.Name, err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return true, nil
}
