package sshserve

import (
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// activity records what a client connection does, for the idle timeout
// and stall detection: when it last sent input, and since when a write to
// it has been waiting (a client that stops reading makes writes wait for
// the SSH window, then for TCP). It watches the session channels of one
// connection at the transport, below the PTY, so it sees keystrokes
// whatever reads them.
type activity struct {
	lastInput atomic.Int64 // unix nanoseconds

	mu       sync.Mutex
	writing  int       // writes under way
	blocking time.Time // when the oldest write under way started
}

func newActivity(now time.Time) *activity {
	a := &activity{}
	a.lastInput.Store(now.UnixNano())
	return a
}

func (a *activity) input(now time.Time) { a.lastInput.Store(now.UnixNano()) }

// idle is how long the client has sent nothing.
func (a *activity) idle(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, a.lastInput.Load()))
}

func (a *activity) beginWrite(now time.Time) {
	a.mu.Lock()
	if a.writing == 0 {
		a.blocking = now
	}
	a.writing++
	a.mu.Unlock()
}

func (a *activity) endWrite() {
	a.mu.Lock()
	a.writing--
	if a.writing == 0 {
		a.blocking = time.Time{}
	}
	a.mu.Unlock()
}

// blockedSince is when the oldest write still waiting started; zero when
// no write is waiting.
func (a *activity) blockedSince() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.blocking
}

// trackedNewChannel hands out channels that report to an activity.
type trackedNewChannel struct {
	gossh.NewChannel
	act *activity
}

func (c trackedNewChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return nil, nil, err
	}
	return &trackedChannel{Channel: ch, act: c.act}, reqs, nil
}

// trackedChannel is a session channel whose reads count as input and whose
// writes are timed.
type trackedChannel struct {
	gossh.Channel
	act *activity
}

func (c *trackedChannel) Read(p []byte) (int, error) {
	n, err := c.Channel.Read(p)
	if n > 0 {
		c.act.input(time.Now())
	}
	return n, err
}

func (c *trackedChannel) Write(p []byte) (int, error) {
	c.act.beginWrite(time.Now())
	defer c.act.endWrite()
	return c.Channel.Write(p)
}
