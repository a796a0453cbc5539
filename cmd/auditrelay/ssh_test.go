package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// lockedBuffer collects a command's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sshKey returns a client key and its authorized-keys line for role/name.
func sshKey(t *testing.T, role, name string) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, "role=" + role + ",name=" + name + " " + string(gossh.MarshalAuthorizedKey(s.PublicKey()))
}

// sshListening waits for the "ssh: listening" log line (JSON) and returns
// its address and fingerprint.
func sshListening(t *testing.T, stderr *lockedBuffer, done <-chan int) (addr, fingerprint string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr, Fingerprint string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "ssh: listening" {
				return line.Addr, line.Fingerprint
			}
		}
		select {
		case code := <-done:
			t.Fatalf("auditrelay exited (%d) before serving SSH:\n%s", code, stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no ssh: listening line:\n%s", stderr)
	return "", ""
}

// TestDemoServesSSHWithoutATerminal runs `auditrelay --demo --ssh` with
// stdout not a terminal: it prints the line stream and serves the console
// over SSH, with a host key generated in the data directory.
func TestDemoServesSSHWithoutATerminal(t *testing.T) {
	dir := t.TempDir()
	signer, line := sshKey(t, "operator", "alice")
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--demo", "--rate", "20", "--ssh", "127.0.0.1:0", "--authorized-keys", keys,
			"--data-dir", filepath.Join(dir, "data"), "--log-format", "json"}, strings.NewReader(""), &stdout, &stderr)
	}()
	addr, fp := sshListening(t, &stderr, done)

	var seen string
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: "alice",
		Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: func(_ string, _ net.Addr, key gossh.PublicKey) error {
			seen = gossh.FingerprintSHA256(key)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if seen != fp {
		t.Errorf("client saw host key %s, the log says %s", seen, fp)
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.Output("help")
	if err != nil || !strings.Contains(string(out), "you are alice (operator)") {
		t.Errorf("help over SSH: %q, %v", out, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "data", hostKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("host key in the data directory: %v, %v", fi, err)
	}

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), " entry ") {
		if time.Now().After(deadline) {
			t.Fatalf("no line stream on stdout:\n%s", stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("auditrelay did not stop")
	}
	if !strings.Contains(stderr.String(), `"msg":"ssh: stopped"`) {
		t.Errorf("the SSH server was not stopped:\n%s", stderr.String())
	}
}

// TestSSHStartErrors: --ssh without an authorized-keys file, or with a bad
// one, fails at start and says what to do.
func TestSSHStartErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad-keys")
	if err := os.WriteFile(bad, []byte("# keys\nalice ssh-ed25519 AAAA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no authorized keys": {nil, "--ssh needs an authorized-keys file: set ssh.authorized_keys or pass --authorized-keys FILE"},
		"bad line":           {[]string{"--authorized-keys", bad}, bad + ":2: not a key line"},
		"missing file":       {[]string{"--authorized-keys", filepath.Join(dir, "nope")}, "does not exist"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr lockedBuffer
			args := append([]string{"--demo", "--ssh", "127.0.0.1:0", "--data-dir", filepath.Join(dir, name)}, tc.args...)
			code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
			if code != exitFailure || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr.String(), exitFailure, tc.want)
			}
		})
	}
}
