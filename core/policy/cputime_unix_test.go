//go:build unix

package policy

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time this process has used. Benchmarks report
// it per operation next to wall time, which a busy machine inflates.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
