package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// sshAddrFile records, in the data directory, where the instance holding
// its lock serves the console over SSH, so that a second `auditrelay` on
// the host can say how to open it.
const sshAddrFile = "ssh.addr"

// probeRunning bounds the checks that a busy address is an auditrelay.
const probeRunning = time.Second

// RunningError says that an auditrelay already runs on this host, found by
// its data directory's lock or by the address it listens on, and how to
// reach its console instead of starting a second one.
type RunningError struct {
	DataDir string // the data directory in use; "" when only an address was busy
	Holder  string // who holds the lock: pid, instance, host, started
	Lock    string // the lock file
	Setting string // the busy listener's setting ("http.listen"), with Addr
	Addr    string
	SSHAddr string // the running instance's SSH console, "" when unknown or off
	Err     error
}

func (e *RunningError) Error() string {
	var b strings.Builder
	if e.DataDir != "" {
		fmt.Fprintf(&b, "data directory %s is in use by another auditrelay (%s; lock file %s): stop it, or give this one its own data_dir", e.DataDir, e.Holder, e.Lock)
	} else {
		fmt.Fprintf(&b, "%s %s is already in use by an auditrelay on this host (its /healthz answers): stop it, or give this one another %s", e.Setting, e.Addr, e.Setting)
	}
	if e.SSHAddr != "" {
		fmt.Fprintf(&b, "\n  to open the running relay's console: %s", SSHCommand(e.SSHAddr))
	} else {
		b.WriteString("\n  the running relay does not serve its console over SSH: set ssh.listen and ssh.authorized_keys in its config and restart it" +
			" to open it with ssh; meanwhile `auditrelay deliveries` and `auditrelay retry` work on it through its admin API")
	}
	return b.String()
}

func (e *RunningError) Unwrap() error { return e.Err }

// SSHCommand is the command that opens the console served at addr from
// this host: "ssh -p 2222 localhost" for a wildcard or loopback address.
func SSHCommand(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "ssh " + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsUnspecified() || ip.IsLoopback())) || host == "localhost" {
		host = "localhost"
	}
	if port == "22" {
		return "ssh " + host
	}
	return "ssh -p " + port + " " + host
}

// writeSSHAddr records addr for RunningError; clearSSHAddr forgets a
// previous instance's (called once the lock is held).
func writeSSHAddr(dir, addr string) error {
	return os.WriteFile(filepath.Join(dir, sshAddrFile), []byte(addr+"\n"), 0o600)
}

func clearSSHAddr(dir string) {
	_ = os.Remove(filepath.Join(dir, sshAddrFile))
}

func readSSHAddr(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, sshAddrFile))
	if err != nil || len(b) > 512 {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// busyByRelay turns a listen error into a RunningError when the address is
// taken by an auditrelay (its /healthz answers "ok"); sshListen is this
// config's ssh.listen, suggested when an SSH server answers there.
func busyByRelay(setting, addr string, err error, sshListen string) error {
	if !errors.Is(err, syscall.EADDRINUSE) || !answersHealthz(addr) {
		return fmt.Errorf("%s %s: %w", setting, addr, err)
	}
	re := &RunningError{Setting: setting, Addr: addr, Err: err}
	if sshListen != "" && answersSSH(sshListen) {
		re.SSHAddr = sshListen
	}
	return re
}

// dialable is addr with a wildcard host made loopback.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func answersHealthz(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), probeRunning)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+dialable(addr)+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16))
	return resp.StatusCode == http.StatusOK && string(b) == "ok\n"
}

// answersSSH reports whether an SSH server greets on addr.
func answersSSH(addr string) bool {
	c, err := net.DialTimeout("tcp", dialable(addr), probeRunning)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(probeRunning))
	buf := make([]byte, 4)
	_, err = io.ReadFull(c, buf)
	return err == nil && string(buf) == "SSH-"
}
