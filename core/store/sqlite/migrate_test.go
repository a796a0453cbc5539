package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("embedded migrations = %+v", ms)
	}
}

func TestLoadMigrationsRejectsBadSets(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {Data: []byte("SELECT 1")}, "m/0003_c.sql": {Data: []byte("SELECT 1")}},
		"repeat":    {"m/0001_a.sql": {Data: []byte("SELECT 1")}, "m/001_b.sql": {Data: []byte("SELECT 1")}},
		"bad name":  {"m/init.sql": {Data: []byte("SELECT 1")}},
		"version 0": {"m/0000_zero.sql": {Data: []byte("SELECT 1")}},
	}
	for name, fsys := range cases {
		if _, err := store.LoadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// rawConn is a plain connection to path, outside any Store.
func rawConn(t *testing.T, path string) *sql.Conn {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatalf("conn: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(); _ = db.Close() })
	return conn
}

// TestMigrationFailureKeepsEarlierVersions: each migration is its own
// transaction; a broken one leaves the earlier ones applied and itself not.
func TestMigrationFailureKeepsEarlierVersions(t *testing.T) {
	ctx := context.Background()
	conn := rawConn(t, filepath.Join(t.TempDir(), "m.db"))
	ms, err := store.LoadMigrations(fstest.MapFS{
		"m/0001_one.sql": {Data: []byte("CREATE TABLE one (x INTEGER);")},
		"m/0002_two.sql": {Data: []byte("CREATE TABLE two (x INTEGER); CREATE TABLE broken (;")},
	}, "m")
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	applied, err := migrate(ctx, conn, ms, 1)
	if err == nil || !strings.Contains(err.Error(), "0002_two.sql") {
		t.Fatalf("migrate error = %v, want one naming 0002_two.sql", err)
	}
	if len(applied) != 1 || applied[0] != 1 {
		t.Fatalf("applied = %v, want [1]", applied)
	}
	if v, _ := schemaVersion(ctx, conn); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name IN ('one', 'two')`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("tables one/two present = %d, %v; want only one", n, err)
	}
	// Fixed, it goes on from version 1.
	ms[1].SQL = "CREATE TABLE two (x INTEGER);"
	if applied, err := migrate(ctx, conn, ms, 1); err != nil || len(applied) != 1 || applied[0] != 2 {
		t.Fatalf("second migrate = %v, %v; want [2]", applied, err)
	}
	if applied, err := migrate(ctx, conn, ms, 1); err != nil || len(applied) != 0 {
		t.Fatalf("third migrate = %v, %v; want nothing to do", applied, err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	conn := rawConn(t, path)
	if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES (999, '0999_future.sql', 1)`); err != nil {
		t.Fatalf("insert version: %v", err)
	}
	_, err = Open(ctx, Options{Path: path})
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "999") {
		t.Fatalf("error %q does not name the database version", err)
	}
}

// TestReopenDoesNotRemigrate: opening an up-to-date database applies
// nothing and keeps one row per version.
func TestReopenDoesNotRemigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "re.db")
	for range 3 {
		s, err := Open(ctx, Options{Path: path})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	conn := rawConn(t, path)
	ms, _ := store.LoadMigrations(migrationFiles, "migrations")
	var rows int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(ms) {
		t.Fatalf("schema_migrations rows = %d, %v; want %d", rows, err, len(ms))
	}
	var av int
	if err := conn.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&av); err != nil || av != 2 {
		t.Fatalf("auto_vacuum = %d, %v; want 2 (incremental)", av, err)
	}
}

// TestMigrateLostColumn: a version-1 database with a delivery in flight
// (what a crashed older binary leaves) opens under the latest version; version 2 adds
// deliveries.lost at 0; the delivery is rescued and counted from there.
func TestMigrateLostColumn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	s, err := Open(ctx, Options{Path: path, Instance: "old"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, []store.NewEntry{{EntrySummary: store.EntrySummary{ID: "e1"},
		Deliveries: []store.NewDelivery{{ID: "d1", Subscription: "hook", State: store.Pending}}}}, nil); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Claim(ctx, store.ClaimParams{Subscription: "hook", Owner: "old", Limit: 1, Lease: time.Second}); err != nil || len(res.Claimed) != 1 {
		t.Fatalf("Claim = %+v, %v", res, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Back to version 1, as the previous binary left it.
	conn := rawConn(t, path)
	back := []string{`ALTER TABLE deliveries DROP COLUMN lost`, `DROP TABLE write_probe`, `ALTER TABLE entries DROP COLUMN list_item`}
	for _, col := range strings.Split(store.SentCols, ", ") { // version 5
		back = append(back, `ALTER TABLE attempts DROP COLUMN `+col)
	}
	for _, q := range append(back, `DELETE FROM schema_migrations WHERE version >= 2`) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if v, _ := schemaVersion(ctx, conn); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}

	s, err = Open(ctx, Options{Path: path, Instance: "new"})
	if err != nil {
		t.Fatalf("Open of a version-1 database: %v", err)
	}
	defer s.Close()
	ms, _ := store.LoadMigrations(migrationFiles, "migrations")
	if v, _ := schemaVersion(ctx, conn); v != len(ms) {
		t.Fatalf("version after Open = %d, want %d", v, len(ms))
	}
	d, _, err := s.GetDelivery(ctx, "d1")
	if err != nil || d.State != store.InFlight || d.Lost != 0 {
		t.Fatalf("delivery after the upgrade: %+v, %v", d, err)
	}
	rr, err := s.RescueExpired(ctx, store.RescueParams{Now: time.Now().Add(time.Hour), PoisonAfter: 3})
	if err != nil || rr.Requeued != 1 {
		t.Fatalf("rescue = %+v, %v", rr, err)
	}
	if d, _, _ = s.GetDelivery(ctx, "d1"); d.State != store.Pending || d.Lost != 1 {
		t.Fatalf("rescued delivery %+v, want pending with Lost 1", d)
	}
}
