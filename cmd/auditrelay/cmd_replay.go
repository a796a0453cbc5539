package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
	"github.com/spf13/cobra"
)

func newReplayCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay FILE|-",
		Short: "Ingest audit-log entries from a file (NDJSON, a JSON array or an API list page)",
		Long: `replay feeds entries from FILE (or standard input) through the same path as
the webhook receiver: policy decisions, durable storage and deliveries.

It sends them to a running instance through its admin API when one answers,
otherwise it stores them in the data directory, where the next serve (or
the running console) delivers them. Entries already stored are counted as
duplicates; malformed ones are reported with their line numbers.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader
			var size int64
			if args[0] == "-" {
				r = a.stdin
			} else {
				f, err := os.Open(args[0])
				if err != nil {
					return usageErrorf("%v", err)
				}
				defer f.Close()
				if st, err := f.Stat(); err == nil {
					size = st.Size()
				}
				r = f
			}
			ing, done, err := a.replayTarget(cmd)
			if err != nil {
				return err
			}
			defer done()
			pr := source.NewProgressRenderer(a.stderr, isTerminal(a.stderr), size)
			rp := &source.Replayer{Ingester: ing, OnProgress: pr.Update}
			prog, err := rp.Replay(cmd.Context(), r)
			pr.Finish(prog)
			if err != nil {
				return failure(fmt.Errorf("replay %s: %w", args[0], err))
			}
			if prog.Rejected > 0 {
				return failure(nil)
			}
			return nil
		},
	}
	cmd.Flags().String("admin-url", "", "admin API of a running instance (default: the address recorded in the data directory)")
	cmd.Flags().String("data-dir", "", "data directory")
	return cmd
}

// replayTarget is a running instance's admin API, or the data directory.
func (a *app) replayTarget(cmd *cobra.Command) (source.Ingester, func(), error) {
	cfg, err := config.Load(a.cfg, a.configPath(), nil)
	if err != nil {
		return nil, nil, usageErrorf("invalid configuration:\n%v", err)
	}
	if dd := mustFlag(cmd, "data-dir"); dd != "" {
		cfg.DataDir = dd
	}
	if c, err := newAdminClient(mustFlag(cmd, "admin-url"), cfg.DataDir, cfg.Admin.Token.Value); err == nil {
		ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
		err := c.do(ctx, "GET", "/subscriptions", nil, nil)
		cancel()
		var oe *net.OpError
		switch {
		case err == nil:
			return remoteIngester{c}, func() {}, nil
		case !errors.As(err, &oe):
			return nil, nil, failure(err)
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, nil, failure(err)
	}
	fmt.Fprintf(a.stderr, "no running instance answered; storing into %s\n", filepath.Join(cfg.DataDir, "auditrelay.db"))
	cfg.Admin.Listen = ""
	rt, err := openRuntime(cmd.Context(), cfg, slog.New(slog.DiscardHandler), runtimeOptions{NoListeners: true})
	if err != nil {
		return nil, nil, failure(err)
	}
	return rt.eng, rt.close, nil
}

// remoteIngester ingests through a running instance's admin API.
type remoteIngester struct{ c *adminClient }

func (r remoteIngester) Ingest(ctx context.Context, items []source.Item, cursor *store.Cursor) ([]source.Result, error) {
	out := make([]source.Result, len(items))
	var raws []any
	var idx []int
	for i, it := range items {
		if it.Err != nil {
			out[i].Err = it.Err
			continue
		}
		raws = append(raws, json.RawMessage(it.Raw))
		idx = append(idx, i)
	}
	if len(raws) == 0 {
		return out, nil
	}
	var res []ingestResult
	if err := r.c.do(ctx, "POST", "/ingest", raws, &res); err != nil {
		return nil, err
	}
	if len(res) != len(idx) {
		return nil, fmt.Errorf("admin API answered %d results for %d entries", len(res), len(idx))
	}
	for j, x := range res {
		i := idx[j]
		out[i] = source.Result{ID: x.ID, Duplicate: x.Duplicate}
		if x.Error != "" {
			out[i].Err = errors.New(x.Error)
		}
	}
	return out, nil
}
