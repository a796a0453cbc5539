package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/delivery"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/store"
)

// Retry implements API.
func (e *Engine) Retry(ctx context.Context, actor, deliveryID string) error {
	_, err := e.retry(ctx, actor, deliveryID, true)
	return err
}

// ResumeAndRetry implements API. The retry goes first: resuming first
// would let the deliveries waiting for the subscription reach the
// endpoint, and a 410 from it disable the subscription again before the
// retry was queued.
func (e *Engine) ResumeAndRetry(ctx context.Context, actor, deliveryID string) error {
	d, err := e.retry(ctx, actor, deliveryID, false)
	if err != nil {
		return err
	}
	return e.SetPaused(ctx, actor, d.Subscription, false)
}

// retry makes a failed delivery pending, refusing (ErrHeld) while its
// subscription is paused or disabled when checkHeld is set.
func (e *Engine) retry(ctx context.Context, actor, deliveryID string, checkHeld bool) (store.Delivery, error) {
	d, _, err := e.st.GetDelivery(ctx, deliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return d, fmt.Errorf("delivery %s: %w", deliveryID, ErrNotFound)
	}
	if err != nil {
		return d, err
	}
	if d.State != store.Failed {
		return d, fmt.Errorf("delivery %s is %s: %w", deliveryID, d.State, ErrNotRetryable)
	}
	if checkHeld {
		if err := e.held(ctx, d.Subscription); err != nil {
			return d, err
		}
	}
	n, err := e.st.Retry(ctx, store.RetryParams{DeliveryID: deliveryID, Now: e.now()})
	if err != nil {
		return d, err
	}
	if n == 0 {
		return d, fmt.Errorf("delivery %s: %w", deliveryID, ErrNotRetryable)
	}
	e.record(ctx, actor, "retry", deliveryID, fmt.Sprintf("subscription %s, entry %s", d.Subscription, d.EntryID))
	d.State, d.Reason, d.NextAttemptAt = store.Pending, "retried by "+actor, e.now()
	dv := e.deliveryView(d)
	e.bus.publish(Event{Kind: DeliveryUpdated, Delivery: &dv})
	e.wakeSub(d.Subscription)
	return d, nil
}

// RetryAll implements API.
func (e *Engine) RetryAll(ctx context.Context, actor, subscription string) (int, error) {
	return e.retryAll(ctx, actor, subscription, true)
}

// ResumeAndRetryAll implements API: retries first, as ResumeAndRetry.
func (e *Engine) ResumeAndRetryAll(ctx context.Context, actor, subscription string) (int, error) {
	n, err := e.retryAll(ctx, actor, subscription, false)
	if err != nil {
		return n, err
	}
	return n, e.SetPaused(ctx, actor, subscription, false)
}

// retryAll makes every failed delivery of subscription pending, refusing
// (ErrHeld) while it is paused or disabled when checkHeld is set.
func (e *Engine) retryAll(ctx context.Context, actor, subscription string, checkHeld bool) (int, error) {
	if _, _, err := e.sub(subscription); err != nil {
		return 0, err
	}
	if checkHeld {
		if err := e.held(ctx, subscription); err != nil {
			return 0, err
		}
	}
	n, err := e.st.Retry(ctx, store.RetryParams{Subscription: subscription, States: []store.State{store.Failed}, Now: e.now()})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		e.record(ctx, actor, "retry-all", subscription, fmt.Sprintf("%d failed deliveries", n))
		e.wakeSub(subscription)
	}
	return n, nil
}

// held refuses work for a paused or disabled subscription: a retry
// would report success and leave the delivery waiting. The state is read
// from the store, as another instance may have changed it.
func (e *Engine) held(ctx context.Context, subscription string) error {
	states, err := e.st.SubscriptionStates(ctx)
	if err != nil {
		return err
	}
	for _, st := range states {
		if st.Name != subscription {
			continue
		}
		switch {
		case st.Disabled:
			return fmt.Errorf("%s is disabled (%s): resume it first, or its deliveries wait: %w", subscription, st.Reason, ErrHeld)
		case st.Paused:
			return fmt.Errorf("%s is paused (%s): resume it first, or its deliveries wait: %w", subscription, st.Reason, ErrHeld)
		}
	}
	return nil
}

// SetPaused implements API.
func (e *Engine) SetPaused(ctx context.Context, actor, subscription string, paused bool) error {
	if _, _, err := e.sub(subscription); err != nil {
		return err
	}
	st := store.SubscriptionState{Name: subscription, Paused: paused, UpdatedBy: actor, UpdatedAt: e.now()}
	kind := "resume"
	if paused {
		kind = "pause"
		st.Reason = "paused by " + actor
	}
	if err := e.st.SetSubscriptionState(ctx, st); err != nil {
		return err
	}
	e.refreshStates(ctx)
	e.record(ctx, actor, kind, subscription, "")
	e.publishSubscription(subscription)
	e.wakeSub(subscription)
	return nil
}

// record stores an operator action and shows it to every console.
func (e *Engine) record(ctx context.Context, actor, kind, target, detail string) {
	a, err := e.st.RecordAction(ctx, store.Action{At: e.now(), Actor: actor, Kind: kind, Target: target, Detail: detail})
	if err != nil {
		e.log.Error("recording operator action", "actor", actor, "action", kind, "err", err)
		return
	}
	e.log.Info("operator action", "actor", actor, "action", kind, "target", target)
	av := actionView(a)
	e.bus.publish(Event{Kind: ActionRecorded, Action: &av})
}

