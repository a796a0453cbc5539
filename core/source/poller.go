package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/store"
)

// CursorStore reads a source's committed position; store.Store satisfies
// it. It returns an error matching store.ErrNotFound when the source has
// none yet.
type CursorStore interface {
	GetCursor(ctx context.Context, source string) (store.Cursor, error)
}

// Poller defaults.
const (
	DefaultPollInterval = 30 * time.Second
	DefaultPollLimit    = 20 // LaunchDarkly's maximum page size
	DefaultLookback     = time.Minute
	DefaultMaxBacklog   = 10_000
	DefaultPollBatch    = 100
	DefaultMaxBackoff   = 2 * time.Minute
	DefaultMaxRetryWait = 15 * time.Minute
	DefaultCursorName   = "poller"
	// DefaultDetailFetches is how many full entries are fetched at once.
	DefaultDetailFetches = 4
	maxPageBytes         = 32 << 20
)

// PollerConfig configures a Poller. Zero values take the defaults.
type PollerConfig struct {
	BaseURL string // e.g. https://app.launchdarkly.com
	Token   string // LaunchDarkly access token, sent as "Authorization: <token>"
	// Interval is the pause between polls once caught up.
	Interval time.Duration
	// Limit is the page size, 1–20.
	Limit int
	// Spec, when set, is passed as the spec parameter (a resource
	// specifier) to list only matching entries.
	Spec string
	// Backfill applies to the first start only, when the store holds no
	// cursor: entries dated within Backfill before now are fetched. 0
	// fetches only entries created from now on.
	Backfill time.Duration
	// Lookback is how far behind the newest ingested entry each poll
	// looks again for entries that became visible late (see Poller),
	// default DefaultLookback; negative means none.
	Lookback time.Duration
	// MaxBacklog bounds the entries held in memory while catching up;
	// beyond it the backlog is walked in windows, oldest first.
	MaxBacklog int
	// BatchSize is the number of entries per Ingest call.
	BatchSize int
	// DetailFetches bounds the full-entry requests (GET
	// /api/v2/auditlog/{id}) made at once, default DefaultDetailFetches.
	DetailFetches int
	// CursorName is the store.Cursor Source, default "poller".
	CursorName string
	// BaseBackoff is the first wait after a failure (then doubling, with
	// jitter, up to MaxBackoff); default 1s.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxRetryWait caps a wait asked for by Retry-After or
	// X-Ratelimit-Reset.
	MaxRetryWait time.Duration
	// Client makes the requests; default a client with a 30 s timeout.
	Client *http.Client
	Logger *slog.Logger
	// UserAgent, default "auditrelay".
	UserAgent string
}

// PollerState is what the poller is doing.
type PollerState string

// Poller states.
const (
	PollerStarting  PollerState = "starting"
	PollerConnected PollerState = "connected"   // the last request succeeded
	PollerThrottled PollerState = "throttled"   // waiting out a 429
	PollerBackoff   PollerState = "backing off" // waiting after a failure
	PollerError     PollerState = "error"       // the last poll failed; retrying at the next interval
	PollerStopped   PollerState = "stopped"
)

// PollerStatus is a snapshot of the poller for the console header and
// metrics. Counters are totals since the poller was created.
type PollerStatus struct {
	State       PollerState
	LastPoll    time.Time // when the last poll started
	LastSuccess time.Time // when a poll last completed
	LastError   string
	LastErrorAt time.Time
	RetryAt     time.Time // when a throttled or failed request is retried
	NextPoll    time.Time
	Cursor      time.Time // date of the newest entry ingested
	Requests    int64
	Throttled   int64 // 429 answers
	Fetched     int64 // entries received in pages, including ones listed again
	Ingested    int64 // new entries stored
	Duplicates  int64 // fetched entries the store already had (e.g. from the webhook)
	Rejected    int64 // entries the engine refused
	Details     int64 // full entries fetched
	ListOnly    int64 // entries ingested as list items: their full entry was gone (404)
}

