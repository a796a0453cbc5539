package main

import (
	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/devkit"
)

// newIntegrationsCmd groups the commands about known integrations.
func newIntegrationsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "integrations",
		Short: "List the built-in and loaded integrations",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newIntegrationsListCmd(a))
	return cmd
}

func newIntegrationsListCmd(a *app) *cobra.Command {
	var (
		dirs   []string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "list [--dir DIR]... [--json]",
		Aliases: []string{"ls"},
		Short:   "List integrations with their templates and form variables",
		Long: `List the built-in integrations and those loaded from --integrations-dir
and --dir, with their templates and form variables.

A DIR is an integration directory (manifest.json plus templates/) or a
directory of them, such as the integration framework's integrations/ folder.
An integration in a directory replaces a built-in of the same name.
Integrations that fail validation are left out and reported on stderr; run
"auditrelay validate DIR" for the details.

Form variable marks: REQUIRED "yes" when an operator must supply a value;
SECRET "yes" when the value is masked wherever auditrelay shows it.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			configured, err := a.integrationsDirs()
			if err != nil {
				return err
			}
			return devkit.ListIntegrations(append(configured, dirs...), asJSON, a.streams())
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "dir", nil, "also load integrations from `DIR` (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// integrationsDirs returns the configured integrations directories
// (--integrations-dir, AUDITRELAY_INTEGRATIONS_DIRS or integrations_dirs in
// the config file).
func (a *app) integrationsDirs() ([]string, error) {
	// Listing sends nothing: subscriptions' secrets need not be exported.
	cfg, err := config.LoadWithoutSecrets(a.cfg, a.configPath(), nil)
	if err != nil {
		return nil, usageErrorf("invalid configuration:\n%v", err)
	}
	return cfg.IntegrationsDirs, nil
}
