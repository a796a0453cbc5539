package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newValidateCmd is a placeholder until its package lands.
func newValidateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    "validate",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return failure(errors.New("validate: not built yet"))
		},
	}
}
