package engine

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/policy"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
)

// DeliveryID is the stable id of the delivery of entry to subscription. It
// is derived, not random, so that every instance and every restart agrees
// on it, and receivers can dedupe on it.
//
// It starts with the entry id when that is short and plain, as
// LaunchDarkly's are (MongoDB ObjectIds, which grow with time): the
// store's indexes on delivery ids then grow at their end, like those on
// entry ids, instead of each new delivery dirtying a random page. The
// subscription adds a hash of its name. Other entry ids hash with it.
func DeliveryID(subscription, entryID string) string {
	if plainID(entryID) {
		h := sha256.Sum256([]byte(subscription))
		return "dlv_" + entryID + "_" + b32(h[:10])
	}
	h := sha256.Sum256([]byte(subscription + "\x00" + entryID))
	return "dlv_" + b32(h[:15])
}

func b32(b []byte) string {
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// plainID reports whether an entry id can go into a delivery id as is:
// 1 to 64 letters, digits and hyphens (no underscore, which separates the
// subscription's part).
func plainID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// decoded is an entry read and decided, ready to store.
type decoded struct {
	entry    *auditlog.Entry
	event    *hook.Event
	new      store.NewEntry
	accesses []policy.Access
}

// Ingest implements source.Ingester: it decodes each item (unless the
// source did: Item.Entry), decides every subscription's policy, and stores
// the entries with their deliveries in one commit. Invalid items are
// rejected with auditlog's reason (or the source's, Item.Err); nothing is
// acknowledged before the commit.
func (e *Engine) Ingest(ctx context.Context, items []source.Item, cursor *store.Cursor) ([]source.Result, error) {
	results := make([]source.Result, len(items))
	now := e.now()
	subs := e.snapshot()
	batch := make([]store.NewEntry, 0, len(items))
	decodedAt := make([]int, 0, len(items)) // batch index → item index
	events := make([]*decoded, 0, len(items))
	for i, it := range items {
		ent, err := it.Entry, it.Err
		if ent == nil && err == nil {
			ent, err = auditlog.DecodeEntry(it.Raw)
		}
		if err != nil {
			results[i].Err = err
			var de *auditlog.DecodeError
			if errors.As(err, &de) {
				results[i].ID = de.ID
			}
			e.metrics.rejected.WithLabelValues(it.Source).Inc()
			continue
		}
		results[i].ID = ent.ID
		d := e.decide(ent, it.Source, now, subs)
		d.new.ListItem = it.ListItem
		batch = append(batch, d.new)
		decodedAt = append(decodedAt, i)
		events = append(events, d)
	}
	if len(batch) == 0 && cursor == nil {
		return results, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storing entries: %w", err)
	}
	slotsOf := e.leaseAtIngest(batch, now)
	storeCtx := ctx
	if slotsOf != nil {
		// Deliveries leased to this engine must not be committed behind
		// its back: a caller that gives up (a webhook sender hanging up)
		// would otherwise leave them to wait out the lease. The commit is
		// one group of the local writer, so waiting for it is short.
		storeCtx = context.WithoutCancel(ctx)
		// Unless the writer waits for another process's lock: the
		// caller's deadline still bounds that. Leases are taken only on
		// the embedded store, which gives a write up only before it
		// started, so one that missed its deadline was not committed.
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			storeCtx, cancel = context.WithDeadline(storeCtx, dl)
			defer cancel()
		}
	}
	res, err := e.st.Ingest(storeCtx, batch, cursor)
	if err != nil {
		for _, ne := range batch {
			releaseLeased(ne, slotsOf)
		}
		return nil, fmt.Errorf("storing entries: %w", err)
	}
	woken := map[string]bool{}
	for j, r := range res {
		i := decodedAt[j]
		results[i].Duplicate = r.Duplicate
		src := items[i].Source
		if r.Duplicate {
			releaseLeased(batch[j], slotsOf)
			e.metrics.duplicates.WithLabelValues(src).Inc()
			continue
		}
		d := events[j]
		e.metrics.received.WithLabelValues(src).Inc()
		e.events.put(d.new.ID, d.event)
		view := entryView(d.new.EntrySummary, d.new.Deliveries)
		for _, nd := range batch[j].Deliveries {
			switch {
			case nd.State == store.Filtered:
				e.metrics.filtered.WithLabelValues(nd.Subscription).Inc()
			case nd.Lease != nil:
				e.startAttempt(slotsOf[nd.Subscription], nd.Subscription, leasedClaim(batch[j], nd, now))
			case nd.State == store.Pending:
				woken[nd.Subscription] = true
			}
		}
		e.bus.publish(Event{Kind: EntryReceived, Entry: &view})
	}
	e.rates.entry(now, len(res))
	for name := range woken {
		e.wakeSub(name)
	}
	return results, nil
}

// leaseAtIngest gives pending deliveries a free slot of their
// subscription's running claim loop, when it has one, as a lease stored
// with the entry: the attempt then starts as soon as the entry is
// committed, without a Claim (one store round trip and one more commit per
// delivery). Only where the store is this engine's alone — another
// instance's limits are enforced by Claim — and only for subscriptions
// Claim would let through at once: not paused or disabled, no rate limit,
// no due deliveries waiting (those go first). It returns the slots each
// leased subscription's deliveries hold.
func (e *Engine) leaseAtIngest(batch []store.NewEntry, now time.Time) map[string]*slots {
	if e.opts.SharedStore {
		return nil
	}
	e.statsMu.Lock()
	states := e.states
	e.statsMu.Unlock()
	var out map[string]*slots
	until := now.Add(e.cfg.Delivery.Lease)
	for j := range batch {
		for k := range batch[j].Deliveries {
			nd := &batch[j].Deliveries[k]
			if nd.State != store.Pending {
				continue
			}
			ent, s, err := e.sub(nd.Subscription)
			if err != nil {
				continue
			}
			st := states[nd.Subscription]
			due := ent.nextDue.Load()
			if s.cfg.Rate > 0 || st.Paused || st.Disabled || (due != 0 && due <= now.UnixNano()) ||
				ent.slots.reserve(1, s.cfg.Concurrency) == 0 {
				// Claim takes it, in order: until a claim has looked,
				// later entries must not overtake it.
				ent.nextDue.CompareAndSwap(0, now.UnixNano())
				continue
			}
			nd.Lease = &store.Lease{Owner: e.cfg.Instance, Until: until}
			if out == nil {
				out = map[string]*slots{}
			}
			out[nd.Subscription] = ent.slots
		}
	}
	return out
}

