package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay/core/admin"
	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/delivery"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/templates"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Relay is one running auditrelay: store, engine, sources and listeners.
// serve, the console, the demo and bench all build one.
type Relay struct {
	cfg      config.Config
	log      *slog.Logger
	st       store.Store
	eng      *engine.Engine
	reg      *prometheus.Registry
	receiver *source.Receiver
	public   *http.Server
	publicLn net.Listener
	admin    *http.Server
	adminLn  net.Listener
	closers  []func()
}

// Options are what callers add to the configuration.
type Options struct {
	// Version is the binary's version, for the engine's status and the
	// poller's User-Agent; "dev" when empty.
	Version string
	// NoListeners skips the public and admin HTTP listeners (the console
	// of a demo that a test drives, the CLI working on the data directory
	// of a stopped instance). Such a runtime also leaves the data
	// directory's lock alone: the lock is for the one process that
	// listens and runs the engine there.
	NoListeners bool
	// Demo, when set, feeds the demo's generated entries to the engine
	// and lets the console change their rate.
	Demo *Demo
	// NoSend is for the CLI on a data directory: the engine stores and
	// reads but never delivers, so secrets left unresolved are not
	// checked (engine.Options.NoSend).
	NoSend bool
}

// Open builds everything from cfg. Nothing runs until Run; Close releases
// what Open took, whether or not Run ran.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, o Options) (*Relay, error) {
	if o.Version == "" {
		o.Version = "dev"
	}
	rt := &Relay{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	ok := false
	defer func() {
		if !ok {
			rt.Close()
		}
	}()
	rt.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if !o.NoListeners {
		// First, before the store: a second instance on the same data
		// directory stops here, and a read-only or full one is named.
		release, err := lockDataDir(cfg.DataDir, cfg.Instance)
		if err != nil {
			return nil, err
		}
		rt.closers = append(rt.closers, release)
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	rt.st = st
	rt.closers = append(rt.closers, func() { st.Close() })

	cat, err := loadCatalog(cfg, log)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(engine.Options{
		Config:     cfg,
		Store:      st,
		Catalog:    cat,
		Logger:     log,
		Registerer: rt.reg,
		Version:    o.Version,
		// SQLite serves one process; PostgreSQL is how instances share.
		SharedStore: !IsSQLite(cfg.Store),
		Listeners:   ownListeners(cfg, o),
		NoSend:      o.NoSend,
	})
	if err != nil {
		return nil, err
	}
	rt.eng = eng
	if o.Demo != nil {
		eng.AddSource(&generatorSource{demo: o.Demo, ing: eng})
		eng.SetGenerator(o.Demo.gen)
	}
	if cfg.Poller.Enabled {
		p, err := source.NewPoller(source.PollerConfig{
			BaseURL:   cfg.Poller.BaseURL,
			Token:     cfg.Poller.Token.Value,
			Interval:  cfg.Poller.Interval,
			Limit:     cfg.Poller.Limit,
			Spec:      cfg.Poller.Spec,
			Logger:    log.With("source", "poller"),
			UserAgent: "auditrelay/" + o.Version,
		}, eng, st)
		if err != nil {
			return nil, fmt.Errorf("poller: %w", err)
		}
		eng.AddLeaderSource(&pollerSource{p: p})
	}
	if cfg.Webhook.Enabled {
		rt.receiver = source.NewReceiver(source.ReceiverConfig{
			Path:         cfg.Webhook.Path,
			Secret:       []byte(cfg.Webhook.Secret.Value),
			MaxBody:      cfg.Webhook.MaxBody,
			MaxEntries:   cfg.Webhook.MaxEntries,
			MaxInFlight:  cfg.Webhook.MaxInFlight,
			StoreTimeout: cfg.Webhook.StoreTimeout,
			Logger:       log.With("source", "webhook"),
		}, eng)
		registerReceiverMetrics(rt.reg, cfg.Instance, rt.receiver)
	}
	if !o.NoListeners {
		if err := rt.listen(); err != nil {
			return nil, err
		}
	}
	ok = true
	return rt, nil
}

// Engine is the relay's engine: the API the console and the CLI use.
func (rt *Relay) Engine() *engine.Engine { return rt.eng }

// Addr is where the public listener (webhook receiver, /healthz, /readyz,
// /metrics) is bound; nil without listeners.
func (rt *Relay) Addr() net.Addr {
	if rt.publicLn == nil {
		return nil
	}
	return rt.publicLn.Addr()
}

// AdminAddr is where the admin API is bound; nil when admin.listen is
// empty or without listeners.
func (rt *Relay) AdminAddr() net.Addr {
	if rt.adminLn == nil {
		return nil
	}
	return rt.adminLn.Addr()
}

// SetSSHListener registers the address the console's SSH server bound as
// one of the relay's own, so that no delivery is sent there.
func (rt *Relay) SetSSHListener(addr net.Addr) error {
	if err := rt.eng.SetListener(delivery.Listener{Name: listenerSSH, Addr: addr.String()}); err != nil {
		return err
	}
	if rt.publicLn != nil { // this process holds the data directory's lock
		if err := writeSSHAddr(rt.cfg.DataDir, addr.String()); err != nil {
			rt.log.Warn("could not record the SSH address for other auditrelay commands", "err", err)
		}
	}
	return nil
}

// Names of the relay's own listeners in target refusals ("127.0.0.1:8081
// is this relay's admin listener").
const (
	listenerHTTP  = "HTTP listener (webhook receiver, /metrics)"
	listenerAdmin = "admin listener"
	listenerSSH   = "SSH listener"
)

// ownListeners are the addresses this process will listen on, as
// configured; deliveries to them are refused. Bound addresses replace
// them once known (engine.SetListener).
func ownListeners(cfg config.Config, o Options) []delivery.Listener {
	var ls []delivery.Listener
	if !o.NoListeners {
		ls = append(ls, delivery.Listener{Name: listenerHTTP, Addr: cfg.HTTP.Listen})
		if cfg.Admin.Listen != "" {
			ls = append(ls, delivery.Listener{Name: listenerAdmin, Addr: cfg.Admin.Listen})
		}
	}
	if cfg.SSH.Listen != "" {
		ls = append(ls, delivery.Listener{Name: listenerSSH, Addr: cfg.SSH.Listen})
	}
	return ls
}

// registerReceiverMetrics exports the receiver's refusals by reason, next
// to the engine's counters of entries: auditrelay_webhook_refused_total
// counts requests (entries, for invalid_entry).
func registerReceiverMetrics(reg prometheus.Registerer, instance string, rc *source.Receiver) {
	for _, r := range source.Reasons() {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace:   "auditrelay",
			Name:        "webhook_refused_total",
			Help:        "Webhook requests the receiver refused, by reason (entries, for invalid_entry).",
			ConstLabels: prometheus.Labels{"instance": instance, "reason": string(r)},
		}, func() float64 { return float64(rc.Refused(r)) }))
	}
}

