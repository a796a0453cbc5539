package relay_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/admin"
	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/relay"
)

// TestMain lets a test run this test binary as a process that holds a
// SQLite lock (holdLockEnv).
func TestMain(m *testing.M) {
	if path := os.Getenv(holdLockEnv); path != "" {
		os.Exit(holdSQLiteLock(path))
	}
	os.Exit(m.Run())
}

// holdLockEnv makes this test binary a separate process that holds an
// exclusive SQLite lock on a database until its standard input closes, as
// another program (the sqlite3 shell, a backup tool) would.
const holdLockEnv = "AUDITRELAY_TEST_HOLD_SQLITE_LOCK"

func holdSQLiteLock(path string) int {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_, _ = conn.ExecContext(ctx, "ROLLBACK")
	return 0
}

// lockSQLite starts a process holding an exclusive lock on the database at
// path; release ends it.
func lockSQLite(t *testing.T, path string) (release func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "locked\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("lock holder said %q, %v", line, err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Errorf("lock holder: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// syncBuffer is a log sink for a relay running in the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testRelay is a relay run as serve runs it, in the test process.
type testRelay struct {
	rt   *relay.Relay
	base string // http://host:port of the public listener
	logs *syncBuffer
	// flushLog writes the log's pending repeat counts.
	flushLog func()
}

func startTestRelay(t *testing.T, cfg config.Config) *testRelay {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Log.Format = "json"
	log, flush := relay.NewLogger(cfg, logs)
	rt, err := relay.Open(context.Background(), cfg, log, relay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		rt.Close()
		flush()
	})
	return &testRelay{rt: rt, base: "http://" + rt.Addr().String(), logs: logs, flushLog: flush}
}

func relayConfig(dir string) config.Config {
	cfg := config.Defaults()
	cfg.DataDir = dir
	cfg.Instance = "ready-test"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Admin.Listen = "127.0.0.1:0"
	cfg.Retention.Interval = 0
	return cfg
}

// post sends one entry with id, padded to about pad bytes.
func (r *testRelay) post(t *testing.T, client *http.Client, id string, pad int) (*http.Response, error) {
	t.Helper()
	body := fmt.Sprintf(`{"_id":%q,"date":1737540002113,"kind":"flag","name":"F","title":"turned on %s","accesses":[{"action":"updateOn","resource":"proj/p:env/production:flag/f"}],"member":{"_id":"m1","email":"ops@example.com"}}`,
		id, strings.Repeat("x", pad))
	resp, err := client.Post(r.base+"/v1/launchdarkly", "application/json", strings.NewReader(body))
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func (r *testRelay) readyz(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.Get(r.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReceiverBoundedWhileLocked: while another process holds the SQLite
// write lock, a webhook is answered 503 with Retry-After once
// sources.webhook.store_timeout passed, well before a sender's own timeout
// (not after the store's 10 s busy timeout, or never), and /readyz fails;
// both recover when the lock goes.
func TestReceiverBoundedWhileLocked(t *testing.T) {
	cfg := relayConfig(t.TempDir())
	cfg.Webhook.StoreTimeout = 500 * time.Millisecond
	r := startTestRelay(t, cfg)
	client := &http.Client{Timeout: 4 * cfg.Webhook.StoreTimeout} // the sender's patience
	if resp, err := r.post(t, client, "before", 0); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST before the lock: %v %v", resp, err)
	}

	release := lockSQLite(t, filepath.Join(cfg.DataDir, "auditrelay.db"))
	resp, err := r.post(t, client, "during", 0)
	if err != nil {
		t.Fatalf("POST while another process holds the lock: %v (the sender gave up: the wait is not bounded)", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("POST while locked = %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	if code, body := r.readyz(t); code != http.StatusServiceUnavailable || !strings.Contains(body, "cannot commit") {
		t.Fatalf("/readyz while locked = %d %q, want 503 saying the store cannot commit", code, body)
	}

	release()
	waitFor(t, "/readyz after the lock went", func() bool { code, _ := r.readyz(t); return code == http.StatusOK })
	resp, err = r.post(t, client, "during", 0)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST after the lock went: %v %v", resp, err)
	}
}

// TestAdminAuth: the admin API takes only "Authorization: Bearer <token>"
// with the exact token; a generated token is long and random.
func TestAdminAuth(t *testing.T) {
	const token = "0123456789abcdef-admin"
	cfg := relayConfig(t.TempDir())
	cfg.Admin.Token = config.Secret{Value: token}
	r := startTestRelay(t, cfg)
	url := "http://" + r.rt.AdminAddr().String() + admin.Prefix + "/subscriptions"
	tests := []struct {
		header string
		want   int
	}{
		{"Bearer " + token, http.StatusOK},
		{"bearer " + token, http.StatusOK}, // the scheme is case-insensitive
		{token, http.StatusUnauthorized},   // no scheme
		{"Bearer " + token + "x", http.StatusUnauthorized},
		{"Bearer " + token[:len(token)-1], http.StatusUnauthorized},
		{"Bearer  " + token, http.StatusUnauthorized},
		{"Basic " + token, http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
		{"Bearer ", http.StatusUnauthorized},
		{"", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: %s, want %d", tc.header, resp.Status, tc.want)
		}
		if tc.want == http.StatusUnauthorized && (resp.Header.Get("WWW-Authenticate") == "" || !json.Valid(body)) {
			t.Errorf("Authorization %q: 401 without WWW-Authenticate or a JSON error: %q", tc.header, body)
		}
	}

	// Without admin.token one is generated: 64 hex characters from
	// crypto/rand, different for each data directory, and the one the
	// instance takes.
	var gen []string
	for range 2 {
		cfg := relayConfig(t.TempDir())
		r := startTestRelay(t, cfg)
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, "admin.token"))
		if err != nil {
			t.Fatal(err)
		}
		tok := strings.TrimSpace(string(b))
		if len(tok) < 64 || strings.Trim(tok, "0123456789abcdef") != "" {
			t.Fatalf("generated admin token %q: want at least 64 hex characters", tok)
		}
		c, err := admin.NewClient("http://"+r.rt.AdminAddr().String(), t.TempDir(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Subscriptions(t.Context()); err != nil {
			t.Fatalf("the generated token from the data directory: %v", err)
		}
		gen = append(gen, tok)
	}
	if gen[0] == gen[1] {
		t.Fatal("two data directories got the same generated token")
	}
}

// countLines counts the JSON log lines with msg, and sums their repeat
// counts.
func countLines(t *testing.T, logs, msg string) (lines, repeated int) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != msg {
			continue
		}
		lines++
		if n, ok := rec["repeated"].(float64); ok {
			repeated += int(n)
		}
	}
	return lines, repeated
}

func itoa(i int) string { return strconv.Itoa(i) }

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
