package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestProbeWriteLocked: while another session holds a lock that blocks the
// probe's write, ProbeWrite fails within its context (reads still pass
// Ping), and commits again once the lock goes.
func TestProbeWriteLocked(t *testing.T) {
	schema := newSchema(t)
	s := openTest(t, schema, Options{Instance: "probe"})
	ctx := context.Background()
	if err := s.ProbeWrite(ctx); err != nil {
		t.Fatalf("ProbeWrite: %v", err)
	}
	conn, err := pgx.Connect(ctx, testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{schema, "write_probe"}.Sanitize()+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err = s.ProbeWrite(pctx)
	cancel()
	if err == nil {
		t.Fatal("ProbeWrite succeeded while another session locks its table")
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping while locked: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.ProbeWrite(ctx); err != nil {
		t.Fatalf("ProbeWrite after the lock went: %v", err)
	}
}

// TestProbeWriteReadOnly: once the database refuses writes (as a standby
// does after a failover, or with default_transaction_read_only), Ping
// passes but ProbeWrite fails; it commits again once writes are allowed.
func TestProbeWriteReadOnly(t *testing.T) {
	schema := newSchema(t)
	// One connection, so that the session setting below is the pool's.
	s := openTest(t, schema, Options{Instance: "standby", MaxConns: 1, NoListen: true})
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, "SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping on a read-only session: %v", err)
	}
	err := s.ProbeWrite(ctx)
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("ProbeWrite on a read-only session = %v, want a read-only failure", err)
	}
	if _, err := s.pool.Exec(ctx, "SET default_transaction_read_only = off"); err != nil {
		t.Fatal(err)
	}
	if err := s.ProbeWrite(ctx); err != nil {
		t.Fatalf("ProbeWrite once writes are allowed: %v", err)
	}
}

// TestURLKeepsSpaces: removing auditrelay's own parameters from the URL
// keeps the others intact, spaces included (options=-c%20name=value).
func TestURLKeepsSpaces(t *testing.T) {
	cfg, ours, err := parseURL("postgres://u@localhost/db?options=-c%20statement_timeout%3D5s&auditrelay_listen=off&application_name=a%2Bb")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ConnConfig.RuntimeParams["options"]; got != "-c statement_timeout=5s" {
		t.Errorf("options = %q, want %q", got, "-c statement_timeout=5s")
	}
	if got := cfg.ConnConfig.RuntimeParams["application_name"]; got != "a+b" {
		t.Errorf("application_name = %q, want %q", got, "a+b")
	}
	if ours.listen != "off" {
		t.Errorf("auditrelay_listen = %q, want off", ours.listen)
	}
}
