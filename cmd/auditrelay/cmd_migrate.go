package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/postgres"
	"github.com/auditrelay/auditrelay/core/store/sqlite"
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
			check, _ := cmd.Flags().GetBool("check")
			ctx := cmd.Context()
			if cfg.Store == "" || strings.HasPrefix(cfg.Store, "sqlite:") {
				if check {
					return usageErrorf("--check applies to PostgreSQL stores; SQLite migrates whenever it is opened")
				}
				path := strings.TrimPrefix(cfg.Store, "sqlite:")
				if path == "" {
					if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
						return failure(fmt.Errorf("data directory: %w", err))
					}
					path = filepath.Join(cfg.DataDir, "auditrelay.db")
				}
				st, err := sqlite.Open(ctx, sqlite.Options{Path: path, Instance: cfg.Instance})
				if err != nil {
					return failure(fmt.Errorf("opening %s: %w", path, err))
				}
				if err := st.Close(); err != nil {
					return failure(err)
				}
				fmt.Fprintf(a.stdout, "%s: schema up to date\n", path)
				return nil
			}
			o := postgres.Options{URL: cfg.Store, Instance: cfg.Instance}
			where := redactURL(cfg.Store)
			if check {
				schema, db, bin, err := postgres.Status(ctx, o)
				if err != nil {
					return failure(fmt.Errorf("%s: %w", where, err))
				}
				switch {
				case db > bin:
					return failure(fmt.Errorf("%s, schema %s: version %d is newer than this binary's %d: %w", where, schema, db, bin, store.ErrSchemaTooNew))
				case db < bin:
					fmt.Fprintf(a.stdout, "%s, schema %s: version %d, this binary needs %d: run auditrelay migrate\n", where, schema, db, bin)
					return failure(nil)
				}
				fmt.Fprintf(a.stdout, "%s, schema %s: up to date at version %d\n", where, schema, db)
				return nil
			}
			schema, applied, err := postgres.Migrate(ctx, o)
			if err != nil {
				if errors.Is(err, store.ErrSchemaTooNew) {
					return failure(fmt.Errorf("%s: %w (upgrade auditrelay instead)", where, err))
				}
				return failure(fmt.Errorf("%s: %w", where, err))
			}
			if len(applied) == 0 {
				fmt.Fprintf(a.stdout, "%s, schema %s: up to date at version %d\n", where, schema, postgres.LatestVersion())
				return nil
			}
			fmt.Fprintf(a.stdout, "%s, schema %s: applied %s; now at version %d\n", where, schema, versionList(applied), postgres.LatestVersion())
			return nil
		},
	}
	cmd.Flags().String("store", "", "store: empty for SQLite in the data directory, or a postgres:// URL")
	cmd.Flags().String("data-dir", "", "data directory (for the SQLite store)")
	cmd.Flags().Bool("check", false, "report the schema version; exit 1 when a migration is needed")
	return cmd
}

func versionList(vs []int) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%04d", v)
	}
	return "migration " + strings.Join(parts, ", ")
}
