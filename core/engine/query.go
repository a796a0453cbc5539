package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/auditrelay/auditrelay/core/policy"
	"github.com/auditrelay/auditrelay/core/store"
)

var _ API = (*Engine)(nil)

// Subscribe implements API.
func (e *Engine) Subscribe(ctx context.Context, buffer int) *Feed {
	return e.bus.subscribe(ctx, buffer)
}

// Subscriptions implements API.
func (e *Engine) Subscriptions() []SubscriptionInfo {
	subs := e.snapshot()
	e.statsMu.Lock()
	states := e.states
	counts := make(map[string]store.SubscriptionStats, len(e.stats))
	for _, s := range e.stats {
		counts[s.Subscription] = s
	}
	e.statsMu.Unlock()
	out := make([]SubscriptionInfo, 0, len(subs))
	for _, s := range subs {
		info := e.info(s, states[s.cfg.Name], counts[s.cfg.Name])
		if ent, _, err := e.sub(s.cfg.Name); err == nil {
			ent.lastMu.Lock()
			info.LastAttemptAt, info.LastStatus, info.LastError = ent.last.at, ent.last.status, s.masker.Text(ent.last.err)
			ent.lastMu.Unlock()
			if ns := ent.nextDue.Load(); ns > 0 && info.Counts[Pending] > 0 {
				info.NextRetryAt = time.Unix(0, ns)
			}
		}
		out = append(out, info)
	}
	return out
}

func (e *Engine) info(s *subscription, st store.SubscriptionState, stats store.SubscriptionStats) SubscriptionInfo {
	info := SubscriptionInfo{
		Name:            s.cfg.Name,
		Integration:     s.source.Name,
		IntegrationName: s.source.Manifest.Name,
		Enabled:         s.cfg.Enabled,
		Paused:          st.Paused,
		Disabled:        st.Disabled,
		Reason:          s.masker.Text(st.Reason),
		UpdatedBy:       st.UpdatedBy,
		UpdatedAt:       st.UpdatedAt,
		CustomDelivery:  s.custom,
		PolicyNote:      s.policyNote,
		Concurrency:     s.cfg.Concurrency,
		Rate:            s.cfg.Rate,
		Counts:          map[State]int{},
	}
	if !s.cfg.Enabled {
		info.Reason = "disabled in the config file (enabled: false)"
	}
	for k, v := range stats.Counts {
		info.Counts[State(k)] = v
	}
	info.InFlight = stats.Counts[store.InFlight]
	return info
}

func (e *Engine) publishSubscription(name string) {
	for _, info := range e.Subscriptions() {
		if info.Name == name {
			info := info
			e.bus.publish(Event{Kind: SubscriptionUpdated, Subscription: &info})
			return
		}
	}
}

// Stats implements API.
func (e *Engine) Stats() Stats {
	now := e.now()
	st := Stats{Now: now, Instance: e.cfg.Instance}
	e.rates.snapshot(now, 120, &st)
	e.statsMu.Lock()
	for _, s := range e.stats {
		st.QueueDepth += s.Counts[store.Pending] + s.Counts[store.InFlight]
		st.Failed += s.Counts[store.Failed]
	}
	e.statsMu.Unlock()
	e.sourcesMu.Lock()
	for _, s := range e.sources {
		st.Sources = append(st.Sources, s.Status())
	}
	for _, f := range e.statusFns {
		st.Sources = append(st.Sources, f())
	}
	e.sourcesMu.Unlock()
	return st
}

// Entries implements API.
func (e *Engine) Entries(ctx context.Context, q EntryQuery) ([]EntryView, error) {
	f := store.EntryFilter{Before: q.Before, BeforeID: q.BeforeID, Kind: q.Kind, Limit: q.Limit,
		Since: q.Since, Until: q.Until, Kinds: q.Kinds, Projects: q.Projects, Environments: q.Environments,
		Members: q.Members, Text: q.Text, Subscriptions: q.Subscriptions}
	for _, st := range q.States {
		f.States = append(f.States, store.State(st))
	}
	for _, c := range q.Codes {
		f.Codes = append(f.Codes, store.CodeRange{Min: c.Min, Max: c.Max})
	}
	sums, err := e.st.ListEntries(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]EntryView, len(sums))
	for i, s := range sums {
		out[i] = summaryView(s)
	}
	if len(out) == 0 {
		return out, nil
	}
	// Decisions of the listed entries, so that the console can show and
	// filter by them: one query per page of entries, not one per row.
	const perEntry = 64 // decisions kept per entry (one per subscription)
	at := make(map[string]int, len(out))
	for start := 0; start < len(out); start += store.MaxListIDs {
		ids := make([]string, 0, min(len(out)-start, store.MaxListIDs))
		for i := start; i < min(start+store.MaxListIDs, len(out)); i++ {
			ids = append(ids, out[i].ID)
			at[out[i].ID] = i
		}
		ds, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{EntryIDs: ids, Limit: len(ids) * perEntry})
		if err != nil {
			return nil, err
		}
		sort.Slice(ds, func(a, b int) bool { return ds[a].Subscription < ds[b].Subscription })
		for _, d := range ds {
			if i, ok := at[d.EntryID]; ok && len(out[i].Decisions) < perEntry {
				out[i].Decisions = append(out[i].Decisions, e.decision(d))
			}
		}
	}
	return out, nil
}

