// Package enginetest runs a real engine for other packages' tests (the
// console, the SSH server): a temporary SQLite store, the built-in
// integrations, and subscriptions given as they are written in a config
// file. Nothing is faked.
package enginetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/sqlite"
	"github.com/auditrelay/auditrelay/templates"
	"github.com/spf13/viper"
)

// Start runs an engine until the end of the test. subs are the items of a
// config file's subscriptions list; the config file is written to a
// temporary directory so that form and template edits can be saved. tune,
// when set, adjusts the loaded configuration (timeouts, schedule) before
// the engine starts; by default attempts time out after 2s and retry after
// 20ms.
func Start(t testing.TB, subs string, tune func(*config.Config)) *engine.Engine {
	t.Helper()
	eng, _ := StartWithStore(t, subs, tune)
	return eng
}

// StartWithStore is Start, also returning the engine's store, for sources
// that read it too (the poller's cursor).
func StartWithStore(t testing.TB, subs string, tune func(*config.Config)) (*engine.Engine, store.Store) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(file, []byte("data_dir: "+dir+"\nsubscriptions:\n"+subs), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(viper.New(), file, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Instance = "test-1"
	cfg.Delivery.Timeout = 2 * time.Second
	cfg.Delivery.Lease = 5 * time.Second
	cfg.Delivery.Schedule = []time.Duration{20 * time.Millisecond}
	cfg.Delivery.Jitter = 0
	cfg.Retention.Interval = 0
	if tune != nil {
		tune(&cfg)
	}
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "auditrelay.db"), Instance: cfg.Instance})
	if err != nil {
		t.Fatal(err)
	}
	cat := manifest.NewCatalog()
	if probs := cat.AddBuiltins(templates.FS()); probs.HasErrors() {
		st.Close()
		t.Fatal(probs)
	}
	eng, err := engine.New(engine.Options{Config: cfg, Store: st, Catalog: cat, DrainTimeout: time.Second})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("engine did not stop")
		}
		st.Close()
	})
	return eng, st
}
