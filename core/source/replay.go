package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/auditrelay/auditrelay/core/auditlog"
)

// Replayer defaults.
const (
	DefaultReplayBatch   = 500
	DefaultMaxRejections = 100
)

// Replayer feeds a replay file (see ReadEntries) to an Ingester in
// batches, as if the entries had just arrived.
type Replayer struct {
	Ingester Ingester
	// Source is the Item.Source of replayed entries, default "replay".
	Source string
	// BatchSize is the number of entries per Ingest call, default
	// DefaultReplayBatch.
	BatchSize int
	// MaxRejections bounds how many rejections are kept for the report
	// (all are counted), default DefaultMaxRejections.
	MaxRejections int
	// OnProgress, when set, is called after every batch and once at the
	// end with Done set.
	OnProgress func(ReplayProgress)
	// Details, when set, fetches the full entries of the file's list
	// items (a saved API page lacks currentVersion, previousVersion and
	// delta) before they are ingested; a Poller does. Without it list
	// items are ingested as they are, marked (Item.ListItem).
	Details DetailFetcher
}

// DetailFetcher replaces list items by their full entries; see
// Poller.FetchDetails.
type DetailFetcher interface {
	FetchDetails(ctx context.Context, items []Item) (listItems, fetched int, err error)
}

// unfetchedNote marks a list item replayed without fetching its full entry.
const unfetchedNote = "replayed from a list item; replay --fetch-details fetches the full entry"

// ReplayedListItemNote marks a list item replayed through a running
// instance's admin API, which does not carry the replay's own note.
const ReplayedListItemNote = "replayed from a list item (no currentVersion, previousVersion or delta)"

// ReplayProgress counts what a replay did so far.
type ReplayProgress struct {
	Read       int // entries read, including malformed ones
	Accepted   int // new entries stored
	Duplicates int // entries already stored
	Rejected   int // malformed entries and entries the engine refused
	// ListItems counts the entries read that were list items of the API
	// (no currentVersion, previousVersion or delta); DetailsFetched those
	// of them replaced by their full entries (Replayer.Details).
	ListItems      int
	DetailsFetched int
	BytesRead      int64
	// Rejections lists the first MaxRejections refused entries in file
	// order.
	Rejections []Rejection
	Done       bool
}

// Rejection is one refused entry of a replay.
type Rejection struct {
	Ref       string // "line 17"
	Line, Col int    // where the problem is; Col 0 when unknown
	ID        string // the entry's _id when it could be read
	Reason    string
}

func (r Rejection) String() string {
	switch {
	case r.Line > 0 && r.Col > 0:
		return fmt.Sprintf("line %d:%d: %s", r.Line, r.Col, r.Reason)
	case r.Ref != "":
		return r.Ref + ": " + r.Reason
	}
	return r.Reason
}

// Replay reads entries from r and ingests them. Entries read before a
// problem are stored even when the file's structure turns out broken
// further on; replaying the same file again is safe, as entries are
// deduplicated by _id. It stops at the first Ingest error (the store is
// unavailable) or when ctx ends, and returns the progress so far with the
// error.
func (rp *Replayer) Replay(ctx context.Context, r io.Reader) (ReplayProgress, error) {
	batchSize := rp.BatchSize
	if batchSize <= 0 {
		batchSize = DefaultReplayBatch
	}
	maxRej := rp.MaxRejections
	if maxRej <= 0 {
		maxRej = DefaultMaxRejections
	}
	src := rp.Source
	if src == "" {
		src = "replay"
	}
	cr := &countingReader{r: r}
	var p ReplayProgress
	batch := make([]Item, 0, batchSize)

	report := func() {
		if rp.OnProgress != nil {
			q := p
			q.BytesRead = cr.n
			q.Rejections = slices.Clone(p.Rejections)
			rp.OnProgress(q)
		}
	}
	reject := func(rej Rejection) {
		p.Rejected++
		if len(p.Rejections) < maxRej {
			p.Rejections = append(p.Rejections, rej)
		}
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if rp.Details != nil {
			listed, fetched, err := rp.Details.FetchDetails(ctx, batch)
			if err != nil {
				return fmt.Errorf("fetching the full entries of list items from %s to %s: %w", batch[0].Ref, batch[len(batch)-1].Ref, err)
			}
			p.ListItems += listed
			p.DetailsFetched += fetched
		} else {
			for i := range batch {
				if it := &batch[i]; it.Err == nil && it.Entry != nil && it.Entry.IsListItem() {
					it.ListItem = unfetchedNote
					p.ListItems++
				}
			}
		}
		results, err := rp.Ingester.Ingest(ctx, batch, nil)
		if err == nil && len(results) != len(batch) {
			err = fmt.Errorf("ingester returned %d results for %d entries", len(results), len(batch))
		}
		if err != nil {
			return fmt.Errorf("storing entries from %s to %s: %w", batch[0].Ref, batch[len(batch)-1].Ref, err)
		}
		for i, res := range results {
			switch {
			case res.Err != nil:
				reject(rejection(batch[i], res))
			case res.Duplicate:
				p.Duplicates++
			default:
				p.Accepted++
			}
		}
		batch = batch[:0]
		report()
		return nil
	}

	readErr := ReadEntries(cr, func(it Item) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.Read++
		// Rejected items go to the Ingester too, which answers with
		// their error and counts them, as for the other sources.
		it.Source = src
		batch = append(batch, it)
		if len(batch) >= batchSize {
			return flush()
		}
		return nil
	})
	if ctx.Err() != nil {
		return rp.finish(p, cr), ctx.Err()
	}
	if readErr != nil {
		// A broken structure further on does not spoil what was read.
		if err := flush(); err != nil {
			return rp.finish(p, cr), err
		}
		return rp.finish(p, cr), readErr
	}
	if err := flush(); err != nil {
		return rp.finish(p, cr), err
	}
	return rp.finish(p, cr), nil
}

func (rp *Replayer) finish(p ReplayProgress, cr *countingReader) ReplayProgress {
	p.BytesRead = cr.n
	p.Done = true
	if rp.OnProgress != nil {
		rp.OnProgress(p)
	}
	return p
}

// rejection is a refused item as the report shows it. The reader's and
// auditlog's errors are positioned in the file already.
func rejection(it Item, res Result) Rejection {
	rej := Rejection{Ref: it.Ref, Line: it.Line, ID: res.ID, Reason: res.Err.Error()}
	var de *auditlog.DecodeError
	var pe *PositionError
	switch {
	case errors.As(res.Err, &de):
		rej.Line, rej.Col, rej.Reason = de.Line, de.Col, de.Detail()
		if rej.ID == "" {
			rej.ID = de.ID
		}
	case errors.As(res.Err, &pe):
		rej.Line, rej.Col, rej.Reason = pe.Line, pe.Col, pe.Msg
	}
	return rej
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
