package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/auditrelay/auditrelay/core/admin"
	"github.com/auditrelay/auditrelay/core/config"
)

// relays are the instances of one run. With Options.RelayCommand each is
// `serve` in a child process of its own, as operators run it, so that
// what is measured of the relay (CPU, memory) is its own and the bench's
// senders and sink do not share its runtime; without a command they run
// in this process.
type relays struct {
	urls     []string // each instance's webhook receiver
	pids     []int    // child process ids
	children []*relayChild
	tokens   []string // each child's admin token
	inproc   []*instance
}

// startRelays starts n instances on storeURL ("" = SQLite) delivering to
// sinkURL, each with its data directory under dir.
func startRelays(ctx context.Context, o Options, dir, storeURL string, n int, sinkURL string, secret []byte) (*relays, error) {
	r := &relays{}
	for i := range n {
		cfg, err := instanceConfig(filepath.Join(dir, strconv.Itoa(i)), storeURL, fmt.Sprintf("bench-%d", i+1), sinkURL, o, secret)
		if err != nil {
			r.stop()
			return nil, err
		}
		// Every sender may be waiting on one instance: none is refused
		// for want of a slot (sources.webhook.max_in_flight).
		cfg.Webhook.MaxInFlight = max(cfg.Webhook.MaxInFlight, o.Concurrency)
		if len(o.RelayCommand) == 0 {
			in, err := startInstance(ctx, cfg, o.Log)
			if err != nil {
				r.stop()
				return nil, err
			}
			r.inproc = append(r.inproc, in)
			r.urls = append(r.urls, in.url)
			continue
		}
		child, token, err := startChildRelay(ctx, o, cfg)
		if err != nil {
			r.stop()
			return nil, err
		}
		r.children = append(r.children, child)
		r.tokens = append(r.tokens, token)
		r.pids = append(r.pids, child.pid())
		r.urls = append(r.urls, "http://"+child.httpAddr+cfg.Webhook.Path)
	}
	return r, nil
}

func (r *relays) stop() {
	for _, c := range r.children {
		c.stop()
	}
	for _, in := range r.inproc {
		in.stop()
	}
}

// startChildRelay runs serve (Options.RelayCommand) as a child process on
// cfg, written as a config file in cfg.DataDir, with an admin listener
// and a token of its own, which it returns.
func startChildRelay(ctx context.Context, o Options, cfg config.Config) (*relayChild, string, error) {
	// The child is driven through its admin API and says where it listens
	// in its "listening" lines, logged at info.
	token := rand.Text()
	cfg.Admin.Listen = "127.0.0.1:0"
	cfg.Admin.Token = config.Secret{Value: token}
	cfg.Log.Level = "info"
	yml, err := serveConfigYAML(cfg)
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("the relay's data directory: %w", err)
	}
	cfgPath := filepath.Join(cfg.DataDir, "auditrelay.yaml")
	if err := os.WriteFile(cfgPath, yml, 0o600); err != nil {
		return nil, "", fmt.Errorf("writing the relay's config file: %w", err)
	}
	child, err := startRelayChild(ctx, o.RelayCommand, o.RelayEnv, cfgPath)
	if err != nil {
		return nil, "", err
	}
	return child, token, nil
}

// profile writes a CPU profile of the first child relay, taken over d
// by its own profiler, to w.
func (r *relays) profile(ctx context.Context, d time.Duration, w io.Writer) error {
	return r.pprof(ctx, fmt.Sprintf("profile?seconds=%d", max(1, int(d.Seconds()))), w)
}

// allocs writes the first child relay's allocations since it started to w.
func (r *relays) allocs(ctx context.Context, w io.Writer) error {
	return r.pprof(ctx, "allocs", w)
}

// pprof writes what the first child relay's profiler answers for name to
// w; nothing without child relays.
func (r *relays) pprof(ctx context.Context, name string, w io.Writer) error {
	if len(r.children) == 0 {
		return nil
	}
	c, err := admin.NewClient("http://"+r.children[0].adminAddr, "", r.tokens[0])
	if err != nil {
		return err
	}
	if err := c.Pprof(ctx, name, w); err != nil {
		return fmt.Errorf("the relay's profile: %w", err)
	}
	return nil
}
