package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// Concurrent Ingest calls (one per webhook, each usually one entry) are
// stored together: one goroutine takes a call, adds every call queued
// behind it, and runs them as one statement, one commit. A statement and
// a commit per entry cost the database server more than the rows did, and
// each commit waits for its WAL flush; grouped, the flush and the
// statement's fixed cost are shared. While one group's statement runs,
// the next group gathers, as the SQLite writer's groups do.
const (
	// ingestGroupMax bounds the entries of one grouped statement; larger
	// calls run alone.
	ingestGroupMax = 256
	// ingestGroupTimeout bounds a group's statement: it runs for several
	// callers, so no one caller's context ends it.
	ingestGroupTimeout = 30 * time.Second
)

// ingestCall is one Ingest call waiting for its group.
type ingestCall struct {
	ctx     context.Context
	entries []store.NewEntry
	res     []store.IngestResult
	err     error
	done    chan struct{} // closed when res and err are set
}

// ingestGrouped hands entries to the grouper and waits for the commit of
// their group. A caller whose context ends first gets its error, but its
// entries may still be stored by the group already running: as with a
// reply lost on the network, sending them again finds them stored.
func (s *Store) ingestGrouped(ctx context.Context, entries []store.NewEntry) ([]store.IngestResult, error) {
	c := &ingestCall{ctx: ctx, entries: entries, done: make(chan struct{})}
	select {
	case s.ingests <- c:
	case <-ctx.Done():
		return nil, fmt.Errorf("ingest: %w", ctx.Err())
	case <-s.ingestDone:
		return nil, store.ErrClosed
	}
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("ingest: %w (the entries may be stored all the same: sending them again finds them)", ctx.Err())
	case <-s.ingestDone:
		select {
		case <-c.done:
			return c.res, c.err
		default:
			return nil, store.ErrClosed
		}
	}
}

// groupIngests runs groups of ingest calls until the store closes.
func (s *Store) groupIngests() {
	defer close(s.ingestDone)
	for {
		var first *ingestCall
		select {
		case first = <-s.ingests:
		case <-s.closing:
			return
		}
		group, n := []*ingestCall{first}, len(first.entries)
	gather:
		for n < ingestGroupMax {
			select {
			case c := <-s.ingests:
				group = append(group, c)
				n += len(c.entries)
			default:
				break gather
			}
		}
		s.ingestGroup(group)
	}
}

// ingestGroup stores a group's calls in one statement and answers each.
// When the statement fails, each call runs again alone, so that one
// call's bad entry (a delivery id another entry uses) fails that call
// only.
func (s *Store) ingestGroup(group []*ingestCall) {
	live := group[:0:0]
	for _, c := range group {
		if err := c.ctx.Err(); err != nil {
			c.err = fmt.Errorf("ingest: %w", err) // gave up before its group ran: not stored
			close(c.done)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), ingestGroupTimeout)
	defer cancel()
	if len(live) == 1 {
		c := live[0]
		c.res, c.err = s.ingest(ctx, c.entries, nil)
		close(c.done)
		return
	}
	var all []store.NewEntry
	for _, c := range live {
		all = append(all, c.entries...)
	}
	res, err := s.ingest(ctx, all, nil)
	if err != nil {
		for _, c := range live {
			c.res, c.err = s.ingest(ctx, c.entries, nil)
			close(c.done)
		}
		return
	}
	s.grouped.Add(int64(len(live)))
	for _, c := range live {
		c.res, res = res[:len(c.entries):len(c.entries)], res[len(c.entries):]
		close(c.done)
	}
}
