package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/cmd/auditrelay/internal/show"
	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/duration"
	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/core/relay"
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
	cmd.PersistentFlags().Bool("json", false, "print JSON (the stable format documented in README, \"JSON output\")")

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
				return printJSON(a.stdout, show.DeliveriesJSON(ds))
			}
			return show.Deliveries(a.stdout, ds)
		},
	}
	list.Flags().String("subscription", "", "only this subscription")
	list.Flags().StringSlice("state", nil, "only these states (pending, inflight, delivered, failed, filtered, skipped)")
	list.Flags().Int("limit", 50, "at most this many")

	showCmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a delivery with its attempts and the request an attempt sent",
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
				return printJSON(a.stdout, show.DeliveryDetailOut(d))
			}
			n, _ := cmd.Flags().GetInt("attempt")
			diff, _ := cmd.Flags().GetBool("diff")
			if err := show.Delivery(a.stdout, d, show.DeliveryOptions{Attempt: n, Diff: diff}); err != nil {
				return usageErrorf("%v", err)
			}
			return nil
		},
	}
	showCmd.Flags().Int("attempt", 0, "show the request this attempt sent (default: the last attempt that sent one)")
	showCmd.Flags().Bool("diff", false, "show what would be sent now against what the attempt sent")

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
			resume, _ := cmd.Flags().GetBool("resume")
			in, err := a.attach(cmd, false)
			if err != nil {
				return err
			}
			defer in.Close()
			ctx := cmd.Context()
			// A retry into a paused or disabled subscription would only
			// wait there: the engine refuses it; --resume resumes first.
			held := func(err error, sub func() (string, error)) (bool, error) {
				if !errors.Is(err, api.ErrHeld) {
					return false, nil
				}
				if !resume {
					return false, failure(fmt.Errorf("%w\nnothing was queued; pass --resume to resume the subscription and retry", err))
				}
				name, err := sub()
				if err != nil {
					return false, failure(err)
				}
				if err := in.Resume(ctx, name); err != nil {
					return false, failure(fmt.Errorf("resuming %s: %w", name, err))
				}
				fmt.Fprintf(a.stdout, "resumed %s\n", name)
				return true, nil
			}
			if all {
				n, err := in.RetryAll(ctx, sub)
				if again, herr := held(err, func() (string, error) { return sub, nil }); again {
					n, err = in.RetryAll(ctx, sub)
				} else if herr != nil {
					return herr
				}
				if err != nil {
					return failure(err)
				}
				fmt.Fprintf(a.stdout, "%d failed deliveries of %s are due again\n", n, sub)
				return nil
			}
			err = in.Retry(ctx, args[0])
			again, herr := held(err, func() (string, error) {
				d, err := in.Delivery(ctx, args[0])
				return d.Subscription, err
			})
			if again {
				err = in.Retry(ctx, args[0])
			} else if herr != nil {
				return herr
			}
			if err != nil {
				return failure(err)
			}
			fmt.Fprintf(a.stdout, "%s is due again\n", args[0])
			return nil
		},
	}
	retry.Flags().Bool("all", false, "retry every failed delivery of --subscription")
	retry.Flags().String("subscription", "", "subscription, with --all")
	retry.Flags().Bool("resume", false, "resume the subscription first when it is paused or disabled (a retry alone would wait there)")

	test := &cobra.Command{
		Use:   "test --subscription NAME [--entry FILE|ID]",
		Short: "Send a connection test to a subscription's endpoint and show what it answered",
		Long: `test sends what LaunchDarkly's "validate connection" sends: the
integration's validation template, or, for integrations that send the
standard webhook payload or have no validation template, a sample
flag-toggle entry. --entry sends a stored entry (by id) or an entry's JSON
(a file) instead, as its delivery would be sent. It prints the request as
sent and the answer, and exits 1 unless the endpoint answered 2xx.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := api.TestParams{Subscription: mustFlag(cmd, "subscription")}
			if p.Subscription == "" {
				return usageErrorf("--subscription is required")
			}
			if e := mustFlag(cmd, "entry"); e != "" {
				raw, isFile, err := readEntryArg(e)
				if err != nil {
					return usageErrorf("%v", err)
				}
				if isFile {
					p.Raw = raw
				} else {
					p.EntryID = e
				}
			}
			// A test needs no stored data (unless --entry names an entry), so
			// it works before the first serve; it records the test as an action.
			in, err := a.attach(cmd, true)
			if err != nil {
				return err
			}
			defer in.Close()
			res, err := in.Test(cmd.Context(), p)
			if err != nil {
				return failure(err)
			}
			if asJSON(cmd) {
				if err := printJSON(a.stdout, show.TestJSON(p.Subscription, res)); err != nil {
					return err
				}
			} else {
				show.TestResult(a.stdout, p.Subscription, res)
			}
			if !res.OK {
				return failure(nil)
			}
			return nil
		},
	}
	test.Flags().String("subscription", "", "subscription to test")
	test.Flags().String("entry", "", "send this entry: a stored entry's id, or a file holding an entry's JSON")

	resend := &cobra.Command{
		Use:   "resend --subscription NAME --since 24h|TIME",
		Short: "Send the stored entries of a time range to a subscription, or retry its failed deliveries since then",
		Long: `resend sends every stored entry received since --since (a duration
back from now, such as 24h or 7d, or an RFC 3339 time) to the
subscription as a new delivery with its own id: those its policy allows
and that it has no delivery for yet, so each entry is sent once. It is
how a subscription added today receives the last day's entries.
With --failed it retries instead the subscription's failed deliveries
last updated since then. --dry-run counts without sending. A paused or
disabled subscription is refused unless --resume resumes it first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := api.ResendParams{Subscription: mustFlag(cmd, "subscription"), Kind: mustFlag(cmd, "kind")}
			p.Failed, _ = cmd.Flags().GetBool("failed")
			p.DryRun, _ = cmd.Flags().GetBool("dry-run")
			resume, _ := cmd.Flags().GetBool("resume")
			if p.Subscription == "" {
				return usageErrorf("--subscription is required")
			}
			since, err := parseSince(mustFlag(cmd, "since"), time.Now())
			if err != nil {
				return usageErrorf("--since: %v", err)
			}
			p.Since = since
			in, err := a.attach(cmd, false)
			if err != nil {
				return err
			}
			defer in.Close()
			res, err := in.Resend(cmd.Context(), p)
			if errors.Is(err, api.ErrHeld) {
				if !resume {
					return failure(fmt.Errorf("%w\nnothing was queued; pass --resume to resume the subscription and resend", err))
				}
				if err := in.Resume(cmd.Context(), p.Subscription); err != nil {
					return failure(fmt.Errorf("resuming %s: %w", p.Subscription, err))
				}
				fmt.Fprintf(a.stdout, "resumed %s\n", p.Subscription)
				res, err = in.Resend(cmd.Context(), p)
			}
			if err != nil {
				return failure(err)
			}
			if asJSON(cmd) {
				return printJSON(a.stdout, show.ResendJSON(p, res))
			}
			show.Resend(a.stdout, p, res)
			return nil
		},
	}
	resend.Flags().String("subscription", "", "subscription to send to")
	resend.Flags().String("since", "", "start of the range: a duration back from now (24h, 7d) or an RFC 3339 time")
	resend.Flags().String("kind", "", "only entries of this kind (flag, project, environment, member, ...)")
	resend.Flags().Bool("failed", false, "retry the subscription's failed deliveries since then instead")
	resend.Flags().Bool("dry-run", false, "count what would be sent; send nothing")
	resend.Flags().Bool("resume", false, "resume the subscription first when it is paused or disabled")

	cmd.AddCommand(list, showCmd, retry, test, resend)
	return cmd
}

