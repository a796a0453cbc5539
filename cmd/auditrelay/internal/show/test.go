package show

import (
	"fmt"
	"io"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// TestResult prints a connection test: the outcome line first (the same
// line the console shows), then the request as sent (or as rendered when
// nothing was sent), then the answer.
func TestResult(w io.Writer, sub string, r api.TestResult) {
	mark := "✗"
	if r.OK {
		mark = "✓"
	}
	fmt.Fprintf(w, "%s test of %s (%s): %s\n", mark, sub, r.What, r.Outcome)
	if r.Sent != nil {
		fmt.Fprintf(w, "\nrequest sent at %s\n", r.Sent.At.Local().Format(time.RFC3339))
		sentRequest(w, *r.Sent)
	} else {
		fmt.Fprintf(w, "\nrequest rendered, not sent\n  %s %s\n", r.Request.Method, r.Request.URL)
		for _, h := range r.Request.Headers {
			fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Value)
		}
		if r.Request.Body != "" {
			fmt.Fprintf(w, "\n%s\n", indent(r.Request.Body, "  "))
		}
		return
	}
	fmt.Fprintln(w, "\nanswer")
	if r.StatusCode != 0 {
		fmt.Fprintf(w, "  status   %d\n  latency  %d ms\n", r.StatusCode, r.Duration.Milliseconds())
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error    %s\n", r.Error)
	}
	if r.Body != "" {
		fmt.Fprintf(w, "%s\n", indent(truncate(r.Body, 2000), "  | "))
	}
}

// Resend prints what a resend did (or, on a dry run, would do).
func Resend(w io.Writer, p api.ResendParams, r api.ResendResult) {
	since := p.Since.Local().Format(time.RFC3339)
	verb := "queued"
	if p.DryRun {
		verb = "would queue"
	}
	if p.Failed {
		fmt.Fprintf(w, "%s: %d failed deliveries updated since %s; %s %d retries\n", p.Subscription, r.InRange, since, verb, r.Queued)
	} else {
		fmt.Fprintf(w, "%s: %d entries received since %s, %d allowed by its policy, %d already sent or queued; %s %d new deliveries\n",
			p.Subscription, r.InRange, since, r.Allowed, r.Already, verb, r.Queued)
	}
	for _, id := range r.Delivery {
		fmt.Fprintf(w, "  %s\n", id)
	}
	if r.Queued > len(r.Delivery) && !p.DryRun {
		fmt.Fprintf(w, "  … and %d more\n", r.Queued-len(r.Delivery))
	}
}
