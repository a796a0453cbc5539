package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// referenceDir returns ../shared/reference relative to the repository
// root (the directory holding go.mod), or skips the test.
func referenceDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("../shared/reference not found: no go.mod above the test directory")
		}
		dir = parent
	}
	ref := filepath.Join(dir, "..", "shared", "reference")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("../shared/reference not found: %v", err)
	}
	return ref
}

func TestLoadReferenceIntegrations(t *testing.T) {
	ref := referenceDir(t)
	ins, probs := Load(filepath.Join(ref, "integrations"))
	for _, p := range probs {
		t.Errorf("%s", p)
	}
	if len(ins) != 10 {
		t.Fatalf("loaded %d integrations, want 10", len(ins))
	}
}