// Poller pulls entries from LaunchDarkly's audit-log API
// (GET /api/v2/auditlog, newest first) and ingests them oldest first,
// committing its cursor with each batch, so that a restart neither skips
// nor repeats entries.
//
// Cursor. The cursor (JSON in store.Cursor.Position) holds From, the
// newest date ingested, and Seen: the ids of the ingested entries dated
// From or later. Every poll asks for after=From-1 ("after" is exclusive)
// and drops the ids in Seen. From trails the newest date by Lookback
// (default one minute), so an entry that shows up in the API after newer
// ones, with an earlier date, is still picked up; with Lookback off, From
// is the newest date itself and Seen holds the ids of that millisecond, so
// entries sharing it are neither lost nor repeated. Seen is capped at
// 10,000 ids (From moves up when it would grow past that). Relying on the
// engine's dedupe by _id instead would also be safe, but every poll would
// hand it the whole window again and count duplicates.
//
// First start. Without a stored cursor the poller starts at now minus
// Backfill (default 0: only entries created from now on) and commits that
// starting point at once (an Ingest call with no items and the cursor), so
// entries made while the relay is down before its first entry are not
// skipped on the next start. It uses the local clock.
//
// Paging. A poll walks pages backwards: each next page asks for before =
// the oldest date of the previous page + 1, so entries sharing that
// millisecond are listed again rather than skipped, and ids already seen
// in the poll are dropped. A full page made only of entries already seen
// means more than Limit entries share one millisecond; date paging cannot
// list the rest, so the poller logs a warning and moves past it. The walk
// ends at the first page that is not full; the entries are then ingested
// in date order. More than MaxBacklog waiting entries (a long outage, a
// big Backfill) are not held at once: the poller notes where the newest
// part starts, ingests the oldest part, and comes back for the rest.
//
// Full entries. List items lack currentVersion, previousVersion and
// delta, which templates read (a flag's custom properties, its tags), so
// before a batch is ingested the poller fetches GET /api/v2/auditlog/{id}
// for each of its new entries, DetailFetches at a time, and ingests that
// instead: the same bytes LaunchDarkly's webhook would have carried.
// Entries the store already holds (from the webhook, or an earlier run)
// are not fetched. A detail answered 404 (the entry was deleted since it
// was listed) or unreadable is not retried: the list item is ingested with
// Item.ListItem saying why, so the cursor moves on. A poll thus costs one
// list request per page (up to Limit entries) plus one request per new
// entry.
//
// Failures. A 429 is waited out (Retry-After, in seconds or as an HTTP
// date, or X-Ratelimit-Reset in Unix ms, whichever is later, capped by
// MaxRetryWait) by every request, and the request repeated. The budget
// each answer reports (X-Ratelimit-Global-Remaining,
// X-Ratelimit-Route-Remaining, X-Ratelimit-Reset) is shared by the
// requests: no more are in flight at once than it has left, and once it is
// spent they wait for the reset. 5xx answers and network errors back off
// exponentially with jitter. A refused token (401/403) or another 4xx on a
// page ends the poll; the next one comes after Interval. A failing store is retried with backoff. Status shows
// each of these.
type Poller struct {
	cfg     PollerConfig
	ing     Ingester
	cursors CursorStore
	client  *http.Client
	log     *slog.Logger
	base    *url.URL
	running atomic.Bool
	trigger chan struct{}

	budget budget

	mu     sync.Mutex
	status PollerStatus
}

// NewPoller returns a poller; Run starts it.
func NewPoller(cfg PollerConfig, ing Ingester, cursors CursorStore) (*Poller, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("poller: base URL %q: expected an http(s) URL such as https://app.launchdarkly.com", cfg.BaseURL)
	}
	if cfg.Token == "" {
		return nil, errors.New("poller: an access token is required (LaunchDarkly account settings → Authorization, with reader access to the audit log)")
	}
	if cfg.Limit > 20 || cfg.Limit < 0 {
		return nil, fmt.Errorf("poller: limit %d: LaunchDarkly pages hold 1 to 20 entries", cfg.Limit)
	}
	if cfg.Limit == 0 {
		cfg.Limit = DefaultPollLimit
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultPollInterval
	}
	if cfg.Backfill < 0 {
		cfg.Backfill = 0
	}
	switch {
	case cfg.Lookback == 0:
		cfg.Lookback = DefaultLookback
	case cfg.Lookback < 0:
		cfg.Lookback = 0
	}
	if cfg.MaxBacklog <= 0 {
		cfg.MaxBacklog = DefaultMaxBacklog
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultPollBatch
	}
	if cfg.DetailFetches <= 0 {
		cfg.DetailFetches = DefaultDetailFetches
	}
	if cfg.CursorName == "" {
		cfg.CursorName = DefaultCursorName
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "auditrelay"
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{
		cfg: cfg, ing: ing, cursors: cursors, client: client, base: base,
		budget:  budget{remaining: -1, maxWait: cfg.MaxRetryWait},
		log:     log.With("component", "poller"),
		trigger: make(chan struct{}, 1),
		status:  PollerStatus{State: PollerStarting},
	}, nil
}

