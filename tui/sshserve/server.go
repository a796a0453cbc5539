package sshserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui"
)

// Defaults and fixed limits.
const (
	// DefaultMaxSessions applies when Options.MaxSessions is not positive.
	DefaultMaxSessions = 16
	// DefaultStopGrace applies when Options.StopGrace is not positive.
	DefaultStopGrace = 2 * time.Second
	// DefaultHandshakeTimeout applies when Options.HandshakeTimeout is not
	// positive.
	DefaultHandshakeTimeout = 30 * time.Second
	// consoleFPS caps redraws per session: every frame crosses the network.
	consoleFPS = 30
	// messageTimeout bounds writing a parting message to a client that may
	// have stopped reading.
	messageTimeout = time.Second
)

// Options configure a Server.
type Options struct {
	// Addr is the TCP address to listen on, e.g. ":2222" or
	// "127.0.0.1:0".
	Addr string
	// API is the engine every session's console talks to.
	API api.API
	// AuthorizedKeys is the authorized-keys file (see ParseAuthorizedKeys).
	// It is read at start, where any bad line is an error, and re-read
	// whenever it changes.
	AuthorizedKeys string
	// HostKey is the host key's file; an ed25519 key is generated there
	// when it does not exist.
	HostKey string
	// MaxSessions bounds concurrent sessions (consoles and line streams);
	// more are refused with a message. Not positive means
	// DefaultMaxSessions.
	MaxSessions int
	// IdleTimeout ends a console that received no input for that long, and
	// any session whose client took no output for that long (it stopped
	// reading). Zero disables both.
	IdleTimeout time.Duration
	// StopGrace is how long a session that was told to end (server stop,
	// idle, revoked key) may take before its terminal and channel are
	// closed under it. Not positive means DefaultStopGrace.
	StopGrace time.Duration
	// HandshakeTimeout closes connections that have not authenticated by
	// then, so that unauthenticated connections cannot pile up. Not
	// positive means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// Console is the template of every session's console options.
	// Renderer, Actor, Role, Context, Input and Output are set per
	// session; the rest (GeneratorRate, Mouse, History, BatchInterval, …)
	// is used as given.
	Console tui.Options
	// Logger receives connection, authentication and session events. Nil
	// means slog.Default().
	Logger *slog.Logger
}

// Server serves the console over SSH: one console per session, each with
// its own renderer, size, selection and filters, all on one engine.
type Server struct {
	opts Options
	log  *slog.Logger
	keys *keyring
	srv  *ssh.Server
	ln   net.Listener

	// ctx ends every session; its cause is what they are told.
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	closing  bool
	sessions map[*session]struct{}
	handlers sync.WaitGroup // session handlers, including refused ones
	loops    sync.WaitGroup // the accept loop and the watchdog
	stopOnce sync.Once
	nextID   atomic.Uint64
	// unlink detaches ctx's end from Start's context.
	unlink func() bool
}

type ctxKey struct{ name string }

// activityKey holds a connection's *activity in its ssh.Context.
var activityKey = &ctxKey{"activity"}

// Start reads the authorized keys and the host key (generating it on first
// start), listens on opts.Addr and serves until Stop. Sessions also end
// when ctx does.
func Start(ctx context.Context, opts Options) (*Server, error) {
	switch {
	case opts.API == nil:
		return nil, errors.New("ssh: no engine")
	case opts.Addr == "":
		return nil, errors.New("ssh: no listen address")
	case opts.AuthorizedKeys == "":
		return nil, fmt.Errorf("ssh: no authorized-keys file: set ssh.authorized_keys (one key per line: %s)", lineFormat)
	case opts.HostKey == "":
		return nil, errors.New("ssh: no host key path")
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.IdleTimeout < 0 {
		opts.IdleTimeout = 0
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	keys, err := openKeyring(opts.AuthorizedKeys, log)
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	signer, created, err := LoadHostKey(opts.HostKey)
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	fp := gossh.FingerprintSHA256(signer.PublicKey())
	if created {
		log.Info("ssh: generated a host key", "file", opts.HostKey, "fingerprint", fp)
		if err := writePublicKey(opts.HostKey, signer); err != nil {
			log.Warn("ssh: could not write the host's public key next to it", "err", err)
		}
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("ssh: listen %s: %w", opts.Addr, err)
	}
	s := &Server{
		opts:     opts,
		log:      log,
		keys:     keys,
		ln:       ln,
		sessions: make(map[*session]struct{}),
	}
	s.ctx, s.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	s.unlink = context.AfterFunc(ctx, func() { s.cancel(errStopping) })
	s.srv = &ssh.Server{
		Version:                  "auditrelay",
		Handler:                  s.handle,
		PublicKeyHandler:         s.publicKey,
		ConnCallback:             s.connected,
		ConnectionFailedCallback: s.connectionFailed,
		ServerConfigCallback: func(ssh.Context) *gossh.ServerConfig {
			return &gossh.ServerConfig{AuthLogCallback: s.authAttempt}
		},
		// Only sessions: no port forwarding (nil callbacks deny it), no
		// subsystems such as sftp.
		ChannelHandlers: map[string]ssh.ChannelHandler{"session": s.sessionChannel},
	}
	s.srv.AddHostKey(signer)
	if err := s.srv.SetOption(ptyOption()); err != nil {
		s.unlink()
		ln.Close()
		return nil, fmt.Errorf("ssh: %w", err)
	}

	s.loops.Add(2)
	go func() {
		defer s.loops.Done()
		err := s.srv.Serve(ln)
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		if !closing && !errors.Is(err, ssh.ErrServerClosed) {
			s.log.Error("ssh: the listener failed; no new connections", "err", err)
		}
	}()
	go func() {
		defer s.loops.Done()
		s.watch()
	}()
	log.Info("ssh: listening", "addr", ln.Addr().String(), "host_key", opts.HostKey, "fingerprint", fp,
		"authorized_keys", opts.AuthorizedKeys, "max_sessions", opts.MaxSessions, "idle_timeout", opts.IdleTimeout.String())
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Stop stops accepting connections, ends every session with a message,
// waits for the sessions to finish (closing the connections of those that
// do not end within the grace period) and closes what is left. It is safe
// to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.closing = true // no session starts from now on
		s.mu.Unlock()
		s.ln.Close()
		s.cancel(errStopping)

		done := make(chan struct{})
		go func() {
			s.handlers.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(s.opts.StopGrace + time.Second):
			// Each session's guard has closed its terminal by now; what is
			// still running waits on the network.
		}
		// Clients close their connection once told their session ended;
		// then what is left (unauthenticated, or without a session) is
		// closed.
		shut, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_ = s.srv.Shutdown(shut)
		cancel()
		_ = s.srv.Close()
		select {
		case <-done:
		case <-time.After(s.opts.StopGrace):
			s.log.Error("ssh: some sessions did not end; giving up on them")
		}
		s.loops.Wait()
		s.unlink()
		s.log.Info("ssh: stopped")
	})
}

