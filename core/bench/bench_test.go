package bench

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/delivery"
)

// TestRunReportsWhatItMeasured runs the real bench, small, and checks the
// report holds together: every phase ran, latencies are ordered, the ratio
// is the one of the numbers beside it, and the text ends with the summary
// line.
func TestRunReportsWhatItMeasured(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole benchmark path")
	}
	var progress bytes.Buffer
	rep, err := Run(t.Context(), Options{Events: 300, Concurrency: 32, PacedRate: 100, PacedFor: time.Second, Backlog: 200, Synchronous: "normal", RelayCommand: relayCommand(t)}, &progress)
	if err != nil {
		t.Fatal(err)
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
	case rep.LoopbackBefore <= 0, rep.LoopbackAfter <= 0, math.Abs(rep.Loopback-(rep.LoopbackBefore+rep.LoopbackAfter)/2) > 1:
		t.Errorf("loopback ceiling %v, want the mean of before %v and after %v", rep.Loopback, rep.LoopbackBefore, rep.LoopbackAfter)
	case rep.Integration != Templated, !rep.Signed:
		t.Errorf("integration %q signed %v, want the templated path, signed, by default", rep.Integration, rep.Signed)
	case r.RelayCPUus <= 0, r.CPUus <= 0, r.RelayPeakMB <= 0:
		t.Errorf("run %+v: want the child relay's CPU per event and peak RSS, and the bench's CPU per event", r)
	case math.Abs(r.Ratio-r.EventsPerSec/rep.Loopback) > 0.005:
		t.Errorf("ratio %.3f, but %.0f events/s over %.0f req/s is %.3f", r.Ratio, r.EventsPerSec, rep.Loopback, r.EventsPerSec/rep.Loopback)
	}
	if b := rep.Backlog; b == nil || b.Pending != 200 || b.RelayRSSMB <= 0 || b.RelayHeapMB <= 0 || b.RelayPeakMB < b.RelayRSSMB || b.BenchRSSMB <= 0 || b.IngestPerS <= 0 || b.DrainPerSec <= 0 {
		t.Errorf("backlog phase %+v: want 200 pending with the relay's memory (peak >= RSS), the bench's, and the drain measured", rep.Backlog)
	}
	for _, want := range []string{"loopback HTTP ceiling", "measuring the loopback HTTP ceiling again", "sqlite (synchronous=normal), 1 instance(s): 300 events with 32 senders, then 100/s for 1s", "memory with 200 deliveries pending"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}

	// The text: the table, then one summary line at the end.
	var out bytes.Buffer
	rep.WriteText(&out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{"bench: ", " events/s sustained (sqlite (synchronous=normal), durable)", "p99 ", "at 100/s", fmt.Sprintf("%.2f of the loopback ceiling of ", r.Ratio)} {
		if !strings.Contains(last, want) {
			t.Errorf("summary line %q lacks %q", last, want)
		}
	}
	for _, want := range []string{"backlog: 200 deliveries pending in the relay (serve, a child process): relay RSS ", "relay peak RSS ", "bench process RSS ", "delivered at "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q in the backlog lines:\n%s", want, out.String())
		}
	}

	// Without a paced phase the summary quotes the latency at full load.
	rep.Runs[0].PacedRate = 0
	out.Reset()
	rep.WriteText(&out)
	if last := strings.TrimSpace(out.String()); !strings.Contains(last, "at full load") || strings.Contains(last, "at 0/s") {
		t.Errorf("summary without a paced phase: %q", last)
	}
}

// TestRunWebhookIntegration: --integration webhook still drives the
// standard payload, and an unknown integration is refused by name.
func TestRunWebhookIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole benchmark path")
	}
	rep, err := Run(t.Context(), Options{Events: 100, Concurrency: 8, Synchronous: "normal", Integration: Webhook}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Integration != Webhook || len(rep.Runs) != 1 || rep.Runs[0].EventsPerSec <= 0 {
		t.Errorf("report %+v", rep)
	}
	_, err = Run(t.Context(), Options{Events: 1, Concurrency: 1, Integration: "datadog"}, nil)
	if err == nil || !strings.Contains(err.Error(), `integration "datadog"`) {
		t.Errorf("unknown integration: %v", err)
	}
}

