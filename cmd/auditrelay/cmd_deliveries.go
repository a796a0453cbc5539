package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/spf13/cobra"
)

func newDeliveriesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "List, show and retry deliveries of a running instance or a data directory",
		Long: `deliveries talks to a running instance through its admin API (the address
and token it recorded in its data directory, or --admin-url and admin.token),
and, when none is running, opens the data directory itself.`,
	}
	cmd.PersistentFlags().String("admin-url", "", "admin API of a running instance (default: the address recorded in the data directory)")
	cmd.PersistentFlags().String("data-dir", "", "data directory")
	cmd.PersistentFlags().Bool("json", false, "print JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List deliveries, most recently updated first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := a.attach(cmd, false)
			if err != nil {
				return err
			}
			defer in.Close()
			q := engine.DeliveryQuery{Subscription: mustFlag(cmd, "subscription")}
			states, _ := cmd.Flags().GetStringSlice("state")
			for _, s := range states {
				q.States = append(q.States, engine.State(s))
			}
			q.Limit, _ = cmd.Flags().GetInt("limit")
			ds, err := in.Deliveries(cmd.Context(), q)
			if err != nil {
				return failure(err)
			}
			if asJSON(cmd) {
				return printJSON(a.stdout, ds)
			}
			tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSUBSCRIPTION\tSTATE\tATTEMPTS\tLAST\tUPDATED\tENTRY\tREASON")
			for _, d := range ds {
				last := "-"
				if d.LastStatus != 0 {
					last = fmt.Sprintf("%d in %s", d.LastStatus, d.LastLatency.Round(time.Millisecond))
				} else if d.LastError != "" {
					last = "error"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.ID, d.Subscription, d.State, d.Attempts, last, d.UpdatedAt.Local().Format("15:04:05"), truncate(d.EntryTitle, 40), truncate(d.Reason, 60))
			}
			return tw.Flush()
		},
	}
	list.Flags().String("subscription", "", "only this subscription")
	list.Flags().StringSlice("state", nil, "only these states (pending, inflight, delivered, failed, filtered, skipped)")
	list.Flags().Int("limit", 50, "at most this many")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a delivery with its attempts and the request it makes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := a.attach(cmd, false)
			if err != nil {
				return err
			}
			defer in.Close()
			d, err := in.Delivery(cmd.Context(), args[0])
			if err != nil {
				return failure(err)
			}
			if asJSON(cmd) {
				return printJSON(a.stdout, d)
			}
			w := a.stdout
			fmt.Fprintf(w, "delivery     %s\nsubscription %s\nentry        %s  %s\nstate        %s  (%s)\nattempts     %d\n", d.ID, d.Subscription, d.EntryID, d.EntryTitle, d.State, d.Reason, len(d.Attempts))
			if !d.NextAttemptAt.IsZero() && d.State == engine.Pending {
				fmt.Fprintf(w, "next attempt %s\n", d.NextAttemptAt.Local().Format(time.RFC3339))
			}
			fmt.Fprintf(w, "\nrequest (%s)\n  %s %s\n", d.Request.Note, d.Request.Method, d.Request.URL)
			for _, h := range d.Request.Headers {
				fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Value)
			}
			if d.Request.Skipped != "" {
				fmt.Fprintf(w, "  (nothing sent: %s)\n", d.Request.Skipped)
			} else {
				fmt.Fprintf(w, "\n%s\n", indent(d.Request.Body, "  "))
			}
			for _, at := range d.Attempts {
				fmt.Fprintf(w, "\nattempt %d  %s  %s  %s", at.Number, at.StartedAt.Local().Format(time.RFC3339), at.Trigger, at.Duration.Round(time.Millisecond))
				if at.StatusCode != 0 {
					fmt.Fprintf(w, "  HTTP %d", at.StatusCode)
				}
				if at.Error != "" {
					fmt.Fprintf(w, "  %s: %s", at.ErrorClass, at.Error)
				}
				fmt.Fprintln(w)
				for _, h := range at.ResponseHeaders {
					fmt.Fprintf(w, "  < %s: %s\n", h.Name, h.Value)
				}
				if at.ResponseBody != "" {
					fmt.Fprintf(w, "%s\n", indent(truncate(at.ResponseBody, 2000), "  | "))
				}
			}
			return nil
		},
	}

	retry := &cobra.Command{
		Use:   "retry [ID]",
		Short: "Retry a failed delivery, or with --all every failed delivery of a subscription",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			all, _ := cmd.Flags().GetBool("all")
			sub, _ := cmd.Flags().GetString("subscription")
			if all == (len(args) == 1) || (all && sub == "") {
				return usageErrorf("give a delivery ID, or --all --subscription NAME")
			}
			in, err := a.attach(cmd, false)
			if err != nil {
				return err
			}
			defer in.Close()
			if all {
				n, err := in.RetryAll(cmd.Context(), sub)
				if err != nil {
					return failure(err)
				}
				fmt.Fprintf(a.stdout, "%d failed deliveries of %s are due again\n", n, sub)
				return nil
			}
			if err := in.Retry(cmd.Context(), args[0]); err != nil {
				return failure(err)
			}
			fmt.Fprintf(a.stdout, "%s is due again\n", args[0])
			return nil
		},
	}
	retry.Flags().Bool("all", false, "retry every failed delivery of --subscription")
	retry.Flags().String("subscription", "", "subscription, with --all")

	cmd.AddCommand(list, show, retry)
	return cmd
}

func asJSON(cmd *cobra.Command) bool {
	j, _ := cmd.Flags().GetBool("json")
	return j
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

// attach reaches the instance the command works on: the running one
// through its admin API (--admin-url, or the address recorded in the data
// directory), else the data directory itself. create lets it open a data
// directory that holds no database yet.
func (a *app) attach(cmd *cobra.Command, create bool) (*relay.Instance, error) {
	cfg, err := config.Load(a.cfg, a.configPath(), nil)
	if err != nil {
		return nil, usageErrorf("invalid configuration:\n%v", err)
	}
	if dd := mustFlag(cmd, "data-dir"); dd != "" {
		cfg.DataDir = dd
	}
	in, err := relay.Attach(cmd.Context(), cfg, relay.AttachOptions{AdminURL: mustFlag(cmd, "admin-url"), Create: create, User: os.Getenv("USER")})
	if err != nil {
		return nil, failure(err)
	}
	return in, nil
}

func mustFlag(cmd *cobra.Command, name string) string {
	v, _ := cmd.Flags().GetString(name)
	return v
}
