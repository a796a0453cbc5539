// Package fakeapi is an in-memory engine.API for the console's tests and
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
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/store"
)

// Mask is how the fake shows secrets.
const Mask = "••••••••"

// API is the fake engine.
type API struct {
	mu       sync.Mutex
	now      func() time.Time
	seq      uint64
	subs     []engine.SubscriptionInfo
	entries  []engine.EntryDetail // oldest first
	entryIdx map[string]int
	dels     map[string]*engine.DeliveryDetail
	forms    map[string]*formState
	tpls     map[string][]engine.TemplateInfo
	actions  []store.Action
	feeds    map[*feedState]struct{}
	gen      *float64
	stats    engine.Stats
	calls    []string

	// RetryStatus is the HTTP status a retried delivery's attempt gets;
	// nil means 200. Set it before use.
	RetryStatus func(deliveryID string) int
}

type formState struct {
	form    engine.Form
	secrets map[string]string // key → real value
}

type feedState struct {
	c       chan engine.Event
	dropped atomic.Uint64
}

var _ engine.API = (*API)(nil)

// New returns an empty fake whose clock is now (time.Now when nil).
func New(now func() time.Time) *API {
	if now == nil {
		now = time.Now
	}
	return &API{
		now:      now,
		entryIdx: map[string]int{},
		dels:     map[string]*engine.DeliveryDetail{},
		forms:    map[string]*formState{},
		tpls:     map[string][]engine.TemplateInfo{},
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
func (a *API) SetStats(s engine.Stats) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats = s
}

// AddSubscription registers a subscription with its form and templates.
func (a *API) AddSubscription(s engine.SubscriptionInfo, form engine.Form, secrets map[string]string, tpls []engine.TemplateInfo) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.Counts == nil {
		s.Counts = map[engine.State]int{}
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
func (a *API) Ingest(e engine.EntryView, raw string, explain map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = now
	}
	var exps []engine.Explanation
	for i := range e.Decisions {
		d := &e.Decisions[i]
		if !d.Sent {
			d.State = engine.Filtered
		}
		if d.DeliveryID == "" {
			d.DeliveryID = "dlv_" + e.ID + "_" + d.Subscription
		}
		dv := engine.DeliveryView{
			ID: d.DeliveryID, EntryID: e.ID, Subscription: d.Subscription, State: d.State,
			Reason: d.Summary, UpdatedAt: e.ReceivedAt, EntryDate: e.Date, EntryKind: e.Kind, EntryTitle: e.Title,
		}
		a.dels[dv.ID] = &engine.DeliveryDetail{DeliveryView: dv, Request: a.request(d.Subscription, e)}
		if s := a.sub(d.Subscription); s != nil {
			s.Counts[d.State]++
		}
		exps = append(exps, engine.Explanation{Subscription: d.Subscription, Sent: d.Sent, Summary: d.Summary, Text: explain[d.Subscription]})
	}
	if raw == "" {
		b, _ := json.MarshalIndent(map[string]any{"_id": e.ID, "kind": e.Kind, "title": e.Title}, "", "  ")
		raw = string(b)
	}
	a.entryIdx[e.ID] = len(a.entries)
	a.entries = append(a.entries, engine.EntryDetail{
		EntryView: e, Raw: []byte(raw), Context: []byte(raw), Explanation: exps,
	})
	ev := e
	ev.Decisions = slices.Clone(e.Decisions)
	a.publish(engine.Event{Kind: engine.EntryReceived, Entry: &ev})
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
func (a *API) Publish(ev engine.Event) {
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

// --- engine.API ---

// Subscribe implements engine.API.
func (a *API) Subscribe(ctx context.Context, buffer int) *engine.Feed {
	f := &feedState{c: make(chan engine.Event, max(buffer, 1))}
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
	return engine.NewFeed(f.c, f.dropped.Load)
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

// Subscriptions implements engine.API.
func (a *API) Subscriptions() []engine.SubscriptionInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]engine.SubscriptionInfo, len(a.subs))
	for i, s := range a.subs {
		s.Counts = maps.Clone(s.Counts)
		out[i] = s
	}
	return out
}

// Stats implements engine.API.
func (a *API) Stats() engine.Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.Now = a.now()
	s.Failed, s.QueueDepth = 0, 0
	for _, d := range a.dels {
		switch d.State {
		case engine.Failed:
			s.Failed++
		case engine.Pending, engine.InFlight:
			s.QueueDepth++
		}
	}
	s.EntriesPerSec = slices.Clone(s.EntriesPerSec)
	s.DeliveriesPerSec = slices.Clone(s.DeliveriesPerSec)
	s.FailuresPerSec = slices.Clone(s.FailuresPerSec)
	s.Sources = slices.Clone(s.Sources)
	return s
}

