package delivery

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLoopbackCeiling(t *testing.T) {
	base := runtime.NumGoroutine()
	rps, err := LoopbackCeiling(context.Background(), 200*time.Millisecond, 4)
	if err != nil {
		t.Fatal(err)
	}
	if rps <= 0 {
		t.Fatalf("rps = %v, want > 0", rps)
	}
	t.Logf("loopback ceiling (200ms, c=4): %.0f req/s", rps)
	waitGoroutines(t, base)

	for _, tc := range []struct {
		d    time.Duration
		c    int
		want string
	}{{0, 4, "duration"}, {time.Second, 0, "concurrency"}} {
		if _, err := LoopbackCeiling(context.Background(), tc.d, tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoopbackCeiling(%s, %d) = %v, want error about %s", tc.d, tc.c, err, tc.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoopbackCeiling(ctx, time.Second, 2); err == nil {
		t.Error("canceled context: no error")
	}
	waitGoroutines(t, base)
}
