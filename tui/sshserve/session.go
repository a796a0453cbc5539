package sshserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	bm "github.com/charmbracelet/wish/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/auditrelay/auditrelay/tui"
)

// kind is what a session runs.
type kind int

const (
	kindConsole kind = iota // the console, on a terminal
	kindTail                // a line per engine event (tui.Tail)
)

func (k kind) String() string {
	if k == kindTail {
		return "tail"
	}
	return "console"
}

// endReason is why the server ended a session; the client is told.
type endReason string

func (e endReason) Error() string { return string(e) }

const errStopping = endReason("the server is stopping")

// errQuit ends a line stream whose reader pressed q or ^C: nothing to say.
var errQuit = errors.New("quit")

// errHelp asks for the usage text.
var errHelp = errors.New("help")

// terminal is a session's PTY as requested, read once: the SSH library
// updates it on window changes without a lock, so it is not asked again.
type terminal struct {
	pty   ssh.Pty
	winch <-chan ssh.Window
	ok    bool
}

func terminalOf(sess ssh.Session) terminal {
	pty, winch, ok := sess.Pty()
	return terminal{pty: pty, winch: winch, ok: ok}
}

// session is one admitted session.
type session struct {
	id      string
	sess    ssh.Session
	term    terminal
	ident   Identity
	key     gossh.PublicKey
	kind    kind
	remote  string
	started time.Time
	act     *activity
	ctx     context.Context
	cancel  context.CancelCauseFunc
	unlink  func() bool
	// hungUp is set when the guard hung up the session's terminal.
	hungUp atomic.Bool
}

// end asks the session to end; the first reason given is the one told.
func (ss *session) end(why error) { ss.cancel(why) }

// reason is the message for the client when the server ended the session,
// or "" when the client ended it.
func (ss *session) reason() string {
	var r endReason
	if errors.As(context.Cause(ss.ctx), &r) {
		return string(r)
	}
	return ""
}

// handle runs every session, in this order:
//
//  1. recover: a panic ends this session with a message, never the server;
//  2. identify: the key the connection authenticated with is looked up
//     again now, because the file may have changed since, and because the
//     authentication callback is also asked about keys a client merely
//     offers;
//  3. command: the console, a line stream, or help;
//  4. admit: the session limit, and refusal while the server stops;
//  5. run until the user quits, the client goes away, or the server ends
//     the session, and then say why.
func (s *Server) handle(sess ssh.Session) {
	term := terminalOf(sess)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		s.refuse(sess, term, string(errStopping))
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()
	remote := sess.RemoteAddr().String()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("ssh: session panicked", "remote", remote, "panic", r, "stack", string(debug.Stack()))
			s.refuse(sess, term, "internal error (logged on the server)")
		}
	}()

	key := sess.PublicKey()
	id, ok := s.keys.lookup(key)
	if !ok {
		fp := ""
		if key != nil {
			fp = gossh.FingerprintSHA256(key)
		}
		s.log.Warn("ssh: session refused: key not authorized (any more)", "fingerprint", fp, "remote", remote)
		s.refuse(sess, term, "your key is not authorized")
		return
	}
	k, jsonLines, err := parseCommand(sess.Command(), term.ok)
	if errors.Is(err, errHelp) {
		s.say(sess, usage(id))
		_ = sess.Exit(0)
		return
	}
	if err != nil {
		s.log.Info("ssh: session refused", "name", id.Name, "remote", remote, "command", sess.RawCommand(), "err", err)
		s.refuse(sess, term, err.Error())
		return
	}
	act, _ := sess.Context().Value(activityKey).(*activity)
	if act == nil {
		act = newActivity(time.Now())
	}
	ss, why := s.admit(sess, term, id, key, k, act)
	if ss == nil {
		s.log.Warn("ssh: session refused", "name", id.Name, "remote", remote, "reason", why)
		s.refuse(sess, term, why)
		return
	}
	defer s.release(ss)

	s.log.Info("ssh: session started", "session", ss.id, "name", id.Name, "role", id.Role.String(),
		"fingerprint", id.Fingerprint, "remote", remote, "kind", k.String(), "term", term.pty.Term)
	finished, guarded := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(guarded)
		s.guard(ss, finished)
	}()
	switch k {
	case kindConsole:
		s.runConsole(ss)
	case kindTail:
		s.runTail(ss, jsonLines)
	}
	close(finished)
	<-guarded
	if ss.hungUp.Load() {
		closeSlave(term) // nothing uses the terminal any more
	}
	why = ss.reason()
	if why == "" {
		why = "ended by the client"
	} else {
		_ = sess.Exit(1) // the server ended it: say so to scripts too
	}
	s.log.Info("ssh: session ended", "session", ss.id, "name", id.Name, "remote", remote,
		"duration", time.Since(ss.started).Round(time.Millisecond).String(), "reason", why)
}

