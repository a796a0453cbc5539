package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateCommand: migrate on the embedded store creates it and says
// so; --check there is a usage error. The PostgreSQL paths are tested in
// core/relay.
func TestMigrateCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	code, out, errOut := runMain(t, "", "migrate", "--data-dir", dir)
	if want := filepath.Join(dir, "auditrelay.db") + ": schema up to date\n"; code != 0 || out != want {
		t.Errorf("migrate: exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
	}
	code, _, errOut = runMain(t, "", "migrate", "--check", "--data-dir", dir)
	if code != exitBadUsage || !strings.Contains(errOut, "--check applies to PostgreSQL stores") {
		t.Errorf("migrate --check on SQLite: exit %d, stderr %q", code, errOut)
	}
}
