package sshserve

import (
	"github.com/charmbracelet/ssh"
	"golang.org/x/sys/unix"
)

// pending is how many bytes written to the terminal have not yet been
// taken by the SSH library for sending.
func pending(pty ssh.Pty) (int, error) {
	rc, err := pty.Master.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	cerr := rc.Control(func(fd uintptr) { n, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
	if cerr != nil {
		return 0, cerr
	}
	return n, err
}