// admit registers a session unless the server is stopping or full.
func (s *Server) admit(sess ssh.Session, term terminal, id Identity, key gossh.PublicKey, k kind, act *activity) (*session, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || s.ctx.Err() != nil {
		return nil, string(errStopping)
	}
	if n := len(s.sessions); n >= s.opts.MaxSessions {
		return nil, fmt.Sprintf("too many sessions (%d open, ssh.max_sessions is %d); try again later", n, s.opts.MaxSessions)
	}
	ctx, cancel := context.WithCancelCause(sess.Context())
	ss := &session{
		id:      fmt.Sprintf("s%d", s.nextID.Add(1)),
		sess:    sess,
		term:    term,
		ident:   id,
		key:     key,
		kind:    k,
		remote:  sess.RemoteAddr().String(),
		started: time.Now(),
		act:     act,
		ctx:     ctx,
		cancel:  cancel,
	}
	ss.unlink = context.AfterFunc(s.ctx, func() { cancel(context.Cause(s.ctx)) })
	s.sessions[ss] = struct{}{}
	return ss, ""
}

func (s *Server) release(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
	ss.unlink()
	ss.cancel(nil)
}

// guard bounds how long a session may take to end once told to: a
// renderer writing to a client that stopped reading would otherwise wait
// forever. Closing the terminal and the channel makes such writes fail.
func (s *Server) guard(ss *session, finished <-chan struct{}) {
	select {
	case <-finished:
		return
	case <-ss.ctx.Done():
	}
	t := time.NewTimer(s.opts.StopGrace)
	defer t.Stop()
	select {
	case <-finished:
	case <-t.C:
		s.log.Warn("ssh: session did not end in time; closing its terminal and channel", "session", ss.id, "name", ss.ident.Name)
		ss.hungUp.Store(hangUp(ss.term))
		_ = ss.sess.Close()
	}
}

// runConsole runs the console on the session's terminal: its own program,
// renderer (from the client's TERM and background) and styles.
func (s *Server) runConsole(ss *session) {
	sess := ss.sess
	r := bm.MakeRenderer(sess)
	// Settle light/dark now: asked later, lipgloss would query the
	// terminal while Bubble Tea reads keys from it.
	_ = r.HasDarkBackground()
	opts := s.opts.Console
	opts.Renderer, opts.Actor, opts.Role, opts.Context = r, ss.ident.Name, ss.ident.Role, ss.ctx
	opts.Input, opts.Output = nil, nil
	if getenv(sess.Environ(), "NO_COLOR") != "" {
		opts.NoColor = true
	}
	// The program quits gracefully when the session ends, so that Bubble
	// Tea restores the terminal and stops reading it before the SSH
	// library closes the PTY. Its context, the session's without the
	// session's end, is only canceled to kill a program that will not quit.
	progCtx, kill := context.WithCancel(context.WithoutCancel(ss.ctx))
	defer kill()
	ioOpts, out, closeIO, err := consoleIO(sess, ss.term)
	if err != nil {
		s.log.Info("ssh: console not started", "session", ss.id, "name", ss.ident.Name, "err", err)
		return
	}
	defer closeIO()
	// The console writes OSC 52 (copy) to the client's terminal too.
	opts.Output, opts.Remote = out, true
	popts := append(ioOpts,
		tea.WithContext(progCtx),
		// Signals are the server process's, not this session's.
		tea.WithoutSignalHandler(),
		tea.WithAltScreen(),
		tea.WithFPS(consoleFPS),
	)
	if opts.Mouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	p := tea.NewProgram(tui.New(s.opts.API, opts), popts...)

	var wg sync.WaitGroup
	ran := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		// Send waits while the program is busy and returns once it ends.
		watchWindow(progCtx, ss.term, func(w, h int) { p.Send(tea.WindowSizeMsg{Width: w, Height: h}) })
	}()
	go func() {
		defer wg.Done()
		select {
		case <-ran:
			return
		case <-ss.ctx.Done():
		}
		// The guard unblocks a program stuck writing to its client within
		// StopGrace; one that still has not quit by twice that is killed.
		t := time.AfterFunc(2*s.opts.StopGrace, kill)
		defer t.Stop()
		p.Quit() // waits until the program takes it, or ends
		<-ran
	}()
	_, err = p.Run()
	close(ran)
	kill()
	wg.Wait()

	switch {
	case errors.Is(err, tea.ErrProgramPanic):
		s.log.Error("ssh: the console crashed", "session", ss.id, "name", ss.ident.Name, "err", err)
		s.say(out, "\r\nauditrelay: the console crashed (logged on the server)\r\n")
	case err != nil && ss.ctx.Err() == nil && !terminalGone(err):
		s.log.Warn("ssh: console error", "session", ss.id, "name", ss.ident.Name, "err", err)
		s.say(out, "\r\nauditrelay: "+err.Error()+"\r\n")
	}
	if why := ss.reason(); why != "" {
		s.say(out, "\r\nauditrelay: "+why+"\r\n")
	}
	if sess.Context().Err() == nil {
		flushTerminal(ss.term, messageTimeout)
	}
}

