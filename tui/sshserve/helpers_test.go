package sshserve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/enginetest"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/tui"
)

// waitLimit bounds every wait in these tests; a healthy run takes a
// fraction of it.
const waitLimit = 15 * time.Second

// entryJSON is a LaunchDarkly audit-log entry whose title starts with
// title, so a test can spot its row in a console.
func entryJSON(id, title string) []byte {
	return []byte(fmt.Sprintf(`{
  "_links": {"self": {"href": "/api/v2/auditlog/%[1]s", "type": "application/json"}},
  "_id": %[1]q,
  "_accountId": "5f9a1b2c3d4e5f6a7b8c9d0e",
  "date": %[3]d,
  "accesses": [{"action": "updateOn", "resource": "proj/web:env/production:flag/checkout"}],
  "kind": "flag",
  "name": "Checkout",
  "description": "* Turned the flag on",
  "member": {"_links": {"self": {"href": "/api/v2/members/m1", "type": "application/json"}}, "_id": "m1", "email": "maya@example.com", "firstName": "Maya", "lastName": "Okafor"},
  "titleVerb": "turned on the flag",
  "title": %[2]q,
  "target": {"name": "Checkout", "resources": ["proj/web:env/production:flag/checkout"]}
}`, id, title, time.Now().UnixMilli()))
}

// sink is a local HTTP endpoint answering with status().
type sink struct {
	*httptest.Server
	status atomic.Int32
	count  atomic.Int64
}

func newSink(t *testing.T, status int) *sink {
	s := &sink{}
	s.status.Store(int32(status))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.count.Add(1)
		w.WriteHeader(int(s.status.Load()))
	}))
	t.Cleanup(s.Close)
	return s
}

// newEngine runs a real engine on a temporary SQLite store with the given
// subscriptions (YAML list items) and the built-in integrations.
func newEngine(t *testing.T, subs string) *engine.Engine {
	return enginetest.Start(t, subs, nil)
}

func webhookSub(name, url string) string {
	return fmt.Sprintf("  - name: %s\n    integration: webhook\n    vars:\n      url: %s\n", name, url)
}