// loadCatalog loads the built-in integrations and those in
// integrations_dirs. An integration of a directory that fails to load
// stops the start only when a subscription uses it; the others are
// skipped with a warning, so one broken manifest among LaunchDarkly's
// many does not keep the relay down.
func loadCatalog(cfg config.Config, log *slog.Logger) (*manifest.Catalog, error) {
	cat := manifest.NewCatalog()
	probs := cat.AddBuiltins(templates.FS())
	used := map[string]bool{}
	for _, sc := range cfg.Subscriptions {
		used[sc.Integration] = true
	}
	for _, dir := range cfg.IntegrationsDirs {
		results, dirProbs := manifest.Scan(dir)
		probs = append(probs, dirProbs...)
		for _, r := range results {
			if r.Integration != nil {
				cat.Add(r.Integration)
				continue
			}
			if used[r.Name] {
				probs = append(probs, r.Problems...)
				continue
			}
			log.Warn("integration skipped: it does not load and no subscription uses it",
				"integration", r.Name, "path", r.Path, "problems", r.Problems.Errors().Error())
		}
	}
	if probs.HasErrors() {
		return nil, fmt.Errorf("integrations:\n%w", probs.Errors())
	}
	return cat, nil
}

// listen opens the public and admin listeners now, so that a port in use
// fails the start rather than later.
func (rt *Relay) listen() error {
	mux := http.NewServeMux()
	if rt.receiver != nil {
		mux.Handle(rt.receiver.Path(), rt.receiver)
		rt.eng.AddStatus(func() engine.SourceStatus {
			s := rt.receiver.Stats()
			return engine.SourceStatus{Name: "webhook", Connected: true, Detail: fmt.Sprintf("listening on %s%s, %d received", rt.publicLn.Addr(), rt.receiver.Path(), s.Accepted)}
		})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := rt.ready(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(rt.reg, promhttp.HandlerOpts{Registry: rt.reg}))
	ln, err := net.Listen("tcp", rt.cfg.HTTP.Listen)
	if err != nil {
		return busyByRelay("http.listen", rt.cfg.HTTP.Listen, err, rt.cfg.SSH.Listen)
	}
	rt.publicLn = ln
	if err := rt.eng.SetListener(delivery.Listener{Name: listenerHTTP, Addr: ln.Addr().String()}); err != nil {
		return err
	}
	rt.public = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(rt.log.Handler(), slog.LevelWarn)}
	rt.closers = append(rt.closers, func() { ln.Close() })

	if rt.cfg.Admin.Listen != "" {
		tok, err := admin.Token(rt.cfg.DataDir, rt.cfg.Admin.Token.Value)
		if err != nil {
			return err
		}
		aln, err := net.Listen("tcp", rt.cfg.Admin.Listen)
		if err != nil {
			return busyByRelay("admin.listen", rt.cfg.Admin.Listen, err, rt.cfg.SSH.Listen)
		}
		rt.adminLn = aln
		if err := rt.eng.SetListener(delivery.Listener{Name: listenerAdmin, Addr: aln.Addr().String()}); err != nil {
			return err
		}
		rt.admin = &http.Server{Handler: admin.Handler(rt.eng, tok), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(rt.log.Handler(), slog.LevelWarn)}
		rt.closers = append(rt.closers, func() { aln.Close() })
		if err := admin.WriteAddr(rt.cfg.DataDir, aln.Addr().String()); err != nil {
			rt.log.Warn("could not record the admin address for the CLI", "err", err)
		}
	}
	return nil
}