// Status returns a snapshot of the poller's state.
func (p *Poller) Status() PollerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

func (p *Poller) update(f func(*PollerStatus)) {
	p.mu.Lock()
	f(&p.status)
	p.mu.Unlock()
}

// PollNow makes a running poller poll at once instead of waiting for the
// interval to end.
func (p *Poller) PollNow() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Run polls until ctx ends, then returns nil. It returns an error only
// when it cannot run at all: it is already running, or the stored cursor
// cannot be read (written by a newer version, or damaged). Store and
// network failures are retried.
func (p *Poller) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("poller: already running")
	}
	defer p.running.Store(false)
	defer p.update(func(s *PollerStatus) { s.State = PollerStopped; s.NextPoll = time.Time{}; s.RetryAt = time.Time{} })

	cur, err := p.start(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	p.update(func(s *PollerStatus) {
		if cur.Max > 0 {
			s.Cursor = time.UnixMilli(cur.Max)
		}
	})
	failures := 0
	for {
		started := time.Now()
		p.update(func(s *PollerStatus) { s.LastPoll = started; s.NextPoll = time.Time{} })
		err := p.poll(ctx, &cur)
		if ctx.Err() != nil {
			return nil
		}
		wait := p.cfg.Interval
		if err != nil {
			failures++
			p.fail(err)
			// A poll that failed on the store is retried sooner than the
			// interval, with backoff; one LaunchDarkly refused (a bad
			// token) waits for the interval.
			var perm permanentError
			if b := p.backoff(failures); b < wait && !errors.As(err, &perm) {
				wait = b
			}
		} else {
			failures = 0
			p.update(func(s *PollerStatus) { s.LastSuccess = time.Now(); s.State = PollerConnected })
		}
		next := time.Now().Add(wait)
		p.update(func(s *PollerStatus) { s.NextPoll = next })
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-p.trigger:
			t.Stop()
		case <-t.C:
		}
	}
}

func (p *Poller) fail(err error) {
	p.log.Warn("poll failed", "err", err)
	p.update(func(s *PollerStatus) {
		s.State = PollerError
		s.LastError = err.Error()
		s.LastErrorAt = time.Now()
	})
}

// start reads the stored cursor, or creates and commits the first one.
func (p *Poller) start(ctx context.Context) (pollCursor, error) {
	for attempt := 1; ; attempt++ {
		c, err := p.cursors.GetCursor(ctx, p.cfg.CursorName)
		if err == nil {
			cur, err := decodeCursor(c.Position)
			if err != nil {
				p.fail(err)
				return pollCursor{}, err
			}
			p.log.Info("poller resuming", "from", time.UnixMilli(cur.From).UTC(), "newest", time.UnixMilli(cur.Max).UTC())
			return cur, nil
		}
		if errors.Is(err, store.ErrNotFound) {
			from := time.Now().Add(-p.cfg.Backfill).UnixMilli()
			cur := pollCursor{From: from, Max: from, Seen: map[string]int64{}}
			// Commit the starting point at once, so that a restart
			// before the first entry does not move it forward.
			if _, err = p.ing.Ingest(ctx, nil, p.storeCursor(cur)); err == nil {
				p.log.Info("poller starting without a cursor", "from", time.UnixMilli(from).UTC(), "backfill", p.cfg.Backfill)
				return cur, nil
			}
		}
		if ctx.Err() != nil {
			return pollCursor{}, ctx.Err()
		}
		err = fmt.Errorf("reading the poller cursor: %w", err)
		p.fail(err)
		if err := p.sleep(ctx, p.backoff(attempt), PollerBackoff); err != nil {
			return pollCursor{}, err
		}
	}
}

