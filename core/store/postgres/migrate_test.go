package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditrelay/auditrelay/core/store"
)

func TestMigrationsLoad(t *testing.T) {
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || LatestVersion() != len(ms) {
		t.Fatalf("embedded migrations: %d, LatestVersion %d", len(ms), LatestVersion())
	}
	bad := map[string]fstest.MapFS{
		"gap":     {"m/0001_a.sql": {Data: []byte("SELECT 1")}, "m/0003_c.sql": {Data: []byte("SELECT 1")}},
		"no num":  {"m/init.sql": {Data: []byte("SELECT 1")}},
		"zero":    {"m/0000_a.sql": {Data: []byte("SELECT 1")}},
		"repeats": {"m/0001_a.sql": {Data: []byte("SELECT 1")}, "m/0001_b.sql": {Data: []byte("SELECT 1")}},
	}
	for name, fsys := range bad {
		if _, err := store.LoadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: loadMigrations accepted it", name)
		}
	}
}

// version reads the schema's migration version.
func version(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.pool.QueryRow(context.Background(), `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOpenConcurrently boots several stores on one empty schema at once:
// the advisory lock lets exactly one of them run each migration.
func TestOpenConcurrently(t *testing.T) {
	schema := newSchema(t)
	const n = 5
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), Options{URL: testURL(t), Schema: schema, Instance: "boot", MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var rows int
	if err := stores[0].pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != LatestVersion() {
		t.Fatalf("schema_migrations has %d rows, want %d (one per migration)", rows, LatestVersion())
	}
}

func TestSchemaTooNewAndManual(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	s := openTest(t, schema, Options{Instance: "a"})
	if v := version(t, s); v != LatestVersion() {
		t.Fatalf("version after Open = %d, want %d", v, LatestVersion())
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', now())`, LatestVersion()+1); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, Options{URL: testURL(t), Schema: schema})
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	if _, _, err := Migrate(ctx, Options{URL: testURL(t), Schema: schema}); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Migrate of a newer schema: %v, want ErrSchemaTooNew", err)
	}

	// Manual mode refuses an empty schema, and opens once migrated.
	fresh := newSchema(t)
	_, err = Open(ctx, Options{URL: testURL(t) + "&auditrelay_migrate=manual", Schema: fresh})
	if !errors.Is(err, ErrSchemaOutdated) || !strings.Contains(err.Error(), "auditrelay migrate") {
		t.Fatalf("manual Open of an empty schema: %v, want ErrSchemaOutdated naming the command", err)
	}
	if _, db, bin, err := Status(ctx, Options{URL: testURL(t), Schema: fresh}); err != nil || db != 0 || bin != LatestVersion() {
		t.Fatalf("Status before migrate = %d, %d, %v", db, bin, err)
	}
	got, applied, err := Migrate(ctx, Options{URL: testURL(t), Schema: fresh})
	if err != nil || got != fresh || len(applied) != LatestVersion() {
		t.Fatalf("Migrate = %s, %v, %v", got, applied, err)
	}
	m := openTest(t, fresh, Options{Migrate: MigrateManual})
	if err := m.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, applied, err := Migrate(ctx, Options{URL: testURL(t), Schema: fresh}); err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate = %v, %v; want nothing to do", applied, err)
	}
	if _, err := Open(ctx, Options{URL: testURL(t) + "&auditrelay_migrate=sometimes"}); err == nil {
		t.Fatalf("bad auditrelay_migrate accepted")
	}
	if _, err := Open(ctx, Options{URL: testURL(t) + "&auditrelay_typo=1"}); err == nil || !strings.Contains(err.Error(), "auditrelay_typo") {
		t.Fatalf("unknown auditrelay_ parameter: %v", err)
	}
}