func ingest(t testing.TB, eng *engine.Engine, raws ...[]byte) {
	t.Helper()
	items := make([]source.Item, len(raws))
	for i, r := range raws {
		items[i] = source.Item{Raw: r, Source: "webhook"}
	}
	res, err := eng.Ingest(context.Background(), items, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

func waitState(t *testing.T, eng *engine.Engine, id string, want api.State) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		d, err := eng.Delivery(context.Background(), id)
		if err == nil && d.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s: state %s, want %s (err %v)", id, d.State, want, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// user is a client key and the authorized-keys line that lists it.
type user struct {
	name   string
	signer gossh.Signer
	line   string
}

func newUser(t *testing.T, role, name string) user {
	s, key := newKey(t)
	return user{name: name, signer: s, line: fmt.Sprintf("role=%s,name=%s %s %s@test\n", role, name, key, name)}
}

// testServer is a server on 127.0.0.1 with its log.
type testServer struct {
	*Server
	logs     *syncBuffer
	keysFile string
}

func startServer(t *testing.T, api api.API, opts Options, users ...user) *testServer {
	t.Helper()
	dir := t.TempDir()
	if opts.AuthorizedKeys == "" {
		opts.AuthorizedKeys = filepath.Join(dir, "authorized_keys")
		var b strings.Builder
		b.WriteString("# test keys\n")
		for _, u := range users {
			b.WriteString(u.line)
		}
		if err := os.WriteFile(opts.AuthorizedKeys, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if opts.HostKey == "" {
		opts.HostKey = filepath.Join(dir, "ssh_host_ed25519_key")
	}
	opts.Addr = "127.0.0.1:0"
	opts.API = api
	if opts.Console.BatchInterval == 0 {
		opts.Console.BatchInterval = 20 * time.Millisecond
	}
	logs := newSyncBuffer()
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopped := make(chan struct{})
		go func() {
			srv.Stop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(waitLimit):
			t.Error("the server did not stop")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return &testServer{Server: srv, logs: logs, keysFile: opts.AuthorizedKeys}
}

func clientConfig(u user) *gossh.ClientConfig {
	return &gossh.ClientConfig{
		User:            u.name,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(u.signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         waitLimit,
	}
}

func dial(t *testing.T, srv *testServer, u user) *gossh.Client {
	t.Helper()
	c, err := gossh.Dial("tcp", srv.Addr().String(), clientConfig(u))
	if err != nil {
		t.Fatalf("%s: dial: %v", u.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// clientTerm is a client session with a PTY, as a person at a terminal has:
// keys go in, the output stream comes back.
type clientTerm struct {
	t    *testing.T
	name string
	sess *gossh.Session
	in   io.WriteCloser

	mu     sync.Mutex
	out    bytes.Buffer
	stderr bytes.Buffer
	ended  chan struct{}
	exit   error
}

// openTerminal requests a PTY with TERM=dumb (the console then renders
// without color, as plain text) and starts command ("" for a shell).
func openTerminal(t *testing.T, c *gossh.Client, name, command string, cols, rows int) *clientTerm {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("%s: new session: %v", name, err)
	}
	if err := sess.RequestPty("dumb", rows, cols, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		t.Fatalf("%s: pty: %v", name, err)
	}
	return startTerminal(t, sess, name, command)
}

func startTerminal(t *testing.T, sess *gossh.Session, name, command string) *clientTerm {
	t.Helper()
	term := &clientTerm{t: t, name: name, sess: sess, ended: make(chan struct{})}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	term.in = in
	sess.Stdout = writerFunc(func(p []byte) (int, error) {
		term.mu.Lock()
		defer term.mu.Unlock()
		return term.out.Write(p)
	})
	sess.Stderr = writerFunc(func(p []byte) (int, error) {
		term.mu.Lock()
		defer term.mu.Unlock()
		return term.stderr.Write(p)
	})
	if command == "" {
		err = sess.Shell()
	} else {
		err = sess.Start(command)
	}
	if err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	go func() {
		err := sess.Wait()
		term.mu.Lock()
		term.exit = err
		term.mu.Unlock()
		close(term.ended)
	}()
	t.Cleanup(func() { sess.Close() })
	return term
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// mark is a position in the output, for waiting on what comes after it.
func (c *clientTerm) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Len()
}

// textSince is the output after mark, without escape sequences.
func (c *clientTerm) textSince(mark int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ansi.Strip(string(c.out.Bytes()[mark:]))
}

func (c *clientTerm) stderrText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// waitText waits until text appears in the output after mark.
func (c *clientTerm) waitText(mark int, text string) {
	c.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(c.textSince(mark), text) {
		if time.Now().After(deadline) {
			out := c.textSince(mark)
			c.t.Fatalf("%s: waiting for %q; output since mark (last 3000 bytes):\n%s\nstderr: %s", c.name, text, tail(out, 3000), c.stderrText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitEnd waits for the session to end and returns its exit error.
func (c *clientTerm) waitEnd() error {
	c.t.Helper()
	select {
	case <-c.ended:
	case <-time.After(waitLimit):
		c.t.Fatalf("%s: the session did not end; output:\n%s", c.name, tail(c.textSince(0), 2000))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exit
}

func (c *clientTerm) isEnded() bool {
	select {
	case <-c.ended:
		return true
	default:
		return false
	}
}

func (c *clientTerm) typeKeys(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, s); err != nil {
		c.t.Fatalf("%s: typing %q: %v", c.name, s, err)
	}
}

// openConsole connects u and waits for the console to show its panes.
func openConsole(t *testing.T, srv *testServer, u user) *clientTerm {
	t.Helper()
	term := openTerminal(t, dial(t, srv, u), u.name, "", 160, 45)
	term.waitText(0, "1 Events")
	return term
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// consoleOpts are console options every test session uses.
func consoleOpts() tui.Options { return tui.Options{BatchInterval: 20 * time.Millisecond} }

// SessionInfo describes a live session.
type SessionInfo struct {
	ID      string
	Name    string
	Role    tui.Role
	Kind    string // "console" or "tail"
	Remote  string
	Started time.Time
	// Idle is how long the client has sent no input.
	Idle time.Duration
	// BlockedSince is when the oldest write to the client still waiting
	// started (it stopped reading); zero when nothing waits.
	BlockedSince time.Time
}

// Sessions lists the live sessions, for tests to wait on.
func (s *Server) Sessions() []SessionInfo {
	now := time.Now()
	var out []SessionInfo
	for _, ss := range s.live() {
		out = append(out, SessionInfo{
			ID: ss.id, Name: ss.ident.Name, Role: ss.ident.Role, Kind: ss.kind.String(),
			Remote: ss.remote, Started: ss.started, Idle: ss.act.idle(now), BlockedSince: ss.act.blockedSince(),
		})
	}
	return out
}
