package relay

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/config"
)

// TestBrokenUnusedIntegrationIsSkipped: an integration under
// integrations_dirs that does not load stops the start only when a
// subscription uses it; otherwise it is skipped with a warning naming it.
func TestBrokenUnusedIntegrationIsSkipped(t *testing.T) {
	ints := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ints, "broken"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ints, "broken", "manifest.json"), []byte(`{"name": "Broken",`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		integration string
		wantErr     bool
	}{
		{"webhook", false}, // nobody uses "broken"
		{"broken", true},
	} {
		t.Run(tc.integration, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.DataDir = t.TempDir()
			cfg.Instance = "catalog-test"
			cfg.IntegrationsDirs = []string{ints}
			cfg.Subscriptions = []config.Subscription{{Name: "s", Integration: tc.integration, Enabled: true, Concurrency: 1,
				Vars: map[string]config.Var{"url": {Value: "https://hooks.example.com/x"}}}}
			var logs bytes.Buffer
			rt, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)), Options{NoListeners: true})
			if tc.wantErr {
				if err == nil {
					rt.Close()
					t.Fatal("a subscription of a broken integration started")
				}
				if !strings.Contains(err.Error(), filepath.Join(ints, "broken")) {
					t.Errorf("error does not name the integration's path: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("a broken integration no subscription uses stopped the start: %v", err)
			}
			rt.Close()
			if !strings.Contains(logs.String(), "integration skipped") || !strings.Contains(logs.String(), "integration=broken") {
				t.Errorf("no warning naming the skipped integration:\n%s", logs.String())
			}
		})
	}
}