// parseSince reads --since: a duration back from now (24h, 7d) or an
// RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("required: a duration back from now (24h, 7d) or an RFC 3339 time")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := duration.Parse(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (24h, 7d) nor an RFC 3339 time: %w", s, err)
	}
	return now.Add(-d), nil
}

// maxEntryFile bounds an entry file read for --entry.
const maxEntryFile = 1 << 20

// readEntryArg reads --entry: a file holding one entry's JSON (checked
// here, so a mistake names the file), or, when no such file exists, an
// entry id (isFile false).
func readEntryArg(arg string) (raw []byte, isFile bool, err error) {
	f, err := os.Open(arg)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("--entry: %w", err)
	}
	defer f.Close()
	raw, err = io.ReadAll(io.LimitReader(f, maxEntryFile+1))
	if err != nil {
		return nil, false, fmt.Errorf("--entry %s: %w", arg, err)
	}
	if len(raw) > maxEntryFile {
		return nil, false, fmt.Errorf("--entry %s: larger than 1 MiB; an audit-log entry is far smaller", arg)
	}
	if _, err := auditlog.DecodeEntry(raw); err != nil {
		return nil, false, fmt.Errorf("--entry %s: %w", arg, err)
	}
	return raw, true, nil
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

// attach reaches the instance the command works on: the running one
// through its admin API (--admin-url, or the address recorded in the data
// directory), else the data directory itself. create lets it open a data
// directory that holds no database yet.
func (a *app) attach(cmd *cobra.Command, create bool) (*relay.Instance, error) {
	// Nothing here sends: subscriptions' secrets need not be exported.
	cfg, err := config.LoadWithoutSecrets(a.cfg, a.configPath(), nil)
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
