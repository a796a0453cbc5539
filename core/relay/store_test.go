package relay_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/postgres"
)

func TestStoreName(t *testing.T) {
	for _, tc := range []struct {
		store, want string
		sqlite      bool
	}{
		{"", filepath.Join("/data", "auditrelay.db"), true},
		{"sqlite:/var/lib/x.db", "/var/lib/x.db", true},
		{"postgres://relay:hunter2@db:5432/audit?sslmode=disable", "postgres://relay:xxxxx@db:5432/audit?sslmode=disable", false},
		{"postgres://db/audit", "postgres://db/audit", false},
		{"postgres://a b@%zz", "the store URL", false},
	} {
		cfg := config.Config{DataDir: "/data", Store: tc.store}
		if got := relay.StoreName(cfg); got != tc.want || relay.IsSQLite(tc.store) != tc.sqlite {
			t.Errorf("StoreName(%q) = %q (sqlite %v), want %q (sqlite %v)", tc.store, got, relay.IsSQLite(tc.store), tc.want, tc.sqlite)
		}
		if strings.Contains(relay.StoreName(cfg), "hunter2") {
			t.Errorf("StoreName shows the password: %s", relay.StoreName(cfg))
		}
	}
}

// TestMigrateSQLite: migrate creates the data directory and the database
// and says so; --check has nothing to check on SQLite.
func TestMigrateSQLite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := relayConfig(dir)
	report, err := relay.Migrate(context.Background(), cfg)
	if want := filepath.Join(dir, "auditrelay.db") + ": schema up to date"; err != nil || report != want {
		t.Fatalf("Migrate = %q, %v; want %q", report, err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "auditrelay.db")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := relay.CheckSchema(context.Background(), cfg); err == nil {
		t.Error("CheckSchema on SQLite: no error")
	}
}

// TestMigratePostgres: on a fresh schema, check says a migration is
// needed, migrate applies every migration and says which, and both then
// say it is up to date; an instance set to migrate manually refuses an
// outdated schema until then.
func TestMigratePostgres(t *testing.T) {
	base := os.Getenv("AUDITRELAY_TEST_POSTGRES")
	if base == "" {
		t.Skip("AUDITRELAY_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	cfg := relayConfig(t.TempDir())
	cfg.Store = freshSchema(t, base)
	latest := postgres.LatestVersion()

	report, current, err := relay.CheckSchema(ctx, cfg)
	if err != nil || current || !strings.Contains(report, fmt.Sprintf("version 0, this binary needs %d: run auditrelay migrate", latest)) {
		t.Fatalf("CheckSchema on a fresh schema = %q, %v, %v", report, current, err)
	}
	manual := cfg
	manual.Store += "&auditrelay_migrate=manual"
	if rt, err := relay.Open(ctx, manual, slog.New(slog.DiscardHandler), relay.Options{NoListeners: true}); err == nil {
		rt.Close()
		t.Fatal("an instance set to migrate manually opened an outdated schema")
	} else if !errors.Is(err, postgres.ErrSchemaOutdated) {
		t.Errorf("opening an outdated schema set to migrate manually: %v", err)
	}

	report, err = relay.Migrate(ctx, cfg)
	var versions []string
	for v := 1; v <= latest; v++ {
		versions = append(versions, fmt.Sprintf("%04d", v))
	}
	if want := fmt.Sprintf("applied migration %s; now at version %d", strings.Join(versions, ", "), latest); err != nil || !strings.HasSuffix(report, want) {
		t.Fatalf("Migrate = %q, %v; want …%q", report, err, want)
	}
	report, err = relay.Migrate(ctx, cfg)
	if want := fmt.Sprintf("up to date at version %d", latest); err != nil || !strings.HasSuffix(report, want) {
		t.Fatalf("Migrate again = %q, %v; want …%q", report, err, want)
	}
	if report, current, err := relay.CheckSchema(ctx, cfg); err != nil || !current {
		t.Fatalf("CheckSchema after migrating = %q, %v, %v", report, current, err)
	}
	rt, err := relay.Open(ctx, manual, slog.New(slog.DiscardHandler), relay.Options{NoListeners: true})
	if err != nil {
		t.Fatalf("an instance set to migrate manually, after migrate: %v", err)
	}
	rt.Close()

	// A schema newer than this binary (a rollback) is refused by both.
	conn, err := pgx.Connect(ctx, cfg.Store)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', now())", latest+1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := relay.CheckSchema(ctx, cfg); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("CheckSchema on a newer schema: %v", err)
	}
	if _, err := relay.Migrate(ctx, cfg); !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "upgrade auditrelay instead") {
		t.Errorf("Migrate on a newer schema: %v", err)
	}
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns a store URL that uses it.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_relay_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", relay.RedactURL(base), err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+ident+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
