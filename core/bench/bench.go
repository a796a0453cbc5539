package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/auditrelay/auditrelay/core/admin"
	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/delivery"
	"github.com/auditrelay/auditrelay/core/demo"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store/postgres"
)

// Options configure one bench run.
type Options struct {
	Events      int           // events in the throughput phase
	Concurrency int           // concurrent senders
	PacedRate   int           // events/s of the latency phase
	PacedFor    time.Duration // length of the latency phase
	Backlog     int           // pending deliveries for the memory phase (0 skips it)
	Store       string        // "" = SQLite; postgres:// for the PostgreSQL backend
	Instances   []int         // instance counts to run with a shared store (PostgreSQL)
	Synchronous string        // SQLite synchronous mode: normal or full
	// Integration is what the subscription renders: "" or Templated for
	// the bench's own metrics-event integration (a template rendered per
	// event, as LaunchDarkly's Datadog one), Webhook for the built-in
	// standard payload (the raw entry, nothing rendered).
	Integration string
	Log         *slog.Logger // the instances' log; nil discards it
	// RelayCommand is the command that runs `auditrelay serve` (such as
	// the bench's own binary and "serve"). With it every relay runs as a
	// child process, adding "--config FILE --log-format json", so that the
	// relay's CPU and memory are measured apart from the bench's; without
	// it the runs put their relays in this process. Required when
	// Backlog > 0.
	RelayCommand []string
	// RelayEnv adds NAME=value variables to the child's environment. The
	// bench's own AUDITRELAY_* variables are not passed on: serve would
	// read them over the generated file.
	RelayEnv []string
	// Profile, when set, receives a CPU profile: with RelayCommand, 3 s
	// of the first relay's throughput phase, taken by the relay itself;
	// otherwise this process's over the runs (not the loopback
	// measurement, which would drown them).
	Profile io.Writer
	// Allocs, when set with RelayCommand, receives the allocations of the
	// relay that Profile profiles, from its start to the end of its
	// throughput phase.
	Allocs io.Writer
}

// Report is what bench measured; WriteText prints it, and it marshals as
// the --json output.
type Report struct {
	Machine     string   `json:"machine"`
	Integration string   `json:"integration"`
	Signed      bool     `json:"signed"`
	Runs        []Result `json:"runs"`
	// Loopback is the mean of the ceiling sampled before and after the
	// runs, so a machine whose speed drifts during them shows in the two.
	Loopback       float64   `json:"loopbackRequestsPerSec"`
	LoopbackBefore float64   `json:"loopbackBeforeRequestsPerSec"`
	LoopbackAfter  float64   `json:"loopbackAfterRequestsPerSec"`
	Backlog        *Backlog  `json:"backlog,omitempty"`
	StartedAt      time.Time `json:"startedAt"`
}

// Result is one run: a store with a number of instances, at full load and
// at the paced rate.
type Result struct {
	Store        string  `json:"store"`
	Instances    int     `json:"instances"`
	Events       int     `json:"events"`
	EventsPerSec float64 `json:"eventsPerSec"`
	P50ms        float64 `json:"p50ms"`
	P99ms        float64 `json:"p99ms"`
	PacedRate    int     `json:"pacedRate"`
	PacedP50ms   float64 `json:"pacedP50ms"`
	PacedP99ms   float64 `json:"pacedP99ms"`
	Ratio        float64 `json:"ratioToLoopback"`
	// CPUus is the CPU time the bench process spent per event in the
	// throughput phase: its senders and sink, and the relay too when it
	// runs in process. RelayCPUus is the relays' own (child processes).
	// Unlike events/s they barely move when something else shares the
	// machine, so they compare builds.
	CPUus      float64 `json:"cpuMicrosPerEvent"`
	RelayCPUus float64 `json:"relayCpuMicrosPerEvent,omitempty"`
	// RelayPeakMB is the largest peak RSS (VmHWM) of the relays, when they
	// run as child processes.
	RelayPeakMB float64 `json:"relayPeakRssMB,omitempty"`
}

