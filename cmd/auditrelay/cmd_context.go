package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newContextCmd is a placeholder until its package lands.
func newContextCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    "context",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return failure(errors.New("context: not built yet"))
		},
	}
}
