package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/spf13/cobra"
)

// deliveriesAPI is what the deliveries commands need, served by a running
// instance's admin API or by the data directory directly.
type deliveriesAPI interface {
	list(ctx context.Context, sub string, states []string, limit int) ([]engine.DeliveryView, error)
	show(ctx context.Context, id string) (engine.DeliveryDetail, error)
	retry(ctx context.Context, id string) error
	retryAll(ctx context.Context, sub string) (int, error)
}

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
			api, done, err := a.deliveriesAPI(cmd)
			if err != nil {
				return err
			}
			defer done()
			sub, _ := cmd.Flags().GetString("subscription")
			states, _ := cmd.Flags().GetStringSlice("state")
			limit, _ := cmd.Flags().GetInt("limit")
			ds, err := api.list(cmd.Context(), sub, states, limit)
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
			api, done, err := a.deliveriesAPI(cmd)
			if err != nil {
				return err
			}
			defer done()
			d, err := api.show(cmd.Context(), args[0])
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
			api, done, err := a.deliveriesAPI(cmd)
			if err != nil {
				return err
			}
			defer done()
			if all {
				n, err := api.retryAll(cmd.Context(), sub)
				if err != nil {
					return failure(err)
				}
				fmt.Fprintf(a.stdout, "%d failed deliveries of %s are due again\n", n, sub)
				return nil
			}
			if err := api.retry(cmd.Context(), args[0]); err != nil {
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

// deliveriesAPI picks the running instance, or the data directory when
// none answers.
func (a *app) deliveriesAPI(cmd *cobra.Command) (deliveriesAPI, func(), error) {
	cfg, err := config.Load(a.cfg, a.configPath(), nil)
	if err != nil {
		return nil, nil, usageErrorf("invalid configuration:\n%v", err)
	}
	if dd, _ := cmd.Flags().GetString("data-dir"); dd != "" {
		cfg.DataDir = dd
	}
	client, cerr := newAdminClient(mustFlag(cmd, "admin-url"), cfg.DataDir, cfg.Admin.Token.Value)
	if cerr == nil {
		ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
		var subs []engine.SubscriptionInfo
		err := client.do(ctx, "GET", "/subscriptions", nil, &subs)
		cancel()
		if err == nil {
			return remoteDeliveries{client}, func() {}, nil
		}
		var ne net.Error
		var oe *net.OpError
		if !errors.As(err, &oe) && !errors.As(err, &ne) {
			return nil, nil, failure(err) // it answered, and refused
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "auditrelay.db")); err != nil && cfg.Store == "" {
		return nil, nil, failure(fmt.Errorf("no running instance answered and %s holds no database", cfg.DataDir))
	}
	cfg.Admin.Listen = ""
	rt, err := openRuntime(cmd.Context(), cfg, slog.New(slog.DiscardHandler), runtimeOptions{NoListeners: true})
	if err != nil {
		return nil, nil, failure(err)
	}
	return localDeliveries{rt.eng}, rt.close, nil
}

func mustFlag(cmd *cobra.Command, name string) string {
	v, _ := cmd.Flags().GetString(name)
	return v
}

type remoteDeliveries struct{ c *adminClient }

func (r remoteDeliveries) list(ctx context.Context, sub string, states []string, limit int) ([]engine.DeliveryView, error) {
	return r.c.deliveries(ctx, sub, states, limit)
}

func (r remoteDeliveries) show(ctx context.Context, id string) (engine.DeliveryDetail, error) {
	var d engine.DeliveryDetail
	return d, r.c.do(ctx, "GET", "/deliveries/"+id, nil, &d)
}

func (r remoteDeliveries) retry(ctx context.Context, id string) error {
	return r.c.do(ctx, "POST", "/deliveries/"+id+"/retry", nil, nil)
}

func (r remoteDeliveries) retryAll(ctx context.Context, sub string) (int, error) {
	var out struct{ Retried int }
	return out.Retried, r.c.do(ctx, "POST", "/subscriptions/"+sub+"/retry-failed", nil, &out)
}

type localDeliveries struct{ e *engine.Engine }

func (l localDeliveries) list(ctx context.Context, sub string, states []string, limit int) ([]engine.DeliveryView, error) {
	var ss []engine.State
	for _, s := range states {
		ss = append(ss, engine.State(s))
	}
	return l.e.Deliveries(ctx, engine.DeliveryQuery{Subscription: sub, States: ss, Limit: limit})
}

func (l localDeliveries) show(ctx context.Context, id string) (engine.DeliveryDetail, error) {
	return l.e.Delivery(ctx, id)
}

func (l localDeliveries) retry(ctx context.Context, id string) error {
	return l.e.Retry(ctx, cliActor(), id)
}

func (l localDeliveries) retryAll(ctx context.Context, sub string) (int, error) {
	return l.e.RetryAll(ctx, cliActor(), sub)
}

func cliActor() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}
