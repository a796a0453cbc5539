package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/storetest"
)

// newDatabase gives each contract test its own file (not :memory:, so WAL,
// the read pool and reopening are real).
func newDatabase(t *testing.T) storetest.Opener {
	path := filepath.Join(t.TempDir(), "auditrelay.db")
	return func(t *testing.T, cfg storetest.Config) store.Store {
		t.Helper()
		s, err := Open(context.Background(), Options{Path: path, Instance: cfg.Instance, Now: cfg.Now})
		if err != nil {
			t.Fatalf("Open(%s): %v", path, err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, newDatabase)
}
