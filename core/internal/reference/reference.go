// Package reference locates LaunchDarkly's reference material for tests:
// ../shared/reference next to the repository root (the directory holding
// go.mod). The material is read in place, never copied into the
// repository; tests that need it skip, saying why, when it is absent.
package reference

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the reference directory, or skips tb.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("../shared/reference not found: no go.mod above the test directory")
		}
		dir = parent
	}
	ref := filepath.Join(dir, "..", "shared", "reference")
	if _, err := os.Stat(ref); err != nil {
		tb.Skipf("../shared/reference not found: %v", err)
	}
	return ref
}
