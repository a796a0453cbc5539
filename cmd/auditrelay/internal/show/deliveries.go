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

// DeliveryOptions choose what Delivery prints of the request.
type DeliveryOptions struct {
	// Attempt is the attempt whose stored request is shown; 0 means the
	// last attempt that stored one.
	Attempt int
	// Diff prints, instead of the stored request, the diff from it to
	// what the subscription would send now.
	Diff bool
}

// Delivery prints a delivery: its state, the request the chosen attempt
// sent (as stored then), and each attempt with the response (the body
// cut at 2,000 characters). Without a stored request (no attempt yet, or
// attempts recorded before requests were kept) it prints the request as
// rendered now, labelled so.
func Delivery(w io.Writer, d api.DeliveryDetail, o DeliveryOptions) error {
	fmt.Fprintf(w, "delivery     %s\nsubscription %s\nentry        %s  %s\n", d.ID, d.Subscription, d.EntryID, d.EntryTitle)
	if d.EntryListItem != "" {
		fmt.Fprintf(w, "             rendered from a list item only: %s\n", d.EntryListItem)
	}
	fmt.Fprintf(w, "state        %s  (%s)\nattempts     %d\n", d.State, d.Reason, len(d.Attempts))
	if !d.NextAttemptAt.IsZero() && d.State == api.Pending {
		fmt.Fprintf(w, "next attempt %s\n", d.NextAttemptAt.Local().Format(time.RFC3339))
	}
	at, err := pickAttempt(d.Attempts, o.Attempt)
	if err != nil {
		return err
	}
	switch {
	case at != nil && o.Diff:
		fmt.Fprintf(w, "\n%s\n", SentLabel(*at))
		if at.Sent.Diff == "" {
			fmt.Fprintln(w, "  the subscription would send the same request now")
		} else {
			fmt.Fprintf(w, "%s\n", indent(at.Sent.Diff, "  "))
		}
	case at != nil:
		fmt.Fprintf(w, "\n%s\n", SentLabel(*at))
		sentRequest(w, *at.Sent)
	case o.Diff:
		fmt.Fprintln(w, "\nno attempt of this delivery stored its request: nothing to compare")
		fallthrough
	default:
		fmt.Fprintf(w, "\nrequest that would be sent now (%s)\n  %s %s\n", d.Request.Note, d.Request.Method, d.Request.URL)
		for _, h := range d.Request.Headers {
			fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Value)
		}
		if d.Request.Skipped != "" {
			fmt.Fprintf(w, "  (nothing sent: %s)\n", d.Request.Skipped)
		} else {
			fmt.Fprintf(w, "\n%s\n", indent(d.Request.Body, "  "))
		}
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
}

// pickAttempt returns attempt n, or with n == 0 the last attempt that
// stored its request; nil when none did.
func pickAttempt(as []api.AttemptView, n int) (*api.AttemptView, error) {
	if n == 0 {
		for i := len(as) - 1; i >= 0; i-- {
			if as[i].Sent != nil {
				return &as[i], nil
			}
		}
		return nil, nil
	}
	for i := range as {
		if as[i].Number == n {
			if as[i].Sent == nil {
				return nil, fmt.Errorf("attempt %d sent no request (or was recorded before requests were kept)", n)
			}
			return &as[i], nil
		}
	}
	return nil, fmt.Errorf("the delivery has no attempt %d (it has %d)", n, len(as))
}

// SentLabel is the heading of a stored request: which attempt, when, and
// the versions of the template and form values it was rendered with.
func SentLabel(at api.AttemptView) string {
	s := at.Sent
	tpl := "standard payload (no template)"
	if s.Template != "" {
		tpl = "template " + s.Template + " @ " + short(s.TemplateHash)
	}
	return fmt.Sprintf("sent by attempt %d at %s · %s · form values @ %s", at.Number, s.At.Local().Format(time.RFC3339), tpl, short(s.VarsHash))
}

// sentRequest prints a stored request as it went out (secrets masked).
func sentRequest(w io.Writer, s api.SentRequest) {
	fmt.Fprintf(w, "  %s %s\n", s.Method, s.URL)
	for _, h := range s.Headers {
		fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Value)
	}
	switch {
	case s.BodyError != "":
		fmt.Fprintf(w, "\n  (body not readable: %s)\n", s.BodyError)
	case s.BodySize == 0:
		fmt.Fprintln(w, "\n  (empty body)")
	default:
		fmt.Fprintf(w, "\n%s\n", indent(s.Body, "  "))
	}
}

// short is the first 12 characters of a hash.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "-"
	}
	return h
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
