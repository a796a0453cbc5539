package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/auditrelay/auditrelay/core/delivery"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/render"
	"github.com/auditrelay/auditrelay/core/store"
)

// pollFallback bounds how long an idle worker sleeps without being woken:
// wake-ups are an optimisation, and this keeps correctness if one is lost
// (or another instance sharing the store queued work).
const pollFallback = time.Second

// runSubscription claims and attempts one subscription's due deliveries,
// at most Concurrency at a time, until ctx ends. Attempts run under work,
// which outlives ctx by the drain timeout so that in-flight requests can
// finish during a graceful shutdown.
func (e *Engine) runSubscription(ctx, work context.Context, name string, ent *subEntry) {
	sl := ent.slots
	sl.start(work)
	defer sl.stop()
	for {
		s := ent.cur.Load()
		sleep := pollFallback
		if free := sl.reserve(s.cfg.Concurrency, s.cfg.Concurrency); free > 0 {
			res, err := e.st.Claim(ctx, store.ClaimParams{
				Subscription: name,
				Owner:        e.cfg.Instance,
				Limit:        free,
				// Deliveries whose outcome waits in the completer are
				// still in flight for the store but no longer for us.
				MaxInFlight: s.cfg.Concurrency + int(ent.finishing.Load()),
				Rate:        s.cfg.Rate,
				Burst:       s.cfg.Burst,
				Lease:       e.cfg.Delivery.Lease,
				Now:         e.now(),
			})
			sl.release(free - len(res.Claimed))
			switch {
			case err != nil && ctx.Err() != nil:
				return
			case err != nil:
				e.log.Error("claiming deliveries", "subscription", name, "err", err)
			default:
				for _, c := range res.Claimed {
					e.startAttempt(sl, name, c)
				}
				ent.nextDue.Store(0)
				if !res.NextDue.IsZero() {
					ent.nextDue.Store(res.NextDue.UnixNano())
				}
				if len(res.Claimed) == free {
					continue // maybe more is due; claim again at once
				}
				if !res.NextDue.IsZero() {
					if d := res.NextDue.Sub(e.now()); d < sleep {
						sleep = max(d, 5*time.Millisecond)
					}
				}
				if res.Throttled {
					sleep = min(sleep, 50*time.Millisecond)
				}
			}
		}
		t := time.NewTimer(sleep)
	wait:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-ent.wake:
				break wait
			case <-t.C:
				break wait
			case <-sl.freed:
				// A freed slot matters only to deliveries due and waiting
				// for one; most entries take their slot at ingest.
				if due := ent.nextDue.Load(); due != 0 && due <= e.now().UnixNano() {
					break wait
				}
			}
		}
		t.Stop()
	}
}

// startAttempt runs the attempt of c on a slot reserved for it.
func (e *Engine) startAttempt(sl *slots, name string, c store.Claimed) {
	sl.run(func(work context.Context) {
		defer func() {
			if r := recover(); r != nil {
				e.log.Error("delivery attempt panicked; the lease will expire and the delivery be retried", "subscription", name, "delivery", c.ID, "panic", r)
			}
		}()
		e.attempt(work, name, c)
	})
}

// attempt renders and sends one claimed delivery and records the outcome.
func (e *Engine) attempt(ctx context.Context, name string, c store.Claimed) {
	_, s, err := e.sub(name)
	if err != nil {
		return // the subscription went away; the lease expires
	}
	started := e.now()
	out := store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: e.cfg.Instance, Attempt: c.Attempts}
	rec := &store.Attempt{
		DeliveryID: c.ID,
		Number:     c.Attempts,
		Instance:   e.cfg.Instance,
		Trigger:    "auto",
		StartedAt:  started,
	}
	if c.Step == 0 && c.Attempts > 1 {
		// An operator's retry resets the schedule; automatic retries
		// always advance it.
		rec.Trigger = "manual"
	}
	ev, err := e.event(c.EntryID, c.EntryRaw)
	var req *hook.Request
	if err == nil {
		req, err = s.bound.Render(ev)
	}
	switch {
	case errors.Is(err, render.ErrBudget):
		// The same template and entry would stop at the same place again:
		// fail now, with where and why.
		rec.ErrorClass, rec.Error = "render", err.Error()
		out.State, out.Record = store.Failed, rec
		out.Reason = "render failed, not retried: " + err.Error() +
			"; fix the template, or raise the subscription's render.max_output or render.max_steps (default delivery.render), then retry"
	case err != nil:
		// A template that fails to render does not fix itself: fail now,
		// so the operator can fix it and retry.
		rec.ErrorClass, rec.Error = "render", err.Error()
		out.State, out.Reason, out.Record = store.Failed, "render failed: "+err.Error(), rec
	case req.Custom:
		out.State, out.Reason = store.Skipped, "deliveryMethod custom: needs a custom sink, not sent over HTTP"
	case req.Skipped != "":
		out.State, out.Reason = store.Skipped, skipReason(req.Skipped)
	default:
		e.send(ctx, s, c, req, rec, &out)
	}
	e.complete(name, c, out)
}

