package show

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// History prints configuration edits, newest first, one line each.
func History(w io.Writer, acts []api.Action) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tWHO\tWHAT\tSUBSCRIPTION\tDETAIL")
	for _, a := range acts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.At.Local().Format(time.DateTime), a.Actor, a.Kind, a.Target, a.Detail)
	}
	return tw.Flush()
}
