package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConsoleWhileServeRuns: `auditrelay` on a host where `serve` already
// runs with the same configuration does not fail with "address already in
// use" but says that a relay runs and how to open its console over SSH.
func TestConsoleWhileServeRuns(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	_, line := sshKey(t, "operator", "tester")
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "auditrelay.yaml")
	cfg := fmt.Sprintf("data_dir: %s\nhttp:\n  listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\nssh:\n  listen: 127.0.0.1:0\n  authorized_keys: %s\n", dataDir, keys)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := startServe(t, cfgPath)
	defer func() {
		serve.cmd.Process.Signal(os.Interrupt)
		serve.cmd.Wait()
	}()
	// serve records its SSH address once the SSH server listens.
	var sshAddr string
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(dataDir, "ssh.addr"))
		if err == nil && strings.TrimSpace(string(b)) != "" {
			sshAddr = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not record its SSH address")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, port, _ := net.SplitHostPort(sshAddr)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "--config", cfgPath)
	cmd.Env = append(os.Environ(), "AUDITRELAY_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("auditrelay kept running next to serve:\n%s", stderr.String())
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("auditrelay next to serve: %v, want exit 1\n%s", err, stderr.String())
	}
	for _, want := range []string{
		fmt.Sprintf("data directory %s is in use by another auditrelay (pid %d", dataDir, serve.cmd.Process.Pid),
		"to open the running relay's console: ssh -p " + port + " localhost",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "address already in use") {
		t.Errorf("stderr still says address already in use:\n%s", stderr.String())
	}
}
