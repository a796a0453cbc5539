package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newRenderCmd is a placeholder until its package lands.
func newRenderCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    "render",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return failure(errors.New("render: not built yet"))
		},
	}
}
