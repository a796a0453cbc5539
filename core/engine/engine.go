package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/delivery"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/mask"
	"github.com/auditrelay/auditrelay/core/policy"
	"github.com/auditrelay/auditrelay/core/render"
	"github.com/auditrelay/auditrelay/core/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures an Engine.
type Options struct {
	Config  config.Config
	Store   store.Store
	Catalog *manifest.Catalog
	// Client sends deliveries; nil builds one from Config.Delivery
	// (timeouts, allowed_targets, denied_targets; proxies from the
	// environment).
	Client *delivery.Client
	// Listeners are the relay's own listening addresses as configured;
	// deliveries to them are refused, and so is a subscription whose URL
	// names one. Report the bound addresses with SetListener once
	// listening.
	Listeners []delivery.Listener
	Logger    *slog.Logger
	// Registerer receives the engine's Prometheus metrics; nil keeps them
	// in a private registry.
	Registerer prometheus.Registerer
	// Now and Rand make time and jitter deterministic in tests.
	Now  func() time.Time
	Rand func() float64
	// Version goes into the User-Agent.
	Version string
	// SharedStore says other instances use the store too (PostgreSQL).
	// The engine then takes every delivery through Claim, which enforces
	// a subscription's limits across instances; on a store of its own it
	// hands entries it has just stored to free workers directly.
	SharedStore bool
	// DrainTimeout is how long Run lets in-flight attempts finish after its
	// context ends before cancelling them (they are then retried on the
	// next start without using a retry). Default 5s.
	DrainTimeout time.Duration
	// NoSend says this engine never delivers (the CLI storing into, or
	// reading, a data directory): a form value from a secret that was not
	// resolved (config.LoadWithoutSecrets) is not checked.
	NoSend bool
}

// Source is something that feeds the engine and that it runs and reports
// on: the poller, the demo generator. (The webhook receiver is an
// http.Handler served by the caller; it reports through StatusFunc.)
type Source interface {
	Name() string
	// Run feeds the engine until ctx ends.
	Run(ctx context.Context) error
	Status() SourceStatus
}

// Engine is the relay. Create it with New, start it with Run.
type Engine struct {
	opts    Options
	cfg     config.Config
	st      store.Store
	catalog *manifest.Catalog
	client  *delivery.Client
	log     *slog.Logger
	now     func() time.Time
	rnd     func() float64
	builder *auditlog.Builder
	bus     *bus
	rates   rates
	metrics *metrics
	events  *eventCache
	editor  *editor // form and template edits: the only part that writes files

	subsMu  sync.RWMutex
	subs    map[string]*subEntry // by name
	order   []string             // config order
	statsMu sync.Mutex
	stats   []store.SubscriptionStats
	states  map[string]store.SubscriptionState
	// refreshMu makes each refreshStates read and publish in turn: two
	// running at once (an operator's resume and an endpoint's 410 landing
	// just after it) could otherwise publish the older read last, and the
	// engine would show, and lease at ingest for, a state already gone.
	refreshMu sync.Mutex

	sourcesMu sync.Mutex
	sources   []Source
	statusFns []func() SourceStatus
	generator GeneratorControl

	outcomes chan finished // see completer.go

	started atomic.Bool
}

// GeneratorControl lets the console change the demo generator's rate.
type GeneratorControl interface {
	SetRate(perSecond float64)
	Rate() float64
}

// subEntry holds the current version of a subscription; edits swap it.
type subEntry struct {
	cur       atomic.Pointer[subscription]
	wake      chan struct{} // capacity 1: new due work
	slots     *slots        // delivery slots of the running claim loop
	finishing atomic.Int64  // outcomes sent but not yet committed (see completer)
	nextDue   atomic.Int64  // unix nanoseconds of the next due retry seen by a claim, 0 = none

	lastMu sync.Mutex
	last   lastAttempt // the latest committed attempt, for the console
}

// lastAttempt is what the console shows as a subscription's last answer.
type lastAttempt struct {
	at     time.Time
	status int
	err    string
}

