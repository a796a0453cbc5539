//go:build unix

package storetest

import (
	"syscall"
	"time"
)

// CPUTime is the process's user+system CPU time so far. Benchmarks report
// CPU per operation besides wall-clock rates: on a shared machine the rate
// moves with the neighbours' load, the CPU cost much less.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
