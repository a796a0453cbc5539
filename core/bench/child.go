package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/auditrelay/auditrelay/core/admin"
	"github.com/auditrelay/auditrelay/core/config"
)

// relayChild is `auditrelay serve` run by the bench as a child process,
// so that the relay's memory is measured apart from the bench's own
// (senders, sink, generated entries).
type relayChild struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc // ends the child: SIGTERM, as an operator stops it
	// alive ends when the child has exited, so that waits on it end too.
	alive   context.Context
	exited  chan struct{}
	waitErr error // Wait's result, set before exited is closed
	log     *childLog
	// Where the child listens, from its "listening" log lines.
	httpAddr, adminAddr string
}

// childStopGrace is how long a stopped child may take to close its store
// before it is killed.
const childStopGrace = 30 * time.Second

// startRelayChild runs command (the serve command, e.g. [auditrelay
// serve]) on the config file at configPath and returns once it listens
// and /readyz answers. env adds NAME=value variables (see childEnv).
func startRelayChild(ctx context.Context, command, env []string, configPath string) (*relayChild, error) {
	if len(command) == 0 {
		return nil, errors.New("no relay command")
	}
	cctx, cancel := context.WithCancel(ctx)
	args := append(slices.Clone(command[1:]), "--config", configPath, "--log-format", "json")
	cmd := exec.CommandContext(cctx, command[0], args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = childStopGrace
	cmd.Env = childEnv(os.Environ(), env)
	lg := newChildLog()
	cmd.Stderr = lg // exec's own goroutine copies into it; Wait waits for it
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("starting the relay (%s): %w", strings.Join(command, " "), err)
	}
	alive, dead := context.WithCancel(ctx)
	c := &relayChild{cmd: cmd, cancel: cancel, alive: alive, exited: make(chan struct{}), log: lg}
	go func() {
		c.waitErr = cmd.Wait()
		dead()
		close(c.exited)
	}()

	wait := time.NewTimer(time.Minute)
	defer wait.Stop()
	select {
	case <-lg.ready:
	case <-c.exited:
		c.stop()
		return nil, c.exitError("exited before listening")
	case <-wait.C:
		c.stop()
		return nil, fmt.Errorf("the relay did not listen within a minute; its log ends:\n%s", lg.tail())
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
	c.httpAddr, c.adminAddr = lg.addr("http"), lg.addr("admin")
	if err := c.awaitReady(); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// awaitReady polls /readyz until the relay's store can commit.
func (c *relayChild) awaitReady() error {
	ctx, cancel := context.WithTimeout(c.alive, time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.httpAddr+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz answered %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			if c.hasExited() {
				return c.exitError("exited before it was ready")
			}
			return fmt.Errorf("the relay was not ready within a minute: %w", last)
		case <-tick.C:
		}
	}
}

func (c *relayChild) hasExited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// exitError says the child exited, how, and what it logged last; it is
// to be called once exited is closed.
func (c *relayChild) exitError(what string) error {
	return fmt.Errorf("the relay %s (%v); its log ends:\n%s", what, c.waitErr, c.log.tail())
}

// stop ends the child and waits for it.
func (c *relayChild) stop() {
	c.cancel()
	<-c.exited
}

// pid is the child's process id.
func (c *relayChild) pid() int { return c.cmd.Process.Pid }

// heapInUseMB has the relay collect garbage and returns its Go heap in
// use. The admin listener serves Go's profiler: the heap profile with
// gc=1 runs a collection first, and its text form (debug=1) ends with the
// runtime's MemStats, so the RSS read right after is taken after a GC, as
// the in-process figure was.
func (c *relayChild) heapInUseMB(ctx context.Context, token string) (float64, error) {
	client, err := admin.NewClient("http://"+c.adminAddr, "", token)
	if err != nil {
		return 0, err
	}
	var body strings.Builder
	if err := client.Pprof(ctx, "heap?gc=1&debug=1", &body); err != nil {
		return 0, fmt.Errorf("the relay's heap profile: %w", err)
	}
	for line := range strings.SplitSeq(body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapInuse = "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("the relay's heap profile: HeapInuse %q: %w", v, err)
			}
			return n / (1 << 20), nil
		}
	}
	return 0, errors.New("the relay's heap profile has no HeapInuse line")
}