// subscription is one immutable version of a configured subscription,
// ready to decide and render.
type subscription struct {
	cfg        config.Subscription
	source     *manifest.Integration // with per-subscription template overrides
	hook       *hook.Integration
	bound      *hook.Bound
	vars       hook.Vars
	values     map[string]jsonv.Value // resolved form values (with defaults)
	masker     *mask.Masker
	policy     *policy.Policy
	policyNote string
	sw         *delivery.SWSigner
	schedule   delivery.Schedule
	errorBody  bool // includeErrorResponseBody
	custom     bool // deliveryMethod "custom"
	version    int  // bumped by every edit
	varsHash   string
}

// New validates the configuration against the integrations and returns an
// engine ready to Run. Every problem is reported at once.
func New(opts Options) (*Engine, error) {
	if opts.Store == nil {
		return nil, errors.New("engine: no store")
	}
	if opts.Catalog == nil {
		return nil, errors.New("engine: no integration catalog")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 5 * time.Second
	}
	cfg := opts.Config
	builder, err := auditlog.NewBuilder(auditlog.Options{BaseURL: cfg.BaseURL})
	if err != nil {
		return nil, fmt.Errorf("base_url: %w", err)
	}
	client := opts.Client
	if client == nil {
		targets, err := delivery.NewTargets(delivery.TargetRules{Allowed: cfg.Delivery.AllowedTargets, Denied: cfg.Delivery.DeniedTargets})
		if err != nil {
			return nil, fmt.Errorf("delivery: %w", err)
		}
		conns := connsPerHost(cfg.Subscriptions)
		client, err = delivery.NewClient(delivery.Options{
			Version:             opts.Version,
			Timeout:             cfg.Delivery.Timeout,
			DialTimeout:         cfg.Delivery.ConnectTimeout,
			MaxResponseBody:     int(cfg.Delivery.MaxResponseBody),
			Targets:             targets,
			MaxRequestBody:      int(cfg.Delivery.MaxRequestBody),
			MaxConnsPerHost:     conns,
			MaxIdleConnsPerHost: conns,
			MaxIdleConns:        max(delivery.DefaultMaxIdleConns, conns),
		})
		if err != nil {
			return nil, fmt.Errorf("delivery: %w", err)
		}
	}
	for _, l := range opts.Listeners {
		if err := client.Targets().SetListener(l); err != nil {
			return nil, fmt.Errorf("delivery: %w", err)
		}
	}
	e := &Engine{
		opts:     opts,
		cfg:      cfg,
		st:       opts.Store,
		catalog:  opts.Catalog,
		client:   client,
		log:      opts.Logger,
		now:      opts.Now,
		rnd:      opts.Rand,
		builder:  builder,
		bus:      newBus(),
		metrics:  newMetrics(opts.Registerer, cfg.Instance),
		events:   newEventCache(eventCacheSize),
		subs:     map[string]*subEntry{},
		outcomes: make(chan finished, completerQueue),
		states:   map[string]store.SubscriptionState{},
	}
	e.editor = newEditor(e)
	var problems []string
	warned := map[string]bool{} // integrations whose warnings were logged
	for _, sc := range cfg.Subscriptions {
		s, errs := e.buildSubscription(sc, nil, 0)
		if len(errs) > 0 {
			for _, err := range errs {
				problems = append(problems, e.where(sc)+err.Error())
			}
			continue
		}
		// What validate accepts with warnings runs; say why once per
		// integration, however many subscriptions share it.
		if in := s.source; !warned[in.Path] {
			warned[in.Path] = true
			for _, w := range in.Warnings {
				e.log.Warn("integration: "+w.String(), "integration", in.Name)
			}
		}
		ent := &subEntry{wake: make(chan struct{}, 1), slots: newSlots()}
		ent.cur.Store(s)
		e.subs[sc.Name] = ent
		e.order = append(e.order, sc.Name)
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	return e, nil
}

// ConfigError lists every subscription that cannot run.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return "invalid subscriptions:\n  " + strings.Join(e.Problems, "\n  ")
}

