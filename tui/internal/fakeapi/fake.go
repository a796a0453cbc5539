// Package fakeapi is an in-memory api.API for the console's tests and
// benchmarks. It keeps the engine's contract (copies out, errors by
// errors.Is, a feed that drops rather than blocks) but does no I/O: a retry
// is "attempted" at once with the status RetryStatus decides.
package fakeapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// API is the fake engine.
type API struct {
	mu       sync.Mutex
	now      func() time.Time
	seq      uint64
	subs     []api.SubscriptionInfo
	entries  []api.EntryDetail // oldest first
	entryIdx map[string]int
	dels     map[string]*api.DeliveryDetail
	forms    map[string]*formState
	tpls     map[string][]api.TemplateInfo
	actions  []api.Action
	feeds    map[*feedState]struct{}
	gen      *float64
	stats    api.Stats
	calls    []string
	undo     map[string]fakeUndo // subscription → what its last save changed

	// RetryStatus is the HTTP status a retried delivery's attempt gets;
	// nil means 200. Set it before use.
	RetryStatus func(deliveryID string) int
}

type formState struct {
	form    api.Form
	secrets map[string]string // key → real value
}

type feedState struct {
	c       chan api.Event
	dropped atomic.Uint64
}

var _ api.API = (*API)(nil)

// New returns an empty fake whose clock is now (time.Now when nil).
func New(now func() time.Time) *API {
	if now == nil {
		now = time.Now
	}
	return &API{
		now:      now,
		entryIdx: map[string]int{},
		dels:     map[string]*api.DeliveryDetail{},
		forms:    map[string]*formState{},
		tpls:     map[string][]api.TemplateInfo{},
		feeds:    map[*feedState]struct{}{},
	}
}

// Calls lists the mutating calls made so far ("Retry dlv_1", ...), for
// tests that check the console called the engine and with what.
func (a *API) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// Feeds is the number of live feeds, so tests can wait for a subscriber.
func (a *API) Feeds() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.feeds)
}

// EnableGenerator makes SetGeneratorRate work, starting at rate.
func (a *API) EnableGenerator(rate float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen = &rate
}

// GeneratorRate returns the demo rate, or -1 without a generator.
func (a *API) GeneratorRate() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen == nil {
		return -1
	}
	return *a.gen
}

// SetStats replaces what Stats returns.
func (a *API) SetStats(s api.Stats) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats = s
}

// AddSubscription registers a subscription with its form and templates.
func (a *API) AddSubscription(s api.SubscriptionInfo, form api.Form, secrets map[string]string, tpls []api.TemplateInfo) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.Counts == nil {
		s.Counts = map[api.State]int{}
	}
	a.subs = append(a.subs, s)
	form.Subscription = s.Name
	a.forms[s.Name] = &formState{form: form, secrets: maps.Clone(secrets)}
	for i := range tpls {
		tpls[i].Hash = hash(tpls[i].Source)
	}
	a.tpls[s.Name] = tpls
}

// Ingest stores an entry and one delivery per decision (Sent decisions get
// the given state, others Filtered), then publishes it.
func (a *API) Ingest(e api.EntryView, raw string, explain map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = now
	}
	var exps []api.Explanation
	for i := range e.Decisions {
		d := &e.Decisions[i]
		if !d.Sent {
			d.State = api.Filtered
		}
		if d.DeliveryID == "" {
			d.DeliveryID = "dlv_" + e.ID + "_" + d.Subscription
		}
		dv := api.DeliveryView{
			ID: d.DeliveryID, EntryID: e.ID, Subscription: d.Subscription, State: d.State,
			Reason: d.Summary, UpdatedAt: e.ReceivedAt, EntryDate: e.Date, EntryKind: e.Kind, EntryTitle: e.Title,
		}
		a.dels[dv.ID] = &api.DeliveryDetail{DeliveryView: dv, Request: a.request(d.Subscription, e), EntryListItem: e.ListItem}
		if s := a.sub(d.Subscription); s != nil {
			s.Counts[d.State]++
		}
		exps = append(exps, api.Explanation{Subscription: d.Subscription, Sent: d.Sent, Summary: d.Summary, Text: explain[d.Subscription]})
	}
	if raw == "" {
		b, _ := json.MarshalIndent(map[string]any{"_id": e.ID, "kind": e.Kind, "title": e.Title}, "", "  ")
		raw = string(b)
	}
	a.entryIdx[e.ID] = len(a.entries)
	a.entries = append(a.entries, api.EntryDetail{
		EntryView: e, Raw: []byte(raw), Context: []byte(raw), Explanation: exps,
	})
	ev := e
	ev.Decisions = slices.Clone(e.Decisions)
	a.publish(api.Event{Kind: api.EntryReceived, Entry: &ev})
}

