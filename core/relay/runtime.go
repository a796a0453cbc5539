package relay

import (
	"log/slog"
	"runtime/debug"

	"github.com/auditrelay/auditrelay/core/config"
)

// TuneRuntime applies rc's collector settings to this process: the
// processes that run the engine for long (serve, the console) call it once
// before Open. GOGC and GOMEMLIMIT in the environment (lookup) win, as they
// do for any Go program: the runtime has already applied them. It logs
// what holds and where it came from.
func TuneRuntime(rc config.Runtime, lookup func(string) (string, bool), log *slog.Logger) {
	gc, limit := any(rc.GCPercent), any(rc.MemoryLimit)
	if v, ok := lookup("GOGC"); ok {
		gc = "GOGC=" + v
	} else {
		debug.SetGCPercent(rc.GCPercent)
	}
	if v, ok := lookup("GOMEMLIMIT"); ok {
		limit = "GOMEMLIMIT=" + v
	} else if rc.MemoryLimit > 0 {
		debug.SetMemoryLimit(rc.MemoryLimit)
	}
	log.Debug("go runtime", "gc_percent", gc, "memory_limit", limit)
}