// Backlog is the memory phase: a relay (`serve`, run by the bench as a
// child process) with Pending deliveries waiting, then their delivery.
// The Relay figures are that process's own; the bench's senders, sink and
// generated entries are in BenchRSSMB, apart.
type Backlog struct {
	Pending int `json:"pending"`
	// RelayRSSMB is the relay's resident set (VmRSS) with every delivery
	// pending, right after a garbage collection; RelayHeapMB its Go heap
	// in use then.
	RelayRSSMB  float64 `json:"relayRssMB"`
	RelayHeapMB float64 `json:"relayHeapInUseMB"`
	// RelayPeakMB is the relay's peak resident set (VmHWM) over the whole
	// phase: start, ingest and the drain.
	RelayPeakMB float64 `json:"relayPeakRssMB"`
	// BenchRSSMB is the bench process's own resident set at the same
	// moment as RelayRSSMB.
	BenchRSSMB float64 `json:"benchRssMB"`
	// IngestPerS is the rate the entries were taken over the relay's admin
	// API (POST /ingest, batches of 500, one at a time).
	IngestPerS  float64 `json:"ingestPerSec"`
	DrainPerSec float64 `json:"drainPerSec"`
}

// endpoint is where deliveries go: it notes when each entry
// arrived, keyed by the entry id the benchmark put in the body.
type endpoint struct {
	srv     *http.Server
	ln      net.Listener
	mu      sync.Mutex
	arrived map[string]time.Time
	count   atomic.Int64
	notify  chan struct{}
}

func startEndpoint() (*endpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &endpoint{ln: ln, arrived: make(map[string]time.Time, 1<<16), notify: make(chan struct{}, 1)}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	io.Copy(io.Discard, r.Body)
	// Keyed by delivery id: the sink needs no entry id in the body,
	// whatever the template renders.
	id := r.Header.Get(delivery.HeaderDeliveryID)
	s.mu.Lock()
	if _, dup := s.arrived[id]; !dup {
		s.arrived[id] = now
	}
	s.mu.Unlock()
	s.count.Add(1)
	select {
	case s.notify <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *endpoint) reset() {
	s.mu.Lock()
	s.arrived = make(map[string]time.Time, 1<<16)
	s.mu.Unlock()
}

// waitFor returns when every id has arrived, with the arrival times. It
// looks through ids only once enough distinct entries have arrived: a scan
// per arrival, under the lock the sink's handler takes, would itself slow
// the deliveries it measures.
func (s *endpoint) waitFor(ctx context.Context, ids []string) (map[string]time.Time, error) {
	scannedAt := -1 // arrivals at the last look through ids
	err := s.await(ctx, func() bool {
		got := len(s.arrived)
		if got < len(ids) || got == scannedAt {
			return false
		}
		scannedAt = got
		return s.countArrived(ids) == len(ids)
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%d of %d events delivered before the deadline", s.countArrived(ids), len(ids))
	}
	out := make(map[string]time.Time, len(ids))
	for _, id := range ids {
		out[id] = s.arrived[id]
	}
	return out, nil
}

// waitCount returns when n distinct entries have arrived.
func (s *endpoint) waitCount(ctx context.Context, n int) error {
	if err := s.await(ctx, func() bool { return len(s.arrived) >= n }); err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		return fmt.Errorf("%d of %d events delivered before the deadline", len(s.arrived), n)
	}
	return nil
}

// await calls ready, with s.mu held, at each arrival and every 50 ms until
// it holds or ctx ends.
func (s *endpoint) await(ctx context.Context, ready func() bool) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		done := ready()
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.notify:
		case <-tick.C:
		}
	}
}

// countArrived counts the ids that have arrived; s.mu is held.
func (s *endpoint) countArrived(ids []string) int {
	n := 0
	for _, id := range ids {
		if _, ok := s.arrived[id]; ok {
			n++
		}
	}
	return n
}

func (s *endpoint) close() { s.srv.Close() }

// events makes n distinct, realistic entries (compact JSON, ~1 KB).
func events(n int, seed uint64) ([]string, [][]byte) {
	g := demo.NewGenerator(demo.Options{Seed: seed})
	ids := make([]string, n)
	bodies := make([][]byte, n)
	for i := range n {
		ev := g.Next()
		v, err := jsonv.Decode(ev.Raw)
		if err != nil {
			panic(err) // the generator's own output
		}
		ids[i], bodies[i] = ev.ID, jsonv.Marshal(v)
	}
	return ids, bodies
}