func (p *Poller) storeCursor(c pollCursor) *store.Cursor {
	return &store.Cursor{Source: p.cfg.CursorName, Position: c.encode(), UpdatedAt: time.Now()}
}

// polled is one item of a page. Only its bytes are kept, not the decoded
// entry, as up to MaxBacklog of them wait: the engine decodes each again
// when it is ingested.
type polled struct {
	raw   []byte
	id    string
	date  int64
	dated bool   // id and date could be read
	err   error  // why the item is not a valid entry (an *auditlog.DecodeError)
	note  string // why raw is the list item, not the full entry
}

// poll fetches everything newer than the cursor and ingests it oldest
// first. When more than MaxBacklog entries are waiting, it works through
// windows: it remembers where the newest part begins, ingests the oldest
// part first, and comes back for the rest.
func (p *Poller) poll(ctx context.Context, cur *pollCursor) error {
	var ceilings []int64 // upper bounds (exclusive) still to work through; 0 = none
	before := int64(0)
	for {
		entries, truncatedAt, truncated, err := p.collect(ctx, *cur, before)
		if err != nil {
			return err
		}
		if truncated {
			ceilings = append(ceilings, before)
			before = truncatedAt + 1
			continue
		}
		if err := p.ingest(ctx, cur, entries); err != nil {
			return err
		}
		if len(ceilings) == 0 {
			return nil
		}
		before = ceilings[len(ceilings)-1]
		ceilings = ceilings[:len(ceilings)-1]
	}
}

// collect walks the pages of entries dated in [cur.From, before) backwards
// and returns the ones not in cur.Seen. When more than MaxBacklog are
// found it stops and returns the date of the oldest one seen instead.
func (p *Poller) collect(ctx context.Context, cur pollCursor, before int64) (entries []polled, truncatedAt int64, truncated bool, err error) {
	var held []polled
	oldestHeld := int64(math.MaxInt64)
	inPass := map[string]bool{}
	pageBefore := before
	for {
		page, err := p.fetch(ctx, cur.From-1, pageBefore)
		if err != nil {
			return nil, 0, false, err
		}
		oldest := int64(math.MaxInt64)
		fresh := 0
		for _, e := range page {
			if !e.dated {
				held = append(held, e) // the engine will say what is wrong with it
				continue
			}
			oldest = min(oldest, e.date)
			if inPass[e.id] {
				continue
			}
			inPass[e.id] = true
			fresh++
			if _, ok := cur.Seen[e.id]; ok {
				continue
			}
			held = append(held, e)
			oldestHeld = min(oldestHeld, e.date)
		}
		p.update(func(s *PollerStatus) { s.Fetched += int64(len(page)) })
		if len(page) < p.cfg.Limit || oldest == math.MaxInt64 {
			return held, 0, false, nil
		}
		next := oldest + 1
		if fresh == 0 {
			// A full page of entries already listed: more than Limit
			// entries share the millisecond oldest. Paging by date
			// cannot list the rest of them.
			p.log.Warn("more entries share one millisecond than fit in a page; some of them may be missed",
				"date", time.UnixMilli(oldest).UTC(), "limit", p.cfg.Limit)
			next = oldest
		}
		// Cut at the oldest entry held, not the page's oldest: the page
		// may end in entries ingested already, and a window below them
		// would hold nothing new, to be walked again and again.
		if len(held) >= p.cfg.MaxBacklog && (before == 0 || oldestHeld+1 < before) {
			return nil, oldestHeld, true, nil
		}
		pageBefore = next
	}
}

