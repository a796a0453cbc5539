//go:build unix

package sshserve

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/auditrelay/auditrelay/core/engine"
)

// pausableConn stops reading the socket while paused, like a client whose
// terminal froze or whose network stalled: the server's writes then fill
// the SSH window and the TCP buffers and block.
type pausableConn struct {
	net.Conn
	paused atomic.Bool
	closed chan struct{}
	once   sync.Once
}

func (c *pausableConn) Read(p []byte) (int, error) {
	for c.paused.Load() {
		select {
		case <-c.closed:
			return 0, net.ErrClosed
		case <-time.After(5 * time.Millisecond):
		}
	}
	return c.Conn.Read(p)
}

func (c *pausableConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// dialStallable connects with a small receive buffer, so that a paused
// client blocks the server's writes after little data.
func dialStallable(t *testing.T, srv *testServer, u user) (*gossh.Client, *pausableConn) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	raw, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	pc := &pausableConn{Conn: raw, closed: make(chan struct{})}
	conn, chans, reqs, err := gossh.NewClientConn(pc, srv.Addr().String(), clientConfig(u))
	if err != nil {
		t.Fatal(err)
	}
	c := gossh.NewClient(conn, chans, reqs)
	t.Cleanup(func() { c.Close() })
	return c, pc
}

// ingestTimed pushes n entries through the engine one call each and
// returns how long that took; the last entry's title is last.
func ingestTimed(t *testing.T, eng *engine.Engine, prefix string, n int) (time.Duration, string) {
	t.Helper()
	start := time.Now()
	var last string
	for i := 0; i < n; i++ {
		last = fmt.Sprintf("%s%04d rolled out", prefix, i)
		ingest(t, eng, entryJSON(fmt.Sprintf("%s-%d", prefix, i), last))
	}
	return time.Since(start), last
}

// TestStalledClientDoesNotSlowTheEngine opens a console whose client stops
// reading and drives it until the server's writes to it block; the engine
// still ingests at its normal pace, another console still gets every
// event, and Stop still ends the stalled session. The ingest times are
// reported, not asserted (timings are for benchmarks).
func TestStalledClientDoesNotSlowTheEngine(t *testing.T) {
	const n = 200
	eng := newEngine(t, webhookSub("raw", newSink(t, http.StatusOK).URL))
	bob := newUser(t, "viewer", "bob")
	carol := newUser(t, "viewer", "carol")
	srv := startServer(t, eng, Options{StopGrace: 300 * time.Millisecond, Console: consoleOpts()}, bob, carol)

	b := openConsole(t, srv, bob)
	m := b.mark()
	baseline, last := ingestTimed(t, eng, "base", n)
	b.waitText(m, last)

	// carol's console is huge, so every redraw is large; once it shows,
	// her client stops reading, and tab (which redraws every pane border)
	// makes the console write until the writes block.
	c, pc := dialStallable(t, srv, carol)
	ct := openTerminal(t, c, "carol", "", 1000, 500)
	ct.waitText(0, "1 Events")
	pc.paused.Store(true)
	var blocked time.Time
	deadline := time.Now().Add(waitLimit)
	for blocked.IsZero() || time.Since(blocked) < 300*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("carol's session never blocked: %+v", srv.Sessions())
		}
		ct.typeKeys("\t")
		time.Sleep(20 * time.Millisecond)
		for _, s := range srv.Sessions() {
			if s.Name == "carol" {
				blocked = s.BlockedSince
			}
		}
	}

	m = b.mark()
	stalled, last := ingestTimed(t, eng, "stall", n)
	b.waitText(m, last)
	for _, s := range srv.Sessions() {
		if s.Name == "carol" && (s.BlockedSince.IsZero() || s.BlockedSince.After(blocked)) {
			t.Errorf("carol's session unblocked during the measurement: %+v", s)
		}
	}
	t.Logf("ingest of %d entries, one Ingest call each: %v (%v/entry) with one live console; %v (%v/entry) with a stalled console too (writes blocked for %v)",
		n, baseline.Round(time.Millisecond), (baseline / n).Round(time.Microsecond),
		stalled.Round(time.Millisecond), (stalled / n).Round(time.Microsecond), time.Since(blocked).Round(time.Millisecond))

	// Stop must end the stalled session too: its guard closes its terminal
	// and channel after the grace period.
	srv.Stop()
	waitLog(t, srv, "did not end in time", "name=carol")
	waitLog(t, srv, "ssh: session ended", "name=bob", "the server is stopping")
	if len(srv.Sessions()) != 0 {
		t.Errorf("sessions left: %+v", srv.Sessions())
	}
}
