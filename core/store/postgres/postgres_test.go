package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/storetest"
)

// envURL names the variable CI sets to the test server's URL.
const envURL = "AUDITRELAY_TEST_POSTGRES"

// testURL is the test database's URL; the test skips without one.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		t.Skip(envURL + " is not set: skipping the PostgreSQL tests (set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return u
}

// newSchema reserves a fresh schema name for one test and drops the schema
// (whatever it holds) when the test ends. It does not create it: Open does.
func newSchema(t testing.TB) string {
	t.Helper()
	url := testURL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	// Registered before any store's Close, so it runs after them.
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// openTest opens a store on schema, closed when the test ends.
func openTest(t testing.TB, schema string, o Options) *Store {
	t.Helper()
	o.URL = testURL(t)
	o.Schema = schema
	if o.MaxConns == 0 {
		o.MaxConns = 4
	}
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatalf("Open(schema %s): %v", schema, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newDatabase gives each contract test its own schema.
func newDatabase(t *testing.T) storetest.Opener {
	schema := newSchema(t)
	return func(t *testing.T, cfg storetest.Config) store.Store {
		t.Helper()
		return openTest(t, schema, Options{Instance: cfg.Instance, Now: cfg.Now})
	}
}

func TestContract(t *testing.T) {
	testURL(t)
	storetest.Run(t, newDatabase)
}