// ingest stores entries oldest first in batches, each with the cursor
// that covers it.
func (p *Poller) ingest(ctx context.Context, cur *pollCursor, entries []polled) error {
	slices.SortStableFunc(entries, func(a, b polled) int {
		switch {
		case !a.dated || !b.dated: // undated first: they do not move the cursor
			return boolCmp(a.dated, b.dated)
		case a.date < b.date:
			return -1
		case a.date > b.date:
			return 1
		}
		return 0
	})
	for start := 0; start < len(entries); start += p.cfg.BatchSize {
		batch := entries[start:min(start+p.cfg.BatchSize, len(entries))]
		getter, _ := p.cursors.(EntryGetter)
		if err := p.complete(ctx, batch, getter); err != nil {
			return err
		}
		next := cur.advance(batch, p.cfg.Lookback.Milliseconds())
		items := make([]Item, len(batch))
		for i, e := range batch {
			items[i] = Item{Raw: e.raw, Source: "poller", Ref: "auditlog " + e.id, Err: e.err, ListItem: e.note}
			if e.id == "" {
				items[i].Ref = "auditlog list item"
			}
		}
		results, err := p.ing.Ingest(ctx, items, p.storeCursor(next))
		if err == nil && len(results) != len(items) {
			err = fmt.Errorf("ingester returned %d results for %d entries", len(results), len(items))
		}
		if err != nil {
			return fmt.Errorf("storing %d polled entries: %w", len(items), err)
		}
		*cur = next
		var ingested, dups, rejected int64
		for i, r := range results {
			switch {
			case r.Err != nil:
				rejected++
				p.log.Warn("polled entry rejected", "id", batch[i].id, "err", r.Err)
			case r.Duplicate:
				dups++
			default:
				ingested++
			}
		}
		p.update(func(s *PollerStatus) {
			s.Ingested += ingested
			s.Duplicates += dups
			s.Rejected += rejected
			if cur.Max > 0 {
				s.Cursor = time.UnixMilli(cur.Max)
			}
		})
		p.log.Debug("polled entries stored", "new", ingested, "duplicates", dups, "rejected", rejected)
	}
	return nil
}

// fetch gets one page.
func (p *Poller) fetch(ctx context.Context, after, before int64) ([]polled, error) {
	q := url.Values{}
	q.Set("limit", strconv.Itoa(p.cfg.Limit))
	q.Set("after", strconv.FormatInt(after, 10))
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if p.cfg.Spec != "" {
		q.Set("spec", p.cfg.Spec)
	}
	u := *p.base
	u.Path += "/api/v2/auditlog"
	u.RawQuery = q.Encode()
	body, err := p.call(ctx, u.String())
	if err != nil {
		return nil, err
	}
	return parsePage(body)
}

// call makes a GET request, waiting for the rate-limit budget, waiting
// out 429s and retrying server and network failures until ctx ends. An
// answer that repeating the request soon would not change is a
// permanentError.
func (p *Poller) call(ctx context.Context, u string) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		if err := p.budget.acquire(ctx, func(until time.Time) {
			p.update(func(s *PollerStatus) { s.State = PollerThrottled; s.RetryAt = until })
		}); err != nil {
			return nil, err
		}
		body, retry, err := p.request(ctx, u)
		if err == nil {
			p.update(func(s *PollerStatus) { s.State = PollerConnected; s.RetryAt = time.Time{} })
			return body, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var perm permanentError
		if errors.As(err, &perm) {
			return nil, err
		}
		state := PollerBackoff
		if retry == 0 {
			retry = p.backoff(attempt)
		} else {
			state = PollerThrottled
		}
		p.log.Warn("audit-log request failed; retrying", "err", err, "retry_in", retry.Round(time.Millisecond))
		p.update(func(s *PollerStatus) { s.LastError = err.Error(); s.LastErrorAt = time.Now() })
		if err := p.sleep(ctx, retry, state); err != nil {
			return nil, err
		}
	}
}

