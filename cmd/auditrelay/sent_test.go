package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/viper"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/auditrelay/auditrelay/core/source"
)

// bodySink is a local endpoint that keeps the bodies it received.
type bodySink struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	status int
}

func newBodySink(t *testing.T) *bodySink {
	s := &bodySink{status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		status := s.status
		s.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *bodySink) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// startFromFile runs a relay from a config file, as serve does, without
// listeners; stop ends it and releases the data directory.
func startFromFile(t *testing.T, file string) (*relay.Relay, func()) {
	t.Helper()
	cfg, err := config.Load(viper.New(), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := relay.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), relay.Options{NoListeners: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			rt.Close()
		})
	}
	t.Cleanup(stop)
	return rt, stop
}

func writeConfig(t *testing.T, file, dataDir, subs string) {
	t.Helper()
	conf := "data_dir: " + dataDir + "\ninstance: cli-test\nretention:\n  interval: 0s\nsubscriptions:\n" + subs
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
}

func ingestOne(t *testing.T, rt *relay.Relay, raw string) {
	t.Helper()
	res, err := rt.Engine().Ingest(context.Background(), []source.Item{{Raw: []byte(raw), Source: "webhook"}}, nil)
	if err != nil || res[0].Err != nil {
		t.Fatalf("ingest: %v %+v", err, res)
	}
}

