//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package sshserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/x/term"
	"golang.org/x/sys/unix"

	"github.com/auditrelay/auditrelay/tui/internal/ttyin"
)

// On Unix every session that asks for a terminal gets a real PTY: Bubble
// Tea then reads keys and sizes from it as from a local terminal.
func ptyOption() ssh.Option { return ssh.AllocatePty() }

// sizePoll is how often a console checks its PTY's size. The SSH library
// resizes the PTY on every window-change request itself (it owns that
// channel), so polling the PTY is how the console learns the new size.
const sizePoll = 150 * time.Millisecond

// watchWindow calls resize with the terminal's size whenever it changes,
// until ctx ends.
func watchWindow(ctx context.Context, t terminal, resize func(w, h int)) {
	pty := t.pty
	if !t.ok || pty.Master == nil {
		return
	}
	lastW, lastH := pty.Window.Width, pty.Window.Height
	tick := time.NewTicker(sizePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		w, h, err := ptySize(pty)
		if err != nil || w <= 0 || h <= 0 || (w == lastW && h == lastH) {
			continue
		}
		lastW, lastH = w, h
		resize(w, h)
	}
}

func ptySize(pty ssh.Pty) (w, h int, err error) {
	rc, err := pty.Master.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var ws *unix.Winsize
	cerr := rc.Control(func(fd uintptr) { ws, err = unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ) })
	if cerr != nil {
		return 0, 0, cerr
	}
	if err != nil {
		return 0, 0, err
	}
	return int(ws.Col), int(ws.Row), nil
}

// flushTerminal waits (up to max) until everything written to the session's
// terminal has been handed to the SSH channel. The library closes the
// channel as soon as the handler returns, so without this the last frame,
// the terminal reset or a goodbye message could be cut off.
func flushTerminal(t terminal, max time.Duration) {
	pty := t.pty
	if !t.ok || pty.Master == nil {
		return
	}
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		n, err := pending(pty)
		if err != nil {
			time.Sleep(100 * time.Millisecond) // cannot tell: give the copier time
			break
		}
		if n == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The copier may hold the last chunk between its read and its write.
	time.Sleep(20 * time.Millisecond)
}

// consoleIO is the terminal a session's console program reads and writes:
// its own open file of the session's PTY. The SSH library closes its file
// of the PTY when the client closes the channel, whatever still uses it;
// with a file of its own the program is never handed a closed one, and
// sees the hang-up as an error instead. close releases it once the
// program is done.
func consoleIO(_ ssh.Session, t terminal) (opts []tea.ProgramOption, out io.Writer, close func(), err error) {
	tty, err := openTTY(t)
	if err != nil {
		return nil, nil, nil, err
	}
	// The client decides what comes in: ttyin bounds what Bubble Tea
	// buffers of it (pastes, long runs of characters).
	return []tea.ProgramOption{tea.WithInput(ttyin.NewFile(tty)), tea.WithOutput(tty)}, tty, func() { _ = tty.Close() }, nil
}

// openTTY opens the session's PTY again (without making it a controlling
// terminal).
func openTTY(t terminal) (*os.File, error) {
	if !t.ok || t.pty.Slave == nil {
		return nil, errors.New("no terminal")
	}
	f, err := os.OpenFile(t.pty.Slave.Name(), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the terminal: %w", err)
	}
	return f, nil
}

// rawTerminal is a line stream's terminal: without a PTY the channel as
// is; with one, the PTY in raw mode (keys arrive one by one, ^C is a byte
// rather than a signal to nobody) with a writer that ends lines with CRLF,
// which raw mode no longer does. done restores and releases it.
func rawTerminal(sess ssh.Session, t terminal) (in io.Reader, out io.Writer, done func()) {
	if !t.ok {
		return sess, sess, func() {}
	}
	tty, err := openTTY(t)
	if err != nil {
		return sess, sess, func() {}
	}
	state, err := term.MakeRaw(tty.Fd())
	if err != nil {
		return tty, tty, func() { _ = tty.Close() }
	}
	return tty, ssh.NewPtyWriter(tty), func() {
		_ = term.Restore(tty.Fd(), state)
		_ = tty.Close()
	}
}

// hangUp closes the master side of the session's PTY, as a terminal
// hanging up does: a write blocked on the terminal (a renderer writing to a
// client that stopped reading) fails at once. The slave side stays open for
// whoever still holds it; closeSlave closes it once they are done.
func hangUp(t terminal) bool {
	if !t.ok || t.pty.Master == nil {
		return false
	}
	_ = t.pty.Master.Close()
	return true
}

// closeSlave closes the slave side of a PTY that hangUp hung up (the
// library closes a PTY only when it closes the master itself).
func closeSlave(t terminal) {
	if t.ok && t.pty.Slave != nil {
		_ = t.pty.Slave.Close()
	}
}