// childEnv is environ without AUDITRELAY_* variables, then extra: serve
// reads those over its config file, and a store or admin token set for
// the operator's own relay must not reach the bench's.
func childEnv(environ, extra []string) []string {
	out := make([]string, 0, len(environ)+len(extra))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "AUDITRELAY_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// childLog takes the child's JSON log lines: it notes the addresses of
// its "listening" lines and keeps the last lines for error messages.
type childLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	addrs   map[string]string
	ready   chan struct{} // closed once both listeners are known
	isReady bool
}

// childLogLines is how many of the child's last log lines errors quote.
const childLogLines = 20

func newChildLog() *childLog {
	return &childLog{addrs: map[string]string{}, ready: make(chan struct{})}
}

func (l *childLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	l.partial = bytes.Clone(l.partial) // let the consumed lines go
	return len(p), nil
}

// line takes one complete line; l.mu is held.
func (l *childLog) line(b []byte) {
	if len(l.lines) == childLogLines {
		l.lines = slices.Delete(l.lines, 0, 1)
	}
	l.lines = append(l.lines, string(b))
	var rec struct {
		Msg      string `json:"msg"`
		Listener string `json:"listener"`
		Addr     string `json:"addr"`
	}
	if json.Unmarshal(b, &rec) != nil || rec.Msg != "listening" {
		return
	}
	l.addrs[rec.Listener] = rec.Addr
	if !l.isReady && l.addrs["http"] != "" && l.addrs["admin"] != "" {
		l.isReady = true
		close(l.ready)
	}
}

func (l *childLog) addr(listener string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addrs[listener]
}

func (l *childLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(append(slices.Clone(l.lines), string(l.partial)), "\n")
}

// serveConfigYAML is the config file for `serve` holding the settings
// instanceConfig sets (the rest are the defaults in both). The file has
// the secrets: it is written 0600 into the run's own directory.
func serveConfigYAML(cfg config.Config) ([]byte, error) {
	subs := make([]map[string]any, 0, len(cfg.Subscriptions))
	for _, s := range cfg.Subscriptions {
		vars := make(map[string]any, len(s.Vars))
		for k, v := range s.Vars {
			vars[k] = v.Value
		}
		subs = append(subs, map[string]any{
			"name": s.Name, "integration": s.Integration, "enabled": s.Enabled,
			"concurrency": s.Concurrency, "vars": vars,
		})
	}
	sqlite := map[string]any{}
	if cfg.SQLite.Synchronous != "" {
		sqlite["synchronous"] = cfg.SQLite.Synchronous
	}
	doc := map[string]any{
		"data_dir": cfg.DataDir,
		"instance": cfg.Instance,
		"sqlite":   sqlite,
		"http":     map[string]any{"listen": cfg.HTTP.Listen},
		"admin":    map[string]any{"listen": cfg.Admin.Listen, "token": cfg.Admin.Token.Value},
		"log":      map[string]any{"level": cfg.Log.Level},
		// Whole seconds: the duration grammar of the file.
		"retention": map[string]any{"interval": strconv.FormatInt(int64(cfg.Retention.Interval/time.Second), 10) + "s"},
		"sources": map[string]any{"webhook": map[string]any{
			"secret":        cfg.Webhook.Secret.Value,
			"max_in_flight": cfg.Webhook.MaxInFlight,
		}},
		"subscriptions": subs,
	}
	if cfg.Store != "" {
		doc["store"] = cfg.Store
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("the relay's config file: %w", err)
	}
	return out, nil
}

// procStatusMB reads a size field of /proc/<pid>/status ("VmRSS",
// "VmHWM") in MB; pid "self" is this process. 0 where /proc has none.
func procStatusMB(pid, field string) float64 {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
