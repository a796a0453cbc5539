package sshserve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/engine/api"
)

// TestRolesAndActionsAcrossSessions drives two consoles over real SSH
// connections on one engine: the viewer's r is refused with the reason, the
// operator's retry delivers the failed delivery, and the viewer's console
// shows who retried it.
func TestRolesAndActionsAcrossSessions(t *testing.T) {
	s := newSink(t, http.StatusBadRequest) // a 400 is not retried by itself
	eng := newEngine(t, webhookSub("raw", s.URL))
	ingest(t, eng, entryJSON("e1", "first entry"))
	id := engine.DeliveryID("raw", "e1")
	waitState(t, eng, id, api.Failed)

	alice := newUser(t, "operator", "alice")
	bob := newUser(t, "viewer", "bob")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice, bob)
	a := openConsole(t, srv, alice)
	b := openConsole(t, srv, bob)

	// The viewer presses r on the failed entry: nothing happens but the
	// reason.
	m := b.mark()
	if strings.Contains(b.textSince(0), "viewer role cannot retry") {
		t.Fatal("the refusal shows before r is pressed")
	}
	b.typeKeys("r")
	b.waitText(m, "viewer role cannot retry")
	acts, err := eng.Actions(context.Background(), time.Time{}, 10)
	if err != nil || len(acts) != 0 {
		t.Fatalf("the viewer's r reached the engine: %+v, %v", acts, err)
	}

	// The operator retries it: filter to the failed entry, r, confirm.
	s.status.Store(http.StatusOK)
	// Keys typed in one burst reach Bubble Tea as one multi-rune key, as a
	// paste does; a person types them one at a time.
	m = a.mark()
	a.typeKeys("/")
	a.waitText(m, "kind:flag")
	a.typeKeys("status:failed sub:raw")
	a.waitText(m, "status:failed sub:raw")
	a.typeKeys("\r")
	a.waitText(m, "· 1 of")
	a.typeKeys("r")
	a.waitText(m, "(y/N)")
	bm := b.mark()
	a.typeKeys("y")
	waitState(t, eng, id, api.Delivered)
	acts, err = eng.Actions(context.Background(), time.Time{}, 10)
	if err != nil || len(acts) != 1 || acts[0].Actor != "alice" || acts[0].Kind != "retry" {
		t.Fatalf("actions = %+v, %v; want one retry by alice", acts, err)
	}
	// The other session learns it from the live feed.
	b.waitText(bm, "alice retried")
}

// TestSessionsShareLiveEvents checks that every console on the engine sees
// a new entry as it arrives.
func TestSessionsShareLiveEvents(t *testing.T) {
	s := newSink(t, http.StatusOK)
	eng := newEngine(t, webhookSub("raw", s.URL))
	alice := newUser(t, "operator", "alice")
	bob := newUser(t, "viewer", "bob")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice, bob)
	a := openConsole(t, srv, alice)
	b := openConsole(t, srv, bob)
	ma, mb := a.mark(), b.mark()
	ingest(t, eng, entryJSON("z1", "zebra7781 turned on the flag"))
	a.waitText(ma, "zebra7781")
	b.waitText(mb, "zebra7781")
	if n := len(srv.Sessions()); n != 2 {
		t.Errorf("%d sessions listed, want 2", n)
	}
}

// TestAuthentication refuses unknown keys and passwords, and logs both
// with the remote address (and the key's fingerprint).
func TestAuthentication(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	alice := newUser(t, "operator", "alice")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice)

	t.Run("unknown key", func(t *testing.T) {
		mallory := newUser(t, "operator", "mallory")
		conn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _, _, err = gossh.NewClientConn(conn, srv.Addr().String(), clientConfig(mallory))
		if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("an unknown key got in: %v", err)
		}
		waitLog(t, srv, "public key refused", gossh.FingerprintSHA256(mallory.signer.PublicKey()), "remote="+conn.LocalAddr().String())
	})

	t.Run("password", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		cfg := &gossh.ClientConfig{
			User:            "alice",
			Auth:            []gossh.AuthMethod{gossh.Password("hunter2"), gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return []string{"hunter2"}, nil })},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		}
		_, _, _, err = gossh.NewClientConn(conn, srv.Addr().String(), cfg)
		if err == nil {
			t.Fatal("a password got in")
		}
		// The server offers public keys only, so the client gives up
		// without sending the password.
		waitLog(t, srv, "ssh: connection ended without authenticating", "remote="+conn.LocalAddr().String())
		if strings.Contains(srv.logs.String(), "hunter2") {
			t.Error("the password was logged")
		}
	})

	t.Run("listed key", func(t *testing.T) {
		c := dial(t, srv, alice)
		out, err := mustSession(t, c).Output("help")
		if err != nil || !strings.Contains(string(out), "you are alice (operator)") {
			t.Fatalf("help: %q, %v", out, err)
		}
	})
}