// TestEndpointWaitsForEveryID: the endpoint's wait ends when each awaited
// entry has arrived, not when as many requests have (duplicates and other
// entries do not count), and says how far it got at the deadline.
func TestEndpointWaitsForEveryID(t *testing.T) {
	s := &endpoint{arrived: map[string]time.Time{}, notify: make(chan struct{}, 1)}
	post := func(id string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"title":"a rendered body holds no id"}`))
		req.Header.Set(delivery.HeaderDeliveryID, id)
		s.serve(rec, req)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("endpoint answered %d", rec.Code)
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

// relayCommand builds cmd/auditrelay for the backlog phase's child
// process (this test binary is not auditrelay); it skips the test where
// there is no go command to build it with.
func relayCommand(t *testing.T) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build auditrelay for the relay child process: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "auditrelay")
	if out, err := exec.CommandContext(t.Context(), gobin, "build", "-o", bin, "github.com/auditrelay/auditrelay/cmd/auditrelay").CombinedOutput(); err != nil {
		t.Fatalf("building auditrelay: %v\n%s", err, out)
	}
	return []string{bin, "serve"}
}

// TestBacklogNeedsRelayCommand: the backlog phase runs its relay as a
// child process and says so, before measuring anything, when it has no
// command to run.
func TestBacklogNeedsRelayCommand(t *testing.T) {
	_, err := Run(t.Context(), Options{Events: 1, Concurrency: 1, Backlog: 10}, nil)
	if err == nil || !strings.Contains(err.Error(), "RelayCommand") {
		t.Fatalf("backlog without a relay command: %v", err)
	}
}

// TestServeConfigLoads: the file written for the child loads, as serve
// loads it, into the settings instanceConfig built, and the child's
// environment leaves out the bench's AUDITRELAY_* variables.
func TestServeConfigLoads(t *testing.T) {
	dir := t.TempDir()
	o := Options{Synchronous: "full", Concurrency: 48}
	cfg, err := instanceConfig(dir, "", "backlog", "http://127.0.0.1:9/hook", o, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Admin.Listen = "127.0.0.1:0"
	cfg.Admin.Token = config.Secret{Value: "0123456789abcdef0123"}
	cfg.Webhook.MaxInFlight = 48
	yml, err := serveConfigYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(path, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(viper.New(), path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("%v\n%s", err, yml)
	}
	switch {
	case got.DataDir != dir, got.Store != "", got.Instance != "backlog", got.SQLite.Synchronous != "full":
		t.Errorf("store settings %q %q %q %q\n%s", got.DataDir, got.Store, got.Instance, got.SQLite.Synchronous, yml)
	case got.HTTP.Listen != "127.0.0.1:0", got.Admin.Listen != "127.0.0.1:0", got.Admin.Token.Value != cfg.Admin.Token.Value:
		t.Errorf("listeners %q %q, token %q\n%s", got.HTTP.Listen, got.Admin.Listen, got.Admin.Token.Value, yml)
	case got.Webhook.Secret.Value != "s3cret", got.Webhook.MaxInFlight != 48, got.Retention.Interval != 0, got.Log.Level != "warn":
		t.Errorf("receiver, retention, log: %+v %v %q\n%s", got.Webhook, got.Retention.Interval, got.Log.Level, yml)
	case len(got.Subscriptions) != 1:
		t.Fatalf("subscriptions %+v\n%s", got.Subscriptions, yml)
	}
	sub, want := got.Subscriptions[0], cfg.Subscriptions[0]
	if sub.Name != want.Name || sub.Integration != want.Integration || !sub.Enabled || sub.Concurrency != 64 ||
		sub.Vars["endpointUrl"].Value != "http://127.0.0.1:9/hook" || sub.Vars["apiKey"].Value != want.Vars["apiKey"].Value {
		t.Errorf("subscription %+v, want %+v\n%s", sub, want, yml)
	}

	env := childEnv([]string{"PATH=/bin", "AUDITRELAY_STORE=postgres://prod", "AUDITRELAY_ADMIN_TOKEN=x", "GOGC=200"}, []string{"AUDITRELAY_TEST_MAIN=1"})
	if !slices.Equal(env, []string{"PATH=/bin", "GOGC=200", "AUDITRELAY_TEST_MAIN=1"}) {
		t.Errorf("child environment %q", env)
	}
}
