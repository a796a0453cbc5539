package sshserve

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func TestLoadHostKeyGeneratesOnceThenReuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "ssh_host_ed25519_key")
	s1, created, err := LoadHostKey(path)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	if s1.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Errorf("key type %s, want ed25519", s1.PublicKey().Type())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	s2, created, err := LoadHostKey(path)
	if err != nil || created {
		t.Fatalf("second load: created=%v err=%v", created, err)
	}
	if gossh.FingerprintSHA256(s1.PublicKey()) != gossh.FingerprintSHA256(s2.PublicKey()) {
		t.Error("the host key changed between loads")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("left files behind: %v", entries)
	}
}

func TestLoadHostKeyRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt")
	if err := os.WriteFile(corrupt, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadHostKey(corrupt); err == nil || !strings.Contains(err.Error(), corrupt) || !strings.Contains(err.Error(), "delete the file") {
		t.Errorf("corrupt key: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	open := filepath.Join(dir, "open")
	if _, _, err := LoadHostKey(open); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadHostKey(open); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: %v", err)
	}
}
