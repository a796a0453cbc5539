package source

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/store"
)

// EntryGetter is implemented by a CursorStore that can also say whether
// an entry is stored (store.Store does): the poller then does not fetch
// the full entry of one the webhook or an earlier run stored already.
type EntryGetter interface {
	GetEntry(ctx context.Context, id string) (store.Entry, error)
}

// complete replaces the list items of batch by their full entries (GET
// /api/v2/auditlog/{id}), DetailFetches at a time. An entry whose full
// version is gone keeps its list item and a note saying why. Entries
// getter (when not nil) holds are left alone. It returns
// an error, and leaves the batch to be tried again, only when the poll
// cannot go on: ctx ended, the token was refused, the store failed.
func (p *Poller) complete(ctx context.Context, batch []polled, getter EntryGetter) error {
	var todo []int
	for i, e := range batch {
		if !e.dated || e.err != nil {
			continue
		}
		if getter != nil {
			_, err := getter.GetEntry(ctx, e.id)
			if err == nil {
				continue // stored already: the engine will count a duplicate
			}
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("looking up entry %s: %w", e.id, err)
			}
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(p.cfg.DetailFetches, len(todo)) {
		wg.Go(func() {
			for i := range jobs {
				if err := p.detail(ctx, &batch[i]); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
feed:
	for _, i := range todo {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// detail fetches e's full entry into e.raw, or notes why e keeps its list
// item.
func (p *Poller) detail(ctx context.Context, e *polled) error {
	u := *p.base
	u.Path = p.base.Path + "/api/v2/auditlog/" + e.id
	u.RawPath = p.base.EscapedPath() + "/api/v2/auditlog/" + urlPathEscape(e.id)
	u.RawQuery = ""
	body, err := p.call(ctx, u.String())
	if err != nil {
		var perm permanentError
		if !errors.As(err, &perm) || perm.status == 0 || perm.status == http.StatusUnauthorized || perm.status == http.StatusForbidden {
			return fmt.Errorf("fetching the full entry %s: %w", e.id, err)
		}
		if perm.status == http.StatusNotFound {
			p.listOnly(e, "LaunchDarkly has no full entry for it (404: deleted after it was listed)")
		} else {
			p.listOnly(e, "its full entry could not be fetched: "+err.Error())
		}
		return nil
	}
	full, err := auditlog.DecodeEntry(body)
	switch {
	case err != nil:
		p.listOnly(e, "its full entry is not a valid entry: "+err.Error())
	case full.ID != e.id:
		p.listOnly(e, fmt.Sprintf("its full entry has _id %q", full.ID))
	default:
		e.raw = body
		p.update(func(s *PollerStatus) { s.Details++ })
	}
	return nil
}

func (p *Poller) listOnly(e *polled, why string) {
	e.note = why
	p.log.Warn("ingesting a list item without its full entry; templates reading currentVersion render without it", "id", e.id, "reason", why)
	p.update(func(s *PollerStatus) { s.ListOnly++ })
}

func urlPathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// budget is LaunchDarkly's rate-limit budget as its answers report it
// (X-Ratelimit-Global-Remaining, X-Ratelimit-Route-Remaining,
// X-Ratelimit-Reset), shared by the poller's requests so that concurrent
// detail fetches do not spend more than is left.
type budget struct {
	maxWait time.Duration

	mu        sync.Mutex
	notBefore time.Time // a 429 asked to wait until then
	remaining int       // requests left before reset; -1 when unknown
	reset     time.Time
	inflight  int
}

// acquire waits until a request may be made, calling onWait with how long
// before it waits.
func (b *budget) acquire(ctx context.Context, onWait func(until time.Time)) error {
	for {
		b.mu.Lock()
		now := time.Now()
		until := b.notBefore
		if b.remaining == 0 && now.Before(b.reset) && b.reset.After(until) {
			until = b.reset
		}
		if !now.Before(until) {
			if !now.Before(b.reset) {
				b.remaining = -1 // a new window: unknown until an answer says
			}
			if b.remaining > 0 {
				b.remaining--
			}
			b.inflight++
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		onWait(until)
		t := time.NewTimer(until.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// release ends a request acquire allowed, noting the budget its answer
// reports (h nil: no answer).
func (b *budget) release(h http.Header, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight--
	if h == nil {
		return
	}
	left := -1
	for _, name := range []string{"X-Ratelimit-Global-Remaining", "X-Ratelimit-Route-Remaining"} {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Get(name))); err == nil && n >= 0 && (left < 0 || n < left) {
			left = n
		}
	}
	if left < 0 {
		return
	}
	reset := now.Add(time.Second) // no reset given: look again soon
	if ms, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 10, 64); err == nil {
		// A little after: the header has millisecond resolution, and
		// LaunchDarkly's clock is not ours.
		reset = time.UnixMilli(ms).Add(resetMargin)
	}
	// A clock far from LaunchDarkly's must not stall the poller.
	if limit := now.Add(b.maxWait); reset.After(limit) {
		reset = limit
	}
	// Requests still in flight may not be counted in left yet; and an
	// answer overtaken by a later one of the same window must not raise
	// the count again.
	left = max(left-b.inflight, 0)
	if b.remaining >= 0 && reset.Equal(b.reset) {
		left = min(left, b.remaining)
	}
	b.remaining, b.reset = left, reset
}

// resetMargin is how long after X-Ratelimit-Reset a spent budget is taken
// to be renewed.
const resetMargin = 50 * time.Millisecond

// hold makes every request wait until t (a 429's Retry-After).
func (b *budget) hold(t time.Time) {
	b.mu.Lock()
	if t.After(b.notBefore) {
		b.notBefore = t
	}
	b.mu.Unlock()
}

// FetchDetails replaces the items that are list items (see
// auditlog.Entry.IsListItem) by their full entries, fetched as the poller
// fetches them (DetailFetches at a time, within the rate-limit budget);
// an item whose full entry is gone keeps its list item, with ListItem
// saying why. It returns how many items were list items and how many of
// those were replaced. It needs only the poller's BaseURL, Token and
// request settings: replay uses it on the entries of a file.
func (p *Poller) FetchDetails(ctx context.Context, items []Item) (listItems, fetched int, err error) {
	var batch []polled
	var at []int
	for i, it := range items {
		if it.Err != nil {
			continue
		}
		ent := it.Entry
		if ent == nil {
			if ent, err = auditlog.DecodeEntry(it.Raw); err != nil {
				continue // the Ingester will say why
			}
		}
		if !ent.IsListItem() {
			continue
		}
		batch = append(batch, polled{raw: it.Raw, id: ent.ID, date: ent.Date, dated: true})
		at = append(at, i)
	}
	if len(batch) == 0 {
		return 0, 0, nil
	}
	// Whether an entry is stored already is the Ingester's business here.
	if err := p.complete(ctx, batch, nil); err != nil {
		return len(batch), 0, err
	}
	for j, e := range batch {
		it := &items[at[j]]
		if e.note != "" {
			it.ListItem = e.note
			continue
		}
		it.Raw, it.Entry = e.raw, nil // the Ingester decodes the full entry
		it.Line, it.Col = 0, 0        // its bytes are not the file's
		fetched++
	}
	return len(batch), fetched, nil
}
