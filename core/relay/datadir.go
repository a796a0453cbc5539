package relay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// lockFile is the data directory's lock: held (flock) by the one process
// that runs an engine on the directory, for as long as it lives, and
// holding that process's pid for whoever finds it taken. The kernel
// releases it when the process ends, however it ends.
const lockFile = "auditrelay.lock"

// lockDataDir creates dir if needed and takes its lock, or says which
// process holds it. It names a read-only or full data directory as such,
// since that is where starting fails first.
func lockDataDir(dir, instance string) (release func(), err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, dataDirError(abs, err)
	}
	path := filepath.Join(abs, lockFile)
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, dataDirError(abs, err)
	}
	if !ok {
		return nil, &RunningError{DataDir: abs, Holder: lockHolder(path), Lock: path, SSHAddr: readSSHAddr(abs)}
	}
	host, _ := os.Hostname()
	info := fmt.Sprintf("pid=%d\ninstance=%s\nhost=%s\nstarted=%s\n", os.Getpid(), instance, host, time.Now().UTC().Format(time.RFC3339))
	// Written through a second descriptor: the lock stays on the first.
	if err := os.WriteFile(path, []byte(info), 0o600); err != nil {
		_ = fl.Unlock()
		return nil, dataDirError(abs, err)
	}
	clearSSHAddr(abs) // a previous instance's
	return func() { _ = fl.Unlock() }, nil
}

// lockHolder describes the process recorded in a lock file.
func lockHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "holder unknown: " + err.Error()
	}
	kv := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			kv[k] = v
		}
	}
	if _, err := strconv.Atoi(kv["pid"]); err != nil {
		return "pid unknown: it is still starting"
	}
	parts := []string{"pid " + kv["pid"]}
	for _, k := range []string{"instance", "host", "started"} {
		if kv[k] != "" {
			parts = append(parts, k+" "+kv[k])
		}
	}
	return strings.Join(parts, ", ")
}

// dataDirError says in words what an errno means for the data directory.
func dataDirError(dir string, err error) error {
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("data directory %s is read-only (read-only file system): %w", dir, err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("data directory %s is read-only for this user (uid %d): make it writable, or set data_dir: %w", dir, os.Geteuid(), err)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("no space left on the file system of data directory %s: %w", dir, err)
	}
	return fmt.Errorf("data directory %s: %w", dir, err)
}
