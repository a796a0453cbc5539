package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrelay/auditrelay/core/store"
)

// Limits of what a notification carries. PostgreSQL caps a payload at
// 8000 bytes; a change is a hint, so readers query for the rest.
const (
	// notifyMaxIDs is small on purpose: an instance that reads every id
	// of every change of its peers (the console's live feed) does one
	// lookup per id. At low rates each change goes out alone, with all of
	// its ids; under load a feed from another instance is a sample.
	notifyMaxIDs     = 8
	notifyMaxPayload = 7000
	// pollOverlap re-reads this much before the last poll: commits land
	// after the timestamp their rows carry, and instance clocks differ.
	pollOverlap = 2 * time.Second
	pollMaxRows = 256
	// listenKeepalive is how long the listener waits for a notification
	// before it pings the server, so a dead connection is noticed.
	listenKeepalive = 30 * time.Second
	reconnectMax    = 30 * time.Second
)

// Watch streams changes committed through this store and, via
// LISTEN/NOTIFY (or the poll fallback), by other instances sharing the
// database, until ctx ends or the store closes.
func (s *Store) Watch(ctx context.Context) <-chan store.Change {
	return s.watch.Add(ctx)
}

// changed is called after a commit: local watchers get the change at once,
// other instances through the debounced notifier.
func (s *Store) changed(c store.Change) {
	c.Instance = s.instance
	slices.Sort(c.Subscriptions)
	c.Subscriptions = slices.Compact(c.Subscriptions)
	s.watch.Publish(c)
	s.notes.add(c)
}

// notifier gathers changes and sends them as NOTIFY on the schema's
// channel: the first change at once, then at most one round of
// notifications per window (river's PR #301 and oban #956: a NOTIFY per
// write costs a global lock at commit). Notifications leave after the
// commit they describe, never inside it, so a receiver always finds the
// rows.
type notifier struct {
	s      *Store
	window time.Duration

	mu      sync.Mutex
	pending map[store.ChangeKind]*pendingChange
	order   []store.ChangeKind
	signal  chan struct{}
}

type pendingChange struct {
	subs      map[string]struct{}
	ids       []string
	truncated bool
}

// payload is a notification's JSON: short keys, it is on every wire.
type payload struct {
	Kind      store.ChangeKind `json:"k"`
	Instance  string           `json:"i"`
	Nonce     string           `json:"n"`
	Subs      []string         `json:"s,omitempty"`
	IDs       []string         `json:"d,omitempty"`
	Truncated bool             `json:"t,omitempty"`
}

func newNotifier(s *Store, window time.Duration) *notifier {
	return &notifier{s: s, window: window, pending: map[store.ChangeKind]*pendingChange{}, signal: make(chan struct{}, 1)}
}

func (n *notifier) add(c store.Change) {
	n.mu.Lock()
	p := n.pending[c.Kind]
	if p == nil {
		p = &pendingChange{subs: map[string]struct{}{}}
		n.pending[c.Kind] = p
		n.order = append(n.order, c.Kind)
	}
	for _, sub := range c.Subscriptions {
		p.subs[sub] = struct{}{}
	}
	room := notifyMaxIDs - len(p.ids)
	if room < len(c.IDs) {
		p.truncated = true
	}
	if room > 0 {
		p.ids = append(p.ids, c.IDs[:min(room, len(c.IDs))]...)
	}
	n.mu.Unlock()
	select {
	case n.signal <- struct{}{}:
	default:
	}
}

// take returns the payloads of everything pending and clears it.
func (n *notifier) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, k := range n.order {
		p := n.pending[k]
		subs := make([]string, 0, len(p.subs))
		for sub := range p.subs {
			subs = append(subs, sub)
		}
		slices.Sort(subs)
		out = append(out, n.encode(payload{Kind: k, Instance: n.s.instance, Nonce: n.s.nonce, IDs: p.ids, Truncated: p.truncated}, subs)...)
	}
	clear(n.pending)
	n.order = n.order[:0]
	return out
}

// encode splits a change whose subscriptions do not fit one payload into
// several; the ids ride on the first.
func (n *notifier) encode(p payload, subs []string) []string {
	var out []string
	base, _ := json.Marshal(p) // strings only: cannot fail
	size := len(base) + len(`,"s":[]`)
	for _, sub := range subs {
		q, _ := json.Marshal(sub)
		if size+len(q)+1 > notifyMaxPayload && len(p.Subs) > 0 {
			b, _ := json.Marshal(p)
			out = append(out, string(b))
			p = payload{Kind: p.Kind, Instance: p.Instance, Nonce: p.Nonce}
			base, _ = json.Marshal(p)
			size = len(base) + len(`,"s":[]`)
		}
		p.Subs = append(p.Subs, sub)
		size += len(q) + 1
	}
	b, _ := json.Marshal(p)
	return append(out, string(b))
}

func (n *notifier) run() {
	for {
		select {
		case <-n.signal:
		case <-n.s.closing:
			n.flush()
			return
		}
		n.flush()
		if n.window <= 0 {
			continue
		}
		t := time.NewTimer(n.window)
		select {
		case <-t.C:
		case <-n.s.closing:
			t.Stop()
			n.flush()
			return
		}
	}
}