// Test implements API: LaunchDarkly's "validate connection", for every
// kind of integration.
func (e *Engine) Test(ctx context.Context, actor string, p TestParams) (TestResult, error) {
	_, s, err := e.sub(p.Subscription)
	if err != nil {
		return TestResult{}, err
	}
	req, what, err := e.testRequest(ctx, s, p)
	if err != nil {
		return TestResult{}, err
	}
	res := TestResult{What: what, Request: s.requestView(req)}
	switch {
	case s.custom || req.Custom:
		res.Outcome = "not sent: deliveryMethod custom: LaunchDarkly delivers this integration through its own sink; auditrelay renders it (below) but has no HTTP endpoint to send it to"
	case req.Skipped != "":
		res.Outcome = "not sent: " + strings.TrimPrefix(skipReason(req.Skipped), "skipped: ")
	}
	if res.Outcome != "" {
		res.Error = res.Outcome
		e.record(ctx, actor, "test", p.Subscription, res.Outcome)
		return res, nil
	}
	headers := make([]delivery.Header, len(req.Headers))
	for i, h := range req.Headers {
		headers[i] = delivery.Header{Name: h.Name, Value: h.Value}
	}
	started := e.now()
	out := e.client.Send(ctx, delivery.Request{
		DeliveryID:       "test_" + DeliveryID(p.Subscription, started.String()),
		Attempt:          1,
		Method:           req.Method,
		URL:              req.URL,
		Headers:          headers,
		Body:             req.Body,
		StandardWebhooks: s.sw,
		Mask:             s.masker,
	})
	if out.RequestDigest != "" {
		// Shown as an attempt's stored request is, without storing it.
		sent := s.sentRequest(req, out.AddedHeaders)
		sent.Body, sent.BodyEncoding = s.masker.Bytes(req.Body), store.BodyPlain
		res.Sent = sentView(store.Attempt{StartedAt: started, URL: s.masker.URL(req.URL, req.URLSecret),
			Template: req.Template, TemplateHash: req.TemplateHash, Request: sent}, s.masker)
	}
	res.StatusCode, res.Duration = out.StatusCode, out.Duration
	res.Body = string(out.Body)
	res.OK = out.StatusCode >= 200 && out.StatusCode < 300
	if out.Err != nil {
		res.Error = out.Err.Error()
	}
	switch {
	case out.StatusCode != 0:
		res.Outcome = fmt.Sprintf("endpoint answered %s in %s", statusText(out.StatusCode), out.Duration.Round(time.Millisecond))
	case out.ErrorClass == delivery.ClassInvalid || out.ErrorClass == delivery.ClassTarget || out.ErrorClass == delivery.ClassBodyTooLarge:
		res.Outcome = "not sent: " + res.Error
	default:
		res.Outcome = "no answer: " + res.Error
	}
	e.record(ctx, actor, "test", p.Subscription, what+": "+res.Outcome)
	return res, nil
}

// statusText is "503 Service Unavailable", or the number alone.
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

// testRequest renders what a connection test sends, and says what it is.
func (e *Engine) testRequest(ctx context.Context, s *subscription, p TestParams) (*hook.Request, string, error) {
	var ev *hook.Event
	var what string
	switch {
	case p.EntryID != "":
		ent, err := e.st.GetEntry(ctx, p.EntryID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", fmt.Errorf("entry %s: %w", p.EntryID, ErrNotFound)
		}
		if err != nil {
			return nil, "", err
		}
		if ev, err = e.event(ent.ID, ent.Raw); err != nil {
			return nil, "", err
		}
		what = "entry " + p.EntryID
	case len(p.Raw) > 0:
		ent, err := auditlog.DecodeEntry(p.Raw)
		if err != nil {
			return nil, "", fmt.Errorf("the entry to test with: %w", err)
		}
		ev, what = e.lazyEvent(ent), "entry "+ent.ID
	default:
		// The validation template, when the integration has one and sends
		// templates at all.
		if h := s.hook.Source().Hook(); h != nil && !h.UseStandardWebhookPayload {
			sample, err := hook.Sample("environment")
			if err != nil {
				return nil, "", err
			}
			req, err := s.bound.RenderValidation(hook.NewEvent(sample, nil))
			if err != nil {
				return nil, "", fmt.Errorf("rendering the validation template: %w", err)
			}
			if req.Skipped != hook.SkipNoTemplate {
				return req, "validation template", nil
			}
		}
		ent, err := auditlog.DecodeEntry([]byte(sampleFlagToggle))
		if err != nil {
			return nil, "", fmt.Errorf("the sample entry: %w", err)
		}
		ev, what = e.lazyEvent(ent), "sample flag-toggle entry"
	}
	req, err := s.bound.Render(ev)
	if err != nil {
		return nil, "", fmt.Errorf("rendering %s: %w", what, err)
	}
	return req, what, nil
}

// SetGeneratorRate implements API.
func (e *Engine) SetGeneratorRate(rate float64) error {
	e.sourcesMu.Lock()
	g := e.generator
	e.sourcesMu.Unlock()
	if g == nil {
		return ErrNoGenerator
	}
	if rate < 0 {
		rate = 0
	}
	g.SetRate(rate)
	return nil
}
