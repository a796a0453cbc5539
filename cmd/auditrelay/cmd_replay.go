package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/cmd/auditrelay/internal/show"
	"github.com/auditrelay/auditrelay/core/source"
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
duplicates; malformed ones are reported with their line numbers.

A saved page of LaunchDarkly's audit-log API holds list items, which lack
the full entry's currentVersion, previousVersion and delta: templates that
read the resource's version (a flag's custom properties, its tags) render
without it. replay counts them, and stores them marked as list items.
--fetch-details fetches each one's full entry first (GET
/api/v2/auditlog/{id}, within LaunchDarkly's rate limits) with the API
token of sources.poller (or --api-token, --api-url).`,
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
			in, err := a.attach(cmd, true)
			if err != nil {
				return err
			}
			defer in.Close()
			if !in.Remote() {
				fmt.Fprintf(a.stderr, "no running instance answered; storing into %s\n", in.Where())
			}
			pr := show.NewProgress(a.stderr, isTerminal(a.stderr), size)
			rp := &source.Replayer{Ingester: in, OnProgress: pr.Update}
			fetch, _ := cmd.Flags().GetBool("fetch-details")
			if fetch {
				d, err := a.detailFetcher(cmd)
				if err != nil {
					return err
				}
				rp.Details = d
			}
			prog, err := rp.Replay(cmd.Context(), r)
			pr.Finish(prog)
			if line := show.ListItemsLine(prog, fetch); line != "" {
				fmt.Fprintln(a.stderr, line)
			}
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
	cmd.Flags().Bool("fetch-details", false, "fetch the full entry of each list item from LaunchDarkly's API before storing it")
	cmd.Flags().String("api-url", "", "LaunchDarkly's API base URL for --fetch-details (default: sources.poller.base_url)")
	cmd.Flags().String("api-token", "", "access token for --fetch-details, or env:NAME to read it from $NAME (default: sources.poller.token)")
	return cmd
}

// detailFetcher is the poller's full-entry fetcher, set up from the flags
// and the configuration's sources.poller.
func (a *app) detailFetcher(cmd *cobra.Command) (*source.Poller, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	base, _ := cmd.Flags().GetString("api-url")
	if base == "" {
		base = cfg.Poller.BaseURL
	}
	token, _ := cmd.Flags().GetString("api-token")
	if name, ok := strings.CutPrefix(token, "env:"); ok {
		if token = os.Getenv(name); token == "" {
			return nil, usageErrorf("--api-token env:%s: $%s is empty or unset", name, name)
		}
	}
	if token == "" {
		token = cfg.Poller.Token.Value
	}
	if token == "" {
		return nil, usageErrorf("--fetch-details needs an access token with reader access to the audit log: --api-token env:NAME, or sources.poller.token")
	}
	p, err := source.NewPoller(source.PollerConfig{BaseURL: base, Token: token, UserAgent: "auditrelay/" + version}, nil, nil)
	if err != nil {
		return nil, usageErrorf("--fetch-details: %v", err)
	}
	return p, nil
}