func (n *notifier) flush() {
	msgs := n.take()
	if len(msgs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// One statement, one transaction: the messages arrive together.
	if _, err := n.s.pool.Exec(ctx, `SELECT pg_notify($1, m) FROM unnest($2::text[]) m`, n.s.channel, msgs); err != nil {
		n.s.log.Warn("notifying other instances failed; they will find the change by polling", "err", err)
	}
}

// listen keeps a dedicated connection LISTENing on the schema's channel,
// reconnecting with backoff; while it is down (or disabled) it polls.
func (s *Store) listen(disabled bool, poll time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.closing
		cancel()
	}()
	p := &poller{s: s, since: s.now(), seen: map[string]time.Time{}}
	if disabled {
		s.pollUntil(ctx, p, poll, nil)
		return
	}
	backoff := time.Second
	for ctx.Err() == nil {
		conn, err := s.connectListener(ctx)
		if err == nil {
			backoff = time.Second
			p.since = s.now() // what changed while down was polled
			err = s.receive(ctx, conn)
			_ = conn.Close(context.WithoutCancel(ctx))
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("change listener disconnected; polling for changes until it reconnects", "err", err, "retry_in", backoff)
		retry := time.NewTimer(backoff)
		s.pollUntil(ctx, p, poll, retry.C)
		retry.Stop()
		backoff = min(backoff*2, reconnectMax)
	}
}

func (s *Store) connectListener(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, s.connCfg.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	s.listening.Store(true)
	return conn, nil
}

// receive turns notifications from other stores into changes until the
// connection fails or ctx ends.
func (s *Store) receive(ctx context.Context, conn *pgx.Conn) error {
	defer s.listening.Store(false)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenKeepalive)
		note, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if wctx.Err() == nil {
				return err
			}
			// Quiet for a while: make sure the server is still there.
			pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
			err = conn.Ping(pctx)
			pcancel()
			if err != nil {
				return err
			}
			continue
		}
		var p payload
		if json.Unmarshal([]byte(note.Payload), &p) != nil || p.Kind == 0 {
			s.log.Debug("ignoring a notification that is not auditrelay's", "channel", note.Channel)
			continue
		}
		if p.Nonce == s.nonce {
			continue // ours: local watchers had it at commit
		}
		s.watch.Publish(store.Change{Kind: p.Kind, Instance: p.Instance, Subscriptions: p.Subs, IDs: p.IDs})
	}
}

// poller is the watch fallback: it reads rows other instances changed
// since the last look. Rows carry the instance that wrote them
// (entries.ingested_by, deliveries.updated_by).
type poller struct {
	s     *Store
	since time.Time
	seen  map[string]time.Time // row key → its timestamp, to skip repeats within the overlap
}

// pollUntil polls every interval until ctx ends or stop fires.
func (s *Store) pollUntil(ctx context.Context, p *poller, interval time.Duration, stop <-chan time.Time) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
			if err := p.poll(ctx); err != nil && ctx.Err() == nil {
				s.log.Debug("polling for changes", "err", err)
			}
		}
	}
}

func (p *poller) poll(ctx context.Context) error {
	s := p.s
	now := s.now()
	from := p.since.Add(-pollOverlap)
	type row struct {
		kind     store.ChangeKind
		id, sub  string
		instance string
		due      bool
		at       pgtype.Timestamptz
	}
	var found []row
	rows, err := s.pool.Query(ctx, `
		(SELECT 1, e.id, coalesce(d.subscription, ''), e.ingested_by, d.subscription IS NOT NULL, e.received_at
			FROM (SELECT id, ingested_by, received_at FROM entries
				WHERE received_at >= $1 AND ingested_by <> $2 ORDER BY received_at LIMIT $3) e
			LEFT JOIN deliveries d ON d.entry_id = e.id AND d.state = 'pending')
		UNION ALL
		(SELECT 2, id, subscription, updated_by, state = 'pending', updated_at FROM deliveries
			WHERE updated_at >= $1 AND updated_by <> $2 ORDER BY updated_at LIMIT $3)
		UNION ALL
		(SELECT 3, name, name, '', false, updated_at FROM subscription_state WHERE updated_at >= $1)`,
		from, s.instance, pollMaxRows)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r row
		var k int
		if err := rows.Scan(&k, &r.id, &r.sub, &r.instance, &r.due, &r.at); err != nil {
			rows.Close()
			return err
		}
		r.kind = store.ChangeKind(k)
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	type key struct {
		kind     store.ChangeKind
		instance string
	}
	changes := map[key]*store.Change{}
	var order []key
	for _, r := range found {
		at := fromTS(r.at)
		seenKey := fmt.Sprintf("%d\x00%s\x00%s", r.kind, r.id, r.sub)
		if prev, ok := p.seen[seenKey]; ok && !at.After(prev) {
			continue
		}
		p.seen[seenKey] = at
		kind := store.EntriesIngested
		switch r.kind {
		case 2:
			kind = store.DeliveriesChanged
		case 3:
			kind = store.SubscriptionChanged
		}
		k := key{kind, r.instance}
		c := changes[k]
		if c == nil {
			c = &store.Change{Kind: kind, Instance: r.instance}
			changes[k] = c
			order = append(order, k)
		}
		switch {
		case kind == store.SubscriptionChanged:
			c.Subscriptions = append(c.Subscriptions, r.sub)
		case len(c.IDs) < notifyMaxIDs && !slices.Contains(c.IDs, r.id):
			c.IDs = append(c.IDs, r.id)
		}
		if r.due {
			c.Subscriptions = append(c.Subscriptions, r.sub)
		}
	}
	for k, at := range p.seen {
		if at.Before(from) {
			delete(p.seen, k)
		}
	}
	p.since = now
	for _, k := range order {
		c := changes[k]
		slices.Sort(c.Subscriptions)
		c.Subscriptions = slices.Compact(c.Subscriptions)
		s.watch.Publish(*c)
	}
	return nil
}