// Attempt records a finished attempt on a delivery with status (0 = no
// response, errText set) and publishes the update: 2xx delivers, anything
// else fails.
func (a *API) Attempt(deliveryID string, status int, latency time.Duration, errText string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.attempt(deliveryID, status, latency, errText, "auto")
}

// Publish sends ev to every feed as the engine would.
func (a *API) Publish(ev api.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.publish(ev)
}

// RecordAction records an operator action as if another console did it.
func (a *API) RecordAction(actor, kind, target, detail string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.record(actor, kind, target, detail)
}

// --- api.API ---

// Subscribe implements api.API.
func (a *API) Subscribe(ctx context.Context, buffer int) *api.Feed {
	f := &feedState{c: make(chan api.Event, max(buffer, 1))}
	a.mu.Lock()
	a.feeds[f] = struct{}{}
	a.mu.Unlock()
	context.AfterFunc(ctx, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if _, ok := a.feeds[f]; ok {
			delete(a.feeds, f)
			close(f.c)
		}
	})
	return api.NewFeed(f.c, f.dropped.Load)
}

// Close ends every feed, as an engine stopping does.
func (a *API) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for f := range a.feeds {
		delete(a.feeds, f)
		close(f.c)
	}
}

// Subscriptions implements api.API.
func (a *API) Subscriptions() []api.SubscriptionInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]api.SubscriptionInfo, len(a.subs))
	for i, s := range a.subs {
		s.Counts = maps.Clone(s.Counts)
		out[i] = s
	}
	return out
}

// Stats implements api.API.
func (a *API) Stats() api.Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.Now = a.now()
	s.Failed, s.QueueDepth = 0, 0
	for _, d := range a.dels {
		switch d.State {
		case api.Failed:
			s.Failed++
		case api.Pending, api.InFlight:
			s.QueueDepth++
		}
	}
	s.EntriesPerSec = slices.Clone(s.EntriesPerSec)
	s.DeliveriesPerSec = slices.Clone(s.DeliveriesPerSec)
	s.FailuresPerSec = slices.Clone(s.FailuresPerSec)
	s.Sources = slices.Clone(s.Sources)
	// The fake's current rates are its series' last points unless set.
	if s.RateWindow == 0 {
		s.EntriesRate, s.DeliveriesRate, s.FailuresRate = lastPoint(s.EntriesPerSec), lastPoint(s.DeliveriesPerSec), lastPoint(s.FailuresPerSec)
	}
	return s
}

