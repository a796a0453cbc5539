package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/sqlite"
	"github.com/auditrelay/auditrelay/templates"
)

// entryJSON is a LaunchDarkly audit-log entry as the REST API and webhooks
// deliver it, with the parts tests vary.
func entryJSON(id, action, resource string) []byte {
	return []byte(fmt.Sprintf(`{
  "_links": {"self": {"href": "/api/v2/auditlog/%[1]s", "type": "application/json"}},
  "_id": %[1]q,
  "_accountId": "5f9a1b2c3d4e5f6a7b8c9d0e",
  "date": 1737540002113,
  "accesses": [{"action": %[2]q, "resource": %[3]q}],
  "kind": "flag",
  "name": "New checkout flow",
  "description": "* Turned the flag on",
  "comment": "rolling out",
  "member": {"_links": {"self": {"href": "/api/v2/members/m1", "type": "application/json"}}, "_id": "m1", "email": "maya@example.com", "firstName": "Maya", "lastName": "Okafor"},
  "titleVerb": "turned on the flag",
  "title": "[Maya Okafor](mailto:maya@example.com) turned on the flag [New checkout flow](https://app.launchdarkly.com/checkout/production/features/new-checkout-flow) in `+"`Production`"+`",
  "target": {"name": "New checkout flow", "resources": [%[3]q]}
}`, id, action, resource))
}

// sink is a local HTTP endpoint whose answers a test scripts.
type sink struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
	answer   func(n int, r *http.Request) int // status for the n-th request (1-based)
	count    atomic.Int64
}

