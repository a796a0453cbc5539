package manifest

import (
	"path/filepath"
	"testing"

	"github.com/auditrelay/auditrelay/core/reftest"
)

func TestLoadReferenceIntegrations(t *testing.T) {
	ref := reftest.Dir(t)
	ins, probs := Load(filepath.Join(ref, "integrations"))
	for _, p := range probs {
		t.Errorf("%s", p)
	}
	if len(ins) != 10 {
		t.Fatalf("loaded %d integrations, want 10", len(ins))
	}
}