// readyTimeout bounds /readyz: a store that cannot answer or commit within
// it is not ready.
const readyTimeout = 2 * time.Second

// ready reports whether the store answers and can commit: /readyz. A
// store that cannot write (disk full, read-only, locked by another
// process) fails the probe write, and passes again once it can.
func (rt *Relay) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := rt.st.Ping(ctx); err != nil {
		return fmt.Errorf("store unavailable: %w", err)
	}
	if err := rt.st.ProbeWrite(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("store cannot commit: no write committed within %s (locked by another process, or not answering)", readyTimeout)
		}
		return fmt.Errorf("store cannot commit: %w", err)
	}
	return nil
}

// Run serves and runs the engine until ctx ends, then shuts down: stop
// accepting requests, let the engine drain. The store stays open until
// Close.
func (rt *Relay) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	serve := func(srv *http.Server, ln net.Listener, name string) {
		if srv == nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rt.log.Info("listening", "listener", name, "addr", ln.Addr().String())
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s listener: %w", name, err)
			}
		}()
	}
	serve(rt.public, rt.publicLn, "http")
	serve(rt.admin, rt.adminLn, "admin")
	// A full or read-only store lets the relay start (it recovers by itself
	// once it can write) but says so now rather than at the first webhook.
	if err := rt.ready(ctx); err != nil {
		rt.log.Warn("not ready: webhooks are answered 503 and /readyz fails until the store can commit", "err", err)
	}

	engCtx, stopEngine := context.WithCancel(ctx)
	defer stopEngine()
	engDone := make(chan error, 1)
	go func() { engDone <- rt.eng.Run(engCtx) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	case err = <-engDone:
		engDone <- err
	}
	// Stop taking entries first, so nothing is acknowledged that the
	// engine will not see; then drain the engine.
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, srv := range []*http.Server{rt.public, rt.admin} {
		if srv != nil {
			_ = srv.Shutdown(shut)
		}
	}
	wg.Wait()
	stopEngine()
	if e := <-engDone; err == nil {
		err = e
	}
	return err
}

// Close releases the listeners, the store and the data directory's lock,
// in the reverse order of taking them. It is safe to call more than once.
func (rt *Relay) Close() {
	for i := len(rt.closers) - 1; i >= 0; i-- {
		rt.closers[i]()
	}
	rt.closers = nil
}

// pollerSource adapts the LaunchDarkly poller to an engine source.
type pollerSource struct{ p *source.Poller }

func (s *pollerSource) Name() string                  { return "poller" }
func (s *pollerSource) Run(ctx context.Context) error { return s.p.Run(ctx) }
func (s *pollerSource) Status() engine.SourceStatus {
	st := s.p.Status()
	out := engine.SourceStatus{Name: "poller", LastEntry: st.Cursor}
	switch {
	case st.LastPoll.IsZero():
		out.Detail = "standby (another instance polls, or not started)"
	case st.LastError != "" && st.LastErrorAt.After(st.LastSuccess):
		out.Detail = "error: " + st.LastError
		if !st.RetryAt.IsZero() {
			out.Detail += fmt.Sprintf(", retry at %s", st.RetryAt.Format("15:04:05"))
		}
	default:
		out.Connected = true
		out.Detail = fmt.Sprintf("last poll %s, %d ingested", st.LastSuccess.Format("15:04:05"), st.Ingested)
	}
	return out
}