// TestAuthAttemptLogsForcedPasswords: a client that sends a password
// although none is offered is refused by the SSH library; the attempt is
// logged without the password.
func TestAuthAttemptLogsForcedPasswords(t *testing.T) {
	logs := newSyncBuffer()
	s := &Server{log: slog.New(slog.NewTextHandler(logs, nil))}
	meta := connMeta{user: "root", remote: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4242}}
	s.authAttempt(meta, "none", errors.New("no auth passed yet"))
	s.authAttempt(meta, "publickey", errors.New("permission denied"))
	if logs.String() != "" {
		t.Errorf("none and publickey are logged elsewhere:\n%s", logs)
	}
	s.authAttempt(meta, "password", errors.New("ssh: password auth not configured"))
	s.authAttempt(meta, "keyboard-interactive", errors.New("ssh: keyboard-interactive auth not configured"))
	for _, m := range []string{"method=password", "method=keyboard-interactive"} {
		if !strings.Contains(logs.String(), m) || !strings.Contains(logs.String(), "remote=192.0.2.7:4242") || !strings.Contains(logs.String(), "user=root") {
			t.Errorf("missing %s with user and remote in:\n%s", m, logs)
		}
	}
}

// connMeta is the connection metadata the SSH library hands to callbacks.
type connMeta struct {
	user   string
	remote net.Addr
}

func (m connMeta) User() string          { return m.user }
func (m connMeta) SessionID() []byte     { return nil }
func (m connMeta) ClientVersion() []byte { return []byte("SSH-2.0-test") }
func (m connMeta) ServerVersion() []byte { return []byte("SSH-2.0-auditrelay") }
func (m connMeta) RemoteAddr() net.Addr  { return m.remote }
func (m connMeta) LocalAddr() net.Addr   { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222} }

