package main

import (
	"fmt"
	"io"
	"os"

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
