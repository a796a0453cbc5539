package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestBenchReportsWhatItMeasured runs the real bench, small, and checks the
// report holds together: every phase ran, latencies are ordered, the ratio
// is the one of the numbers beside it.
func TestBenchReportsWhatItMeasured(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole benchmark path")
	}
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	args := []string{"bench", "--events", "300", "--paced-rate", "100", "--paced-for", "1s", "--backlog", "200", "--json"}
	if code := run(t.Context(), args, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if len(rep.Runs) != 1 {
		t.Fatalf("%d runs, want 1 (SQLite)", len(rep.Runs))
	}
	r := rep.Runs[0]
	switch {
	case !strings.HasPrefix(r.Store, "sqlite"), r.Instances != 1, r.Events != 300:
		t.Errorf("run %+v: want sqlite, 1 instance, 300 events", r)
	case r.EventsPerSec <= 0, r.P50ms <= 0, r.P99ms < r.P50ms:
		t.Errorf("throughput phase %+v: want events/s > 0 and 0 < p50 <= p99", r)
	case r.PacedRate != 100, r.PacedP50ms <= 0, r.PacedP99ms < r.PacedP50ms:
		t.Errorf("paced phase %+v: want 100/s and 0 < p50 <= p99", r)
	case rep.Loopback <= 0:
		t.Errorf("loopback ceiling %v", rep.Loopback)
	case math.Abs(r.Ratio-r.EventsPerSec/rep.Loopback) > 0.005:
		t.Errorf("ratio %.3f, but %.0f events/s over %.0f req/s is %.3f", r.Ratio, r.EventsPerSec, rep.Loopback, r.EventsPerSec/rep.Loopback)
	}
	if b := rep.Backlog; b == nil || b.Pending != 200 || b.RSSMB <= 0 || b.HeapMB <= 0 || b.IngestPerS <= 0 || b.DrainPerSec <= 0 {
		t.Errorf("backlog phase %+v: want 200 pending with memory and the drain measured", rep.Backlog)
	}

	// Without --json: the table, then one summary line at the end; the
	// profiles asked for are written.
	out.Reset()
	args = []string{"bench", "--events", "200", "--paced-rate", "0", "--cpuprofile", "cpu.out", "--memprofile", "mem.out"}
	if code := run(t.Context(), args, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	for _, name := range []string{"cpu.out", "mem.out"} {
		if fi, err := os.Stat(name); err != nil || fi.Size() == 0 {
			t.Errorf("profile %s: %v (size %d)", name, err, sizeOf(fi))
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{"bench: ", " events/s sustained (sqlite (synchronous=normal), durable)", "at full load", "of the loopback ceiling of "} {
		if !strings.Contains(last, want) {
			t.Errorf("summary line %q lacks %q", last, want)
		}
	}
	if strings.Contains(last, "at 0/s") {
		t.Errorf("summary line %q reports a paced phase that did not run", last)
	}
}

// TestBenchSinkWaitsForEveryID: the sink's wait ends when each awaited
// entry has arrived, not when as many requests have (duplicates and other
// entries do not count), and says how far it got at the deadline.
func TestBenchSinkWaitsForEveryID(t *testing.T) {
	s := &benchSink{arrived: map[string]time.Time{}, notify: make(chan struct{}, 1)}
	post := func(id string) {
		rec := httptest.NewRecorder()
		s.serve(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(fmt.Sprintf(`{"_id":"%s","kind":"flag"}`, id))))
		if rec.Code != http.StatusNoContent {
			t.Fatalf("sink answered %d", rec.Code)
		}
	}
	ids := []string{"a", "b", "c"}
	done := make(chan map[string]time.Time, 1)
	go func() {
		got, err := s.waitFor(t.Context(), ids)
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	for _, id := range []string{"a", "x", "b", "a"} {
		post(id)
	}
	select {
	case got := <-done:
		t.Fatalf("wait ended with %d of 3 awaited entries arrived (4 requests)", len(got))
	case <-time.After(200 * time.Millisecond):
	}
	post("c")
	select {
	case got := <-done:
		if len(got) != 3 || got["a"].IsZero() || got["c"].Before(got["a"]) {
			t.Fatalf("arrivals %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not end when the last entry arrived")
	}

	s.reset()
	post("a")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.waitFor(ctx, ids); err == nil || !strings.Contains(err.Error(), "1 of 3") {
		t.Fatalf("at the deadline: %v; want 1 of 3 delivered", err)
	}
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return 0
	}
	return fi.Size()
}
