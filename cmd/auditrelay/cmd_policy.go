package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newPolicyCmd is a placeholder until its package lands.
func newPolicyCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    "policy",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return failure(errors.New("policy: not built yet"))
		},
	}
}
