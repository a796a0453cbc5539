package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine"
)

// TestCrashLosesNothingAcknowledged feeds 20,000 entries through the real
// receiver of a real serve process, kills it with SIGKILL mid-flow,
// restarts it, re-sends what was not acknowledged (as LaunchDarkly would),
// and checks that every acknowledged entry the policy allows reached the
// sink at least once, every duplicate with the same delivery id, and that
// nothing the policy denies was sent.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	const total = 20000
	sink := newCrashSink(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "auditrelay.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
http:
  listen: 127.0.0.1:0
admin:
  listen: ""
delivery:
  timeout: 5s
  lease: 10s
subscriptions:
  - name: archive
    integration: webhook
    concurrency: 32
    vars:
      url: %s
    policy:
      - effect: allow
        resources: ["proj/*:env/*:flag/*"]
        actions: ["*"]
      - effect: deny
        resources: ["proj/*:env/test:flag/*"]
        actions: ["*"]
`, dir, sink.url)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// Entries: every fifth one is in the test environment, which the
	// policy denies.
	ids := make([]string, total)
	bodies := make([][]byte, total)
	denied := map[string]bool{}
	for i := range total {
		id := fmt.Sprintf("crash%019d", i)
		env := "production"
		if i%5 == 0 {
			env = "test"
			denied[id] = true
		}
		ids[i] = id
		bodies[i] = []byte(fmt.Sprintf(`{"_id":%q,"date":%d,"kind":"flag","name":"Flag %d","accesses":[{"action":"updateOn","resource":"proj/shop:env/%s:flag/f%d"}],"title":"turned on the flag","member":{"_id":"m1","email":"ops@example.com","firstName":"Ops","lastName":"Bot"}}`, id, 1737540000000+int64(i), i, env, i))
	}

	acked := make([]atomic.Bool, total)
	// What the server answered for each entry, each time it was sent, so
	// that an entry never acknowledged says why ("run 2: 503 …").
	var answersMu sync.Mutex
	answers := make([][]string, total)
	answer := func(i int, text string) {
		answersMu.Lock()
		answers[i] = append(answers[i], text)
		answersMu.Unlock()
	}
	send := func(p *serveProcess, run string, stopAfter int64, from []int) (sentOK int64) {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		defer client.CloseIdleConnections()
		var next, ok atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := int(next.Add(1)) - 1
					if k >= len(from) || (stopAfter > 0 && ok.Load() >= stopAfter) {
						return
					}
					i := from[k]
					resp, err := client.Post("http://"+p.addr+"/v1/launchdarkly", "application/json", bytes.NewReader(bodies[i]))
					if err != nil {
						answer(i, run+": "+err.Error())
						continue // the process is gone, or too slow: not acknowledged
					}
					body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
					resp.Body.Close()
					answer(i, fmt.Sprintf("%s: %s %s", run, resp.Status, bytes.TrimSpace(body)))
					if resp.StatusCode == http.StatusOK {
						acked[i].Store(true)
						ok.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return ok.Load()
	}
	unacked := func() []int {
		var rest []int
		for i := range total {
			if !acked[i].Load() {
				rest = append(rest, i)
			}
		}
		return rest
	}

	all := make([]int, total)
	for i := range all {
		all[i] = i
	}
	p := startServe(t, cfgPath)
	// Kill it while entries are still arriving and deliveries are in
	// flight.
	killed := make(chan struct{})
	go func() {
		for sink.total.Load() < 3000 {
			time.Sleep(5 * time.Millisecond)
		}
		p.cmd.Process.Signal(syscall.SIGKILL)
		close(killed)
	}()
	first := send(p, "run 1", 0, all)
	<-killed
	p.cmd.Wait()
	t.Logf("first run: %d acknowledged before SIGKILL, %d requests at the sink", first, sink.total.Load())
	if first == 0 || first == total {
		t.Fatalf("the kill did not land mid-flow (%d of %d acknowledged)", first, total)
	}

	p2 := startServe(t, cfgPath)
	defer func() {
		p2.cmd.Process.Signal(syscall.SIGTERM)
		p2.cmd.Wait()
	}()
	// Re-send what was not acknowledged, as LaunchDarkly retries a
	// webhook: a refusal the receiver means as temporary (503 while the
	// store is slow, a timeout on a thrashing host) is retried; an entry
	// refused on every try is a defect, reported with every answer.
	for try := 2; try <= 6; try++ {
		rest := unacked()
		if len(rest) == 0 {
			break
		}
		if try > 2 {
			// Say what they got last time, counted by answer.
			why := map[string]int{}
			answersMu.Lock()
			for _, i := range rest {
				last := answers[i][len(answers[i])-1]
				_, text, _ := strings.Cut(last, ": ")
				why[text]++
			}
			answersMu.Unlock()
			t.Logf("try %d: re-sending %d entries not acknowledged; last answers: %v", try, len(rest), why)
		}
		send(p2, fmt.Sprintf("run 2, try %d", try-1), 0, rest)
	}

	for i, id := range ids {
		if !acked[i].Load() {
			answersMu.Lock()
			t.Fatalf("entry %s was never acknowledged, even after the restart; the server answered:\n  %s", id, strings.Join(answers[i], "\n  "))
		}
	}

	// Wait until every allowed entry arrived.
	want := 0
	for _, id := range ids {
		if !denied[id] {
			want++
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := sink.snapshot()
		n := 0
		for _, id := range ids {
			if !denied[id] && len(got[id]) > 0 {
				n++
			}
		}
		if n == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d allowed entries reached the sink", n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}

	got := sink.snapshot()
	dups := 0
	for _, id := range ids {
		reqs := got[id]
		if denied[id] {
			if len(reqs) > 0 {
				t.Errorf("entry %s is denied by the policy but was delivered %d times", id, len(reqs))
			}
			continue
		}
		wantID := engine.DeliveryID("archive", id)
		for _, d := range reqs {
			if d != wantID {
				t.Errorf("entry %s arrived with delivery id %q, want %q", id, d, wantID)
			}
		}
		dups += len(reqs) - 1
	}
	t.Logf("%d allowed entries delivered; %d duplicate deliveries (same delivery id) from the crash", want, dups)
}
