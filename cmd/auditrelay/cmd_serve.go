package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/relay"
)

func newServeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the relay headless: receive, store and deliver entries",
		Long: `serve runs the engine without a console: the LaunchDarkly webhook receiver
and /healthz, /readyz, /metrics on http.listen; the poller when
sources.poller.enabled; the token-protected admin API on admin.listen; and,
with --ssh, the console for operators over SSH.

It stops on SIGINT or SIGTERM: it stops accepting entries, lets in-flight
deliveries finish (or records them as due again) and closes the store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			log, flushLog := relay.NewLogger(cfg, a.stderr)
			defer flushLog()
			relay.TuneRuntime(cfg.Runtime, os.LookupEnv, log)
			rt, err := relay.Open(cmd.Context(), cfg, log, relay.Options{Version: version})
			if err != nil {
				return failure(err)
			}
			defer rt.Close()
			stopSSH, err := startSSH(cmd.Context(), cfg, rt, log)
			if err != nil {
				return failure(err)
			}
			defer stopSSH()
			log.Info("auditrelay started", "version", version, "instance", cfg.Instance, "subscriptions", len(cfg.Subscriptions))
			if err := rt.Run(cmd.Context()); err != nil {
				return failure(err)
			}
			log.Info("auditrelay stopped")
			return nil
		},
	}
	addServeFlags(cmd)
	return cmd
}

// addServeFlags are the flags of commands that run the engine.
func addServeFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("data-dir", "", "data directory (SQLite database, SSH host key, edited templates)")
	f.String("store", "", "store: empty for SQLite in the data directory, or a postgres:// URL")
	f.String("listen", "", "address of the webhook receiver, /healthz, /readyz and /metrics (default 127.0.0.1:8080)")
	f.String("admin-listen", "", "address of the admin API (default 127.0.0.1:8081; empty string keeps the default)")
	f.String("ssh", "", "serve the console over SSH on this address (e.g. :2222)")
	f.String("authorized-keys", "", "with --ssh: the keys that may connect, one per line: role=operator,name=alice ssh-ed25519 AAAA...")
	f.String("log-level", "", "debug, info, warn or error")
	f.String("log-format", "", "text or json")
}