// Entry implements API.
func (e *Engine) Entry(ctx context.Context, id string) (EntryDetail, error) {
	ent, err := e.st.GetEntry(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return EntryDetail{}, fmt.Errorf("entry %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return EntryDetail{}, err
	}
	d := EntryDetail{EntryView: summaryView(ent.EntrySummary), Raw: ent.Raw}
	byName := map[string]store.Delivery{}
	for _, dl := range ent.Deliveries {
		byName[dl.Subscription] = dl
		d.Decisions = append(d.Decisions, e.decision(dl))
	}
	ctxJSON, parsed, err := e.contextJSON(ent.Raw)
	if err != nil {
		return d, fmt.Errorf("entry %s: %w", id, err)
	}
	d.Context = ctxJSON
	accesses := make([]policy.Access, len(parsed.Accesses))
	for i, a := range parsed.Accesses {
		accesses[i] = policy.NewAccess(a.Action, a.Resource)
	}
	for _, s := range e.snapshot() {
		ex := s.policy.Explain(accesses)
		x := Explanation{Subscription: s.cfg.Name, Sent: ex.Sent, Summary: ex.Summary, Text: ex.Text(), PolicyNote: s.policyNote}
		stored, ok := byName[s.cfg.Name]
		switch {
		case !ok && !s.cfg.Enabled:
			x.PolicyNote = "subscription disabled in the config file: no delivery was made"
		case !ok:
			x.PolicyNote = "the subscription did not exist when the entry arrived"
		case (stored.State != store.Filtered) != ex.Sent:
			x.PolicyNote = "the policy changed since the entry arrived; the stored decision was: " + stored.Reason
		}
		d.Explanation = append(d.Explanation, x)
	}
	return d, nil
}

// Deliveries implements API.
func (e *Engine) Deliveries(ctx context.Context, q DeliveryQuery) ([]DeliveryView, error) {
	var states []store.State
	for _, st := range q.States {
		states = append(states, store.State(st))
	}
	ds, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{Subscription: q.Subscription, EntryID: q.EntryID, States: states, Before: q.Before, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]DeliveryView, len(ds))
	for i, d := range ds {
		out[i] = e.deliveryView(d)
	}
	return out, nil
}

// Delivery implements API.
func (e *Engine) Delivery(ctx context.Context, id string) (DeliveryDetail, error) {
	d, atts, err := e.st.GetDelivery(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return DeliveryDetail{}, fmt.Errorf("delivery %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return DeliveryDetail{}, err
	}
	out := DeliveryDetail{DeliveryView: e.deliveryView(d)}
	for _, a := range atts {
		out.Attempts = append(out.Attempts, e.attemptView(d.Subscription, a))
	}
	_, s, err := e.sub(d.Subscription)
	if err != nil {
		out.Request.Note = "the subscription is no longer configured"
		return out, nil
	}
	ent, err := e.st.GetEntry(ctx, d.EntryID)
	if err != nil {
		out.Request.Note = "the entry is no longer stored"
		return out, nil
	}
	out.EntryListItem = ent.ListItem
	ev, err := e.event(ent.ID, ent.Raw)
	if err != nil {
		out.Request.Note = err.Error()
		return out, nil
	}
	req, err := s.bound.Render(ev)
	if err != nil {
		out.Request.Note = "rendering with the current templates fails: " + err.Error()
		return out, nil
	}
	out.Request = s.requestView(req)
	out.Request.Note = joinNote(out.Request.Note, "rendered now with the subscription's current templates and form values")
	if req.Skipped == "" && !req.Custom {
		for i := range out.Attempts {
			if sent := out.Attempts[i].Sent; sent != nil && sent.BodyError == "" {
				sent.Diff = sentDiff(sent, out.Request, s.varsHash)
			}
		}
	}
	return out, nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Actions implements API.
func (e *Engine) Actions(ctx context.Context, since time.Time, limit int) ([]Action, error) {
	acts, err := e.st.ListActions(ctx, since, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Action, len(acts))
	for i, a := range acts {
		out[i] = actionView(a)
	}
	return out, nil
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }
