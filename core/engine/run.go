package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// Leadership timing for leader-only work (the LaunchDarkly poller,
// retention): renew every leaderRenew, lose the lease after leaderTTL
// without renewal, so another instance takes over within about
// leaderTTL+leaderRenew after a crash.
const (
	leaderRenew = 2 * time.Second
	leaderTTL   = 6 * time.Second
)

// AddLeaderSource registers a source that must run on one instance at a
// time among those sharing the store (the LaunchDarkly poller): it runs
// while this instance holds the leadership named after it.
func (e *Engine) AddLeaderSource(s Source) {
	e.AddSource(&ledSource{Source: s, e: e})
}

// Run starts the delivery workers, maintenance and sources, and blocks
// until ctx ends. In-flight attempts then get DrainTimeout to finish before
// they are cancelled; cancelled attempts are recorded as due again, without
// using a retry. Run closes every live feed when it returns.
func (e *Engine) Run(ctx context.Context) error {
	if !e.started.CompareAndSwap(false, true) {
		return errors.New("engine: Run called twice")
	}
	defer e.bus.close()
	e.refreshStates(ctx)
	e.refreshStats(ctx)

	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	completed := make(chan struct{})
	go func() {
		defer close(completed)
		e.runCompleter()
	}()
	var wg sync.WaitGroup
	spawn := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}

	e.subsMu.RLock()
	for _, name := range e.order {
		ent := e.subs[name]
		if !ent.cur.Load().cfg.Enabled {
			continue
		}
		spawn(func() { e.runSubscription(ctx, work, name, ent) })
	}
	e.subsMu.RUnlock()

	spawn(func() { e.watch(ctx) })
	spawn(func() { e.every(ctx, e.cfg.Delivery.Lease/3, e.rescue) })
	spawn(func() { e.every(ctx, 2*time.Second, e.refreshStats) })
	if e.cfg.Retention.Interval > 0 {
		spawn(func() {
			e.led(ctx, "retention", func(ctx context.Context) { e.every(ctx, e.cfg.Retention.Interval, e.prune) })
		})
	}
	e.sourcesMu.Lock()
	sources := append([]Source(nil), e.sources...)
	e.sourcesMu.Unlock()
	for _, s := range sources {
		spawn(func() {
			if err := s.Run(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("source stopped", "source", s.Name(), "err", err)
			}
		})
	}

	<-ctx.Done()
	// Stop claiming at once; give in-flight attempts the drain timeout.
	drained := make(chan struct{})
	go func() {
		wg.Wait()
		close(drained)
	}()
	t := time.NewTimer(e.opts.DrainTimeout)
	defer t.Stop()
	select {
	case <-drained:
	case <-t.C:
		e.log.Warn("drain timeout: cancelling in-flight deliveries; they will be retried on the next start")
		cancelWork()
		<-drained
	}
	// Every worker is done: record the last outcomes before returning.
	close(e.outcomes)
	<-completed
	e.client.Close()
	return nil
}

// every calls f now and then every d until ctx ends.
func (e *Engine) every(ctx context.Context, d time.Duration, f func(context.Context)) {
	if d <= 0 {
		d = time.Second
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watch turns store changes (also those committed by other instances) into
// worker wake-ups and live events.
func (e *Engine) watch(ctx context.Context) {
	for ch := range e.st.Watch(ctx) {
		if ch.Lost > 0 {
			// Missed changes only delay work until the poll fallback.
			e.log.Debug("store changes dropped by a slow watcher", "lost", ch.Lost)
		}
		own := ch.Instance == e.cfg.Instance
		// Our own outcomes wake nobody here: the claim loops learn of freed
		// slots directly, and of retries from afterFinish. Another
		// instance's may free a slot under a shared MaxInFlight.
		if !own || ch.Kind != store.DeliveriesChanged {
			for _, name := range ch.Subscriptions {
				e.wakeSub(name)
			}
		}
		if own {
			continue // published already, with more detail
		}
		if ch.Kind == store.SubscriptionChanged {
			e.refreshStates(ctx) // paused or disabled by another instance
		}
		if !e.bus.watched() {
			continue // nobody to show the details to
		}
		switch ch.Kind {
		case store.EntriesIngested:
			e.publishRemoteEntries(ctx, ch.IDs)
		case store.DeliveriesChanged:
			e.publishRemoteDeliveries(ctx, ch.IDs)
		case store.SubscriptionChanged:
			for _, name := range ch.Subscriptions {
				e.publishSubscription(name)
			}
		case store.ActionRecorded:
			acts, err := e.st.ListActions(ctx, e.now().Add(-time.Minute), 20)
			if err == nil {
				for i := range acts {
					for _, id := range ch.IDs {
						if id == formatID(acts[i].ID) {
							av := actionView(acts[i])
							e.bus.publish(Event{Kind: ActionRecorded, Action: &av})
						}
					}
				}
			}
		}
	}
}

func (e *Engine) publishRemoteEntries(ctx context.Context, ids []string) {
	for _, id := range ids {
		ent, err := e.st.GetEntry(ctx, id)
		if err != nil {
			continue
		}
		v := summaryView(ent.EntrySummary)
		for _, d := range ent.Deliveries {
			v.Decisions = append(v.Decisions, e.decision(d))
		}
		e.bus.publish(Event{Kind: EntryReceived, Entry: &v})
	}
}

func (e *Engine) publishRemoteDeliveries(ctx context.Context, ids []string) {
	for _, id := range ids {
		d, atts, err := e.st.GetDelivery(ctx, id)
		if err != nil {
			continue
		}
		dv := e.deliveryView(d)
		ev := Event{Kind: DeliveryUpdated, Delivery: &dv}
		if len(atts) > 0 {
			a := e.attemptView(d.Subscription, atts[len(atts)-1])
			a.Outcome = d.Reason
			ev.Attempt = &a
		}
		e.bus.publish(ev)
	}
}

// rescue makes deliveries whose lease expired due again, and fails those
// whose lease expired delivery.poison_after times in a row: their attempt
// keeps stopping the process (or hanging it), and attempting them after
// every restart would stop it again.
func (e *Engine) rescue(ctx context.Context) {
	res, err := e.st.RescueExpired(ctx, store.RescueParams{Now: e.now(), PoisonAfter: e.cfg.Delivery.PoisonAfter})
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("rescuing expired leases", "err", err)
		}
		return
	}
	if len(res.Poisoned) > 0 {
		ids := make([]string, len(res.Poisoned))
		for i, p := range res.Poisoned {
			ids[i] = p.ID
			e.metrics.failed.WithLabelValues(p.Subscription).Inc()
			e.log.Error("delivery failed as poison: the process stopped while attempting it too many times",
				"delivery", p.ID, "subscription", p.Subscription, "poison_after", e.cfg.Delivery.PoisonAfter)
		}
		e.publishRemoteDeliveries(ctx, ids)
	}
	if res.Requeued > 0 {
		e.log.Warn("deliveries whose worker was lost are due again", "count", res.Requeued)
		for _, s := range e.snapshot() {
			e.wakeSub(s.cfg.Name)
		}
	}
}

func (e *Engine) prune(ctx context.Context) {
	r := e.cfg.Retention
	res, err := e.st.Prune(ctx, store.PruneParams{Now: e.now(), MaxAge: r.MaxAge, FailedMaxAge: r.FailedMaxAge, MaxEntries: r.MaxEntries})
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("pruning history", "err", err)
		}
		return
	}
	if res.Entries+res.Deliveries+res.Attempts > 0 {
		e.log.Info("pruned delivered history", "entries", res.Entries, "deliveries", res.Deliveries, "attempts", res.Attempts)
	}
}

// refreshStates reloads paused/disabled states shared through the store.
func (e *Engine) refreshStates(ctx context.Context) {
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	states, err := e.st.SubscriptionStates(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("reading subscription states", "err", err)
		}
		return
	}
	m := make(map[string]store.SubscriptionState, len(states))
	for _, s := range states {
		m[s.Name] = s
	}
	e.statsMu.Lock()
	e.states = m
	e.statsMu.Unlock()
}

// refreshStats caches per-subscription counts for the header and metrics,
// so the console never runs count queries itself.
func (e *Engine) refreshStats(ctx context.Context) {
	stats, err := e.st.Stats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("reading delivery stats", "err", err)
		}
		return
	}
	e.statsMu.Lock()
	e.stats = stats
	e.statsMu.Unlock()
	for _, s := range stats {
		e.metrics.queue.WithLabelValues(s.Subscription).Set(float64(s.Counts[store.Pending] + s.Counts[store.InFlight]))
	}
}

// led runs f while this instance holds the named leadership.
func (e *Engine) led(ctx context.Context, name string, f func(ctx context.Context)) {
	var term *leaderTerm
	defer func() {
		term.end()
		rctx, rc := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer rc()
		_ = e.st.Resign(rctx, name, e.cfg.Instance)
	}()
	t := time.NewTicker(leaderRenew)
	defer t.Stop()
	for {
		ok, err := e.st.TryLead(ctx, store.LeadParams{Name: name, Owner: e.cfg.Instance, TTL: leaderTTL, Now: e.now()})
		if err != nil && ctx.Err() == nil {
			e.log.Error("leadership", "name", name, "err", err)
		}
		switch {
		case ok && term == nil:
			e.log.Info("leading", "name", name)
			term = startTerm(ctx, f)
		case !ok && term != nil:
			e.log.Warn("lost leadership", "name", name)
			term.end()
			term = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// leaderTerm is f running while this instance leads.
type leaderTerm struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startTerm(ctx context.Context, f func(context.Context)) *leaderTerm {
	lctx, cancel := context.WithCancel(ctx)
	t := &leaderTerm{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		f(lctx)
	}()
	return t
}

// end stops the term and waits for f to return; nil-safe.
func (t *leaderTerm) end() {
	if t == nil {
		return
	}
	t.cancel()
	<-t.done
}

// ledSource runs a source only while leading.
type ledSource struct {
	Source
	e *Engine
}

func (l *ledSource) Run(ctx context.Context) error {
	l.e.led(ctx, l.Name(), func(ctx context.Context) {
		if err := l.Source.Run(ctx); err != nil && ctx.Err() == nil {
			l.e.log.Error("source stopped", "source", l.Name(), "err", err)
		}
	})
	return nil
}

func (l *ledSource) Status() SourceStatus {
	st := l.Source.Status()
	return st
}