// waitLog waits until one log line contains every part.
func waitLog(t *testing.T, srv *testServer, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		for _, line := range strings.Split(srv.logs.String(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q in:\n%s", parts, srv.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustSession(t *testing.T, c *gossh.Client) *gossh.Session {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestRevokingAKeyNeedsNoRestart removes a key from the file: its open
// console ends with the reason and it can no longer connect; the other
// key is unaffected.
func TestRevokingAKeyNeedsNoRestart(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	alice := newUser(t, "operator", "alice")
	bob := newUser(t, "viewer", "bob")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice, bob)
	a := openConsole(t, srv, alice)

	if err := os.WriteFile(srv.keysFile, []byte(bob.line), 0o600); err != nil {
		t.Fatal(err)
	}
	a.waitText(0, "your key was removed from the authorized keys")
	a.waitEnd()
	if _, err := gossh.Dial("tcp", srv.Addr().String(), clientConfig(alice)); err == nil {
		t.Fatal("a revoked key still connects")
	}

	// Promoting bob ends his viewer console: he reconnects as an operator.
	b := openConsole(t, srv, bob)
	if err := os.WriteFile(srv.keysFile, []byte(strings.Replace(bob.line, "role=viewer", "role=operator", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	b.waitText(0, "your key is now operator bob: reconnect")
	b.waitEnd()
	b = openConsole(t, srv, bob)
	b.waitText(0, "bob · operator")
}

// TestLineStreamWithoutATerminal: without a PTY a session gets one line
// per engine event (plain or JSON); the console refuses to start without
// one; unknown commands are refused.
func TestLineStreamWithoutATerminal(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	alice := newUser(t, "viewer", "alice")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice)
	c := dial(t, srv, alice)

	plain := startTerminal(t, mustSession(t, c), "plain", "")
	js := startTerminal(t, mustSession(t, c), "json", "tail --json")
	deadline := time.Now().Add(waitLimit)
	for len(srv.Sessions()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the line streams did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let both subscribe to the feed
	ingest(t, eng, entryJSON("t1", "tailed entry"))
	plain.waitText(0, `entry        t1 flag "tailed entry"`)
	js.waitText(0, `{"type":"entry"`)
	js.waitText(0, `"ID":"t1"`)

	for cmd, want := range map[string]string{
		"console":     "the console needs a terminal",
		"rm -rf /":    `unknown command "rm"`,
		"tail --nope": `tail: unknown argument "--nope"`,
	} {
		s := mustSession(t, c)
		var stderr strings.Builder
		s.Stderr = &stderr
		err := s.Run(cmd)
		var exit *gossh.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(stderr.String(), want) {
			t.Errorf("%q: err %v, stderr %q; want exit 1 and %q", cmd, err, stderr.String(), want)
		}
	}
}

// TestMaxSessions refuses a session over the limit with a message, and
// admits one again once a slot is free.
func TestMaxSessions(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	alice := newUser(t, "operator", "alice")
	srv := startServer(t, eng, Options{MaxSessions: 1, Console: consoleOpts()}, alice)
	first := openConsole(t, srv, alice)

	second := openTerminal(t, dial(t, srv, alice), "second", "", 100, 30)
	err := second.waitEnd()
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(second.stderrText(), "too many sessions (1 open, ssh.max_sessions is 1)") {
		t.Fatalf("second session: err %v, stderr %q", err, second.stderrText())
	}

	first.typeKeys("q")
	first.waitEnd()
	deadline := time.Now().Add(waitLimit)
	for len(srv.Sessions()) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first session is still listed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	openConsole(t, srv, alice)
}

// TestIdleTimeout ends a console that gets no input, with a message, but
// not one that is typed into.
func TestIdleTimeout(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	alice := newUser(t, "operator", "alice")
	const idle = 400 * time.Millisecond
	srv := startServer(t, eng, Options{IdleTimeout: idle, Console: consoleOpts()}, alice)

	busy := openConsole(t, srv, alice)
	quiet := openConsole(t, srv, alice)
	// Type into one for three timeouts (j moves the selection).
	for end := time.Now().Add(3 * idle); time.Now().Before(end); {
		busy.typeKeys("j")
		time.Sleep(idle / 8)
	}
	if busy.isEnded() {
		t.Fatalf("a console being typed into was closed as idle:\n%s", tail(busy.textSince(0), 500))
	}
	quiet.waitText(0, "closed after 400ms without input (ssh.idle_timeout)")
	quiet.waitEnd()
	// Now the busy one goes quiet too.
	busy.waitText(0, "without input")
	busy.waitEnd()
	waitLog(t, srv, "ssh: session ended", "reason=\"closed after 400ms without input")
}

// TestHostKeyIsKeptAcrossRestarts: the first start generates the key, the
// next start serves the same one, as clients see it.
func TestHostKeyIsKeptAcrossRestarts(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	alice := newUser(t, "operator", "alice")
	hostKey := filepath.Join(t.TempDir(), "data", "ssh_host_ed25519_key")
	seen := func(srv *testServer) string {
		var fp string
		cfg := clientConfig(alice)
		cfg.HostKeyCallback = func(_ string, _ net.Addr, key gossh.PublicKey) error {
			fp = gossh.FingerprintSHA256(key)
			return nil
		}
		c, err := gossh.Dial("tcp", srv.Addr().String(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		return fp
	}
	first := startServer(t, eng, Options{HostKey: hostKey, Console: consoleOpts()}, alice)
	fp1 := seen(first)
	signer, created, err := LoadHostKey(hostKey)
	if err != nil || created {
		t.Fatalf("host key file after the first start: created %v, %v", created, err)
	}
	if fp := gossh.FingerprintSHA256(signer.PublicKey()); fp1 != fp {
		t.Errorf("client saw %s, the key file holds %s", fp1, fp)
	}
	waitLog(t, first, "ssh: generated a host key", fp1)
	waitLog(t, first, "ssh: listening", fp1)
	first.Stop()
	if fi, err := os.Stat(hostKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("host key file: %v, %v", fi, err)
	}
	if pub, err := os.ReadFile(hostKey + ".pub"); err != nil || !strings.HasPrefix(string(pub), "ssh-ed25519 ") {
		t.Errorf("public key file: %q, %v", pub, err)
	}

	second := startServer(t, eng, Options{HostKey: hostKey, Console: consoleOpts()}, alice)
	if fp2 := seen(second); fp2 != fp1 {
		t.Fatalf("the host key changed across a restart: %s, then %s", fp1, fp2)
	}
	if strings.Contains(second.logs.String(), "generated a host key") {
		t.Error("the second start generated a new key")
	}
}

// TestStopEndsSessionsWithAMessage: stopping the server tells every
// session why and waits for them.
func TestStopEndsSessionsWithAMessage(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	alice := newUser(t, "operator", "alice")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice)
	con := openConsole(t, srv, alice)
	stream := startTerminal(t, mustSession(t, dial(t, srv, alice)), "tail", "tail")
	deadline := time.Now().Add(waitLimit)
	for len(srv.Sessions()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the line stream did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Stop()
	if n := len(srv.Sessions()); n != 0 {
		t.Errorf("%d sessions left after Stop", n)
	}
	con.waitText(0, "auditrelay: the server is stopping")
	con.waitEnd()
	stream.waitEnd()
	if !strings.Contains(stream.stderrText(), "auditrelay: the server is stopping") {
		t.Errorf("line stream stderr: %q", stream.stderrText())
	}
	if _, err := gossh.Dial("tcp", srv.Addr().String(), clientConfig(alice)); err == nil {
		t.Error("the server still accepts connections")
	}
}

// TestTemplateEditConflictAcrossSessions: two operators edit the same
// template; the second save is refused because the first changed it, and
// the console says who did.
func TestTemplateEditConflictAcrossSessions(t *testing.T) {
	s := newSink(t, http.StatusOK)
	eng := newEngine(t, "  - name: chat\n    integration: slack\n    vars:\n      webhookUrl: "+s.URL+"/slack\n")
	alice := newUser(t, "operator", "alice")
	carol := newUser(t, "operator", "carol")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice, carol)
	a := openConsole(t, srv, alice)
	c := openConsole(t, srv, carol)
	for _, term := range []*clientTerm{a, c} {
		m := term.mark()
		term.typeKeys("4")
		term.waitText(m, "4 Subscriptions")
		term.typeKeys("t")
		term.waitText(m, "Templates · chat")
		term.waitText(m, "POST ")
	}
	// Handlebars comments keep the template valid, so that neither save is
	// refused for what its preview found.
	m := c.mark()
	c.typeKeys("{{!CAROLMARK}}")
	c.waitText(m, "1 unsaved")

	m = a.mark()
	a.typeKeys("{{!ALICEMARK}}")
	a.waitText(m, "1 unsaved")
	a.typeKeys("\x13") // ctrl+s
	a.waitText(m, "Save the ")
	a.typeKeys("y")
	a.waitText(m, " template of chat to ")
	saved := regexp.MustCompile(`saved (\w+) template of chat`).FindStringSubmatch(a.textSince(m))
	if saved == nil {
		t.Fatalf("no save message:\n%s", tail(a.textSince(m), 2000))
	}
	key := saved[1]

	m = c.mark()
	c.typeKeys("\x13")
	c.waitText(m, "Save the ")
	c.typeKeys("y")
	c.waitText(m, "not saved: the "+key+" template changed since you opened it (by alice")
	ts, err := eng.Templates("chat")
	if err != nil {
		t.Fatal(err)
	}
	for _, tpl := range ts {
		if tpl.Key == key && (!strings.Contains(tpl.Source, "ALICEMARK") || strings.Contains(tpl.Source, "CAROLMARK")) {
			t.Errorf("saved template:\n%s", tpl.Source)
		}
	}
}

// TestLineStreamOnATerminal: ssh -t host tail streams lines with CRLF (the
// terminal is raw) and q ends it.
func TestLineStreamOnATerminal(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	alice := newUser(t, "viewer", "alice")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice)
	term := openTerminal(t, dial(t, srv, alice), "alice", "tail", 120, 30)
	deadline := time.Now().Add(waitLimit)
	for len(srv.Sessions()) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the line stream did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let it subscribe to the feed
	ingest(t, eng, entryJSON("t2", "tailed on a terminal"))
	term.waitText(0, `"tailed on a terminal"`)
	if !strings.Contains(term.textSince(0), "\r\n") {
		t.Errorf("lines do not end with CRLF on a raw terminal: %q", tail(term.textSince(0), 200))
	}
	term.typeKeys("q")
	if err := term.waitEnd(); err != nil {
		t.Errorf("q: the session ended with %v, want exit 0", err)
	}
}

// TestUnauthenticatedConnectionsAreClosed: a connection that never
// authenticates is closed after the handshake timeout.
func TestUnauthenticatedConnectionsAreClosed(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	srv := startServer(t, eng, Options{HandshakeTimeout: 200 * time.Millisecond, Console: consoleOpts()}, newUser(t, "viewer", "alice"))
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Read the server's version line, then say nothing.
	if err := conn.SetReadDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server kept a silent connection open")
		}
		break // closed by the server
	}
	waitLog(t, srv, "did not authenticate in time", "remote="+conn.LocalAddr().String())
}

// TestWindowChangesReachTheConsole: a window-change request resizes that
// session's console only.
func TestWindowChangesReachTheConsole(t *testing.T) {
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	alice := newUser(t, "operator", "alice")
	srv := startServer(t, eng, Options{Console: consoleOpts()}, alice)
	a := openConsole(t, srv, alice)
	b := openConsole(t, srv, alice)
	m, mb := a.mark(), b.mark()
	if err := a.sess.WindowChange(10, 40); err != nil {
		t.Fatal(err)
	}
	a.waitText(m, "terminal too small")
	if !strings.Contains(a.textSince(m), "have 40") {
		t.Errorf("the console did not get the new size:\n%s", a.textSince(m))
	}
	m = a.mark()
	if err := a.sess.WindowChange(45, 160); err != nil {
		t.Fatal(err)
	}
	a.waitText(m, "1 Events")
	if strings.Contains(b.textSince(mb), "terminal too small") {
		t.Error("another session's console was resized")
	}
}
