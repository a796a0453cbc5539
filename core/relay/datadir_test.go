package relay_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/relay"
)

// TestDataDirLock: a second relay with listeners on the same data
// directory is refused, naming the process and instance that hold it; one
// without listeners (the CLI) may open it; once the first closes, the
// directory is free again.
func TestDataDirLock(t *testing.T) {
	dir := t.TempDir()
	cfg := relayConfig(dir)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	first, err := relay.Open(ctx, cfg, log, relay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	second := cfg
	second.Instance = "second"
	if rt, err := relay.Open(ctx, second, log, relay.Options{}); err == nil {
		rt.Close()
		t.Fatal("a second relay opened a data directory in use")
	} else {
		lock := filepath.Join(dir, "auditrelay.lock")
		want := fmt.Sprintf("data directory %s is in use by another auditrelay (pid %d, instance ready-test, host ", dir, os.Getpid())
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "lock file "+lock+"): stop it, or give this one its own data_dir") {
			t.Errorf("second relay: %v\nwant %q and the lock file", err, want)
		}
	}
	cli, err := relay.Open(ctx, second, log, relay.Options{NoListeners: true})
	if err != nil {
		t.Fatalf("a relay without listeners on a directory in use: %v", err)
	}
	cli.Close()

	first.Close()
	again, err := relay.Open(ctx, second, log, relay.Options{})
	if err != nil {
		t.Fatalf("after the first relay closed: %v", err)
	}
	again.Close()
}