func (s *Server) live() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		out = append(out, ss)
	}
	return out
}

// connected runs first for every TCP connection: it attaches the
// connection's activity record and closes it if it does not authenticate
// in time.
func (s *Server) connected(ctx ssh.Context, c net.Conn) net.Conn {
	ctx.SetValue(activityKey, newActivity(time.Now()))
	t := time.AfterFunc(s.opts.HandshakeTimeout, func() {
		if ctx.Value(ssh.ContextKeyConn) == nil {
			s.log.Info("ssh: closing a connection that did not authenticate in time", "remote", c.RemoteAddr().String())
			c.Close()
		}
	})
	context.AfterFunc(ctx, func() { t.Stop() })
	return c
}

// sessionChannel accepts a session channel whose reads and writes report to
// the connection's activity record, then handles it as usual.
func (s *Server) sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	act, ok := ctx.Value(activityKey).(*activity)
	if !ok {
		_ = nc.Reject(gossh.ConnectionFailed, "internal error")
		return
	}
	ssh.DefaultSessionHandler(srv, conn, trackedNewChannel{NewChannel: nc, act: act}, ctx)
}

// publicKey decides whether key may sign in. It may be asked about keys
// the client only offers, before it proves it holds one, so it decides
// nothing else: the session handler looks the identity up again from the
// key the connection actually authenticated with.
func (s *Server) publicKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if _, ok := s.keys.lookup(key); ok {
		return true
	}
	s.log.Warn("ssh: public key refused: not in the authorized keys",
		"fingerprint", gossh.FingerprintSHA256(key), "type", key.Type(),
		"user", ctx.User(), "remote", ctx.RemoteAddr().String())
	return false
}

// authAttempt logs attempts with methods the server does not offer
// (password, keyboard-interactive): clients that try them anyway are
// refused. Public keys are logged by publicKey, with their fingerprint.
func (s *Server) authAttempt(conn gossh.ConnMetadata, method string, err error) {
	if err == nil || method == "none" || method == "publickey" {
		return
	}
	s.log.Warn("ssh: authentication refused: only public keys are accepted",
		"method", method, "user", conn.User(), "remote", conn.RemoteAddr().String())
}

// connectionFailed logs connections that ended before they authenticated:
// refused keys, clients that only have a password (the server offers
// public keys only, so they give up), scanners, broken handshakes.
func (s *Server) connectionFailed(c net.Conn, err error) {
	s.log.Info("ssh: connection ended without authenticating", "remote", c.RemoteAddr().String(), "err", err)
}

// watch ends sessions that must not go on: idle, stalled, or whose key was
// revoked or changed. It also picks up edits of the authorized-keys file.
func (s *Server) watch() {
	every := time.Second
	if d := s.opts.IdleTimeout / 4; d > 0 && d < every {
		every = max(d, 10*time.Millisecond)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.sweep(now)
		}
	}
}

func (s *Server) sweep(now time.Time) {
	// Reading the file now, not only on the next connection, logs an edit
	// (and any bad line in it) right away.
	s.keys.refresh()
	idle := s.opts.IdleTimeout
	for _, ss := range s.live() {
		id, ok := s.keys.lookup(ss.key)
		switch {
		case !ok:
			ss.end(endReason("your key was removed from the authorized keys"))
		case id.Name != ss.ident.Name || id.Role != ss.ident.Role:
			ss.end(endReason(fmt.Sprintf("your key is now %s %s: reconnect", id.Role, id.Name)))
		case idle > 0 && ss.kind == kindConsole && ss.act.idle(now) >= idle:
			ss.end(endReason(fmt.Sprintf("closed after %s without input (ssh.idle_timeout)", idle)))
		case idle > 0 && !ss.act.blockedSince().IsZero() && now.Sub(ss.act.blockedSince()) >= idle:
			ss.end(endReason(fmt.Sprintf("closed: the client took no output for %s", idle)))
		}
	}
}
