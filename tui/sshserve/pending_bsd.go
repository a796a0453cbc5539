//go:build darwin || dragonfly || freebsd || netbsd || openbsd || solaris

package sshserve

import (
	"errors"

	"github.com/charmbracelet/ssh"
)

// pending cannot be told here; flushTerminal waits a little instead.
func pending(ssh.Pty) (int, error) { return 0, errors.ErrUnsupported }
