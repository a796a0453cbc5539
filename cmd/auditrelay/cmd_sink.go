package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/sink"
)

func newSinkCmd(a *app) *cobra.Command {
	var (
		listen string
		asJSON bool
		status int
	)
	cmd := &cobra.Command{
		Use:   "sink [--listen ADDR] [--json] [--status CODE]",
		Short: "Run a local HTTP endpoint that prints every request it receives",
		Long: `sink answers every request on ADDR (default ` + sink.DefaultAddr + `) and prints it:
method, path, headers (credentials masked) and body. Point subscriptions at
it (config.example.yaml does) to see what auditrelay sends before real
endpoints are set up. --status makes it answer with another code (500 to
watch retries, 410 to see a subscription disabled). It stops on Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sink.Listen(listen, sink.Options{Out: a.stdout, JSON: asJSON, Status: status})
			if err != nil {
				return failure(err)
			}
			fmt.Fprintf(a.stderr, "sink: listening on http://%s; every request is printed below (Ctrl-C stops)\n", s.Addr())
			if err := s.Serve(cmd.Context()); err != nil {
				return failure(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", sink.DefaultAddr, "address to listen on")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each request as a JSON line")
	cmd.Flags().IntVar(&status, "status", 200, "HTTP status to answer with")
	return cmd
}
