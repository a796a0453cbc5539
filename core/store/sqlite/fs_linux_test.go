//go:build linux

package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/auditrelay/auditrelay/core/store"
)

// mountTmpfs mounts a small tmpfs, a real file system that fills up or is
// read-only, and skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T, size string, flags uintptr) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs (a real full or read-only file system) needs root, as CI runs")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// TestDiskFull fills a real file system: the commit that finds no space
// fails (SQLite rolls the transaction back itself, and no spurious
// "cannot rollback" follows), the probe names the full file system, and
// once space is freed it passes again with no write in between (after
// failureMemory), and writes succeed.
func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "2m", 0)
	logs := &syncBuffer{}
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, Options{Path: filepath.Join(dir, "auditrelay.db"), Logger: slogTo(logs)})
	s.failureMemory = 2 * time.Second
	fillUntilFull(t, s, "a")
	// Several times: a small probe write may fit where the failed write
	// left room, but the failure still counts.
	for range 5 {
		err := s.ProbeWrite(context.Background())
		if err == nil || !strings.Contains(err.Error(), "no space left on the file system of "+dir) {
			t.Fatalf("ProbeWrite on a full disk = %v, want it to name the full file system", err)
		}
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(hangGuard)
	for err := s.ProbeWrite(context.Background()); err != nil; err = s.ProbeWrite(context.Background()) {
		if time.Now().After(deadline) {
			t.Fatalf("ProbeWrite after freeing space: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.Ingest(context.Background(), []store.NewEntry{bigEntry("after")}, nil); err != nil {
		t.Fatalf("Ingest after freeing space: %v", err)
	}
	if !strings.Contains(logs.String(), "store write group failed") {
		t.Errorf("the failed commit was not logged:\n%s", logs)
	}
	if strings.Contains(logs.String(), "cannot rollback") {
		t.Errorf("the log holds a spurious rollback error:\n%s", logs)
	}
}

// TestOpenReadOnly: a database on a read-only file system fails to open
// with a message that says so (SQLite alone says "unable to open database
// file").
func TestOpenReadOnly(t *testing.T) {
	dir := mountTmpfs(t, "1m", unix.MS_RDONLY)
	_, err := Open(context.Background(), Options{Path: filepath.Join(dir, "auditrelay.db")})
	if err == nil || !strings.Contains(err.Error(), "directory "+dir+" is read-only (read-only file system)") {
		t.Fatalf("Open on a read-only file system = %v, want it named read-only", err)
	}
}
