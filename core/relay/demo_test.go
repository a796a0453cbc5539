package relay_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/relay"
)

// TestDemo runs the demo as --demo does: its configuration loads, the
// generator feeds the engine, deliveries reach the sinks, and the console
// can pause the generator. A second start in the same directory keeps the
// configuration (and any edits made to it).
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	d, err := relay.StartDemo(dir, 20, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Dir != dir {
		t.Errorf("demo directory %q, want %q", d.Dir, dir)
	}
	cfg, err := config.Load(viper.New(), d.ConfigFile, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("the demo's configuration: %v", err)
	}
	if len(cfg.Subscriptions) != 4 {
		t.Errorf("%d subscriptions in the demo, want 4", len(cfg.Subscriptions))
	}
	rt, err := relay.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), relay.Options{Demo: d})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	eng := rt.Engine()
	waitFor(t, "delivered demo entries", func() bool {
		ds, err := eng.Deliveries(context.Background(), engine.DeliveryQuery{Subscription: "slack-prod-flags", States: []engine.State{engine.Delivered}, Limit: 1})
		return err == nil && len(ds) > 0
	})
	status := func() engine.SourceStatus {
		for _, s := range eng.Stats().Sources {
			if s.Name == "demo" {
				return s
			}
		}
		t.Fatalf("no demo source in %+v", eng.Stats().Sources)
		return engine.SourceStatus{}
	}
	if s := status(); !s.Connected || s.Detail != "generating 20 entries/s" {
		t.Errorf("demo source %+v", s)
	}
	if err := eng.SetGeneratorRate(0); err != nil {
		t.Fatal(err)
	}
	if s := status(); s.Connected || !strings.Contains(s.Detail, "paused") {
		t.Errorf("paused demo source %+v", s)
	}

	// Edits made in the console are saved to the demo's configuration; a
	// later demo in the same directory keeps them.
	edited := append([]byte("# edited\n"), readFile(t, d.ConfigFile)...)
	if err := os.WriteFile(d.ConfigFile, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	d2, err := relay.StartDemo(dir, 1, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d2.Close()
	if now := readFile(t, d2.ConfigFile); string(now) != string(edited) {
		t.Errorf("a second demo rewrote the configuration")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