// instance is one relay with its receiver, for the benchmark.
type instance struct {
	rt     *relay.Relay
	url    string
	cancel context.CancelFunc
	done   chan error
}

// subscription is the bench's one subscription.
const subscription = "bench"

// The integrations bench can drive.
const (
	Templated = "templated" // the bench's metrics-event template (default)
	Webhook   = "webhook"   // the built-in standard payload: nothing rendered
)

//go:embed integration
var integrationFS embed.FS

// WriteIntegration writes the bench's templated integration (manifest,
// template, icons) into dir (existing files are not overwritten: give it
// a fresh one), so that a relay run from outside (a serve process, the
// outside driver in cmd/auditrelay) renders exactly what bench renders.
func WriteIntegration(dir string) error {
	sfs, err := fs.Sub(integrationFS, "integration")
	if err != nil {
		return fmt.Errorf("the bench integration: %w", err)
	}
	if err := os.CopyFS(dir, sfs); err != nil {
		return fmt.Errorf("writing the bench integration to %s: %w", dir, err)
	}
	return nil
}

// instanceConfig is one relay's configuration: a signed receiver on a free
// loopback port, the store, and one subscription of the chosen integration
// into the sink. The templated integration's files are written under dir.
func instanceConfig(dir, storeURL, instance, sinkURL string, o Options, secret []byte) (config.Config, error) {
	cfg := config.Defaults()
	cfg.DataDir = dir
	cfg.Store = storeURL
	cfg.SQLite.Synchronous = o.Synchronous
	cfg.Instance = instance
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Admin.Listen = ""
	cfg.Retention.Interval = 0
	cfg.Log.Level = "warn"
	cfg.Webhook.Secret = config.Secret{Value: string(secret)}
	sub := config.Subscription{Name: subscription, Enabled: true, Concurrency: 64}
	switch o.Integration {
	case "", Templated:
		idir := filepath.Join(dir, "bench-events")
		if err := WriteIntegration(idir); err != nil {
			return cfg, err
		}
		sub.Integration = idir
		sub.Vars = map[string]config.Var{"endpointUrl": {Value: sinkURL}, "apiKey": {Value: "bench-api-key-not-a-secret"}}
	case Webhook:
		sub.Integration = "webhook"
		sub.Vars = map[string]config.Var{"url": {Value: sinkURL}}
	default:
		return cfg, fmt.Errorf("integration %q: expected %q or %q", o.Integration, Templated, Webhook)
	}
	cfg.Subscriptions = []config.Subscription{sub}
	return cfg, nil
}

func startInstance(ctx context.Context, cfg config.Config, log *slog.Logger) (*instance, error) {
	rt, err := relay.Open(ctx, cfg, log, relay.Options{})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	in := &instance{rt: rt, url: "http://" + rt.Addr().String() + cfg.Webhook.Path, cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- rt.Run(rctx) }()
	return in, nil
}

func (in *instance) stop() {
	in.cancel()
	<-in.done
	in.rt.Close()
}

// sendAll posts bodies to the receivers round-robin with c concurrent
// senders, pacing to rate events/s when rate > 0, and returns when each
// event was sent (acknowledged).
func sendAll(ctx context.Context, urls []string, ids []string, bodies [][]byte, c, rate int, secret []byte) (map[string]time.Time, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	sent := make([]time.Time, len(bodies))
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) || ctx.Err() != nil {
					return
				}
				if rate > 0 {
					due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				t := time.Now()
				// Signed as LaunchDarkly signs: the HMAC is part of the
				// real path's cost on both sides.
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, urls[i%len(urls)], bytes.NewReader(bodies[i]))
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(auditlog.SignatureHeader, auditlog.Sign(secret, bodies[i]))
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("receiver answered %s", resp.Status)
					}
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				sent[i] = t
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := make(map[string]time.Time, len(ids))
	for i, id := range ids {
		out[id] = sent[i]
	}
	return out, nil
}

