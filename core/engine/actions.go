package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/auditrelay/auditrelay/core/delivery"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/store"
)

// Retry implements API.
func (e *Engine) Retry(ctx context.Context, actor, deliveryID string) error {
	d, _, err := e.st.GetDelivery(ctx, deliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delivery %s: %w", deliveryID, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if d.State != store.Failed {
		return fmt.Errorf("delivery %s is %s: %w", deliveryID, d.State, ErrNotRetryable)
	}
	n, err := e.st.Retry(ctx, store.RetryParams{DeliveryID: deliveryID, Now: e.now()})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("delivery %s: %w", deliveryID, ErrNotRetryable)
	}
	e.record(ctx, actor, "retry", deliveryID, fmt.Sprintf("subscription %s, entry %s", d.Subscription, d.EntryID))
	d.State, d.Reason, d.NextAttemptAt = store.Pending, "retried by "+actor, e.now()
	dv := e.deliveryView(d)
	e.bus.publish(Event{Kind: DeliveryUpdated, Delivery: &dv})
	e.wakeSub(d.Subscription)
	return nil
}

// RetryAll implements API.
func (e *Engine) RetryAll(ctx context.Context, actor, subscription string) (int, error) {
	if _, _, err := e.sub(subscription); err != nil {
		return 0, err
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

// Test implements API: LaunchDarkly's "validate connection".
func (e *Engine) Test(ctx context.Context, actor, subscription string) (TestResult, error) {
	_, s, err := e.sub(subscription)
	if err != nil {
		return TestResult{}, err
	}
	if s.custom {
		return TestResult{}, ErrCustomDelivery
	}
	sample, err := hook.Sample("environment")
	if err != nil {
		return TestResult{}, err
	}
	req, err := s.bound.RenderValidation(hook.NewEvent(sample, nil))
	if err != nil {
		return TestResult{}, fmt.Errorf("rendering the validation template: %w", err)
	}
	if req.Skipped == hook.SkipNoTemplate {
		// Like LaunchDarkly, fall back to what a flag change would send.
		req, err = s.bound.RenderTemplate(hook.NewEvent(sample, nil), "default")
		if err != nil || req.Skipped != "" {
			return TestResult{Request: s.requestView(req)}, ErrNoValidationTpl
		}
	}
	res := TestResult{Request: s.requestView(req)}
	if req.Skipped != "" {
		res.Error = skipReason(req.Skipped)
		return res, nil
	}
	headers := make([]delivery.Header, len(req.Headers))
	for i, h := range req.Headers {
		headers[i] = delivery.Header{Name: h.Name, Value: h.Value}
	}
	out := e.client.Send(ctx, delivery.Request{
		DeliveryID:       "test_" + DeliveryID(subscription, e.now().String()),
		Attempt:          1,
		Method:           req.Method,
		URL:              req.URL,
		Headers:          headers,
		Body:             req.Body,
		StandardWebhooks: s.sw,
		Mask:             s.masker,
	})
	res.StatusCode, res.Duration = out.StatusCode, out.Duration
	res.Body = string(out.Body)
	res.OK = out.StatusCode >= 200 && out.StatusCode < 300
	if out.Err != nil {
		res.Error = out.Err.Error()
	}
	detail := fmt.Sprintf("HTTP %d in %s", out.StatusCode, out.Duration.Round(1e6))
	if res.Error != "" {
		detail = res.Error
	}
	e.record(ctx, actor, "test", subscription, detail)
	return res, nil
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
