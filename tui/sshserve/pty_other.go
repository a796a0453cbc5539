//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris)

package sshserve

import (
	"context"
	"io"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"

	"github.com/auditrelay/auditrelay/tui/internal/ttyin"
)

// Without Unix PTYs the session is used directly, translating line ends as
// a terminal would (the client's terminal is already raw).
func ptyOption() ssh.Option { return ssh.EmulatePty() }

// watchWindow forwards window-change requests until ctx ends. With an
// emulated PTY nothing else reads them, and the library waits for a reader.
func watchWindow(ctx context.Context, t terminal, resize func(w, h int)) {
	if !t.ok {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case w, ok := <-t.winch:
			if !ok {
				return
			}
			resize(w.Width, w.Height)
		}
	}
}

func flushTerminal(terminal, time.Duration) {}

func consoleIO(sess ssh.Session, _ terminal) ([]tea.ProgramOption, io.Writer, func(), error) {
	// ttyin bounds what Bubble Tea buffers of the client's input.
	return []tea.ProgramOption{tea.WithInput(ttyin.New(sess)), tea.WithOutput(sess)}, sess, func() {}, nil
}

func rawTerminal(sess ssh.Session, _ terminal) (io.Reader, io.Writer, func()) {
	return sess, sess, func() {}
}

func hangUp(terminal) bool { return false }

func closeSlave(terminal) {}