// span returns the first send and the last arrival.
func span(sent, arrived map[string]time.Time) (first, last time.Time) {
	for _, t := range sent {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	for _, t := range arrived {
		if t.After(last) {
			last = t
		}
	}
	return first, last
}

func latencies(sent, arrived map[string]time.Time) (p50, p99 float64) {
	ls := make([]float64, 0, len(sent))
	for id, t := range sent {
		if a, ok := arrived[id]; ok {
			ls = append(ls, float64(a.Sub(t).Microseconds())/1000)
		}
	}
	if len(ls) == 0 {
		return 0, 0
	}
	slices.Sort(ls)
	at := func(q float64) float64 { return ls[min(len(ls)-1, int(q*float64(len(ls))))] }
	return at(0.50), at(0.99)
}

// Run runs every phase and returns the report; progress, when not nil,
// gets a line as each phase starts.
func Run(ctx context.Context, o Options, progress io.Writer) (*Report, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	rep := &Report{Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()), StartedAt: time.Now()}
	step := func(format string, args ...any) {
		if progress != nil {
			fmt.Fprintf(progress, format+"\n", args...)
		}
	}
	if o.Integration == "" {
		o.Integration = Templated
	}
	if o.Backlog > 0 && len(o.RelayCommand) == 0 {
		return nil, errors.New("the backlog phase runs the relay as a child process: Options.RelayCommand must be the command that runs auditrelay serve")
	}
	rep.Integration, rep.Signed = o.Integration, true
	// One secret per run: the receiver checks X-LD-Signature as it does
	// for LaunchDarkly.
	secret := []byte(rand.Text())
	step("measuring the loopback HTTP ceiling …")
	before, err := delivery.LoopbackCeiling(ctx, 3*time.Second, 32)
	if err != nil {
		return nil, fmt.Errorf("loopback ceiling: %w", err)
	}
	rep.LoopbackBefore = before
	stopProfile := func() {}
	if o.Profile != nil && len(o.RelayCommand) == 0 {
		if err := pprof.StartCPUProfile(o.Profile); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		var once sync.Once
		stopProfile = func() { once.Do(pprof.StopCPUProfile) }
		defer stopProfile()
	}

	sink, err := startEndpoint()
	if err != nil {
		return nil, err
	}
	defer sink.close()
	sinkURL := "http://" + sink.ln.Addr().String() + "/hook"

	stores := []string{""}
	if o.Store != "" {
		stores = append(stores, o.Store)
	}
	seed := uint64(1)
	for _, st := range stores {
		counts := []int{1}
		if st != "" {
			counts = o.Instances
		}
		for _, n := range counts {
			name := "sqlite (synchronous=" + o.Synchronous + ")"
			if st != "" {
				name = "postgres"
			}
			step("%s, %d instance(s): %d events with %d senders, then %d/s for %s …", name, n, o.Events, o.Concurrency, o.PacedRate, o.PacedFor)
			ro := o
			if len(o.RelayCommand) > 0 && (st != o.Store || n != counts[0]) {
				// One file: the relay of the first run on the store
				// measured last (--store's when given).
				ro.Profile, ro.Allocs = nil, nil
			}
			run, err := runOnce(ctx, ro, st, n, sinkURL, sink, &seed, secret)
			if err != nil {
				return nil, fmt.Errorf("%s with %d instances: %w", name, n, err)
			}
			run.Store = name
			rep.Runs = append(rep.Runs, *run)
		}
	}
	if o.Backlog > 0 {
		step("memory with %d deliveries pending in a relay of its own (serve, a child process), then their delivery …", o.Backlog)
		b, err := runBacklog(ctx, o, sink, sinkURL, secret)
		if err != nil {
			return nil, fmt.Errorf("backlog: %w", err)
		}
		rep.Backlog = b
	}
	stopProfile()
	step("measuring the loopback HTTP ceiling again …")
	after, err := delivery.LoopbackCeiling(ctx, 3*time.Second, 32)
	if err != nil {
		return nil, fmt.Errorf("loopback ceiling: %w", err)
	}
	rep.LoopbackAfter = after
	rep.Loopback = (before + after) / 2
	for i := range rep.Runs {
		rep.Runs[i].Ratio = rep.Runs[i].EventsPerSec / rep.Loopback
	}
	return rep, nil
}