func (e *Engine) where(sc config.Subscription) string {
	prefix := fmt.Sprintf("subscription %q: ", sc.Name)
	if e.cfg.File != "" && sc.Line > 0 {
		prefix = fmt.Sprintf("%s:%d: %s", e.cfg.File, sc.Line, prefix)
	}
	return prefix
}

// buildSubscription compiles one subscription. values, when not nil,
// replace the configured form values (an edit in progress); overrides maps
// template keys to (file, source) edits not yet in the config.
func (e *Engine) buildSubscription(sc config.Subscription, values map[string]any, version int) (*subscription, []error) {
	var errs []error
	in, err := e.catalog.Lookup(sc.Integration)
	if err != nil {
		return nil, []error{fmt.Errorf("integration: %w", err)}
	}
	h := in.Hook()
	if h == nil {
		return nil, []error{fmt.Errorf("integration %q has no auditLogEventsHook capability", in.Name)}
	}
	keys := make([]string, 0, len(sc.Templates))
	for k := range sc.Templates {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		file := sc.Templates[key]
		src, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("templates.%s: %w", key, err))
			continue
		}
		over, err := in.WithTemplate(key, file, string(src))
		if err != nil {
			errs = append(errs, fmt.Errorf("templates.%s: %w", key, err))
			continue
		}
		in = over
	}
	hk, err := hook.New(in)
	if err != nil {
		errs = append(errs, fmt.Errorf("integration %q: %w", in.Name, err))
	}

	raw := map[string]jsonv.Value{}
	unresolved := map[string]bool{} // secrets a NoSend engine goes without
	if values == nil {
		for k, v := range sc.Vars {
			if e.opts.NoSend && v.Ref != "" && v.Value == "" {
				unresolved[k] = true
				continue
			}
			raw[k] = goToValue(v.Value)
		}
	} else {
		for k, v := range values {
			raw[k] = goToValue(v)
		}
	}
	resolved, err := in.Manifest.ResolveValues(raw)
	if err != nil && len(unresolved) > 0 {
		err = dropValueErrors(err, unresolved)
		if err == nil {
			resolved = raw // nothing is rendered or sent with them
		}
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("vars: %w", err))
	}

	var pol *policy.Policy
	note := ""
	switch {
	case sc.Policy != nil:
		pol, err = policy.Parse(sc.Policy)
		if err != nil {
			where := "policy"
			if sc.PolicyFile != "" {
				where = "policy_file " + sc.PolicyFile
			}
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	case h.DefaultPolicy != nil:
		pol, err = policy.Parse(h.DefaultPolicy.JSON)
		if err != nil {
			errs = append(errs, fmt.Errorf("defaultPolicy of %s: %w", in.Name, err))
		}
	}
	if pol == nil || pol.Empty() {
		note = "no policy: every entry is sent"
	}

	var sw *delivery.SWSigner
	if sc.StandardWebhooks.Value != "" {
		sw, err = delivery.NewSWSigner(sc.StandardWebhooks.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("standard_webhooks_secret: %w", err))
		}
	}
	sched := delivery.Schedule{Delays: e.cfg.Delivery.Schedule, Jitter: e.cfg.Delivery.Jitter, RetryAfterMax: e.cfg.Delivery.MaxRetryAfter}
	if err := sched.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("delivery.retry: %w", err))
	}
	vars := hook.Vars{Values: resolved, Budget: e.renderBudget(sc)}
	if sc.OAuth != nil {
		vars.OAuth = &hook.OAuth{BaseURI: sc.OAuth.BaseURI, AccessToken: sc.OAuth.AccessToken.Value}
	}
	if hk != nil && resolved != nil {
		if err := e.checkStaticTarget(hk, vars); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	secrets := hk.Secrets(vars)
	if sc.OAuth != nil && sc.OAuth.AccessToken.Value != "" {
		secrets = append(secrets, sc.OAuth.AccessToken.Value)
	}
	if sc.StandardWebhooks.Value != "" {
		secrets = append(secrets, sc.StandardWebhooks.Value)
	}
	return &subscription{
		cfg:        sc,
		source:     in,
		hook:       hk,
		bound:      hk.Bind(vars),
		vars:       vars,
		values:     resolved,
		masker:     mask.New(secrets...),
		policy:     pol,
		policyNote: note,
		sw:         sw,
		schedule:   sched,
		errorBody:  h.IncludeErrorResponseBody,
		custom:     h.DeliveryMethod == manifest.DeliveryCustom,
		version:    version,
		varsHash:   varsHash(resolved, vars.OAuth),
	}, nil
}

