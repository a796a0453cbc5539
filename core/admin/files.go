package admin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/auditrelay/auditrelay/core/config"
)

// Files in the data directory through which the CLI finds the instance
// running there.
const (
	addrFile  = "admin.addr"
	tokenFile = "admin.token"
)

// minGeneratedToken is the length of generated admin tokens (hex of 32
// random bytes); a token file holding less is replaced.
const minGeneratedToken = 64

// Token is configured when set (admin.token), else a token generated once
// and kept in dataDir (mode 0600) for the local CLI.
func Token(dataDir, configured string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, tokenFile)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= minGeneratedToken {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, minGeneratedToken/2)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(buf)
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", err
	}
	if err := config.WriteFileAtomic(path, []byte(tok+"\n")); err != nil {
		return "", fmt.Errorf("writing admin token: %w", err)
	}
	return tok, nil
}

// WriteAddr records the admin listener's address in dataDir for the CLI.
func WriteAddr(dataDir, addr string) error {
	return config.WriteFileAtomic(filepath.Join(dataDir, addrFile), []byte(addr+"\n"))
}