// TestShowPrintsTheStoredRequest: `deliveries show` prints what the
// attempt sent, byte for byte, after the template changed; --diff shows
// the change.
func TestShowPrintsTheStoredRequest(t *testing.T) {
	sink := newBodySink(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	sub := "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: " + sink.URL + "/hooks/T0/B0/secret\n"
	writeConfig(t, file, filepath.Join(dir, "data"), sub)
	rt, stop := startFromFile(t, file)
	ingestOne(t, rt, adminEntry("s1"))
	id := engine.DeliveryID("chat", "s1")
	waitFor(t, "the delivery", func() bool {
		d, err := rt.Engine().Delivery(context.Background(), id)
		return err == nil && d.State == engine.Delivered
	})
	stop()

	// The template changes after the delivery.
	tpl := filepath.Join(dir, "edited.json.hbs")
	if err := os.WriteFile(tpl, []byte(`{"text": "edited {{{title.plainText}}}"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, file, filepath.Join(dir, "data"), sub+"    templates:\n      default: "+tpl+"\n")

	code, out, errOut := runMain(t, "", "--config", file, "deliveries", "show", id)
	if code != 0 {
		t.Fatalf("deliveries show: exit %d\n%s", code, errOut)
	}
	body := sink.received()[0]
	for _, want := range []string{"sent by attempt 1 at ", "template templates/message.json.hbs @ ", indentForTest(body)} {
		if !strings.Contains(out, want) {
			t.Errorf("deliveries show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "edited") || strings.Contains(out, "/secret") {
		t.Errorf("deliveries show prints the new template or a secret:\n%s", out)
	}

	code, out, errOut = runMain(t, "", "--config", file, "deliveries", "show", id, "--diff")
	if code != 0 {
		t.Fatalf("deliveries show --diff: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"--- sent", "+++ would send now", `+  "text": "edited `} {
		if !strings.Contains(out, want) {
			t.Errorf("deliveries show --diff lacks %q:\n%s", want, out)
		}
	}
	// --json: the documented format, the stored request in it.
	code, out, errOut = runMain(t, "", "--config", file, "deliveries", "show", id, "--json")
	if code != 0 {
		t.Fatalf("deliveries show --json: exit %d\n%s", code, errOut)
	}
	var shown struct {
		ID          string `json:"id"`
		State       string `json:"state"`
		UpdatedAt   string `json:"updated_at"`
		AttemptList []struct {
			Number     int    `json:"number"`
			StartedAt  string `json:"started_at"`
			DurationMs *int64 `json:"duration_ms"`
			Request    struct {
				SentAt     string `json:"sent_at"`
				Body       string `json:"body"`
				BodySHA256 string `json:"body_sha256"`
				Diff       string `json:"diff"`
			} `json:"request"`
		} `json:"attempt_list"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.ID != id || len(shown.AttemptList) != 1 {
		t.Fatalf("show --json = %s (%v)", out, err)
	}
	a := shown.AttemptList[0]
	if a.Request.Body != body || a.Request.SentAt == "" || a.DurationMs == nil || !strings.HasSuffix(a.StartedAt, "Z") || a.Request.Diff == "" || len(a.Request.BodySHA256) != 64 {
		t.Errorf("show --json attempt = %+v", a)
	}
	for _, bad := range []string{"0001-01-01", `"ID"`, `"EntryID"`, `"LastLatency"`} {
		if strings.Contains(out, bad) {
			t.Errorf("show --json has %s:\n%s", bad, out)
		}
	}
	if code, _, errOut := runMain(t, "", "--config", file, "deliveries", "show", id, "--attempt", "7"); code != 2 || !strings.Contains(errOut, "no attempt 7") {
		t.Errorf("--attempt 7: exit %d, %s", code, errOut)
	}
}

// indentForTest is a body as show prints it: each line indented by two.
func indentForTest(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// TestDeliveriesTestCommand: `deliveries test` sends the sample entry to
// a standard-payload subscription, or the entry of --entry FILE, prints
// the request sent and the answer, and exits 1 when the endpoint fails.
func TestDeliveriesTestCommand(t *testing.T) {
	sink := newBodySink(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	writeConfig(t, file, filepath.Join(dir, "data"), "  - name: archive\n    integration: webhook\n    vars:\n      url: "+sink.URL+"/hook\n")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runMain(t, "", "--config", file, "deliveries", "test", "--subscription", "archive")
	if code != 0 {
		t.Fatalf("deliveries test: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"✓ test of archive (sample flag-toggle entry): endpoint answered 200 OK in ", "request sent at ", "X-Auditrelay-Attempt: 1", `"_id": "auditrelay-connection-test"`, "status   200"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got := sink.received(); len(got) != 1 || !strings.Contains(got[0], "auditrelay-connection-test") {
		t.Errorf("sink received %q", got)
	}

	entry := filepath.Join(dir, "entry.json")
	if err := os.WriteFile(entry, []byte(adminEntry("from-file")), 0o600); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	sink.status = http.StatusServiceUnavailable
	sink.mu.Unlock()
	code, out, _ = runMain(t, "", "--config", file, "deliveries", "test", "--subscription", "archive", "--entry", entry, "--json")
	if code != 1 {
		t.Errorf("a failing endpoint: exit %d, want 1", code)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if res["what"] != "entry from-file" || res["ok"] != false || res["status_code"] != float64(503) || res["latency_ms"] == nil {
		t.Errorf("--json = %s", out)
	}
	if strings.Contains(out, "0001-01-01") {
		t.Errorf("--json prints a Go zero time:\n%s", out)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"_id": `), 0o600)
	if code, _, errOut := runMain(t, "", "--config", file, "deliveries", "test", "--subscription", "archive", "--entry", bad); code != 2 || !strings.Contains(errOut, bad) {
		t.Errorf("a broken entry file: exit %d, %s", code, errOut)
	}
}

// TestRetryIntoAPausedSubscription: `deliveries retry` into a paused
// subscription queues nothing and says how to resume; --resume resumes
// it and retries.
func TestRetryIntoAPausedSubscription(t *testing.T) {
	sink := newBodySink(t)
	sink.status = http.StatusBadRequest // fails at once
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	writeConfig(t, file, filepath.Join(dir, "data"), "  - name: archive\n    integration: webhook\n    vars:\n      url: "+sink.URL+"/hook\n")
	rt, stop := startFromFile(t, file)
	ingestOne(t, rt, adminEntry("p1"))
	id := engine.DeliveryID("archive", "p1")
	waitFor(t, "the delivery to fail", func() bool {
		d, err := rt.Engine().Delivery(context.Background(), id)
		return err == nil && d.State == engine.Failed
	})
	if err := rt.Engine().SetPaused(context.Background(), "alice", "archive", true); err != nil {
		t.Fatal(err)
	}
	stop()

	code, out, errOut := runMain(t, "", "--config", file, "deliveries", "retry", id)
	if code != 1 || !strings.Contains(errOut, "archive is paused (paused by alice)") || !strings.Contains(errOut, "--resume") {
		t.Fatalf("retry into a paused subscription: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runMain(t, "", "--config", file, "deliveries", "list", "--json")
	if code != 0 || !strings.Contains(out, `"state": "failed"`) {
		t.Fatalf("the refused retry queued something: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runMain(t, "", "--config", file, "deliveries", "retry", id, "--resume")
	if code != 0 || !strings.Contains(out, "resumed archive") || !strings.Contains(out, "is due again") {
		t.Fatalf("retry --resume: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestResendCommand: `deliveries resend --since` queues, for a
// subscription added later, the stored entries of the range its policy
// allows, once each.
func TestResendCommand(t *testing.T) {
	sink := newBodySink(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	data := filepath.Join(dir, "data")
	old := "  - name: archive\n    integration: webhook\n    vars:\n      url: " + sink.URL + "/old\n"
	writeConfig(t, file, data, old)
	rt, stop := startFromFile(t, file)
	ingestOne(t, rt, adminEntry("r1"))
	ingestOne(t, rt, strings.Replace(adminEntry("r2"), "env/production", "env/staging", 1))
	waitFor(t, "the deliveries", func() bool {
		d, err := rt.Engine().Delivery(context.Background(), engine.DeliveryID("archive", "r2"))
		return err == nil && d.State == engine.Delivered
	})
	stop()
	writeConfig(t, file, data, old+"  - name: fresh\n    integration: webhook\n    vars:\n      url: "+sink.URL+"/fresh\n"+
		"    policy:\n      - effect: allow\n        resources: [\"proj/*:env/production:flag/*\"]\n        actions: [\"*\"]\n")

	code, out, errOut := runMain(t, "", "--config", file, "deliveries", "resend", "--subscription", "fresh", "--since", "24h", "--dry-run")
	if code != 0 || !strings.Contains(out, "fresh: 2 entries received since ") || !strings.Contains(out, "1 allowed by its policy, 0 already sent or queued; would queue 1 new deliveries") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runMain(t, "", "--config", file, "deliveries", "resend", "--subscription", "fresh", "--since", "24h", "--json")
	if code != 0 {
		t.Fatalf("resend: exit %d\n%s", code, errOut)
	}
	var res struct {
		Queued      int      `json:"queued"`
		DeliveryIDs []string `json:"delivery_ids"`
		Since       string   `json:"since"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Queued != 1 || len(res.DeliveryIDs) != 1 || res.DeliveryIDs[0] != engine.DeliveryID("fresh", "r1") || !strings.HasSuffix(res.Since, "Z") {
		t.Fatalf("resend --json = %s (%v)", out, err)
	}
	code, out, _ = runMain(t, "", "--config", file, "deliveries", "resend", "--subscription", "fresh", "--since", "24h")
	if code != 0 || !strings.Contains(out, "1 already sent or queued; queued 0 new deliveries") {
		t.Errorf("second resend: exit %d\n%s", code, out)
	}
	if code, _, errOut := runMain(t, "", "--config", file, "deliveries", "resend", "--subscription", "fresh", "--since", "yesterday"); code != 2 || !strings.Contains(errOut, "--since") {
		t.Errorf("bad --since: exit %d, %s", code, errOut)
	}
}