// runOnce starts n instances on storeURL ("" = SQLite, one instance) and
// measures them at full load, then at the paced rate.
func runOnce(ctx context.Context, o Options, storeURL string, n int, sinkURL string, sink *endpoint, seed *uint64, secret []byte) (*Result, error) {
	dir, err := os.MkdirTemp("", "auditrelay-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if storeURL != "" {
		// Empty: drop auditrelay's tables (the instances recreate
		// them); a schema holding anything else is refused.
		if _, err := postgres.Reset(ctx, postgres.Options{URL: storeURL}); err != nil {
			return nil, fmt.Errorf("resetting %s: %w", relay.RedactURL(storeURL), err)
		}
	}
	relays, err := startRelays(ctx, o, dir, storeURL, n, sinkURL, secret)
	if err != nil {
		return nil, err
	}
	defer relays.stop()
	urls := relays.urls
	run := &Result{Instances: n, Events: o.Events, PacedRate: o.PacedRate}

	// Throughput: as fast as the senders go.
	*seed++
	cpu := &cpuMeter{relays: relays.pids}
	var profiled chan error
	if o.Profile != nil && len(relays.children) > 0 {
		// The relay's own profile, from its admin listener, while the
		// senders run.
		profiled = make(chan error, 1)
		go func() { profiled <- relays.profile(ctx, 3*time.Second, o.Profile) }()
	}
	sent, arrived, err := drive(ctx, urls, sink, o.Events, *seed, o.Concurrency, 0, secret, cpu)
	if profiled != nil {
		if perr := <-profiled; perr != nil && err == nil {
			err = perr
		}
	}
	if o.Allocs != nil && err == nil {
		err = relays.allocs(ctx, o.Allocs)
	}
	if err != nil {
		return nil, err
	}
	run.CPUus = float64(cpu.used.Microseconds()) / float64(o.Events)
	if len(relays.pids) > 0 {
		run.RelayCPUus = float64(cpu.relayUsed.Microseconds()) / float64(o.Events)
		for _, pid := range relays.pids {
			run.RelayPeakMB = max(run.RelayPeakMB, procStatusMB(strconv.Itoa(pid), "VmHWM"))
		}
	}
	// From the first send (not from before generating the events, which is
	// the benchmark's work, not the relay's) to the last arrival.
	start, last := span(sent, arrived)
	run.EventsPerSec = float64(o.Events) / last.Sub(start).Seconds()
	run.P50ms, run.P99ms = latencies(sent, arrived)

	// Latency at a steady, sustainable rate.
	if o.PacedRate > 0 && o.PacedFor > 0 {
		*seed++
		sent, arrived, err := drive(ctx, urls, sink, int(float64(o.PacedRate)*o.PacedFor.Seconds()), *seed, o.Concurrency, o.PacedRate, secret, nil)
		if err != nil {
			return nil, err
		}
		run.PacedP50ms, run.PacedP99ms = latencies(sent, arrived)
	}
	return run, nil
}

// drive sends count fresh events (rate per second, 0 = as fast as the
// senders go) and waits until the sink has them all; it returns when each
// was sent and when each arrived.
func drive(ctx context.Context, urls []string, sink *endpoint, count int, seed uint64, concurrency, rate int, secret []byte, cpu *cpuMeter) (sent, arrived map[string]time.Time, err error) {
	sink.reset()
	ids, bodies := events(count, seed)
	cpu.start()
	defer cpu.stop()
	if sent, err = sendAll(ctx, urls, ids, bodies, concurrency, rate, secret); err != nil {
		return nil, nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = engine.DeliveryID(subscription, id)
	}
	byDelivery, err := sink.waitFor(wctx, keys)
	if err != nil {
		return nil, nil, err
	}
	arrived = make(map[string]time.Time, len(ids))
	for i, id := range ids {
		arrived[id] = byDelivery[keys[i]]
	}
	return sent, arrived, nil
}

