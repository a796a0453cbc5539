package relay_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/relay"
)

// TestSecondRelaySaysHowToOpenTheConsole: a second relay on the same data
// directory, or on the port of a running one, is refused with what runs
// and the ssh command that opens its console, instead of a bare "address
// already in use".
func TestSecondRelaySaysHowToOpenTheConsole(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	cfg := relayConfig(dir)
	first, err := relay.Open(ctx, cfg, log, relay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- first.Run(runCtx) }()
	defer func() { stop(); <-done }()

	// Same data directory, no SSH console yet.
	_, err = relay.Open(ctx, cfg, log, relay.Options{})
	var re *relay.RunningError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "does not serve its console over SSH") {
		t.Fatalf("second relay without SSH: %v", err)
	}

	// The first serves its console over SSH: the second says how to open it.
	sshLn := fakeSSH(t)
	if err := first.SetSSHListener(sshLn.Addr()); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(sshLn.Addr().String())
	_, err = relay.Open(ctx, cfg, log, relay.Options{})
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "to open the running relay's console: ssh -p "+port+" localhost") {
		t.Fatalf("second relay with SSH: %v", err)
	}

	// Another data directory, the same http.listen: found by its /healthz,
	// and this config's ssh.listen answers as an SSH server.
	other := relayConfig(t.TempDir())
	other.HTTP.Listen = first.Addr().String()
	other.SSH.Listen = sshLn.Addr().String()
	waitHealthz(t, "http://"+first.Addr().String()+"/healthz")
	_, err = relay.Open(ctx, other, log, relay.Options{})
	if !errors.As(err, &re) || re.Setting != "http.listen" ||
		!strings.Contains(err.Error(), "http.listen "+first.Addr().String()+" is already in use by an auditrelay on this host") ||
		!strings.Contains(err.Error(), "ssh -p "+port+" localhost") {
		t.Fatalf("relay on a busy port: %v", err)
	}

	// A port taken by something else stays a plain error.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	other.HTTP.Listen = busy.Addr().String()
	_, err = relay.Open(ctx, other, log, relay.Options{})
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("relay on a port another program holds: %v", err)
	}
}

// fakeSSH greets like an SSH server and hangs up.
func fakeSSH(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-fake\r\n"))
			c.Close()
		}
	}()
	return ln
}

func TestSSHCommand(t *testing.T) {
	for addr, want := range map[string]string{
		":2222":          "ssh -p 2222 localhost",
		"0.0.0.0:2222":   "ssh -p 2222 localhost",
		"[::]:2222":      "ssh -p 2222 localhost",
		"127.0.0.1:2222": "ssh -p 2222 localhost",
		"10.0.0.5:2200":  "ssh -p 2200 10.0.0.5",
		"relay.local:22": "ssh relay.local",
	} {
		if got := relay.SSHCommand(addr); got != want {
			t.Errorf("SSHCommand(%q) = %q, want %q", addr, got, want)
		}
	}
}

// waitHealthz waits until url answers 200.
func waitHealthz(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer: %v", url, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