// releaseLeased gives back the slots of ne's leased deliveries when they
// were not stored (a duplicate entry, a failed commit).
func releaseLeased(ne store.NewEntry, slotsOf map[string]*slots) {
	for _, nd := range ne.Deliveries {
		if nd.Lease != nil {
			slotsOf[nd.Subscription].release(1)
		}
	}
}

// leasedClaim is the delivery nd of ne as the store now holds it: what a
// Claim would have returned.
func leasedClaim(ne store.NewEntry, nd store.NewDelivery, now time.Time) store.Claimed {
	return store.Claimed{
		Delivery: store.Delivery{
			ID:            nd.ID,
			EntryID:       ne.ID,
			Subscription:  nd.Subscription,
			State:         store.InFlight,
			Reason:        nd.Reason,
			Attempts:      1,
			NextAttemptAt: nd.NextAttemptAt,
			LeaseOwner:    nd.Lease.Owner,
			LeaseUntil:    nd.Lease.Until,
			LastAttemptAt: now,
			CreatedAt:     now,
			UpdatedAt:     now,
			EntryDate:     ne.Date,
			EntryKind:     ne.Kind,
			EntryTitle:    ne.Title,
		},
		EntryRaw: ne.Raw,
	}
}

// decide builds an entry's summary, template context and one delivery per
// enabled subscription.
func (e *Engine) decide(ent *auditlog.Entry, src string, now time.Time, subs []*subscription) *decoded {
	ev := e.lazyEvent(ent)
	accesses := make([]policy.Access, len(ent.Accesses))
	for i, a := range ent.Accesses {
		accesses[i] = policy.NewAccess(a.Action, a.Resource)
	}
	su := e.builder.Summary(ent)
	sum := store.EntrySummary{
		ID:          ent.ID,
		Date:        ent.Time(),
		ReceivedAt:  now,
		Source:      src,
		Kind:        ent.Kind,
		Title:       su.Title,
		Member:      su.Member,
		Project:     su.Project,
		Environment: su.Environment,
	}
	ne := store.NewEntry{EntrySummary: sum, Raw: ent.Raw}
	for _, s := range subs {
		if !s.cfg.Enabled {
			continue
		}
		nd := store.NewDelivery{
			ID:            DeliveryID(s.cfg.Name, ent.ID),
			Subscription:  s.cfg.Name,
			NextAttemptAt: now,
		}
		dec := s.policy.Decide(accesses)
		if dec.Send {
			nd.State = store.Pending
			nd.Reason = decisionSummary(s, dec, ent.Accesses)
		} else {
			nd.State = store.Filtered
			nd.Reason = filteredSummary(accesses)
		}
		ne.Deliveries = append(ne.Deliveries, nd)
	}
	return &decoded{entry: ent, event: ev, new: ne, accesses: accesses}
}

// decisionSummary is the one-line reason stored with an allowed delivery.
// The full explanation is recomputed on demand (Entry), because building it
// for every entry and subscription would cost more than the decision.
func decisionSummary(s *subscription, d policy.Decision, acc []auditlog.Access) string {
	if d.NoPolicy {
		return "sent: no policy, every entry is sent"
	}
	if d.Access >= 0 && d.Access < len(acc) {
		a := acc[d.Access]
		return fmt.Sprintf("sent: statement #%d allows %s on %s", d.Statement, a.Action, a.Resource)
	}
	return "sent"
}

func filteredSummary(acc []policy.Access) string {
	switch len(acc) {
	case 0:
		return "not sent: the entry has no accesses to match"
	case 1:
		return "not sent: no statement allows " + acc[0].Action
	}
	return fmt.Sprintf("not sent: no statement allows any of its %d accesses", len(acc))
}

// event returns the template event of an entry, from the cache or by
// decoding its raw JSON (after a restart, or once evicted).
func (e *Engine) event(id string, raw []byte) (*hook.Event, error) {
	if ev := e.events.get(id); ev != nil {
		return ev, nil
	}
	ent, err := auditlog.DecodeEntry(raw)
	if err != nil {
		return nil, fmt.Errorf("decoding stored entry %s: %w", id, err)
	}
	ev := e.lazyEvent(ent)
	e.events.put(id, ev)
	return ev, nil
}

// lazyEvent wraps an entry for rendering; its template context is built
// the first time a template needs it, once for every subscription.
func (e *Engine) lazyEvent(ent *auditlog.Entry) *hook.Event {
	return hook.NewLazyEvent(ent.Raw, ent.Kind, func() jsonv.Value { return e.builder.Build(ent) })
}

// contextJSON renders an entry's template context for display.
func (e *Engine) contextJSON(raw []byte) ([]byte, *auditlog.Entry, error) {
	ent, err := auditlog.DecodeEntry(raw)
	if err != nil {
		return nil, nil, err
	}
	return jsonv.MarshalIndent(e.builder.Build(ent), "  "), ent, nil
}