func lastPoint(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

// Entries implements api.API.
func (a *API) Entries(ctx context.Context, q api.EntryQuery) ([]api.EntryView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []api.EntryView
	for i := len(a.entries) - 1; i >= 0 && len(out) < limit; i-- {
		e := a.entries[i].EntryView
		if (!q.Before.IsZero() && !e.ReceivedAt.Before(q.Before)) || (q.Kind != "" && e.Kind != q.Kind) {
			continue
		}
		e.Decisions = slices.Clone(e.Decisions)
		out = append(out, e)
	}
	return out, ctx.Err()
}

// Entry implements api.API.
func (a *API) Entry(ctx context.Context, id string) (api.EntryDetail, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i, ok := a.entryIdx[id]
	if !ok {
		return api.EntryDetail{}, fmt.Errorf("entry %s: %w", id, api.ErrNotFound)
	}
	d := a.entries[i]
	d.Decisions = slices.Clone(d.Decisions)
	d.Explanation = slices.Clone(d.Explanation)
	return d, ctx.Err()
}

// Deliveries implements api.API.
func (a *API) Deliveries(ctx context.Context, q api.DeliveryQuery) ([]api.DeliveryView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []api.DeliveryView
	for _, d := range a.dels {
		if (q.Subscription != "" && d.Subscription != q.Subscription) || (q.EntryID != "" && d.EntryID != q.EntryID) ||
			(len(q.States) > 0 && !slices.Contains(q.States, d.State)) || (!q.Before.IsZero() && !d.UpdatedAt.Before(q.Before)) {
			continue
		}
		out = append(out, d.DeliveryView)
	}
	slices.SortFunc(out, func(x, y api.DeliveryView) int {
		if c := y.UpdatedAt.Compare(x.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, ctx.Err()
}

// Delivery implements api.API.
func (a *API) Delivery(ctx context.Context, id string) (api.DeliveryDetail, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d, ok := a.dels[id]
	if !ok {
		return api.DeliveryDetail{}, fmt.Errorf("delivery %s: %w", id, api.ErrNotFound)
	}
	out := *d
	out.Attempts = slices.Clone(d.Attempts)
	return out, ctx.Err()
}

// Retry implements api.API.
func (a *API) Retry(ctx context.Context, actor, deliveryID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "Retry "+deliveryID)
	return a.retry(actor, deliveryID, true)
}

// ResumeAndRetry implements api.API.
func (a *API) ResumeAndRetry(ctx context.Context, actor, deliveryID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "ResumeAndRetry "+deliveryID)
	if err := a.retry(actor, deliveryID, false); err != nil {
		return err
	}
	return a.setPaused(actor, a.dels[deliveryID].Subscription, false)
}

func (a *API) retry(actor, deliveryID string, checkHeld bool) error {
	d, ok := a.dels[deliveryID]
	if !ok {
		return fmt.Errorf("delivery %s: %w", deliveryID, api.ErrNotFound)
	}
	if d.State != api.Failed {
		return fmt.Errorf("delivery %s is %s: %w", deliveryID, d.State, api.ErrNotRetryable)
	}
	if s := a.sub(d.Subscription); checkHeld && s != nil && (s.Paused || s.Disabled) {
		return fmt.Errorf("%s is paused or disabled (%s): resume it first, or its deliveries wait: %w", s.Name, s.Reason, api.ErrHeld)
	}
	a.setState(d, api.Pending)
	a.record(actor, "retry", deliveryID, "")
	dv := d.DeliveryView
	a.publish(api.Event{Kind: api.DeliveryUpdated, Delivery: &dv})
	status := 200
	if a.RetryStatus != nil {
		status = a.RetryStatus(deliveryID)
	}
	errText := ""
	if status < 200 || status > 299 {
		errText = fmt.Sprintf("endpoint answered %d", status)
	}
	return a.attempt(deliveryID, status, 42*time.Millisecond, errText, "manual")
}

// RetryAll implements api.API.
func (a *API) RetryAll(ctx context.Context, actor, subscription string) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "RetryAll "+subscription)
	return a.retryAll(actor, subscription, true)
}

// ResumeAndRetryAll implements api.API.
func (a *API) ResumeAndRetryAll(ctx context.Context, actor, subscription string) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "ResumeAndRetryAll "+subscription)
	n, err := a.retryAll(actor, subscription, false)
	if err != nil {
		return n, err
	}
	return n, a.setPaused(actor, subscription, false)
}