// terminalGone reports whether err says the terminal went away: the client
// closed the channel and the SSH library closed the PTY.
func terminalGone(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed)
}

// runTail streams a line per engine event until the session ends. On a
// terminal, q or ^C ends it; without one the client ends it by closing the
// connection. Parting messages go to stderr so stdout stays parsable.
func (s *Server) runTail(ss *session, jsonLines bool) {
	sess := ss.sess
	hasPty := ss.term.ok
	in, out, restore := rawTerminal(sess, ss.term)
	defer restore()
	if hasPty {
		// Ends when the key is pressed or the terminal closes with the
		// session.
		go func() {
			buf := make([]byte, 64)
			for {
				n, err := in.Read(buf)
				for _, b := range buf[:n] {
					if b == 'q' || b == 3 || b == 4 { // q, ^C, ^D
						ss.end(errQuit)
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
	err := tui.Tail(ss.ctx, s.opts.API, out, jsonLines)
	nl := "\n"
	if hasPty {
		nl = "\r\n"
	}
	if err != nil && ss.ctx.Err() == nil {
		s.log.Warn("ssh: line stream ended", "session", ss.id, "name", ss.ident.Name, "err", err)
		s.say(sess.Stderr(), "auditrelay: "+err.Error()+nl)
	}
	if why := ss.reason(); why != "" {
		s.say(sess.Stderr(), "auditrelay: "+why+nl)
	}
}

// refuse tells the client why it gets no session and exits with status 1.
func (s *Server) refuse(sess ssh.Session, term terminal, msg string) {
	nl := "\n"
	if term.ok {
		nl = "\r\n"
	}
	s.say(sess.Stderr(), "auditrelay: "+msg+nl)
	_ = sess.Exit(1)
}

// say writes msg, giving up after messageTimeout: the client may have
// stopped reading. A write given up on ends when the connection closes.
func (s *Server) say(w io.Writer, msg string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.WriteString(w, msg)
	}()
	t := time.NewTimer(messageTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// parseCommand decides what a session runs from the command the client
// asked for and whether it has a terminal.
func parseCommand(args []string, hasPty bool) (k kind, jsonLines bool, err error) {
	if len(args) == 0 {
		if hasPty {
			return kindConsole, false, nil
		}
		return kindTail, false, nil
	}
	switch args[0] {
	case "console":
		if len(args) > 1 {
			return 0, false, fmt.Errorf("console takes no arguments (got %q)", strings.Join(args[1:], " "))
		}
		if !hasPty {
			return 0, false, errors.New("the console needs a terminal: connect with ssh -t, or run tail for a line stream")
		}
		return kindConsole, false, nil
	case "tail":
		for _, a := range args[1:] {
			switch a {
			case "--json", "-json", "-j":
				jsonLines = true
			default:
				return 0, false, fmt.Errorf("tail: unknown argument %q (tail [--json])", a)
			}
		}
		return kindTail, jsonLines, nil
	case "help", "--help", "-h":
		return 0, false, errHelp
	}
	return 0, false, fmt.Errorf("unknown command %q: try console, tail [--json] or help", args[0])
}

func usage(id Identity) string {
	return fmt.Sprintf(`auditrelay over SSH — you are %s (%s)

  ssh -p PORT HOST               the console (ssh allocates a terminal)
  ssh -p PORT HOST tail          one line per engine event (the default without a terminal)
  ssh -p PORT HOST tail --json   the same as JSON lines
  ssh -p PORT HOST help          this text
`, id.Name, id.Role)
}

func getenv(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
