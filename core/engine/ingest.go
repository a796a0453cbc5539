package engine

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
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
func DeliveryID(subscription, entryID string) string {
	h := sha256.Sum256([]byte(subscription + "\x00" + entryID))
	return "dlv_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:15]))
}

// decoded is an entry read and decided, ready to store.
type decoded struct {
	entry    *auditlog.Entry
	event    *hook.Event
	new      store.NewEntry
	accesses []policy.Access
}

// Ingest implements source.Ingester: it decodes each item, decides every
// subscription's policy, and stores the entries with their deliveries in
// one commit. Invalid items are rejected with the reason; nothing is
// acknowledged before the commit.
func (e *Engine) Ingest(ctx context.Context, items []source.Item, cursor *store.Cursor) ([]source.Result, error) {
	results := make([]source.Result, len(items))
	now := e.now()
	subs := e.snapshot()
	batch := make([]store.NewEntry, 0, len(items))
	decodedAt := make([]int, 0, len(items)) // batch index → item index
	events := make([]*decoded, 0, len(items))
	for i, it := range items {
		if it.Err != nil {
			results[i].Err = it.Err
			e.metrics.rejected.WithLabelValues(it.Source).Inc()
			continue
		}
		ent, err := auditlog.DecodeEntry(it.Raw)
		if err != nil {
			results[i].Err = err
			e.metrics.rejected.WithLabelValues(it.Source).Inc()
			continue
		}
		results[i].ID = ent.ID
		d := e.decide(ent, it.Source, now, subs)
		batch = append(batch, d.new)
		decodedAt = append(decodedAt, i)
		events = append(events, d)
	}
	if len(batch) == 0 && cursor == nil {
		return results, nil
	}
	res, err := e.st.Ingest(ctx, batch, cursor)
	if err != nil {
		return nil, fmt.Errorf("storing entries: %w", err)
	}
	woken := map[string]bool{}
	for j, r := range res {
		i := decodedAt[j]
		results[i].Duplicate = r.Duplicate
		src := items[i].Source
		if r.Duplicate {
			e.metrics.duplicates.WithLabelValues(src).Inc()
			continue
		}
		d := events[j]
		e.metrics.received.WithLabelValues(src).Inc()
		e.events.put(d.new.ID, d.event)
		view := entryView(d.new.EntrySummary, d.new.Deliveries)
		for _, nd := range d.new.Deliveries {
			switch nd.State {
			case store.Filtered:
				e.metrics.filtered.WithLabelValues(nd.Subscription).Inc()
			case store.Pending:
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