func (a *API) retryAll(actor, subscription string, checkHeld bool) (int, error) {
	s := a.sub(subscription)
	if s == nil {
		return 0, fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	if checkHeld && (s.Paused || s.Disabled) {
		return 0, fmt.Errorf("%s is paused or disabled (%s): resume it first, or its deliveries wait: %w", s.Name, s.Reason, api.ErrHeld)
	}
	var ids []string
	for id, d := range a.dels {
		if d.Subscription == subscription && d.State == api.Failed {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := a.retry(actor, id, false); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// Resend implements api.API: entries received since p.Since without a
// delivery for the subscription get one, pending (the fake has no
// policies: every entry is allowed); with p.Failed, failed deliveries
// updated since are retried.
func (a *API) Resend(ctx context.Context, actor string, p api.ResendParams) (api.ResendResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res, err := a.resend(actor, p)
	if err == nil && p.Resume && !p.DryRun {
		err = a.setPaused(actor, p.Subscription, false)
	}
	return res, err
}

func (a *API) resend(actor string, p api.ResendParams) (api.ResendResult, error) {
	call := fmt.Sprintf("Resend %s failed=%v dry=%v since=%s", p.Subscription, p.Failed, p.DryRun, p.Since.UTC().Format(time.RFC3339))
	if p.Resume {
		call += " resume=true"
	}
	if p.Kind != "" {
		call += " kind=" + p.Kind
	}
	a.calls = append(a.calls, call)
	s := a.sub(p.Subscription)
	if s == nil {
		return api.ResendResult{}, fmt.Errorf("%q: %w", p.Subscription, api.ErrUnknownSub)
	}
	if !p.DryRun && !p.Resume && (s.Paused || s.Disabled) {
		return api.ResendResult{}, fmt.Errorf("%s is paused or disabled (%s): resume it first, or its deliveries wait: %w", s.Name, s.Reason, api.ErrHeld)
	}
	var res api.ResendResult
	if p.Failed {
		var ids []string
		for id, d := range a.dels {
			if d.Subscription == p.Subscription && d.State == api.Failed && !d.UpdatedAt.Before(p.Since) && (p.Kind == "" || d.EntryKind == p.Kind) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		res.InRange, res.Allowed, res.Queued = len(ids), len(ids), len(ids)
		if !p.DryRun {
			for _, id := range ids {
				if err := a.retry(actor, id, !p.Resume); err != nil {
					return res, err
				}
			}
			res.Delivery = ids
		}
		return res, nil
	}
	for i := range a.entries {
		e := &a.entries[i]
		if e.ReceivedAt.Before(p.Since) || (p.Kind != "" && e.Kind != p.Kind) {
			continue
		}
		res.InRange++
		res.Allowed++
		if slices.ContainsFunc(e.Decisions, func(d api.Decision) bool { return d.Subscription == p.Subscription }) {
			res.Already++
			continue
		}
		res.Queued++
		if p.DryRun {
			continue
		}
		d := api.Decision{Subscription: p.Subscription, Sent: true, State: api.Pending, DeliveryID: "dlv_" + e.ID + "_" + p.Subscription}
		e.Decisions = append(e.Decisions, d)
		dv := api.DeliveryView{ID: d.DeliveryID, EntryID: e.ID, Subscription: d.Subscription, State: api.Pending,
			Reason: "resent by " + actor, UpdatedAt: a.now(), EntryDate: e.Date, EntryKind: e.Kind, EntryTitle: e.Title}
		a.dels[dv.ID] = &api.DeliveryDetail{DeliveryView: dv, Request: a.request(d.Subscription, e.EntryView)}
		s.Counts[api.Pending]++
		res.Delivery = append(res.Delivery, dv.ID)
		a.publish(api.Event{Kind: api.DeliveryUpdated, Delivery: &dv})
	}
	return res, nil
}

// SetPaused implements api.API.
func (a *API) SetPaused(ctx context.Context, actor, subscription string, paused bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, fmt.Sprintf("SetPaused %s %v", subscription, paused))
	return a.setPaused(actor, subscription, paused)
}

func (a *API) setPaused(actor, subscription string, paused bool) error {
	s := a.sub(subscription)
	if s == nil {
		return fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	s.Paused = paused
	kind := "pause"
	s.Reason = "paused by " + actor
	if !paused {
		kind = "resume"
		s.Disabled = false
		s.Reason = ""
	}
	s.UpdatedBy, s.UpdatedAt = actor, a.now()
	a.record(actor, kind, subscription, "")
	a.publishSub(s)
	return nil
}

// Test implements api.API.
func (a *API) Test(ctx context.Context, actor string, p api.TestParams) (api.TestResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	subscription := p.Subscription
	call := "Test " + subscription
	if p.EntryID != "" {
		call += " entry " + p.EntryID
	}
	a.calls = append(a.calls, call)
	s := a.sub(subscription)
	if s == nil {
		return api.TestResult{}, fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	a.record(actor, "test", subscription, "")
	req := a.request(subscription, api.EntryView{ID: "validation", Kind: "flag", Title: "auditrelay connection test"})
	what := "validation template"
	if p.EntryID != "" {
		what = "entry " + p.EntryID
	}
	if s.CustomDelivery {
		o := "not sent: deliveryMethod custom: LaunchDarkly delivers this integration through its own sink; auditrelay renders it (below) but has no HTTP endpoint to send it to"
		return api.TestResult{What: what, Request: req, Error: o, Outcome: o}, nil
	}
	sent := &api.SentRequest{At: a.now(), Method: req.Method, URL: req.URL, Body: req.Body, BodyIsJSON: true, BodySize: len(req.Body),
		Headers: append(slices.Clone(req.Headers), api.Header{Name: "X-Auditrelay-Attempt", Value: "1"})}
	if s.Disabled {
		return api.TestResult{What: what, Request: req, Sent: sent, StatusCode: 410, Duration: 31 * time.Millisecond, Error: "HTTP 410 Gone", Body: `{"error":"gone"}`,
			Outcome: "endpoint answered 410 Gone in 31ms"}, nil
	}
	return api.TestResult{What: what, Request: req, Sent: sent, StatusCode: 200, Duration: 48 * time.Millisecond, Body: "ok", OK: true,
		Outcome: "endpoint answered 200 OK in 48ms"}, nil
}

// Form implements api.API.
func (a *API) Form(subscription string) (api.Form, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.forms[subscription]
	if !ok {
		return api.Form{}, fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	out := f.form
	out.Fields = slices.Clone(f.form.Fields)
	for i := range out.Fields {
		out.Fields[i].AllowedValues = slices.Clone(out.Fields[i].AllowedValues)
	}
	return out, nil
}

// RevealSecret implements api.API.
func (a *API) RevealSecret(ctx context.Context, actor, subscription, key string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "RevealSecret "+subscription+" "+key)
	f, ok := a.forms[subscription]
	if !ok {
		return "", fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	v, ok := f.secrets[key]
	if !ok {
		return "", fmt.Errorf("secret %s.%s: %w", subscription, key, api.ErrNotFound)
	}
	return v, nil
}

// SaveForm implements api.API with the checks a manifest implies:
// required, uri, enum and boolean types.
func (a *API) SaveForm(ctx context.Context, actor, subscription string, values map[string]any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	keys := slices.Sorted(maps.Keys(values))
	a.calls = append(a.calls, fmt.Sprintf("SaveForm %s %s", subscription, strings.Join(keys, ",")))
	f, ok := a.forms[subscription]
	if !ok {
		return fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	if !f.form.Editable {
		return fmt.Errorf("%s: %s: %w", subscription, f.form.Note, api.ErrNotEditable)
	}
	bad := checkForm(f, values)
	if len(bad) > 0 {
		return &api.FormError{Fields: bad}
	}
	a.rememberForm(subscription, f, values)
	for i := range f.form.Fields {
		fd := &f.form.Fields[i]
		v, given := values[fd.Key]
		if !given {
			continue
		}
		s := fmt.Sprint(v)
		fd.Set = true
		if fd.Secret {
			f.secrets[fd.Key] = s
			fd.Value = api.Masked
		} else {
			fd.Value = s
		}
	}
	a.record(actor, "edit-vars", subscription, strings.Join(keys, ","))
	if s := a.sub(subscription); s != nil {
		s.UpdatedBy, s.UpdatedAt = actor, a.now()
		a.publishSub(s)
	}
	return nil
}

// Templates implements api.API.
func (a *API) Templates(subscription string) ([]api.TemplateInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tpls[subscription]
	if !ok {
		return nil, fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	return slices.Clone(t), nil
}

// Preview implements api.API: {{name}} and {{{name}}} are replaced by
// the entry's fields; an unclosed mustache is an error at its line:col and
// an unknown name a warning.
func (a *API) Preview(ctx context.Context, subscription, key, source, entryID string) (api.Preview, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.tpls[subscription]; !ok {
		return api.Preview{}, fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	e := api.EntryView{ID: "sample", Kind: key, Title: "Sample " + key + " change", Member: "sample@example.com", Project: "default", Environment: "production"}
	if i, ok := a.entryIdx[entryID]; ok {
		e = a.entries[i].EntryView
	}
	body, issues := render(source, e)
	req := a.request(subscription, e)
	req.Template, req.TemplateHash = key, hash(source)
	req.Body, req.BodyIsJSON = pretty(body)
	return api.Preview{Request: req, Errors: issues, EntryID: e.ID}, ctx.Err()
}

// SaveTemplate implements api.API.
func (a *API) SaveTemplate(ctx context.Context, actor, subscription, key, source, baseHash string) (api.TemplateInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "SaveTemplate "+subscription+" "+key)
	ts, ok := a.tpls[subscription]
	if !ok {
		return api.TemplateInfo{}, fmt.Errorf("%q: %w", subscription, api.ErrUnknownSub)
	}
	i := slices.IndexFunc(ts, func(t api.TemplateInfo) bool { return t.Key == key })
	if i < 0 {
		return api.TemplateInfo{}, fmt.Errorf("template %s of %s: %w", key, subscription, api.ErrNotFound)
	}
	if !ts[i].Editable {
		return api.TemplateInfo{}, fmt.Errorf("template %s: %s: %w", key, ts[i].Note, api.ErrNotEditable)
	}
	if ts[i].Hash != baseHash {
		return api.TemplateInfo{}, fmt.Errorf("template %s of %s: %w", key, subscription, api.ErrConflict)
	}
	if _, issues := render(source, api.EntryView{}); len(issues) > 0 && issues[0].Severity == "error" {
		is := issues[0]
		return api.TemplateInfo{}, fmt.Errorf("template %s does not parse: line %d:%d: %s", key, is.Line, is.Col, is.Msg)
	}
	if a.undo == nil {
		a.undo = map[string]fakeUndo{}
	}
	a.undo[subscription] = fakeUndo{key: key, source: ts[i].Source}
	ts[i].Source, ts[i].Hash = source, hash(source)
	ts[i].Override = "subscriptions/" + subscription + "/" + key + ".hbs"
	a.record(actor, "edit-template", subscription, key+" saved to "+ts[i].Override)
	return ts[i], nil
}

// Actions implements api.API.
func (a *API) Actions(ctx context.Context, since time.Time, limit int) ([]api.Action, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []api.Action
	for i := len(a.actions) - 1; i >= 0; i-- {
		if limit > 0 && len(out) >= limit {
			break
		}
		if !a.actions[i].At.Before(since) {
			out = append(out, a.actions[i])
		}
	}
	return out, ctx.Err()
}

// SetGeneratorRate implements api.API.
func (a *API) SetGeneratorRate(rate float64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, fmt.Sprintf("SetGeneratorRate %g", rate))
	if a.gen == nil {
		return api.ErrNoGenerator
	}
	*a.gen = rate
	return nil
}

// --- internals (a.mu held) ---

func (a *API) sub(name string) *api.SubscriptionInfo {
	for i := range a.subs {
		if a.subs[i].Name == name {
			return &a.subs[i]
		}
	}
	return nil
}

func (a *API) publish(ev api.Event) {
	a.seq++
	ev.Seq = a.seq
	if ev.Time.IsZero() {
		ev.Time = a.now()
	}
	for f := range a.feeds {
		select {
		case f.c <- ev:
		default:
			f.dropped.Add(1)
		}
	}
}

func (a *API) publishSub(s *api.SubscriptionInfo) {
	c := *s
	c.Counts = maps.Clone(s.Counts)
	a.publish(api.Event{Kind: api.SubscriptionUpdated, Subscription: &c})
}

func (a *API) record(actor, kind, target, detail string) {
	act := api.Action{ID: int64(len(a.actions) + 1), At: a.now(), Actor: actor, Kind: kind, Target: target, Detail: detail}
	a.actions = append(a.actions, act)
	a.publish(api.Event{Kind: api.ActionRecorded, Action: &act})
}

func (a *API) setState(d *api.DeliveryDetail, st api.State) {
	if s := a.sub(d.Subscription); s != nil {
		s.Counts[d.State]--
		s.Counts[st]++
	}
	d.State = st
	d.UpdatedAt = a.now()
	if i, ok := a.entryIdx[d.EntryID]; ok {
		e := &a.entries[i]
		for j := range e.Decisions {
			if e.Decisions[j].DeliveryID == d.ID {
				e.Decisions[j].State = st
			}
		}
	}
}

func (a *API) attempt(deliveryID string, status int, latency time.Duration, errText, trigger string) error {
	d, ok := a.dels[deliveryID]
	if !ok {
		return fmt.Errorf("delivery %s: %w", deliveryID, api.ErrNotFound)
	}
	now := a.now()
	// DeliveryDetail.Attempts (the list) shadows DeliveryView.Attempts (the count).
	d.DeliveryView.Attempts++
	at := api.AttemptView{
		DeliveryID: deliveryID, Subscription: d.Subscription, Number: d.DeliveryView.Attempts, Instance: "fake",
		Trigger: trigger, StartedAt: now, Duration: latency, URL: d.Request.URL,
		StatusCode: status, Error: errText, ResponseBody: "ok",
		ResponseHeaders: []api.Header{{Name: "Content-Type", Value: "text/plain"}},
	}
	if r := d.Request; r.Skipped == "" {
		// The fake sends what it would render; the engine stores its
		// request as sent the same way.
		hs := append(slices.Clone(r.Headers), api.Header{Name: "X-Auditrelay-Delivery-Id", Value: deliveryID},
			api.Header{Name: "X-Auditrelay-Attempt", Value: fmt.Sprint(at.Number)})
		at.Sent = &api.SentRequest{At: now, Method: r.Method, URL: r.URL, Headers: hs, Body: r.Body, BodyIsJSON: r.BodyIsJSON,
			BodySize: len(r.Body), BodyDigest: hash(r.Body), Template: r.Template, TemplateHash: r.TemplateHash, VarsHash: hash(d.Subscription)}
	}
	st := api.Delivered
	at.Outcome = "delivered"
	if status < 200 || status > 299 {
		st = api.Failed
		at.ErrorClass = "status"
		at.Outcome = "failed: " + errText
		at.ResponseBody = `{"error":"upstream unavailable"}`
	}
	d.Attempts = append(d.Attempts, at)
	d.LastStatus, d.LastError, d.LastLatency, d.LastAttemptAt = status, errText, latency, now
	a.setState(d, st)
	if s := a.sub(d.Subscription); s != nil {
		s.LastStatus, s.LastError, s.LastAttemptAt = status, errText, now
	}
	dv := d.DeliveryView
	a.publish(api.Event{Kind: api.DeliveryUpdated, Delivery: &dv, Attempt: &at})
	return nil
}

func (a *API) request(subscription string, e api.EntryView) api.RequestView {
	u := "https://hooks.example.com/" + subscription + "/" + api.Masked
	body, _ := json.MarshalIndent(map[string]string{"text": e.Title, "kind": e.Kind, "member": e.Member}, "", "  ")
	return api.RequestView{
		Method: "POST", URL: u, Body: string(body), BodyIsJSON: true, Template: "flag",
		Headers: []api.Header{
			{Name: "Content-Type", Value: "application/json"},
			{Name: "Authorization", Value: "Bearer " + api.Masked},
			{Name: "X-LD-Signature", Value: api.Masked},
		},
	}
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// render substitutes {{name}} and {{{name}}} with e's fields.
func render(src string, e api.EntryView) (string, []api.TemplateIssue) {
	vals := map[string]string{
		"title": e.Title, "kind": e.Kind, "member": e.Member, "member.email": e.Member,
		"project": e.Project, "environment": e.Environment, "_id": e.ID, "id": e.ID,
	}
	var out strings.Builder
	var issues []api.TemplateIssue
	line, col := 1, 1
	for i := 0; i < len(src); {
		if strings.HasPrefix(src[i:], "{{") {
			triple := strings.HasPrefix(src[i:], "{{{")
			open, closer := 2, "}}"
			if triple {
				open, closer = 3, "}}}"
			}
			end := strings.Index(src[i+open:], closer)
			// A mustache ends on its line, before the next one opens.
			if nl := strings.IndexAny(src[i+open:], "\n{"); nl >= 0 && (end < 0 || nl < end) {
				end = -1
			}
			if end < 0 {
				issues = append(issues, api.TemplateIssue{Line: line, Col: col, Severity: "error", Msg: "unclosed " + strings.Repeat("{", open) + " (expected " + closer + ")"})
				return out.String(), issues
			}
			name := strings.TrimSpace(src[i+open : i+open+end])
			switch {
			case strings.HasPrefix(name, "#"), strings.HasPrefix(name, "/"), strings.HasPrefix(name, "!"), name == "else":
				// Block helpers and comments render nothing in the fake.
			default:
				v, ok := vals[name]
				if !ok {
					issues = append(issues, api.TemplateIssue{Line: line, Col: col, Severity: "warning", Msg: fmt.Sprintf("%q is not in the template context", name)})
				}
				if !triple {
					b, _ := json.Marshal(v)
					v = string(b[1 : len(b)-1])
				}
				out.WriteString(v)
			}
			n := open + end + len(closer)
			for _, r := range src[i : i+n] {
				if r == '\n' {
					line, col = line+1, 1
				} else {
					col++
				}
			}
			i += n
			continue
		}
		if src[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		out.WriteByte(src[i])
		i++
	}
	return out.String(), issues
}

func pretty(body string) (string, bool) {
	var v any
	if json.Unmarshal([]byte(body), &v) != nil {
		return body, false
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b), true
}