// Entries implements engine.API.
func (a *API) Entries(ctx context.Context, q engine.EntryQuery) ([]engine.EntryView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []engine.EntryView
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

// Entry implements engine.API.
func (a *API) Entry(ctx context.Context, id string) (engine.EntryDetail, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i, ok := a.entryIdx[id]
	if !ok {
		return engine.EntryDetail{}, fmt.Errorf("entry %s: %w", id, engine.ErrNotFound)
	}
	d := a.entries[i]
	d.Decisions = slices.Clone(d.Decisions)
	d.Explanation = slices.Clone(d.Explanation)
	return d, ctx.Err()
}

// Deliveries implements engine.API.
func (a *API) Deliveries(ctx context.Context, q engine.DeliveryQuery) ([]engine.DeliveryView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []engine.DeliveryView
	for _, d := range a.dels {
		if (q.Subscription != "" && d.Subscription != q.Subscription) || (q.EntryID != "" && d.EntryID != q.EntryID) ||
			(len(q.States) > 0 && !slices.Contains(q.States, d.State)) || (!q.Before.IsZero() && !d.UpdatedAt.Before(q.Before)) {
			continue
		}
		out = append(out, d.DeliveryView)
	}
	slices.SortFunc(out, func(x, y engine.DeliveryView) int {
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

// Delivery implements engine.API.
func (a *API) Delivery(ctx context.Context, id string) (engine.DeliveryDetail, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d, ok := a.dels[id]
	if !ok {
		return engine.DeliveryDetail{}, fmt.Errorf("delivery %s: %w", id, engine.ErrNotFound)
	}
	out := *d
	out.Attempts = slices.Clone(d.Attempts)
	return out, ctx.Err()
}

// Retry implements engine.API.
func (a *API) Retry(ctx context.Context, actor, deliveryID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "Retry "+deliveryID)
	return a.retry(actor, deliveryID)
}

func (a *API) retry(actor, deliveryID string) error {
	d, ok := a.dels[deliveryID]
	if !ok {
		return fmt.Errorf("delivery %s: %w", deliveryID, engine.ErrNotFound)
	}
	if d.State != engine.Failed {
		return fmt.Errorf("delivery %s is %s: %w", deliveryID, d.State, engine.ErrNotRetryable)
	}
	a.setState(d, engine.Pending)
	a.record(actor, "retry", deliveryID, "")
	dv := d.DeliveryView
	a.publish(engine.Event{Kind: engine.DeliveryUpdated, Delivery: &dv})
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

// RetryAll implements engine.API.
func (a *API) RetryAll(ctx context.Context, actor, subscription string) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "RetryAll "+subscription)
	if a.sub(subscription) == nil {
		return 0, fmt.Errorf("%q: %w", subscription, engine.ErrUnknownSub)
	}
	var ids []string
	for id, d := range a.dels {
		if d.Subscription == subscription && d.State == engine.Failed {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := a.retry(actor, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// SetPaused implements engine.API.
func (a *API) SetPaused(ctx context.Context, actor, subscription string, paused bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, fmt.Sprintf("SetPaused %s %v", subscription, paused))
	s := a.sub(subscription)
	if s == nil {
		return fmt.Errorf("%q: %w", subscription, engine.ErrUnknownSub)
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

// Test implements engine.API.
func (a *API) Test(ctx context.Context, actor, subscription string) (engine.TestResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "Test "+subscription)
	s := a.sub(subscription)
	if s == nil {
		return engine.TestResult{}, fmt.Errorf("%q: %w", subscription, engine.ErrUnknownSub)
	}
	a.record(actor, "test", subscription, "")
	req := a.request(subscription, engine.EntryView{ID: "validation", Kind: "flag", Title: "auditrelay connection test"})
	if s.Disabled {
		return engine.TestResult{Request: req, StatusCode: 410, Duration: 31 * time.Millisecond, Error: "410 Gone", Body: `{"error":"gone"}`}, nil
	}
	return engine.TestResult{Request: req, StatusCode: 200, Duration: 48 * time.Millisecond, Body: "ok", OK: true}, nil
}

// Form implements engine.API.
func (a *API) Form(subscription string) (engine.Form, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.forms[subscription]
	if !ok {
		return engine.Form{}, fmt.Errorf("%q: %w", subscription, engine.ErrUnknownSub)
	}
	out := f.form
	out.Fields = slices.Clone(f.form.Fields)
	for i := range out.Fields {
		out.Fields[i].AllowedValues = slices.Clone(out.Fields[i].AllowedValues)
	}
	return out, nil
}

// RevealSecret implements engine.API.
func (a *API) RevealSecret(ctx context.Context, actor, subscription, key string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "RevealSecret "+subscription+" "+key)
	f, ok := a.forms[subscription]
	if !ok {
		return "", fmt.Errorf("%q: %w", subscription, engine.ErrUnknownSub)
	}
	v, ok := f.secrets[key]
	if !ok {
		return "", fmt.Errorf("secret %s.%s: %w", subscription, key, engine.ErrNotFound)
	}
	return v, nil
}

// SaveForm implements engine.API with the checks a manifest implies:
// required, uri, enum and boolean types.
func (a *API) SaveForm(ctx context.Context, actor, subscription string, values map[string]any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	keys := slices.Sorted(maps.Keys(values))
	a.calls = append(a.calls, fmt.Sprintf("SaveForm %s %s", subscription, strings.Join(keys, ",")))
	f, ok := a.forms[subscription]
	if !ok {
		return fmt.Errorf("%q: %w", subscription, engine.ErrUnknownSub)
	}
	if !f.form.Editable {
		return fmt.Errorf("%s: %s: %w", subscription, f.form.Note, engine.ErrNotEditable)
	}
	bad := map[string]string{}
	for i := range f.form.Fields {
		fd := &f.form.Fields[i]
		v, given := values[fd.Key]
		if !given {
			continue
		}
		if fd.Ref != "" {
			bad[fd.Key] = "comes from " + fd.Ref + " and cannot be edited here"
			continue
		}
		s := fmt.Sprint(v)
		switch {
		case fd.Required && s == "":
			bad[fd.Key] = "is required"
		case fd.Type == "uri" && s != "":
			if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad[fd.Key] = "must be an http(s) URL"
			}
		case fd.Type == "enum" && !slices.Contains(fd.AllowedValues, s):
			bad[fd.Key] = "must be one of " + strings.Join(fd.AllowedValues, ", ")
		case fd.Type == "boolean":
			if _, ok := v.(bool); !ok {
				bad[fd.Key] = "must be true or false"
			}
		}
	}
	for k := range values {
		if !slices.ContainsFunc(f.form.Fields, func(fd engine.FormField) bool { return fd.Key == k }) {
			bad[k] = "is not a form variable of " + f.form.Integration
		}
	}
	if len(bad) > 0 {
		return &engine.FormError{Fields: bad}
	}
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
			fd.Value = Mask
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

// Templates implements engine.API.
func (a *API) Templates(subscription string) ([]engine.TemplateInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tpls[subscription]
	if !ok {
		return nil, fmt.Errorf("%q: %w", subscription, engine.ErrUnknownSub)
	}
	return slices.Clone(t), nil
}

// Preview implements engine.API: {{name}} and {{{name}}} are replaced by
// the entry's fields; an unclosed mustache is an error at its line:col and
// an unknown name a warning.
func (a *API) Preview(ctx context.Context, subscription, key, source, entryID string) (engine.Preview, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.tpls[subscription]; !ok {
		return engine.Preview{}, fmt.Errorf("%q: %w", subscription, engine.ErrUnknownSub)
	}
	e := engine.EntryView{ID: "sample", Kind: key, Title: "Sample " + key + " change", Member: "sample@example.com", Project: "default", Environment: "production"}
	if i, ok := a.entryIdx[entryID]; ok {
		e = a.entries[i].EntryView
	}
	body, issues := render(source, e)
	req := a.request(subscription, e)
	req.Template, req.TemplateHash = key, hash(source)
	req.Body, req.BodyIsJSON = pretty(body)
	return engine.Preview{Request: req, Errors: issues, EntryID: e.ID}, ctx.Err()
}

// SaveTemplate implements engine.API.
func (a *API) SaveTemplate(ctx context.Context, actor, subscription, key, source, baseHash string) (engine.TemplateInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, "SaveTemplate "+subscription+" "+key)
	ts, ok := a.tpls[subscription]
	if !ok {
		return engine.TemplateInfo{}, fmt.Errorf("%q: %w", subscription, engine.ErrUnknownSub)
	}
	i := slices.IndexFunc(ts, func(t engine.TemplateInfo) bool { return t.Key == key })
	if i < 0 {
		return engine.TemplateInfo{}, fmt.Errorf("template %s of %s: %w", key, subscription, engine.ErrNotFound)
	}
	if !ts[i].Editable {
		return engine.TemplateInfo{}, fmt.Errorf("template %s: %s: %w", key, ts[i].Note, engine.ErrNotEditable)
	}
	if ts[i].Hash != baseHash {
		return engine.TemplateInfo{}, fmt.Errorf("template %s of %s: %w", key, subscription, engine.ErrConflict)
	}
	if _, issues := render(source, engine.EntryView{}); len(issues) > 0 && issues[0].Severity == "error" {
		is := issues[0]
		return engine.TemplateInfo{}, fmt.Errorf("template %s does not parse: line %d:%d: %s", key, is.Line, is.Col, is.Msg)
	}
	ts[i].Source, ts[i].Hash = source, hash(source)
	ts[i].Override = "subscriptions/" + subscription + "/" + key + ".hbs"
	a.record(actor, "edit-template", subscription, key+" saved to "+ts[i].Override)
	return ts[i], nil
}

// Actions implements engine.API.
func (a *API) Actions(ctx context.Context, since time.Time, limit int) ([]store.Action, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []store.Action
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

// SetGeneratorRate implements engine.API.
func (a *API) SetGeneratorRate(rate float64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, fmt.Sprintf("SetGeneratorRate %g", rate))
	if a.gen == nil {
		return engine.ErrNoGenerator
	}
	*a.gen = rate
	return nil
}

// --- internals (a.mu held) ---

func (a *API) sub(name string) *engine.SubscriptionInfo {
	for i := range a.subs {
		if a.subs[i].Name == name {
			return &a.subs[i]
		}
	}
	return nil
}

func (a *API) publish(ev engine.Event) {
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

func (a *API) publishSub(s *engine.SubscriptionInfo) {
	c := *s
	c.Counts = maps.Clone(s.Counts)
	a.publish(engine.Event{Kind: engine.SubscriptionUpdated, Subscription: &c})
}

func (a *API) record(actor, kind, target, detail string) {
	act := store.Action{ID: int64(len(a.actions) + 1), At: a.now(), Actor: actor, Kind: kind, Target: target, Detail: detail}
	a.actions = append(a.actions, act)
	a.publish(engine.Event{Kind: engine.ActionRecorded, Action: &act})
}

func (a *API) setState(d *engine.DeliveryDetail, st engine.State) {
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
		return fmt.Errorf("delivery %s: %w", deliveryID, engine.ErrNotFound)
	}
	now := a.now()
	// DeliveryDetail.Attempts (the list) shadows DeliveryView.Attempts (the count).
	d.DeliveryView.Attempts++
	at := engine.AttemptView{
		DeliveryID: deliveryID, Subscription: d.Subscription, Number: d.DeliveryView.Attempts, Instance: "fake",
		Trigger: trigger, StartedAt: now, Duration: latency, URL: d.Request.URL,
		StatusCode: status, Error: errText, ResponseBody: "ok",
		ResponseHeaders: []store.Header{{Name: "Content-Type", Value: "text/plain"}},
	}
	st := engine.Delivered
	at.Outcome = "delivered"
	if status < 200 || status > 299 {
		st = engine.Failed
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
	a.publish(engine.Event{Kind: engine.DeliveryUpdated, Delivery: &dv, Attempt: &at})
	return nil
}

func (a *API) request(subscription string, e engine.EntryView) engine.RequestView {
	u := "https://hooks.example.com/" + subscription + "/" + Mask
	body, _ := json.MarshalIndent(map[string]string{"text": e.Title, "kind": e.Kind, "member": e.Member}, "", "  ")
	return engine.RequestView{
		Method: "POST", URL: u, Body: string(body), BodyIsJSON: true, Template: "flag",
		Headers: []store.Header{
			{Name: "Content-Type", Value: "application/json"},
			{Name: "Authorization", Value: "Bearer " + Mask},
			{Name: "X-LD-Signature", Value: Mask},
		},
	}
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// render substitutes {{name}} and {{{name}}} with e's fields.
func render(src string, e engine.EntryView) (string, []engine.TemplateIssue) {
	vals := map[string]string{
		"title": e.Title, "kind": e.Kind, "member": e.Member, "member.email": e.Member,
		"project": e.Project, "environment": e.Environment, "_id": e.ID, "id": e.ID,
	}
	var out strings.Builder
	var issues []engine.TemplateIssue
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
				issues = append(issues, engine.TemplateIssue{Line: line, Col: col, Severity: "error", Msg: "unclosed " + strings.Repeat("{", open) + " (expected " + closer + ")"})
				return out.String(), issues
			}
			name := strings.TrimSpace(src[i+open : i+open+end])
			switch {
			case strings.HasPrefix(name, "#"), strings.HasPrefix(name, "/"), strings.HasPrefix(name, "!"), name == "else":
				// Block helpers and comments render nothing in the fake.
			default:
				v, ok := vals[name]
				if !ok {
					issues = append(issues, engine.TemplateIssue{Line: line, Col: col, Severity: "warning", Msg: fmt.Sprintf("%q is not in the template context", name)})
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
