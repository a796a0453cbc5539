package sqlite

import (
	"context"
	"slices"

	"github.com/auditrelay/auditrelay/core/store"
)

// maxChangeIDs caps Change.IDs; a change is a hint, readers query for more.
const maxChangeIDs = 256

// Watch streams changes committed by this store until ctx ends or the store
// closes; then the channel is closed. A watcher that does not keep up loses
// changes, counted in the Lost field of the next change it gets.
func (s *Store) Watch(ctx context.Context) <-chan store.Change {
	return s.hub.Add(ctx)
}

// publish hands committed changes to every watcher without blocking.
func (s *Store) publish(changes []store.Change) { s.hub.Publish(changes...) }

// mergeChanges folds the changes of one commit into one Change per kind,
// subscriptions deduplicated and sorted, IDs capped at maxChangeIDs.
func mergeChanges(instance string, perRequest [][]store.Change) []store.Change {
	var out []store.Change
	index := map[store.ChangeKind]int{}
	for _, cs := range perRequest {
		for _, c := range cs {
			i, ok := index[c.Kind]
			if !ok {
				i = len(out)
				index[c.Kind] = i
				out = append(out, store.Change{Kind: c.Kind, Instance: instance})
			}
			m := &out[i]
			m.Subscriptions = append(m.Subscriptions, c.Subscriptions...)
			if room := maxChangeIDs - len(m.IDs); room > 0 {
				m.IDs = append(m.IDs, c.IDs[:min(room, len(c.IDs))]...)
			}
		}
	}
	for i := range out {
		slices.Sort(out[i].Subscriptions)
		out[i].Subscriptions = slices.Compact(out[i].Subscriptions)
	}
	return out
}
