//go:build linux

package relay_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/auditrelay/auditrelay/core/relay"
)

// mountTmpfs mounts a small tmpfs, a real file system that fills up or is
// read-only; ok is false where mounting is not allowed.
func mountTmpfs(t *testing.T, size string, flags uintptr) (dir string, ok bool) {
	t.Helper()
	dir = t.TempDir()
	if os.Geteuid() != 0 {
		return dir, false
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, "size="+size); err != nil {
		t.Logf("cannot mount a tmpfs: %v", err)
		return dir, false
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir, true
}

// TestReadOnlyDataDir: a relay on a data directory it cannot write
// refuses to open and says the directory is read-only. As root (CI), the
// directory is a read-only file system, which stops root too; otherwise
// it is a directory without write permission.
func TestReadOnlyDataDir(t *testing.T) {
	dir, mounted := mountTmpfs(t, "1m", unix.MS_RDONLY)
	want := "data directory " + dir + " is read-only (read-only file system)"
	if !mounted {
		if os.Geteuid() == 0 {
			t.Skip("running as root without the right to mount: a read-only directory would not stop root")
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		want = "data directory " + dir + " is read-only for this user"
	}
	rt, err := relay.Open(context.Background(), relayConfig(dir), slog.New(slog.DiscardHandler), relay.Options{})
	if err == nil {
		rt.Close()
		t.Fatalf("a relay opened on a read-only data directory; want %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("opening on a read-only data directory: %v\nwant %q", err, want)
	}
}

// TestReadyzWhileDiskFull fills the data directory's file system under a
// running relay: webhooks get 503 with Retry-After, /readyz fails naming
// the full file system, the log holds a few lines with a count instead of
// one per refused request and no spurious rollback error; once space is
// freed, /readyz and the receiver recover without a restart.
func TestReadyzWhileDiskFull(t *testing.T) {
	dir, mounted := mountTmpfs(t, "3m", 0)
	if !mounted {
		t.Skip("needs root to mount a small tmpfs (a real full file system), as CI runs")
	}
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := relayConfig(filepath.Join(dir, "data"))
	cfg.Log.RepeatWindow = time.Hour // counts come out at flush
	r := startTestRelay(t, cfg)
	client := &http.Client{Timeout: 30 * time.Second}

	// Fill it.
	full := false
	for i := 0; i < 10_000 && !full; i++ {
		resp, err := r.post(t, client, "fill"+strings.Repeat("0", 6-len(itoa(i)))+itoa(i), 8<<10)
		if err != nil {
			t.Fatal(err)
		}
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			// Full, unless the store was only slow to answer (a loaded
			// machine): then the next entry goes in.
			_, body := r.readyz(t)
			full = strings.Contains(body, "no space left")
		default:
			t.Fatalf("POST while filling: %s", resp.Status)
		}
	}
	if !full {
		t.Fatal("the file system never filled up")
	}
	const refused = 200
	for i := range refused {
		resp, err := r.post(t, client, "refused"+itoa(i), 8<<10)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("POST on a full disk = %s (Retry-After %q), want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
		}
	}
	code, body := r.readyz(t)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no space left on the file system of "+cfg.DataDir) {
		t.Fatalf("/readyz on a full disk = %d %q, want 503 naming the full file system", code, body)
	}

	r.flushLog()
	logs := r.logs.String()
	if strings.Contains(logs, "cannot rollback") {
		t.Errorf("the log holds a spurious rollback error")
	}
	lines, repeated := countLines(t, logs, "webhook not stored")
	if lines > 4 || lines+repeated < refused {
		t.Errorf("%d refused webhooks logged as %d lines standing for %d: want a couple of lines with the count", refused, lines, lines+repeated)
	}
	if n := strings.Count(logs, "\n"); n > 40 {
		t.Errorf("%d log lines for %d refused webhooks:\n%s", n, refused, logs)
	}

	// Freed space: the sender's retry goes through, and readiness follows.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if resp, err := r.post(t, client, "refused0", 8<<10); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST once space was freed: %v %v", resp, err)
	}
	if code, body := r.readyz(t); code != http.StatusOK {
		t.Fatalf("/readyz once space was freed and a webhook was stored = %d %q", code, body)
	}
}