// request makes one request (holding a share of the budget, which it
// gives back) and returns the body of a 200. retry is a wait the server
// asked for, 0 for backoff; a permanentError is not to be retried.
func (p *Poller) request(ctx context.Context, u string) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		p.budget.release(nil, time.Now())
		return nil, 0, permanentError{err: fmt.Errorf("building the request: %w", err)}
	}
	req.Header.Set("Authorization", p.cfg.Token) // LaunchDarkly takes the bare token
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", p.cfg.UserAgent)
	p.update(func(s *PollerStatus) { s.Requests++ })
	resp, err := p.client.Do(req)
	if err != nil {
		p.budget.release(nil, time.Now())
		return nil, 0, fmt.Errorf("GET %s: %w", redactQuery(u), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes+1))
	now := time.Now()
	p.budget.release(resp.Header, now)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: reading the answer: %w", redactQuery(u), err)
	}

	perm := func(err error) ([]byte, time.Duration, error) {
		return nil, 0, permanentError{err: err, status: resp.StatusCode}
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		p.update(func(s *PollerStatus) { s.Throttled++ })
		wait, ok := retryAfter(resp.Header, now)
		if !ok {
			wait = p.backoff(1) // no hint
		}
		wait = min(wait, p.cfg.MaxRetryWait)
		// Every request waits, not only this one: the budget is shared.
		p.budget.hold(now.Add(wait))
		return nil, wait, fmt.Errorf("rate limited by LaunchDarkly (429)%s", apiMessage(body))
	case resp.StatusCode >= 500:
		wait, _ := retryAfter(resp.Header, now)
		return nil, min(wait, p.cfg.MaxRetryWait), fmt.Errorf("LaunchDarkly answered %s%s", resp.Status, apiMessage(body))
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return perm(fmt.Errorf("LaunchDarkly refused the access token (%s)%s: it needs read access to the audit log", resp.Status, apiMessage(body)))
	case resp.StatusCode != http.StatusOK:
		return perm(fmt.Errorf("GET %s: LaunchDarkly answered %s%s", redactQuery(u), resp.Status, apiMessage(body)))
	}
	if len(body) > maxPageBytes {
		return perm(fmt.Errorf("GET %s: answer larger than %d bytes", redactQuery(u), maxPageBytes))
	}
	return body, 0, nil
}

// parsePage reads a page with auditlog, which decides what a valid entry
// is. An item it refuses is kept with its error, to be reported as
// rejected; when its _id and date could be read it is still dated, so
// that the cursor moves past it and it is not refused again at every poll.
func parsePage(body []byte) ([]polled, error) {
	page, err := auditlog.DecodePage(body)
	if err != nil {
		return nil, permanentError{err: fmt.Errorf("audit-log page is not the expected {\"items\": [...]}: %w", err)}
	}
	out := make([]polled, 0, len(page.Entries)+len(page.Invalid))
	for _, e := range page.Entries {
		// A copy: the page's body is not held for as long as the entry.
		out = append(out, polled{raw: bytes.Clone(e.Raw), id: e.ID, date: e.Date, dated: true})
	}
	for _, de := range page.Invalid {
		out = append(out, polled{id: de.ID, date: de.Date, dated: de.ID != "", err: de})
	}
	return out, nil
}

// apiMessage is LaunchDarkly's {"code", "message"} error, shortened.
func apiMessage(body []byte) string {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || (e.Code == "" && e.Message == "") {
		return ""
	}
	msg := strings.TrimSpace(e.Code + " " + e.Message)
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return ": " + msg
}

func redactQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// retryAfter reads how long a server asked to wait: Retry-After (seconds
// or an HTTP date) or X-Ratelimit-Reset (Unix ms, LaunchDarkly), the later
// of the two.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	var wait time.Duration
	found := false
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			wait, found = time.Duration(min(secs, math.MaxInt64/int64(time.Second)))*time.Second, true
		} else if t, err := http.ParseTime(v); err == nil {
			wait, found = max(t.Sub(now), 0), true
		}
	}
	if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			if d := time.UnixMilli(ms).Sub(now); d > wait {
				wait = d
			}
			found = true
		}
	}
	return wait, found
}

// backoff is the wait after the n-th consecutive failure: doubling from
// BaseBackoff up to MaxBackoff, ±20% jitter.
func (p *Poller) backoff(n int) time.Duration {
	d := p.cfg.BaseBackoff
	for i := 1; i < n && d < p.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.cfg.MaxBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (p *Poller) sleep(ctx context.Context, d time.Duration, state PollerState) error {
	until := time.Now().Add(d)
	p.update(func(s *PollerStatus) { s.State = state; s.RetryAt = until })
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// permanentError is an API answer that repeating the request soon would
// not change; status is its HTTP status, 0 when there was none.
type permanentError struct {
	err    error
	status int
}

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }
