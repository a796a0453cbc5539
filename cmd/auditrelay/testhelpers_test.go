package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/delivery"
)

// Helpers shared by the tests that run this test binary as a real
// auditrelay process (crash_test.go, cluster_test.go, outside_bench_test.go).

// TestMain lets a test run this test binary as the auditrelay command:
// with AUDITRELAY_TEST_MAIN=1 it is the real main, so the crash test can
// kill -9 a real serve process. With AUDITRELAY_TEST_CEILING_SERVER=1 it is
// the loopback ceiling's server alone (see crossProcessCeiling).
func TestMain(m *testing.M) {
	if os.Getenv("AUDITRELAY_TEST_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	if os.Getenv("AUDITRELAY_TEST_CEILING_SERVER") == "1" {
		os.Exit(ceilingServer())
	}
	os.Exit(m.Run())
}

// ceilingServer serves delivery.CeilingHandler on a free loopback port,
// writes the address on stdout and stops when stdin closes (its parent
// closed it or died).
func ceilingServer() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: delivery.CeilingHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		srv.Close()
	}()
	fmt.Println(ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// crashSink records every delivery it receives: entry id → delivery ids,
// and when each arrived.
type crashSink struct {
	mu     sync.Mutex
	got    map[string][]string    // entry id → delivery id of each request
	times  map[string][]time.Time // entry id → arrival of each request
	total  atomic.Int64
	server *http.Server
	url    string
}

func newCrashSink(t *testing.T) *crashSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &crashSink{got: map[string][]string{}, times: map[string][]time.Time{}, url: "http://" + ln.Addr().String() + "/hook"}
	s.server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var entry struct {
			ID string `json:"_id"`
		}
		_ = json.Unmarshal(body, &entry) // the sink's own payloads: entries as sent
		id := entry.ID
		s.mu.Lock()
		s.got[id] = append(s.got[id], r.Header.Get("X-Auditrelay-Delivery-Id"))
		s.times[id] = append(s.times[id], time.Now())
		s.mu.Unlock()
		s.total.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})}
	go s.server.Serve(ln)
	t.Cleanup(func() { s.server.Close() })
	return s
}

func (s *crashSink) snapshot() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]string, len(s.got))
	for k, v := range s.got {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// arrivals returns when each request of entry id arrived.
func (s *crashSink) arrivals(id string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times[id]...)
}

// serveProcess is auditrelay serve running as a child process.
type serveProcess struct {
	cmd  *exec.Cmd
	addr string // receiver address, from the startup log
}

func startServe(t testing.TB, configPath string) *serveProcess {
	t.Helper()
	return startServeEnv(t, configPath)
}

// startServeEnv is startServe with extra environment variables (NAME=value).
func startServeEnv(t testing.TB, configPath string, env ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--config", configPath, "--log-format", "json")
	cmd.Env = append(append(os.Environ(), "AUDITRELAY_TEST_MAIN=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			var line struct {
				Msg, Listener, Addr string
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" && line.Listener == "http" && !sent {
				found <- line.Addr
				sent = true
			}
		}
	}()
	select {
	case p.addr = <-found:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("serve did not start listening")
	}
	return p
}