func newSink(t testing.TB, answer func(n int, r *http.Request) int) *sink {
	s := &sink{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := int(s.count.Add(1))
		s.mu.Lock()
		s.requests = append(s.requests, r)
		s.bodies = append(s.bodies, body)
		s.mu.Unlock()
		status := http.StatusOK
		if s.answer != nil {
			status = s.answer(n, r)
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"status":%d}`, status)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) received() ([]*http.Request, [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...), append([][]byte(nil), s.bodies...)
}

type harness struct {
	t            testing.TB
	cancelPoller func()
	eng          *Engine
	st           store.Store
	cfg          config.Config
	cancel       context.CancelFunc
	done         chan error
}

// testConfig returns a configuration with short timeouts and a fast retry
// schedule, and a config file so that edits can be saved.
func testConfig(t testing.TB, subs string) config.Config {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(file, []byte("subscriptions:\n"+subs), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	cfg.Instance = "test-1"
	cfg.Delivery.Timeout = 500 * time.Millisecond
	cfg.Delivery.ConnectTimeout = 200 * time.Millisecond
	cfg.Delivery.Lease = 2 * time.Second
	cfg.Delivery.Schedule = []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond}
	cfg.Delivery.Jitter = 0
	cfg.Retention.Interval = 0
	return cfg
}

func startEngine(t testing.TB, cfg config.Config) *harness {
	t.Helper()
	return startEngineWith(t, cfg, nil)
}

// startEngineWith starts an engine on a fresh SQLite store; tune, when set,
// adjusts its options (and may wrap the store).
func startEngineWith(t testing.TB, cfg config.Config, tune func(*Options)) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(cfg.DataDir, "auditrelay.db"), Instance: cfg.Instance})
	if err != nil {
		t.Fatal(err)
	}
	cat := manifest.NewCatalog()
	if probs := cat.AddBuiltins(templates.FS()); probs.HasErrors() {
		t.Fatal(probs)
	}
	opts := Options{Config: cfg, Store: st, Catalog: cat, DrainTimeout: time.Second}
	if tune != nil {
		tune(&opts)
	}
	eng, err := New(opts)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, eng: eng, st: st, cfg: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- eng.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.t.Error("engine did not stop")
	}
	h.cancel = nil
	h.st.Close()
}

func (h *harness) ingest(raws ...[]byte) []source.Result {
	h.t.Helper()
	items := make([]source.Item, len(raws))
	for i, r := range raws {
		items[i] = source.Item{Raw: r, Source: "webhook"}
	}
	res, err := h.eng.Ingest(context.Background(), items, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

// waitState polls the delivery until it reaches state (the engine runs on
// its own goroutines; polling keeps the test independent of timing).
func (h *harness) waitState(id string, want State) DeliveryDetail {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d, err := h.eng.Delivery(context.Background(), id)
		if err == nil && d.State == want {
			return d
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("delivery %s: state %s, want %s (reason %q, err %v)", id, d.State, want, d.Reason, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func webhookSub(name, url, extra string) string {
	return fmt.Sprintf(`  - name: %s
    integration: webhook
    vars:
      url: %s
%s`, name, url, extra)
}

func TestDeliversAllowedEntriesAndFiltersTheRest(t *testing.T) {
	s := newSink(t, nil)
	cfg := testConfig(t, webhookSub("prod-flags", s.URL, `    policy:
      - effect: allow
        resources: ["proj/*:env/production:flag/*"]
        actions: ["updateOn"]
`))
	h := startEngine(t, cfg)
	feed := h.eng.Subscribe(context.Background(), 64)

	res := h.ingest(
		entryJSON("e1", "updateOn", "proj/checkout:env/production:flag/new-checkout"),
		entryJSON("e2", "updateOn", "proj/checkout:env/staging:flag/new-checkout"),
		entryJSON("e1", "updateOn", "proj/checkout:env/production:flag/new-checkout"), // duplicate in the batch
	)
	if res[0].Err != nil || res[1].Err != nil || res[0].Duplicate || !res[2].Duplicate {
		t.Fatalf("ingest results = %+v", res)
	}
	d := h.waitState(DeliveryID("prod-flags", "e1"), Delivered)
	if d.Attempts == nil || d.Attempts[0].StatusCode != 200 {
		t.Errorf("attempts = %+v", d.Attempts)
	}
	filtered, err := h.eng.Delivery(context.Background(), DeliveryID("prod-flags", "e2"))
	if err != nil || filtered.State != Filtered || !strings.Contains(filtered.Reason, "not sent") {
		t.Errorf("e2 = %+v, %v", filtered.DeliveryView, err)
	}
	reqs, bodies := s.received()
	if len(reqs) != 1 {
		t.Fatalf("sink got %d requests, want 1 (the filtered entry must not be sent)", len(reqs))
	}
	if got := reqs[0].Header.Get("X-Auditrelay-Delivery-Id"); got != DeliveryID("prod-flags", "e1") {
		t.Errorf("delivery id header = %q", got)
	}
	// The webhook integration sends LaunchDarkly's own payload: the raw entry.
	if !strings.Contains(string(bodies[0]), `"_id": "e1"`) {
		t.Errorf("body is not the raw entry: %.200s", bodies[0])
	}

	detail, err := h.eng.Entry(context.Background(), "e2")
	if err != nil {
		t.Fatal(err)
	}
	if len(detail.Explanation) != 1 || detail.Explanation[0].Sent || !strings.Contains(detail.Explanation[0].Text, "production") {
		t.Errorf("explanation = %+v", detail.Explanation)
	}

	var sawEntry, sawDelivered bool
	timeout := time.After(5 * time.Second)
	for !(sawEntry && sawDelivered) {
		select {
		case ev := <-feed.C:
			switch ev.Kind {
			case EntryReceived:
				sawEntry = sawEntry || ev.Entry.ID == "e1"
			case DeliveryUpdated:
				sawDelivered = sawDelivered || (ev.Delivery.State == Delivered && ev.Attempt != nil)
			}
		case <-timeout:
			t.Fatalf("feed: entry %v delivered %v", sawEntry, sawDelivered)
		}
	}
}

func TestRetriesThenDelivers(t *testing.T) {
	s := newSink(t, func(n int, _ *http.Request) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	h := startEngine(t, testConfig(t, webhookSub("raw", s.URL, "")))
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))
	d := h.waitState(DeliveryID("raw", "e1"), Delivered)
	if len(d.Attempts) != 2 || d.Attempts[0].StatusCode != 500 || d.Attempts[1].StatusCode != 200 {
		t.Fatalf("attempts = %+v", d.Attempts)
	}
	reqs, _ := s.received()
	if reqs[0].Header.Get("X-Auditrelay-Delivery-Id") != reqs[1].Header.Get("X-Auditrelay-Delivery-Id") {
		t.Error("delivery id changed between retries")
	}
	if reqs[1].Header.Get("X-Auditrelay-Attempt") != "2" {
		t.Errorf("attempt header = %q", reqs[1].Header.Get("X-Auditrelay-Attempt"))
	}
}

func TestGoneDisablesTheSubscription(t *testing.T) {
	var gone atomic.Bool
	gone.Store(true)
	s := newSink(t, func(int, *http.Request) int {
		if gone.Load() {
			return http.StatusGone
		}
		return http.StatusOK
	})
	h := startEngine(t, testConfig(t, webhookSub("gone", s.URL, "    concurrency: 1\n")))
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))
	d := h.waitState(DeliveryID("gone", "e1"), Failed)
	if !strings.Contains(d.Reason, "410") {
		t.Errorf("reason = %q", d.Reason)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		info := h.eng.Subscriptions()[0]
		if info.Disabled && strings.Contains(info.Reason, "410") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription not disabled: %+v", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// While disabled, new entries queue up and nothing is sent.
	h.ingest(entryJSON("e2", "updateOn", "proj/p:env/production:flag/f"))
	time.Sleep(300 * time.Millisecond)
	if n := s.count.Load(); n != 1 {
		t.Errorf("sink got %d requests while disabled, want 1", n)
	}
	h.waitState(DeliveryID("gone", "e2"), Pending)
	// A retry while disabled would only wait: it is refused, and nothing
	// is queued.
	if err := h.eng.Retry(context.Background(), "alice", DeliveryID("gone", "e1")); !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "gone is disabled (410 Gone") {
		t.Errorf("Retry into a disabled subscription: %v, want ErrHeld naming the 410", err)
	}
	if n, err := h.eng.RetryAll(context.Background(), "alice", "gone"); !errors.Is(err, ErrHeld) || n != 0 {
		t.Errorf("RetryAll into a disabled subscription: %d, %v", n, err)
	}
	if d, _ := h.eng.Delivery(context.Background(), DeliveryID("gone", "e1")); d.State != Failed {
		t.Errorf("after the refused retries e1 is %s, want still failed", d.State)
	}
	// Resuming re-enables it and the queued entry goes out.
	gone.Store(false)
	if err := h.eng.SetPaused(context.Background(), "alice", "gone", false); err != nil {
		t.Fatal(err)
	}
	h.waitState(DeliveryID("gone", "e2"), Delivered)
	// Now a retry goes through.
	if err := h.eng.Retry(context.Background(), "alice", DeliveryID("gone", "e1")); err != nil {
		t.Fatal(err)
	}
	h.waitState(DeliveryID("gone", "e1"), Delivered)
}

func TestOperatorRetryOfAFailedDelivery(t *testing.T) {
	var ok atomic.Bool
	s := newSink(t, func(int, *http.Request) int {
		if ok.Load() {
			return http.StatusOK
		}
		return http.StatusBadRequest // not retried automatically
	})
	h := startEngine(t, testConfig(t, webhookSub("raw", s.URL, "")))
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))
	id := DeliveryID("raw", "e1")
	d := h.waitState(id, Failed)
	if !strings.Contains(d.Reason, "400") {
		t.Errorf("reason = %q", d.Reason)
	}
	if err := h.eng.Retry(context.Background(), "alice", "nope"); err == nil {
		t.Error("retry of an unknown delivery succeeded")
	}
	ok.Store(true)
	if err := h.eng.Retry(context.Background(), "alice", id); err != nil {
		t.Fatal(err)
	}
	d = h.waitState(id, Delivered)
	if last := d.Attempts[len(d.Attempts)-1]; last.Trigger != "manual" {
		t.Errorf("last attempt trigger = %q, want manual", last.Trigger)
	}
	acts, err := h.eng.Actions(context.Background(), time.Time{}, 10)
	if err != nil || len(acts) == 0 || acts[0].Actor != "alice" || acts[0].Kind != "retry" {
		t.Errorf("actions = %+v, %v", acts, err)
	}
	if err := h.eng.Retry(context.Background(), "alice", id); err == nil {
		t.Error("retrying a delivered delivery succeeded")
	}
}

func TestRestartResumesPendingDeliveries(t *testing.T) {
	var up atomic.Bool
	s := newSink(t, func(int, *http.Request) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	cfg := testConfig(t, webhookSub("raw", s.URL, ""))
	cfg.Delivery.Schedule = []time.Duration{time.Second}
	h := startEngine(t, cfg)
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))
	id := DeliveryID("raw", "e1")
	d := h.waitState(id, Pending)
	for len(d.Attempts) == 0 {
		d = h.waitState(id, Pending)
	}
	h.stop() // the retry is due in a second: it survives the restart

	up.Store(true)
	h2 := startEngine(t, cfg)
	d = h2.waitState(id, Delivered)
	if len(d.Attempts) != 2 || d.Attempts[0].StatusCode != 503 {
		t.Errorf("attempts = %+v", d.Attempts)
	}
}

func TestInvalidSubscriptionsAreAllReported(t *testing.T) {
	cfg := testConfig(t, `  - name: a
    integration: nosuch
  - name: b
    integration: webhook
    vars:
      url: "not a url"
      bogus: 1
  - name: c
    integration: slack
    policy:
      - effect: allow
        resources: ["proj/*:env"]
        actions: ["*"]
`)
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(cfg.DataDir, "x.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat := manifest.NewCatalog()
	cat.AddBuiltins(templates.FS())
	_, err = New(Options{Config: cfg, Store: st, Catalog: cat})
	ce, ok := err.(*ConfigError)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	text := ce.Error()
	for _, want := range []string{`subscription "a": integration`, `subscription "b": vars:`, `"url"`, `"bogus"`, `subscription "c": policy:`, `webhookUrl`} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
}

func loadConfig(file string) (config.Config, error) {
	return config.Load(newViper(), file, func(string) (string, bool) { return "", false })
}

// TestResumeAndRetryWhileTheEndpointIsStillGone: resume-and-retry queues
// the retry before resuming, so that the endpoint answering 410 again to
// the deliveries that waited cannot refuse it: the retry is in the queue
// (pending, behind them) when the subscription ends disabled again.
func TestResumeAndRetryWhileTheEndpointIsStillGone(t *testing.T) {
	s := newSink(t, func(int, *http.Request) int { return http.StatusGone })
	h := startEngine(t, testConfig(t, webhookSub("gone", s.URL, "    concurrency: 1\n")))
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))
	h.waitState(DeliveryID("gone", "e1"), Failed)
	waitDisabled := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !h.eng.Subscriptions()[0].Disabled {
			if time.Now().After(deadline) {
				t.Fatalf("%s: subscription %+v, want disabled by the 410", what, h.eng.Subscriptions()[0])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitDisabled("first 410")
	for i := range 5 { // deliveries waiting for the subscription
		h.ingest(entryJSON(fmt.Sprintf("w%d", i), "updateOn", "proj/p:env/production:flag/f"))
	}
	// Due times are kept in milliseconds and ties go to the older
	// delivery: a retry in the same millisecond as the last ingest would
	// be due with the waiting deliveries and go first.
	for ingested := time.Now().UnixMilli(); time.Now().UnixMilli() <= ingested; {
		runtime.Gosched()
	}
	sent := s.count.Load()
	if err := h.eng.ResumeAndRetry(context.Background(), "alice", DeliveryID("gone", "e1")); err != nil {
		t.Fatalf("ResumeAndRetry: %v", err)
	}
	// The oldest waiting delivery goes out, meets the 410, and the
	// subscription is disabled again.
	deadline := time.Now().Add(10 * time.Second)
	for s.count.Load() == sent {
		if time.Now().After(deadline) {
			t.Fatal("nothing was sent after the resume")
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitDisabled("after the resume")
	d, err := h.eng.Delivery(context.Background(), DeliveryID("gone", "e1"))
	if err != nil || d.State != Pending || len(d.Attempts) != 1 {
		t.Errorf("retried delivery: %s with %d attempts (%v), want pending (queued) after its first attempt", d.State, len(d.Attempts), err)
	}
	// The bulk forms do the same while it is disabled: queue, then resume.
	if n, err := h.eng.ResumeAndRetryAll(context.Background(), "alice", "gone"); err != nil || n == 0 {
		t.Errorf("ResumeAndRetryAll into the disabled subscription: %d, %v; want its failed deliveries queued", n, err)
	}
	waitDisabled("after ResumeAndRetryAll")
	res, err := h.eng.Resend(context.Background(), "alice", ResendParams{Subscription: "gone", Since: time.Now().Add(-time.Hour), Failed: true, Resume: true})
	if err != nil {
		t.Errorf("Resend with Resume into the disabled subscription: %+v, %v", res, err)
	}
}

// TestConcurrencyAboveTheClientsDefault: a subscription configured for
// more requests in flight than the delivery client's default connections
// per host (32) gets them all at once; before, the attempts past the 32nd
// waited for a connection while holding their slot.
func TestConcurrencyAboveTheClientsDefault(t *testing.T) {
	const want = 40
	var inFlight, most atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		// A request the client gave up on (its connection closed) is no
		// longer in flight.
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open) // before srv.Close: cleanups run last first
	cfg := testConfig(t, webhookSub("wide", srv.URL, fmt.Sprintf("    concurrency: %d\n", want)))
	cfg.Delivery.Timeout = time.Minute // the held requests must not time out first
	h := startEngine(t, cfg)
	for i := range want {
		h.ingest(entryJSON(fmt.Sprintf("c%02d", i), "updateOn", "proj/p:env/production:flag/f"))
	}
	eventually(t, fmt.Sprintf("%d requests in flight at once", want), func() bool { return most.Load() >= want })
	open()
	for i := range want {
		h.waitState(DeliveryID("wide", fmt.Sprintf("c%02d", i)), Delivered)
	}
}