// runBacklog starts a relay as a child process (Options.RelayCommand,
// `serve` on a config file with instanceConfig's settings), pauses its
// subscription, feeds it o.Backlog entries over its admin API and reports
// its memory with them all pending; then it resumes the subscription and
// times the backlog's delivery, which goes through claims as after an
// endpoint's outage.
func runBacklog(ctx context.Context, o Options, sink *endpoint, sinkURL string, secret []byte) (*Backlog, error) {
	dir, err := os.MkdirTemp("", "auditrelay-backlog-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg, err := instanceConfig(dir, "", "backlog", sinkURL, o, secret)
	if err != nil {
		return nil, err
	}
	child, token, err := startChildRelay(ctx, o, cfg)
	if err != nil {
		return nil, err
	}
	defer child.stop()
	pid := strconv.Itoa(child.pid())
	// failed adds what the child logged last when it is the reason.
	failed := func(what string, err error) error {
		if child.hasExited() {
			return child.exitError(what)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	client, err := admin.NewClient("http://"+child.adminAddr, "", token)
	if err != nil {
		return nil, err
	}
	if err := client.SetPaused(ctx, "bench", subscription, true); err != nil {
		return nil, failed("pausing the subscription", err)
	}
	g := demo.NewGenerator(demo.Options{Seed: 99})
	start := time.Now()
	const batch = 500
	items := make([]source.Item, 0, batch)
	for done := 0; done < o.Backlog; {
		items = items[:0]
		for len(items) < batch && done+len(items) < o.Backlog {
			items = append(items, source.Item{Raw: g.Next().Raw, Source: "bench"})
		}
		res, err := client.Ingest(ctx, items, nil)
		if err != nil {
			return nil, failed("ingesting the backlog", err)
		}
		for _, r := range res {
			if r.Err != nil {
				return nil, fmt.Errorf("ingesting the backlog: entry %s: %w", r.ID, r.Err)
			}
		}
		done += len(items)
	}
	b := &Backlog{Pending: o.Backlog, IngestPerS: float64(o.Backlog) / time.Since(start).Seconds()}
	if b.RelayHeapMB, err = child.heapInUseMB(ctx, token); err != nil {
		return nil, failed("reading the relay's heap", err)
	}
	b.RelayRSSMB = procStatusMB(pid, "VmRSS")
	runtime.GC()
	b.BenchRSSMB = procStatusMB("self", "VmRSS")

	// Every earlier instance has stopped: what arrives now is the backlog.
	sink.reset()
	start = time.Now()
	if err := client.SetPaused(ctx, "bench", subscription, false); err != nil {
		return nil, failed("resuming the subscription", err)
	}
	// Ends early if the relay does: its log says why.
	wctx, cancel := context.WithTimeout(child.alive, 10*time.Minute)
	defer cancel()
	if err := sink.waitCount(wctx, o.Backlog); err != nil {
		return nil, failed("draining the backlog", err)
	}
	b.DrainPerSec = float64(o.Backlog) / time.Since(start).Seconds()
	b.RelayPeakMB = procStatusMB(pid, "VmHWM")
	return b, nil
}

// cpuMeter measures the CPU time this process, and the relays' child
// processes, use between start and stop; a nil meter measures nothing.
type cpuMeter struct {
	relays          []int // child process ids
	at, relayAt     time.Duration
	used, relayUsed time.Duration
}

func (m *cpuMeter) start() {
	if m != nil {
		m.at, m.relayAt = SelfCPU(), childrenCPU(m.relays)
	}
}

func (m *cpuMeter) stop() {
	if m != nil {
		m.used, m.relayUsed = SelfCPU()-m.at, childrenCPU(m.relays)-m.relayAt
	}
}

// childrenCPU is the CPU time the processes have used so far; one it
// cannot read counts 0.
func childrenCPU(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		if d, err := ProcessCPU(pid); err == nil {
			total += d
		}
	}
	return total
}

// ProcessCPU is the user and system CPU time process pid has used so far,
// from /proc/<pid>/stat (clock ticks of 1/100 s, as Linux counts them).
func ProcessCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command's name may hold spaces: count fields after its ')'.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the command's name", pid, len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// SelfCPU is the user and system CPU time of this process so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
