package show

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// Deliveries prints deliveries as a table, one line each.
func Deliveries(w io.Writer, ds []api.DeliveryView) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
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
}

// Delivery prints a delivery: its state, the request it makes, and each
// attempt with the response (the body cut at 2,000 characters).
func Delivery(w io.Writer, d api.DeliveryDetail) {
	fmt.Fprintf(w, "delivery     %s\nsubscription %s\nentry        %s  %s\n", d.ID, d.Subscription, d.EntryID, d.EntryTitle)
	if d.EntryListItem != "" {
		fmt.Fprintf(w, "             rendered from a list item only: %s\n", d.EntryListItem)
	}
	fmt.Fprintf(w, "state        %s  (%s)\nattempts     %d\n", d.State, d.Reason, len(d.Attempts))
	if !d.NextAttemptAt.IsZero() && d.State == api.Pending {
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
}

// truncate puts s on one line of at most n characters.
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
