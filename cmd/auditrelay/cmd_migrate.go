package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/relay"
)

func newMigrateCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate [--store URL] [--check]",
		Short: "Create or upgrade the store's schema",
		Long: `migrate brings the configured store's schema (store, --store) up to this
binary's version and exits. On PostgreSQL it holds an advisory lock while it
works, so it is safe to run while instances start.

serve migrates on start by default. To make schema changes a deliberate
step of a deploy, add auditrelay_migrate=manual to the PostgreSQL URL:
instances then refuse to start on an outdated schema until migrate ran.
Every instance refuses a schema newer than itself (a rollback after a
newer version migrated), whatever the mode.

--check only reports the versions and exits 1 when a migration is needed.
The embedded SQLite store always migrates when opened.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if check, _ := cmd.Flags().GetBool("check"); check {
				if relay.IsSQLite(cfg.Store) {
					return usageErrorf("--check applies to PostgreSQL stores; SQLite migrates whenever it is opened")
				}
				report, current, err := relay.CheckSchema(cmd.Context(), cfg)
				if err != nil {
					return failure(err)
				}
				fmt.Fprintln(a.stdout, report)
				if !current {
					return failure(nil)
				}
				return nil
			}
			report, err := relay.Migrate(cmd.Context(), cfg)
			if err != nil {
				return failure(err)
			}
			fmt.Fprintln(a.stdout, report)
			return nil
		},
	}
	cmd.Flags().String("store", "", "store: empty for SQLite in the data directory, or a postgres:// URL")
	cmd.Flags().String("data-dir", "", "data directory (for the SQLite store)")
	cmd.Flags().Bool("check", false, "report the schema version; exit 1 when a migration is needed")
	return cmd
}