// dropValueErrors removes from err the problems of the form variables in
// keys; nil when none remains.
func dropValueErrors(err error, keys map[string]bool) error {
	var ves manifest.ValueErrors
	if !errors.As(err, &ves) {
		return err
	}
	var kept manifest.ValueErrors
	for _, ve := range ves {
		if !keys[ve.Key] {
			kept = append(kept, ve)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return kept
}

// renderBudget is the subscription's render budget; zero fields take
// render's defaults. The output never exceeds what the client may send: a
// larger body would only fail unsent after being built.
func (e *Engine) renderBudget(sc config.Subscription) render.Budget {
	b := render.Budget{MaxOutput: int(sc.Render.MaxOutput), MaxSteps: sc.Render.MaxSteps}
	if b.MaxOutput <= 0 {
		b.MaxOutput = render.DefaultMaxOutput
	}
	if limit := int(e.cfg.Delivery.MaxRequestBody); limit > 0 {
		b.MaxOutput = min(b.MaxOutput, limit)
	}
	return b
}

func goToValue(x any) jsonv.Value {
	switch t := x.(type) {
	case bool:
		return jsonv.Boolean(t)
	case string:
		return jsonv.Str(t)
	case nil:
		return jsonv.NullValue()
	}
	return jsonv.Str(fmt.Sprint(x))
}

// AddSource registers a source the engine runs (and reports on) while
// Run runs. Call before Run.
func (e *Engine) AddSource(s Source) {
	e.sourcesMu.Lock()
	defer e.sourcesMu.Unlock()
	e.sources = append(e.sources, s)
}

// AddStatus registers a status reporter for a source the caller runs (the
// webhook receiver).
func (e *Engine) AddStatus(f func() SourceStatus) {
	e.sourcesMu.Lock()
	defer e.sourcesMu.Unlock()
	e.statusFns = append(e.statusFns, f)
}

// SetGenerator lets the console control the demo generator's rate.
func (e *Engine) SetGenerator(g GeneratorControl) {
	e.sourcesMu.Lock()
	defer e.sourcesMu.Unlock()
	e.generator = g
}

func (e *Engine) sub(name string) (*subEntry, *subscription, error) {
	e.subsMu.RLock()
	ent := e.subs[name]
	e.subsMu.RUnlock()
	if ent == nil {
		return nil, nil, fmt.Errorf("%w %q", ErrUnknownSub, name)
	}
	return ent, ent.cur.Load(), nil
}

// snapshot returns the current version of every subscription, in config
// order.
func (e *Engine) snapshot() []*subscription {
	e.subsMu.RLock()
	defer e.subsMu.RUnlock()
	out := make([]*subscription, 0, len(e.order))
	for _, name := range e.order {
		out = append(out, e.subs[name].cur.Load())
	}
	return out
}

func (e *Engine) wakeSub(name string) {
	e.subsMu.RLock()
	ent := e.subs[name]
	e.subsMu.RUnlock()
	if ent == nil {
		return
	}
	select {
	case ent.wake <- struct{}{}:
	default:
	}
}

// connsPerHost is how many connections the client keeps per host: the
// client's default, or the largest subscription's concurrency when that is
// more, so that a subscription really has as many requests in flight as it
// is configured for (at the default of 32, attempts past the 32nd waited
// for a connection while holding their slot). Several subscriptions to
// one host still share the bound.
func connsPerHost(subs []config.Subscription) int {
	n := delivery.DefaultMaxConnsPerHost
	for _, s := range subs {
		n = max(n, s.Concurrency)
	}
	return n
}
