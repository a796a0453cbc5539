package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/auditrelay/auditrelay/core/source/ldfake"
)

// pollWatch is a reverse proxy in front of the fake LaunchDarkly API, one
// per instance, so the test sees which instance polls and when.
type pollWatch struct {
	mu    sync.Mutex
	polls []time.Time
	url   string
}

func newPollWatch(t *testing.T, target string) *pollWatch {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &pollWatch{url: "http://" + ln.Addr().String()}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/auditlog") {
			w.mu.Lock()
			w.polls = append(w.polls, time.Now())
			w.mu.Unlock()
		}
		proxy.ServeHTTP(rw, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return w
}

// since counts the polls at or after t and returns the first of them.
func (w *pollWatch) since(t time.Time) (int, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, first := 0, time.Time{}
	for _, p := range w.polls {
		if !p.Before(t) {
			if n == 0 {
				first = p
			}
			n++
		}
	}
	return n, first
}

// clusterSchema creates a schema of its own for the cluster and drops it
// when the test ends; it returns the store URL pointing at it.
func clusterSchema(t *testing.T, base string) string {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_cluster_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", relay.RedactURL(base), err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+ident+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// TestClusterSharesWorkAndFailsOver runs three real `auditrelay serve`
// processes on one PostgreSQL schema. 30,000 signed entries go round-robin
// to their receivers while the fake LaunchDarkly API gets new entries for
// the poller, which runs on every instance but polls on one. The poller's
// leader is killed with SIGKILL mid-flow; entries it does not acknowledge
// are sent to the others, as LaunchDarkly retries. Then: every
// acknowledged entry and every polled one reached the sink, always with
// its stable delivery id; duplicates are deliveries the killed instance
// had attempted within one lease before it died; and another instance
// polled within 10 seconds of the kill.
func TestClusterSharesWorkAndFailsOver(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test: skipped with -short")
	}
	base := os.Getenv("AUDITRELAY_TEST_POSTGRES")
	if base == "" {
		t.Skip("AUDITRELAY_TEST_POSTGRES is not set: skipping the PostgreSQL cluster test (set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	const (
		total  = 30000
		nodes  = 3
		lease  = 5 * time.Second
		secret = "cluster-webhook-secret"
	)
	storeURL := clusterSchema(t, base)
	sink := newCrashSink(t)
	ld, err := ldfake.Start(ldfake.Config{Token: "ld-token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ld.Close() })

	dir := t.TempDir()
	watches := make([]*pollWatch, nodes)
	procs := make([]*serveProcess, nodes)
	for i := range nodes {
		watches[i] = newPollWatch(t, ld.URL())
		cfgPath := filepath.Join(dir, fmt.Sprintf("node%d.yaml", i))
		cfg := fmt.Sprintf(`data_dir: %s
store: %q
instance: node-%d
http:
  listen: 127.0.0.1:0
admin:
  listen: ""
sources:
  webhook:
    secret: %q
  poller:
    enabled: true
    base_url: %s
    token: ld-token
    interval: 200ms
delivery:
  timeout: 2s
  lease: %s
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
`, filepath.Join(dir, fmt.Sprintf("data%d", i)), storeURL, i, secret, watches[i].url, lease, sink.url)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		procs[i] = startServe(t, cfgPath)
	}
	alive := make([]atomic.Bool, nodes)
	for i := range nodes {
		alive[i].Store(true)
	}
	defer func() {
		for i, p := range procs {
			if alive[i].Load() {
				p.cmd.Process.Signal(syscall.SIGTERM)
			}
			p.cmd.Wait()
		}
	}()

	entryJSON := func(id string, date int64, i int) []byte {
		return []byte(fmt.Sprintf(`{"_id":%q,"date":%d,"kind":"flag","name":"Flag %d","accesses":[{"action":"updateOn","resource":"proj/shop:env/production:flag/f%d"}],"title":"turned on the flag","member":{"_id":"m1","email":"ops@example.com","firstName":"Ops","lastName":"Bot"}}`, id, date, i, i))
	}

	// The poller's entries: one every 50 ms while the test runs, dated now
	// so that whichever instance leads finds them after its cursor.
	var polledIDs []string
	var polledMu sync.Mutex
	stopFeed := make(chan struct{})
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopFeed:
				return
			case <-tick.C:
			}
			id := fmt.Sprintf("polled%018d", i)
			if err := ld.Add(entryJSON(id, time.Now().UnixMilli(), i)); err != nil {
				t.Error(err)
				return
			}
			polledMu.Lock()
			polledIDs = append(polledIDs, id)
			polledMu.Unlock()
		}
	}()

	// Which instance polls: wait until exactly one does.
	var leader int
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(300 * time.Millisecond)
		from := time.Now().Add(-time.Second)
		pollers := 0
		for i, w := range watches {
			if n, _ := w.since(from); n > 0 {
				pollers++
				leader = i
			}
		}
		if pollers == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d instances polled in the same second, want exactly 1", pollers)
		}
	}
	t.Logf("node-%d leads the poller", leader)

	ids := make([]string, total)
	bodies := make([][]byte, total)
	sigs := make([]string, total)
	for i := range total {
		ids[i] = fmt.Sprintf("cluster%019d", i)
		bodies[i] = entryJSON(ids[i], 1737540000000+int64(i), i)
		sigs[i] = auditlog.Sign([]byte(secret), bodies[i])
	}

	// Kill the leader with SIGKILL once deliveries are flowing.
	var killedAt time.Time
	killed := make(chan struct{})
	go func() {
		for sink.total.Load() < 6000 {
			time.Sleep(5 * time.Millisecond)
		}
		alive[leader].Store(false)
		procs[leader].cmd.Process.Signal(syscall.SIGKILL)
		killedAt = time.Now()
		close(killed)
	}()

	// Send round-robin; an entry the target does not acknowledge goes to
	// the next instance, until one does.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	acked := make([]atomic.Bool, total)
	var next atomic.Int64
	var rerouted atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				for try := 0; !acked[i].Load(); try++ {
					node := (i + try) % nodes
					if try > 3*nodes {
						t.Errorf("entry %s acknowledged by no instance", ids[i])
						return
					}
					if !alive[node].Load() {
						continue
					}
					req, _ := http.NewRequest(http.MethodPost, "http://"+procs[node].addr+"/v1/launchdarkly", bytes.NewReader(bodies[i]))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set(auditlog.SignatureHeader, sigs[i])
					resp, err := client.Do(req)
					if err != nil {
						rerouted.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						acked[i].Store(true)
					} else {
						rerouted.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	sent := time.Since(start)
	select {
	case <-killed:
	case <-time.After(30 * time.Second):
		t.Fatalf("the kill never happened: %d requests reached the sink", sink.total.Load())
	}
	procs[leader].cmd.Wait()
	t.Logf("%d entries acknowledged in %v (%d requests re-sent after the kill)", total, sent.Round(time.Millisecond), rerouted.Load())

	// Leadership: another instance polls within 10 s of the kill.
	var takeover time.Duration
	newLeader := -1
	for deadline := time.Now().Add(15 * time.Second); newLeader < 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for i, w := range watches {
			if i == leader {
				continue
			}
			if n, first := w.since(killedAt); n > 0 {
				newLeader, takeover = i, first.Sub(killedAt)
			}
		}
	}
	if newLeader < 0 {
		t.Fatalf("no instance polled within 15s of the leader's death")
	}
	t.Logf("node-%d took over polling %v after node-%d was killed", newLeader, takeover.Round(time.Millisecond), leader)
	if takeover >= 10*time.Second {
		t.Errorf("poller leadership moved after %v, want under 10s", takeover)
	}

	// Stop feeding the poller, then wait for everything to arrive.
	time.Sleep(time.Second)
	close(stopFeed)
	<-feedDone
	polledMu.Lock()
	polled := append([]string(nil), polledIDs...)
	polledMu.Unlock()
	want := append(append([]string(nil), ids...), polled...)
	deadline = time.Now().Add(90 * time.Second)
	for {
		got := sink.snapshot()
		missing := 0
		var example string
		for _, id := range want {
			if len(got[id]) == 0 {
				missing++
				example = id
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d entries never reached the sink (e.g. %s)", missing, len(want), example)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("all %d webhook and %d polled entries delivered %v after the first was sent", total, len(polled), time.Since(start).Round(time.Millisecond))

	got := sink.snapshot()
	dups := 0
	for _, id := range want {
		wantID := engine.DeliveryID("archive", id)
		for _, d := range got[id] {
			if d != wantID {
				t.Fatalf("entry %s arrived with delivery id %q, want %q", id, d, wantID)
			}
		}
		if len(got[id]) < 2 {
			continue
		}
		dups += len(got[id]) - 1
		// A duplicate comes from an attempt whose outcome died with the
		// killed instance: the first arrival was within one lease before
		// the kill, the repeat after the lease ran out.
		at := sink.arrivals(id)
		if at[0].Before(killedAt.Add(-lease)) || at[0].After(killedAt.Add(time.Second)) {
			t.Errorf("entry %s delivered %d times, first at %v from the kill: outside the lease window", id, len(at), at[0].Sub(killedAt))
		}
		for _, a := range at[1:] {
			if a.Before(killedAt) {
				t.Errorf("entry %s delivered again %v before the kill: a duplicate without a lost lease", id, killedAt.Sub(a))
			}
		}
	}
	t.Logf("%d duplicate deliveries, all within the killed instance's lease window", dups)
}
