package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/admin"
	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/relay"
)

func adminEntry(id string) string {
	return fmt.Sprintf(`{"_id":%q,"date":1737540002113,"kind":"flag","name":"F","title":"turned on the flag","accesses":[{"action":"updateOn","resource":"proj/p:env/production:flag/f"}],"member":{"_id":"m1","email":"ops@example.com"}}`, id)
}

// TestServeOperations runs a relay as serve does (real listeners, real
// store) and uses it from the outside: the receiver, /healthz, /readyz and
// /metrics, then `deliveries list|show|retry` and `replay` through the
// admin API, and `deliveries list` on the data directory once it stopped.
func TestServeOperations(t *testing.T) {
	var ok atomic.Bool
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if ok.Load() {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusBadRequest) // fails at once, waits for an operator
	}))
	defer sink.Close()

	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.DataDir = dir
	cfg.Instance = "ops-test"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Admin.Listen = "127.0.0.1:0"
	cfg.Retention.Interval = 0
	cfg.Subscriptions = []config.Subscription{{Name: "archive", Integration: "webhook", Enabled: true, Concurrency: 2,
		Vars: map[string]config.Var{"url": {Value: sink.URL + "/hook"}}}}
	rt, err := relay.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), relay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			cancel()
			<-done
			rt.Close()
			stopped = true
		}
	}
	defer stop()
	base := "http://" + rt.Addr().String()

	resp, err := http.Post(base+"/v1/launchdarkly", "application/json", strings.NewReader(adminEntry("op1")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("receiver answered %s", resp.Status)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		body := httpGet(t, base+path)
		if !strings.Contains(body, want) {
			t.Errorf("%s = %q", path, body)
		}
	}
	metrics := httpGet(t, base+"/metrics")
	if want := `auditrelay_entries_received_total{instance="ops-test",source="webhook"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}

	id := engine.DeliveryID("archive", "op1")
	waitFor(t, "the delivery to fail", func() bool {
		d, err := rt.Engine().Delivery(context.Background(), id)
		return err == nil && d.State == engine.Failed
	})
	metrics = httpGet(t, base+"/metrics")
	for _, want := range []string{
		`auditrelay_deliveries_failed_total{instance="ops-test",subscription="archive"} 1`,
		`auditrelay_delivery_latency_seconds_count{instance="ops-test",subscription="archive"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// The admin API refuses requests without the token.
	adminURL := "http://" + rt.AdminAddr().String() + admin.Prefix + "/deliveries"
	if r, err := http.Get(adminURL); err != nil || r.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin API without a token: %v %v", r.Status, err)
	}

	code, out, errOut := runMain(t, "", "deliveries", "list", "--data-dir", dir, "--state", "failed", "--json")
	if code != 0 {
		t.Fatalf("deliveries list: exit %d: %s", code, errOut)
	}
	var list []engine.DeliveryView
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("deliveries list = %s (%v)", out, err)
	}
	code, out, errOut = runMain(t, "", "deliveries", "show", id, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "attempt 1") || !strings.Contains(out, "HTTP 400") {
		t.Fatalf("deliveries show: exit %d\n%s\n%s", code, out, errOut)
	}
	ok.Store(true)
	code, out, errOut = runMain(t, "", "deliveries", "retry", id, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "due again") {
		t.Fatalf("deliveries retry: exit %d\n%s\n%s", code, out, errOut)
	}
	waitFor(t, "the retried delivery", func() bool {
		d, err := rt.Engine().Delivery(context.Background(), id)
		return err == nil && d.State == engine.Delivered
	})
	if code, _, _ := runMain(t, "", "deliveries", "retry", id, "--data-dir", dir); code != 1 {
		t.Errorf("retrying a delivered delivery: exit %d, want 1", code)
	}

	// replay: two entries (one already stored), one malformed line.
	file := filepath.Join(t.TempDir(), "entries.ndjson")
	lines := adminEntry("op2") + "\n" + `{"_id": "broken", ` + "\n" + adminEntry("op1") + "\n"
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runMain(t, "", "replay", file, "--data-dir", dir)
	if code != 1 {
		t.Errorf("replay with a rejected line: exit %d, want 1\n%s", code, errOut)
	}
	for _, want := range []string{"1 accepted", "1 duplicate", "1 rejected", "line 2"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("replay summary lacks %q:\n%s", want, errOut)
		}
	}
	waitFor(t, "the replayed entry's delivery", func() bool {
		d, err := rt.Engine().Delivery(context.Background(), engine.DeliveryID("archive", "op2"))
		return err == nil && d.State == engine.Delivered
	})

	// With the instance stopped, the data directory answers.
	stop()
	code, out, errOut = runMain(t, "", "deliveries", "list", "--data-dir", dir, "--json")
	if code != 0 || !strings.Contains(out, engine.DeliveryID("archive", "op2")) {
		t.Fatalf("deliveries list on the data directory: exit %d\n%s\n%s", code, out, errOut)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	io.Copy(&b, resp.Body)
	return b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
