package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newIntegrationsCmd is a placeholder until its package lands.
func newIntegrationsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    "integrations",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return failure(errors.New("integrations: not built yet"))
		},
	}
}
