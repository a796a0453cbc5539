package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/relay"
)

// Tests of serve as a command: what it does at start, in a child process
// or through run. The runtime's own tests are in core/relay.

// serveOnce runs `auditrelay serve` as a child process and returns its exit
// code and standard error; a serve that starts is stopped after a while
// (that is the failure these tests look for).
func serveOnce(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "AUDITRELAY_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("serve %v kept running (it should have refused to start):\n%s", args, stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stderr.String()
}

// TestSecondServeRefused: a second serve on the data directory of a
// running one refuses to start, names the process that holds it, and
// leaves its admin.addr alone.
func TestSecondServeRefused(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "auditrelay.yaml")
	dataDir := filepath.Join(dir, "data")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("data_dir: %s\nhttp:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n", dataDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	first := startServe(t, cfgPath)
	defer func() {
		first.cmd.Process.Signal(os.Interrupt)
		first.cmd.Wait()
	}()
	addr, err := os.ReadFile(filepath.Join(dataDir, "admin.addr"))
	if err != nil {
		t.Fatal(err)
	}

	code, stderr := serveOnce(t, "--config", cfgPath)
	want := fmt.Sprintf("data directory %s is in use by another auditrelay (pid %d", dataDir, first.cmd.Process.Pid)
	if code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("second serve: exit %d, stderr:\n%s\nwant exit 1 and %q", code, stderr, want)
	}
	if now, _ := os.ReadFile(filepath.Join(dataDir, "admin.addr")); !bytes.Equal(now, addr) {
		t.Fatalf("admin.addr changed from %q to %q", addr, now)
	}
	// The first one still answers.
	if code := httpStatus(t, "http://"+first.addr+"/readyz"); code != http.StatusOK {
		t.Fatalf("first serve /readyz = %d after the second one was refused", code)
	}
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeRefusesStaticTargetAtStart: serve does not start when a
// subscription's URL is one of its own listeners, and says which field.
func TestServeRefusesStaticTargetAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminAddr := ln.Addr().String()
	ln.Close() // only its number is needed: the check comes before listening
	dir := t.TempDir()
	file := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(file, []byte(`data_dir: `+dir+`
http: {listen: "127.0.0.1:0"}
admin: {listen: "`+adminAddr+`"}
subscriptions:
  - name: peek
    integration: webhook
    vars:
      url: http://`+adminAddr+`/admin/v1/deliveries
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut lockedBuffer
	code := run(ctx, []string{"serve", "--config", file}, strings.NewReader(""), &out, &errOut)
	if code == 0 {
		t.Fatalf("serve started (exit 0)")
	}
	want := file + `:5: subscription "peek": vars.url: target refused: ` + adminAddr + ` is this relay's admin listener`
	if !strings.Contains(errOut.String(), want) {
		t.Errorf("exit %d, stderr:\n%s\nwant %q", code, errOut.String(), want)
	}
}

// TestSSHListenerRefusedAsTarget: the console's SSH server, started as
// serve starts it, is one of the relay's own listeners: a subscription
// pointed at it is refused, naming it.
func TestSSHListenerRefusedAsTarget(t *testing.T) {
	dir := t.TempDir()
	_, keyLine := sshKey(t, "operator", "alice")
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte(keyLine), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "auditrelay.yaml")
	if err := os.WriteFile(file, []byte(`data_dir: `+dir+`
ssh: {listen: "127.0.0.1:0", authorized_keys: `+keys+`}
retention: {interval: 0s}
subscriptions:
  - name: archive
    integration: webhook
    vars:
      url: http://127.0.0.1:9/hook
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(viper.New(), file, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	rt, err := relay.Open(context.Background(), cfg, log, relay.Options{NoListeners: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	stopSSH, err := startSSH(context.Background(), cfg, rt, log)
	if err != nil {
		t.Fatal(err)
	}
	defer stopSSH()
	sshAddr := ""
	waitFor(t, "the ssh: listening line", func() bool {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "ssh: listening" {
				sshAddr = line.Addr
				return true
			}
		}
		return false
	})
	err = rt.Engine().SaveForm(context.Background(), "alice", "archive", map[string]any{"url": "http://" + sshAddr + "/"})
	var fe *engine.FormError
	if want := "target refused: " + sshAddr + " is this relay's SSH listener"; !errors.As(err, &fe) || !strings.Contains(fe.Fields["url"], want) {
		t.Errorf("SaveForm(ssh address) = %v (%+v), want url: %s", err, fe, want)
	}
}
