package lograte

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lines is a concurrency-safe log sink.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func newLogger(window time.Duration) (*slog.Logger, *Handler, *lines) {
	out := &lines{}
	h := New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}), Options{Window: window})
	return slog.New(h), h, out
}

// TestIdenticalErrorsOneLinePlusCount: N identical errors (differing only
// in their durations) make one line, then one line with the count.
func TestIdenticalErrorsOneLinePlusCount(t *testing.T) {
	for _, n := range []int{1, 2, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			log, h, out := newLogger(time.Hour)
			log = log.With("component", "webhook")
			for i := range n {
				log.Error("webhook not stored", "status", 503, "duration", time.Duration(i)*time.Microsecond,
					"err", errors.New("storing entries: commit: database or disk is full (13)"))
			}
			h.Close()
			recs := out.records(t)
			want := 2
			if n == 1 {
				want = 1
			}
			if len(recs) != want {
				t.Fatalf("%d identical errors gave %d lines, want %d:\n%v", n, len(recs), want, recs)
			}
			for _, r := range recs {
				if r["msg"] != "webhook not stored" || r["component"] != "webhook" || r["level"] != "ERROR" {
					t.Errorf("line %v lost the record's message, level or attributes", r)
				}
			}
			if _, ok := recs[0][CountKey]; ok {
				t.Errorf("the first line carries a count: %v", recs[0])
			}
			if n > 1 {
				if got := recs[1][CountKey]; got != float64(n-1) {
					t.Errorf("count line says %s=%v, want %d", CountKey, got, n-1)
				}
			}
		})
	}
}

// TestWindowEndWritesCount: once the window ends, the count comes without
// waiting for another record or Close, and the next identical record
// passes again.
func TestWindowEndWritesCount(t *testing.T) {
	log, h, out := newLogger(50 * time.Millisecond)
	defer h.Close()
	for range 10 {
		log.Warn("store write group failed", "err", "commit: disk I/O error")
	}
	waitFor(t, "the count line", func() bool { return len(out.records(t)) == 2 })
	recs := out.records(t)
	if recs[1][CountKey] != float64(9) || recs[1]["over"] == nil {
		t.Fatalf("count line = %v, want %s=9 and over", recs[1], CountKey)
	}
	log.Warn("store write group failed", "err", "commit: disk I/O error")
	if got := len(out.records(t)); got != 3 {
		t.Fatalf("a record after the window: %d lines, want 3", got)
	}
}

// TestDifferentRecordsPass: records that differ in level, message, an
// attribute, or the logger's attributes are not counted together; below
// warn nothing is limited.
func TestDifferentRecordsPass(t *testing.T) {
	log, h, out := newLogger(time.Hour)
	a := log.With("component", "store")
	b := log.With("component", "webhook")
	g := log.WithGroup("g")
	a.Error("failed", "err", "x")
	a.Error("failed", "err", "y")
	a.Warn("failed", "err", "x")
	a.Error("other", "err", "x")
	b.Error("failed", "err", "x")
	g.Error("failed", "err", "x")
	a.Error("failed", "err", "x", "delivery", "dlv_1")
	a.Error("failed", "err", "x", "delivery", "dlv_2")
	a.Error("failed", "err", "x", "n", 1)
	a.Error("failed", "err", "x", "n", 2)
	for range 5 {
		a.Info("listening")
		a.Debug("webhook stored")
	}
	h.Close()
	if got := len(out.records(t)); got != 20 {
		t.Fatalf("%d lines, want 20 (10 distinct errors, 10 info/debug)", got)
	}
}

// TestBoundedKinds: past MaxKinds, records of new kinds pass unlimited
// rather than grow the table.
func TestBoundedKinds(t *testing.T) {
	out := &lines{}
	h := New(slog.NewJSONHandler(out, nil), Options{Window: time.Hour, MaxKinds: 4})
	log := slog.New(h)
	for i := range 100 {
		for range 3 {
			log.Error("failed", "err", fmt.Sprint("e", i))
		}
	}
	h.st.mu.Lock()
	n := len(h.st.kinds)
	h.st.mu.Unlock()
	if n > 4 {
		t.Fatalf("%d kinds tracked, MaxKinds is 4", n)
	}
	h.Close()
	// 4 tracked kinds: 1 line + 1 count each; 96 untracked: 3 lines each.
	if got, want := len(out.records(t)), 4*2+96*3; got != want {
		t.Fatalf("%d lines, want %d", got, want)
	}
}

// TestConcurrent logs from many goroutines while windows end, for -race.
func TestConcurrent(t *testing.T) {
	log, h, out := newLogger(5 * time.Millisecond)
	var wg sync.WaitGroup
	const goroutines, each = 8, 2000
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := log.With("worker", g%2)
			for range each {
				l.Error("store write group failed", "err", "disk full")
			}
		}()
	}
	wg.Wait()
	h.Close()
	total := 0
	for _, r := range out.records(t) {
		if c, ok := r[CountKey].(float64); ok {
			total += int(c) // the count line stands for the records left out
		} else {
			total++
		}
	}
	if total != goroutines*each {
		t.Fatalf("lines plus counts = %d, want %d: records were lost", total, goroutines*each)
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