// TestMigrateUpFromPrevious applies a later migration to a database at an
// earlier version, as an upgrade does, and keeps the data.
func TestMigrateUpFromPrevious(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	s := openTest(t, schema, Options{Instance: "a"})
	if _, err := s.Ingest(ctx, []store.NewEntry{{EntrySummary: store.EntrySummary{ID: "kept"}}}, nil); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	ms, _ := store.LoadMigrations(migrationFiles, "migrations")
	for _, m := range ms {
		fsys["m/"+m.Name] = &fstest.MapFile{Data: []byte(m.SQL)}
	}
	next := len(ms) + 1
	fsys["m/"+pad(next)+"_extra.sql"] = &fstest.MapFile{Data: []byte(`ALTER TABLE entries ADD COLUMN note text NOT NULL DEFAULT 'added'`)}
	applied, err := migrateFS(ctx, s.pool, s.schema, fsys, "m", true, time.Now())
	if err != nil || len(applied) != 1 || applied[0] != next {
		t.Fatalf("migrateFS = %v, %v; want [%d]", applied, err, next)
	}
	var note string
	if err := s.pool.QueryRow(ctx, `SELECT note FROM entries WHERE id = 'kept'`).Scan(&note); err != nil || note != "added" {
		t.Fatalf("after the upgrade: note %q, %v", note, err)
	}
	// A failing migration leaves the earlier version in place.
	fsys["m/"+pad(next+1)+"_broken.sql"] = &fstest.MapFile{Data: []byte(`ALTER TABLE nowhere ADD COLUMN x int`)}
	if _, err := migrateFS(ctx, s.pool, s.schema, fsys, "m", true, time.Now()); err == nil || !strings.Contains(err.Error(), "_broken.sql") {
		t.Fatalf("broken migration: %v, want an error naming it", err)
	}
	if v := version(t, s); v != next {
		t.Fatalf("version after a failed migration = %d, want %d", v, next)
	}
}

func pad(v int) string { return fmt.Sprintf("%04d", v) }

func TestReset(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	s := openTest(t, schema, Options{Instance: "a"})
	if _, err := s.Ingest(ctx, []store.NewEntry{{EntrySummary: store.EntrySummary{ID: "gone"}}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := Reset(ctx, Options{URL: testURL(t), Schema: schema}); err != nil || got != schema {
		t.Fatalf("Reset = %s, %v", got, err)
	}
	// Reopening starts empty.
	s2 := openTest(t, schema, Options{Instance: "b"})
	if es, err := s2.ListEntries(ctx, store.EntryFilter{}); err != nil || len(es) != 0 {
		t.Fatalf("entries after Reset = %v, %v", es, err)
	}
	// A schema with someone else's table is refused, and left alone.
	if _, err := s2.pool.Exec(ctx, `CREATE TABLE customers (id int)`); err != nil {
		t.Fatal(err)
	}
	_, err := Reset(ctx, Options{URL: testURL(t), Schema: schema})
	if !errors.Is(err, ErrForeignObjects) || !strings.Contains(err.Error(), "customers") {
		t.Fatalf("Reset with a foreign table: %v, want ErrForeignObjects naming it", err)
	}
	if err := s2.Ping(ctx); err != nil {
		t.Fatalf("refused Reset dropped tables: %v", err)
	}
	var n int
	if err := s2.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "customers"}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("foreign table: %v", err)
	}
}

// TestMigrateLostColumn: a version-1 schema with a delivery in flight
// (what a crashed older binary leaves) opens under the latest version; version 2 adds
// deliveries.lost at 0; the delivery is rescued and counted from there.
func TestMigrateLostColumn(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	s := openTest(t, schema, Options{Instance: "old"})
	if _, err := s.Ingest(ctx, []store.NewEntry{{EntrySummary: store.EntrySummary{ID: "e1"},
		Deliveries: []store.NewDelivery{{ID: "d1", Subscription: "hook", State: store.Pending}}}}, nil); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Claim(ctx, store.ClaimParams{Subscription: "hook", Owner: "old", Limit: 1, Lease: time.Second}); err != nil || len(res.Claimed) != 1 {
		t.Fatalf("Claim = %+v, %v", res, err)
	}
	// Back to version 1, as the previous binary left it.
	back := []string{`ALTER TABLE deliveries DROP COLUMN lost`, `DROP TABLE write_probe`, `ALTER TABLE entries DROP COLUMN list_item`}
	for _, col := range strings.Split(store.SentCols, ", ") { // version 5
		back = append(back, `ALTER TABLE attempts DROP COLUMN `+col)
	}
	for _, q := range append(back, `DELETE FROM schema_migrations WHERE version >= 2`) {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if v := version(t, s); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	s2 := openTest(t, schema, Options{Instance: "new"})
	if v := version(t, s2); v != LatestVersion() {
		t.Fatalf("version after Open = %d, want %d", v, LatestVersion())
	}
	d, _, err := s2.GetDelivery(ctx, "d1")
	if err != nil || d.State != store.InFlight || d.Lost != 0 {
		t.Fatalf("delivery after the upgrade: %+v, %v", d, err)
	}
	rr, err := s2.RescueExpired(ctx, store.RescueParams{Now: time.Now().Add(time.Hour), PoisonAfter: 3})
	if err != nil || rr.Requeued != 1 {
		t.Fatalf("rescue = %+v, %v", rr, err)
	}
	if d, _, _ = s2.GetDelivery(ctx, "d1"); d.State != store.Pending || d.Lost != 1 {
		t.Fatalf("rescued delivery %+v, want pending with Lost 1", d)
	}
}
