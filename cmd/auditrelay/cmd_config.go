package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/cmd/auditrelay/internal/show"
	"github.com/auditrelay/auditrelay/core/duration"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "What consoles changed in the configuration",
	}
	history := &cobra.Command{
		Use:   "history [--subscription NAME] [--since 7d]",
		Short: "List form-variable, template and undo edits made from consoles, newest first",
		Long: `history lists every configuration edit made from a console (local or over
SSH): when, who (local:<user> or the SSH key's name), which subscription,
which form variables changed or which template with its old and new
sha256 hash, and undos. Secret values are never recorded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := a.attach(cmd, false)
			if err != nil {
				return err
			}
			defer in.Close()
			var since time.Time
			if s := mustFlag(cmd, "since"); s != "" {
				d, err := duration.Parse(s)
				if err != nil {
					return usageErrorf("--since: %v", err)
				}
				since = time.Now().Add(-d)
			}
			limit, _ := cmd.Flags().GetInt("limit")
			acts, err := in.History(cmd.Context(), since, mustFlag(cmd, "subscription"), limit)
			if err != nil {
				return failure(err)
			}
			if asJSON(cmd) {
				return printJSON(a.stdout, acts)
			}
			return show.History(a.stdout, acts)
		},
	}
	history.Flags().String("subscription", "", "only this subscription")
	history.Flags().String("since", "", "only edits this recent (e.g. 24h, 7d)")
	history.Flags().Int("limit", 100, "at most this many")
	cmd.PersistentFlags().String("admin-url", "", "admin API of a running instance (default: the address recorded in the data directory)")
	cmd.PersistentFlags().String("data-dir", "", "data directory")
	cmd.PersistentFlags().Bool("json", false, "print JSON")
	cmd.AddCommand(history)
	return cmd
}
