package main

import (
	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/devkit"
)

// newContextCmd prints the template context built from a raw audit-log
// entry: what an integration's templates see for that entry.
func newContextCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "context --entry FILE",
		Short: "Print the template context built from a LaunchDarkly audit-log entry",
		Long: `Reads a raw LaunchDarkly audit-log entry (a webhook body or the response of
GET /api/v2/auditlog/{id}) and prints the template context that integration
templates render with, as indented JSON.

FILE may be "-" for standard input. A JSON array of entries, a list page
({"items": [...]}) or NDJSON prints a JSON array of contexts.`,
		Example: `  auditrelay context --entry entry.json
  curl -s -H "Authorization: $LD_TOKEN" https://app.launchdarkly.com/api/v2/auditlog/ID | auditrelay context --entry -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := cmd.Flags().GetString("entry")
			if err != nil {
				return usageErrorf("context: %v", err)
			}
			baseURL, err := cmd.Flags().GetString("base-url")
			if err != nil {
				return usageErrorf("context: %v", err)
			}
			if !cmd.Flags().Changed("base-url") {
				// The relay's own setting (base_url in the config file or
				// AUDITRELAY_BASE_URL), so the preview matches what it sends.
				cfg, err := a.config()
				if err != nil {
					return err
				}
				baseURL = cfg.BaseURL
			}
			return devkitError(devkit.Context(path, baseURL, a.streams()))
		},
	}
	cmd.Flags().String("entry", "", `audit-log entry JSON file, or "-" for standard input (required)`)
	cmd.Flags().String("base-url", "", "LaunchDarkly app URL for links and the context's baseURL\n(default: base_url from the configuration, else "+auditlog.DefaultBaseURL+")")
	return cmd
}
