//go:build !unix

package storetest

import "time"

// CPUTime is 0 where getrusage(2) is missing: benchmarks then report no
// CPU cost.
func CPUTime() time.Duration { return 0 }
