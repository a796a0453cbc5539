package relay

import (
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/auditrelay/auditrelay/core/config"
)

// TestTuneRuntime: the config's collector settings hold unless GOGC or
// GOMEMLIMIT is in the environment; a limit of 0 leaves none.
func TestTuneRuntime(t *testing.T) {
	gc0, limit0 := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(gc0)
		debug.SetMemoryLimit(limit0)
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	for _, tc := range []struct {
		name      string
		rc        config.Runtime
		env       map[string]string
		wantGC    int
		wantLimit int64
	}{
		{"config", config.Runtime{GCPercent: 400, MemoryLimit: 112 << 20}, nil, 400, 112 << 20},
		{"no limit", config.Runtime{GCPercent: 250}, nil, 250, math.MaxInt64},
		{"GOGC wins", config.Runtime{GCPercent: 400, MemoryLimit: 64 << 20}, map[string]string{"GOGC": "100"}, 100, 64 << 20},
		{"GOMEMLIMIT wins", config.Runtime{GCPercent: 300, MemoryLimit: 64 << 20}, map[string]string{"GOMEMLIMIT": "1GiB"}, 300, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// What the runtime would hold after reading the environment.
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			TuneRuntime(tc.rc, env(tc.env), log)
			gc := debug.SetGCPercent(100)
			if limit := debug.SetMemoryLimit(-1); gc != tc.wantGC || limit != tc.wantLimit {
				t.Errorf("gc percent %d, memory limit %d; want %d, %d", gc, limit, tc.wantGC, tc.wantLimit)
			}
		})
	}
}
