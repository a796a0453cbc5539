package relay

import (
	"context"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// editKinds are the actions that change a subscription's configuration:
// what `auditrelay config history` lists.
var editKinds = map[string]bool{"edit-vars": true, "edit-template": true, "undo": true}

// History lists the configuration edits made from consoles (form values,
// templates, undos) at or after since, newest first, optionally of one
// subscription. Records never hold secret values, only which variables
// changed and templates' hashes.
func (in *Instance) History(ctx context.Context, since time.Time, subscription string, limit int) ([]api.Action, error) {
	// Other actions share the log: read more than limit, then filter.
	acts, err := in.ops.Actions(ctx, since, min(max(limit, 1)*10, 1000))
	if err != nil {
		return nil, err
	}
	var out []api.Action
	for _, a := range acts {
		if editKinds[a.Kind] && (subscription == "" || a.Target == subscription) {
			out = append(out, a)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}
