package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeBoundsHostileBodies covers issue 13 D3 against a real serve
// process with the default receiver settings (unsigned requests
// accepted): twelve parallel POSTs of a 1 MiB JSON array of 524,000
// numbers used to get 400 answers of 50.7 MB each and end the process
// with "fatal error: out of memory" in auditlog.DecodeEntry's error path
// (one such request added 400 MB of RSS). Now each is refused (413, or 503
// while other large bodies are in flight) with a small answer, the peak
// RSS of the process (VmHWM) stays within a bound, and the relay goes on
// storing and delivering entries.
func TestServeBoundsHostileBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a serve process: skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads the peak RSS from /proc")
	}
	sink := newCrashSink(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "auditrelay.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
http:
  listen: 127.0.0.1:0
admin:
  listen: ""
subscriptions:
  - name: archive
    integration: webhook
    vars:
      url: %s
`, dir, sink.url)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, cfgPath)
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	pid := p.cmd.Process.Pid
	url := "http://" + p.addr + "/v1/launchdarkly"
	client := &http.Client{Timeout: 2 * time.Minute}

	// Each phase sends 12 bodies at once and checks every answer.
	phase := func(name string, body []byte, check func(status int, header http.Header, answer []byte) error) (peakMB float64) {
		t.Helper()
		resetPeakRSS(t, pid)
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					t.Errorf("%s #%d: %v", name, i, err)
					return
				}
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err := check(resp.StatusCode, resp.Header, answer); err != nil {
					t.Errorf("%s #%d: %v (%d, %.300s)", name, i, err, resp.StatusCode, answer)
				}
			}()
		}
		wg.Wait()
		peak := peakRSSMB(t, pid)
		t.Logf("%s: 12 parallel bodies of %d bytes, peak RSS %.1f MB", name, len(body), peak)
		return peak
	}
	// small refuses an answer of more than 4 KiB.
	small := func(answer []byte) error {
		if len(answer) > 4<<10 {
			return fmt.Errorf("answer of %d bytes", len(answer))
		}
		return nil
	}
	// busy accepts the 503 a large body gets while 8 others are in flight.
	busy := func(status int, h http.Header, answer []byte) bool {
		return status == 503 && h.Get("Retry-After") != "" && bytes.Contains(answer, []byte("too many large requests in flight"))
	}

	numbers := []byte("[" + strings.Repeat("1,", 524000-1) + "1]") // the body: 1,048,001 bytes
	peak := phase("array of 524,000 numbers", numbers, func(status int, h http.Header, answer []byte) error {
		if busy(status, h, answer) || (status == 413 && bytes.Contains(answer, []byte("array of 524000 entries exceeds the limit of 1000 entries per request"))) {
			return small(answer)
		}
		return fmt.Errorf("want 413 (too many entries) or 503 (busy)")
	})
	// The bound: one such request alone added 400 MB before.
	if limit := peakBoundMB(100); peak > limit {
		t.Errorf("peak RSS %.1f MB while refusing the arrays, want at most %.0f MB", peak, limit)
	}

	peak = phase("malformed array", []byte("["+strings.Repeat("1,", 500000)+"]"), func(status int, h http.Header, answer []byte) error {
		if busy(status, h, answer) || (status == 400 && bytes.Contains(answer, []byte("trailing comma before ']'"))) {
			return small(answer)
		}
		return fmt.Errorf("want 400 with the position, or 503")
	})
	if limit := peakBoundMB(100); peak > limit {
		t.Errorf("peak RSS %.1f MB while refusing malformed arrays, want at most %.0f MB", peak, limit)
	}

	invalid := `{"_id":"x","kind":"flag","accesses":[],"pad":[` + strings.Repeat("1,", 499) + `1]}`
	batch := []byte("[" + strings.Repeat(invalid+",", 999) + invalid + "]")
	peak = phase("1,000 invalid entries", batch, func(status int, h http.Header, answer []byte) error {
		if busy(status, h, answer) {
			return nil
		}
		var a struct {
			Rejected  []json.RawMessage `json:"rejected"`
			NotListed int               `json:"rejected_not_listed"`
		}
		if status != 400 || json.Unmarshal(answer, &a) != nil || len(a.Rejected) != 20 || a.NotListed != 980 {
			return fmt.Errorf("want 400 listing 20 rejections and counting 980 more")
		}
		return small(answer)
	})
	if limit := peakBoundMB(200); peak > limit {
		t.Errorf("peak RSS %.1f MB while refusing batches of invalid entries, want at most %.0f MB", peak, limit)
	}

	// The relay still stores and delivers.
	entry := fmt.Sprintf(`{"_id":"after-the-storm","date":%d,"kind":"flag","accesses":[{"action":"updateOn","resource":"proj/p:env/e:flag/f"}]}`, time.Now().UnixMilli())
	resp, err := client.Post(url, "application/json", strings.NewReader(entry))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(answer, []byte(`"accepted":1`)) {
		t.Fatalf("a valid entry afterwards: %d %s", resp.StatusCode, answer)
	}
	waitFor(t, "the entry to reach the sink", func() bool { return len(sink.snapshot()["after-the-storm"]) > 0 })

	// The refusals are counted in /metrics.
	metrics := httpGet(t, "http://"+p.addr+"/metrics")
	for _, reason := range []string{"too_large", "bad_json", "invalid_entry"} {
		if n := metricValue(metrics, "auditrelay_webhook_refused_total", `reason="`+reason+`"`); n < 1 {
			t.Errorf("auditrelay_webhook_refused_total{reason=%q} = %v, want ≥ 1", reason, n)
		}
	}
}

// peakBoundMB scales a bound on RSS for the race detector, which
// multiplies what the process holds.
func peakBoundMB(mb float64) float64 {
	if raceEnabled {
		return 4 * mb
	}
	return mb
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux ≥ 4.0).
func resetPeakRSS(t testing.TB, pid int) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Fatalf("resetting the peak RSS: %v", err)
	}
}

// peakRSSMB reads the process's peak RSS since the last reset, in MB.
func peakRSSMB(t testing.TB, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading the peak RSS: %v (did the process die?)", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb / 1024
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status: the process has exited")
	return 0
}

// metricValue returns the value of the first sample of name whose labels
// contain label, or -1.
func metricValue(text, name, label string) float64 {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, name+"{") && strings.Contains(line, label) {
			f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}
