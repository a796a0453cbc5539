package demo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/demo"
	"github.com/auditrelay/auditrelay/core/mask"
)

func startSink(t *testing.T, flaky bool, cfg demo.SinkConfig) *demo.Sink {
	t.Helper()
	start := demo.StartHealthySink
	if flaky {
		start = demo.StartFlakySink
	}
	s, err := start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func post(t *testing.T, client *http.Client, url string, body string, header map[string]string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestHealthySink(t *testing.T) {
	s := startSink(t, false, demo.SinkConfig{Keep: 3, BodyExcerpt: 10})
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL())
	}
	for i := range 5 {
		resp, err := post(t, http.DefaultClient, s.URL()+"/hooks/slack?x=1", `{"text":"entry `+string(rune('a'+i))+` changed"}`,
			map[string]string{"Authorization": "Bearer sk-live-123", "X-Api-Key": "k-42", "X-LD-Signature": "abc"})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	st := s.Stats()
	if st.Requests != 5 || st.ByStatus[200] != 5 || len(st.ByStatus) != 1 || st.Timeouts != 0 {
		t.Errorf("stats %+v", st)
	}
	rec := s.Recent()
	if len(rec) != 3 {
		t.Fatalf("%d recent requests, want the last 3", len(rec))
	}
	last := rec[2]
	if last.Method != "POST" || last.Path != "/hooks/slack" || last.Query != "x=1" || last.Status != 200 || last.Outcome != "ok" {
		t.Errorf("last request %+v", last)
	}
	if last.Body != `{"text":"e` || last.BodySize != len(`{"text":"entry e changed"}`) {
		t.Errorf("body excerpt %q of %d bytes", last.Body, last.BodySize)
	}
	if got := last.Header.Get("Authorization"); got != "Bearer "+mask.Masked {
		t.Errorf("Authorization shown as %q", got)
	}
	if got := last.Header.Get("X-Api-Key"); got != mask.Masked {
		t.Errorf("X-Api-Key shown as %q", got)
	}
	if got := last.Header.Get("X-LD-Signature"); got != mask.Masked { // one policy: signatures too
		t.Errorf("X-LD-Signature shown as %q", got)
	}
	if !rec[0].At.Before(rec[2].At) && !rec[0].At.Equal(rec[2].At) {
		t.Errorf("recent requests not oldest first")
	}
}

// outcomes sends n requests one at a time and returns the sink's outcome
// for each, checking that each answer fits its outcome.
func outcomes(t *testing.T, s *demo.Sink, n int) []string {
	t.Helper()
	want := map[string]int{"ok": 200, "error": 500, "throttled": 429, "timeout": 200}
	for i := range n {
		resp, err := post(t, http.DefaultClient, s.URL()+"/hook", `{}`, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		rec := s.Recent()
		got := rec[len(rec)-1]
		if resp.StatusCode != want[got.Outcome] || got.Status != resp.StatusCode {
			t.Errorf("request %d: outcome %s answered %d (recorded %d)", i, got.Outcome, resp.StatusCode, got.Status)
		}
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "3" {
			t.Errorf("429 with Retry-After %q, want 3", resp.Header.Get("Retry-After"))
		}
	}
	var out []string
	for _, r := range s.Recent() {
		out = append(out, r.Outcome)
	}
	return out
}

func TestFlakySinkMixIsRepeatable(t *testing.T) {
	cfg := demo.FlakyDefaults()
	cfg.Seed = 2024
	cfg.Delay = time.Millisecond
	cfg.Hang = 20 * time.Millisecond // answered late; the relay's timeout is not part of this test
	cfg.TimeoutRate = 0.05
	cfg.Keep = 200
	a := startSink(t, true, cfg)
	got := outcomes(t, a, 150)

	count := map[string]int{}
	for _, o := range got {
		count[o]++
	}
	for _, want := range []string{"ok", "error", "throttled", "timeout"} {
		if count[want] == 0 {
			t.Errorf("no %s in 150 requests: %v", want, count)
		}
	}
	if count["ok"] < 75 {
		t.Errorf("only %d successes of 150", count["ok"])
	}

	b := startSink(t, true, cfg)
	if again := outcomes(t, b, 150); strings.Join(got, " ") != strings.Join(again, " ") {
		t.Errorf("same seed, different answers:\n%v\n%v", got, again)
	}

	st := a.Stats()
	if st.Requests != 150 || st.ByStatus[500] != int64(count["error"]) || st.ByStatus[429] != int64(count["throttled"]) ||
		st.Timeouts != int64(count["timeout"]) || st.ByStatus[200] != int64(count["ok"]+count["timeout"]) {
		t.Errorf("stats %+v, outcomes %v", st, count)
	}
}

func TestFlakySinkGonePath(t *testing.T) {
	s := startSink(t, true, demo.SinkConfig{ErrorRate: 1})
	resp, err := post(t, http.DefaultClient, s.GoneURL(), `{}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusGone {
		t.Errorf("status %d, want 410", resp.StatusCode)
	}
	resp, err = post(t, http.DefaultClient, s.URL()+"/hook", `{}`, nil)
	if err != nil || resp.StatusCode != 500 {
		t.Errorf("other path: %v %v, want 500 (error rate 1)", resp, err)
	}
	if rec := s.Recent(); len(rec) != 2 || rec[0].Outcome != "gone" || rec[1].Outcome != "error" {
		t.Errorf("recent %+v", rec)
	}
}

func TestFlakySinkTimeoutIsRecorded(t *testing.T) {
	s := startSink(t, true, demo.SinkConfig{TimeoutRate: 1, Hang: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/hook", strings.NewReader(`{"a":1}`))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		result <- err
	}()
	waitFor(t, "the request to arrive", func() bool { return s.Stats().Requests == 1 })
	cancel() // the client gives up, as the relay does at its timeout
	if err := <-result; err == nil {
		t.Fatal("request answered, want it held")
	}
	waitFor(t, "the abandoned request to be recorded", func() bool { return len(s.Recent()) == 1 })
	r := s.Recent()[0]
	if r.Status != 0 || r.Outcome != "timeout" || r.Body != `{"a":1}` {
		t.Errorf("recorded %+v", r)
	}
	if st := s.Stats(); st.Timeouts != 1 || len(st.ByStatus) != 0 {
		t.Errorf("stats %+v", st)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSinkCloseEndsHeldRequests(t *testing.T) {
	s, err := demo.StartFlakySink(demo.SinkConfig{TimeoutRate: 1, Hang: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/hook", bytes.NewReader([]byte(`{}`)))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			err = errors.New("answered " + resp.Status)
		}
		result <- err
	}()
	waitFor(t, "the request to arrive", func() bool { return s.Stats().Requests == 1 })
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while a request was held")
	}
	if err := <-result; err == nil || strings.Contains(err.Error(), "answered") {
		t.Errorf("held request: %v, want the connection dropped", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Post(s.URL(), "application/json", nil); err == nil {
		t.Error("the sink still answers after Close")
	}
}