func skipReason(code string) string {
	switch code {
	case hook.SkipNoTemplate:
		return "skipped: the integration has no template for this kind and no default"
	case hook.SkipEmptyBody:
		return "skipped: the template rendered an empty body"
	case hook.SkipNoRawEntry:
		return "skipped: no raw entry to send as the standard payload"
	case hook.SkipNoEndpoint:
		return "skipped: the integration's auditLogEventsHook has no endpoint to send to"
	}
	return "skipped: " + code
}

// send makes the HTTP request and turns the answer into an outcome.
func (e *Engine) send(ctx context.Context, s *subscription, c store.Claimed, req *hook.Request, rec *store.Attempt, out *store.Outcome) {
	headers := make([]delivery.Header, len(req.Headers))
	for i, h := range req.Headers {
		headers[i] = delivery.Header{Name: h.Name, Value: h.Value}
	}
	rec.URL = s.masker.URL(req.URL, req.URLSecret)
	rec.Template, rec.TemplateHash = req.Template, req.TemplateHash
	res := e.client.Send(ctx, delivery.Request{
		DeliveryID:       c.ID,
		Attempt:          c.Attempts,
		Method:           req.Method,
		URL:              req.URL,
		Headers:          headers,
		Body:             req.Body,
		StandardWebhooks: s.sw,
		Mask:             s.masker,
	})
	rec.Duration = res.Duration
	rec.StatusCode = res.StatusCode
	rec.ErrorClass = string(res.ErrorClass)
	rec.RequestDigest = res.RequestDigest
	if res.RequestDigest != "" {
		// The client built the request (it may still have failed to
		// connect): keep what it sent, or would have.
		rec.Request = s.sentRequest(req, res.AddedHeaders)
	}
	if res.Err != nil {
		rec.Error = res.Err.Error()
	}
	for _, h := range res.Headers {
		rec.ResponseHeaders = append(rec.ResponseHeaders, store.Header{Name: h.Name, Value: h.Value})
	}
	if len(res.Body) > 0 && (s.errorBody || res.StatusCode >= 300 || res.StatusCode == 0) {
		// The manifest decides whether error bodies reach LaunchDarkly's
		// UI; here they stay on the operator's machine, so keep them for
		// failures always, capped by the client.
		rec.ResponseBody = res.Body
	}
	v := s.schedule.Decide(c.Step, res, e.now(), e.rnd)
	out.Record = rec
	out.Reason = v.Reason
	out.Step = v.Step
	switch v.Outcome {
	case delivery.Delivered:
		out.State = store.Delivered
	case delivery.Retry:
		out.State, out.NextAttemptAt = store.Pending, v.NextAttemptAt
	case delivery.Disable:
		out.State = store.Failed
		out.DisableSubscription = fmt.Sprintf("%d %s from %s at %s", res.StatusCode, http.StatusText(res.StatusCode), rec.URL, e.now().UTC().Format(time.RFC3339))
	default:
		out.State = store.Failed
	}
	if errors.Is(ctx.Err(), context.Canceled) && out.State == store.Pending {
		out.Reason = "interrupted by shutdown; retried on next start"
	}
}

// afterFinish updates metrics and the live feed once an outcome is
// committed.
func (e *Engine) afterFinish(ctx context.Context, name string, c store.Claimed, out store.Outcome) {
	now := e.now()
	switch out.State {
	case store.Delivered:
		e.metrics.delivered.WithLabelValues(name).Inc()
	case store.Failed:
		e.metrics.failed.WithLabelValues(name).Inc()
	case store.Pending:
		e.metrics.retried.WithLabelValues(name).Inc()
		// The claim loop learns when the retry is due from its next claim.
		e.wakeSub(name)
	case store.Skipped:
		e.metrics.skipped.WithLabelValues(name).Inc()
	}
	var av *AttemptView
	if out.Record != nil {
		if ent, _, err := e.sub(name); err == nil {
			ent.lastMu.Lock()
			if out.Record.StartedAt.After(ent.last.at) {
				ent.last = lastAttempt{at: out.Record.StartedAt, status: out.Record.StatusCode, err: out.Record.Error}
			}
			ent.lastMu.Unlock()
		}
		if out.Record.StatusCode != 0 {
			e.metrics.latency.WithLabelValues(name).Observe(out.Record.Duration.Seconds())
		}
		e.rates.attempt(now, out.Record.Duration, out.State == store.Delivered)
		rec := *out.Record
		// The live feed tells that an attempt happened; the request it
		// sent (stored compressed) is read with the delivery's details.
		rec.Request = nil
		a := e.attemptView(name, rec)
		a.Outcome = out.Reason
		av = &a
	}
	d := c.Delivery
	d.State, d.Reason, d.Step = out.State, out.Reason, out.Step
	d.NextAttemptAt, d.UpdatedAt = out.NextAttemptAt, now
	d.LeaseOwner = ""
	if out.Record != nil {
		d.LastStatus, d.LastError, d.LastLatency, d.LastAttemptAt = out.Record.StatusCode, out.Record.Error, out.Record.Duration, out.Record.StartedAt
	}
	dv := e.deliveryView(d)
	e.bus.publish(Event{Kind: DeliveryUpdated, Delivery: &dv, Attempt: av})
	if out.DisableSubscription != "" {
		e.log.Warn("subscription disabled by its endpoint", "subscription", name, "reason", out.DisableSubscription)
		e.refreshStates(ctx)
		e.publishSubscription(name)
	}
}
