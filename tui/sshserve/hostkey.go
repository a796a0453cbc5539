package sshserve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	gossh "golang.org/x/crypto/ssh"
)

// LoadHostKey returns the server's host key from path. When there is no
// file yet it generates an ed25519 key, writes it there (mode 0600) and
// reports created. A key
// file readable by group or others is refused, as OpenSSH refuses it.
func LoadHostKey(path string) (signer gossh.Signer, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return generateHostKey(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, false, err
	}
	signer, err = gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("host key %s: %w (delete the file to generate a new key; clients will then warn that the host key changed)", path, err)
	}
	return signer, false, nil
}

// checkPrivate refuses a key file that others can read.
func checkPrivate(path string) error {
	if runtime.GOOS == "windows" {
		return nil // no Unix permission bits
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("host key %s is readable by others (mode %04o): run chmod 600 %s", path, perm, path)
	}
	return nil
}

// generateHostKey writes a new key to a temporary file and links it into
// place, so a crash never leaves half a key and two processes starting at
// once end up with the same key.
func generateHostKey(path string) (gossh.Signer, bool, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "auditrelay host key")
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, block); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("host key: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("host key: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, false, fmt.Errorf("host key: writing %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			// Another process got there first: use its key.
			s, _, err := LoadHostKey(path)
			return s, false, err
		}
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	return signer, true, nil
}

// writePublicKey writes the host's public key next to the private one, in
// the format known_hosts lines use after the host name.
func writePublicKey(path string, signer gossh.Signer) error {
	return os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o644)
}
