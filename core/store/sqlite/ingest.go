package sqlite

import (
	"context"
	"fmt"

	"github.com/auditrelay/auditrelay/core/store"
)

// Ingest stores new entries with their deliveries, and the cursor, in one
// commit; see store.Store.
func (s *Store) Ingest(ctx context.Context, entries []store.NewEntry, cursor *store.Cursor) ([]store.IngestResult, error) {
	if err := store.ValidateIngest(entries, cursor); err != nil {
		return nil, err
	}
	if len(entries) == 0 && cursor == nil {
		return []store.IngestResult{}, nil
	}
	return do(ctx, s, durable, func(w *wtx) ([]store.IngestResult, error) {
		return w.ingest(entries, cursor)
	})
}

const (
	sqlInsertEntry = `INSERT INTO entries (id, date_ms, received_ms, source, kind, title, member, project, environment, raw, list_item)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	sqlInsertDelivery = `INSERT INTO deliveries (id, entry_id, subscription, state, reason, next_attempt_ms, created_ms, updated_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	// A leased delivery is stored as Claim leaves one: in flight, first
	// attempt counted (the fencing token), lease owner and expiry set.
	sqlInsertLeased = `INSERT INTO deliveries (id, entry_id, subscription, state, reason, next_attempt_ms, created_ms, updated_ms,
			attempts, lease_owner, lease_until_ms, last_attempt_ms)
		VALUES (?, ?, ?, 'inflight', ?, ?, ?, ?, 1, ?, ?, ?)`
	sqlUpsertCursor = `INSERT INTO cursors (source, position, updated_ms) VALUES (?, ?, ?)
		ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms`
)

func (w *wtx) ingest(entries []store.NewEntry, cursor *store.Cursor) ([]store.IngestResult, error) {
	now := w.s.now()
	nowMs := encodeTime(now)
	results := make([]store.IngestResult, len(entries))
	var newIDs []string
	var due []string
	for i, e := range entries {
		results[i].EntryID = e.ID
		received := encodeTime(e.ReceivedAt)
		if received == 0 {
			received = nowMs
		}
		res, err := w.exec(sqlInsertEntry, e.ID, encodeTime(e.Date), received, e.Source, e.Kind,
			e.Title, e.Member, e.Project, e.Environment, e.Raw, e.ListItem)
		if err != nil {
			return nil, fmt.Errorf("ingest: entry %q: %w", e.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("ingest: entry %q: %w", e.ID, err)
		} else if n == 0 {
			results[i].Duplicate = true
			continue
		}
		newIDs = append(newIDs, e.ID)
		for _, d := range e.Deliveries {
			next := encodeTime(store.DueAt(d.State, d.NextAttemptAt, now))
			var err error
			if d.Lease != nil {
				_, err = w.exec(sqlInsertLeased, d.ID, e.ID, d.Subscription, d.Reason, next, nowMs, nowMs,
					d.Lease.Owner, encodeTime(d.Lease.Until), nowMs)
			} else {
				if d.State == store.Pending {
					due = append(due, d.Subscription)
				}
				_, err = w.exec(sqlInsertDelivery, d.ID, e.ID, d.Subscription, string(d.State), d.Reason, next, nowMs, nowMs)
			}
			if err != nil {
				return nil, fmt.Errorf("ingest: entry %q delivery %q (subscription %q): %w", e.ID, d.ID, d.Subscription, err)
			}
		}
	}
	if cursor != nil {
		at := encodeTime(cursor.UpdatedAt)
		if at == 0 {
			at = nowMs
		}
		if _, err := w.exec(sqlUpsertCursor, cursor.Source, cursor.Position, at); err != nil {
			return nil, fmt.Errorf("ingest: cursor %q: %w", cursor.Source, err)
		}
	}
	if len(newIDs) > 0 {
		w.changed(store.Change{Kind: store.EntriesIngested, IDs: newIDs, Subscriptions: due})
	}
	return results, nil
}

// AddDeliveries adds deliveries to stored entries in one commit; see
// store.Store.
func (s *Store) AddDeliveries(ctx context.Context, ds []store.EntryDelivery) ([]string, error) {
	if err := store.ValidateAdd(ds); err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return []string{}, nil
	}
	return do(ctx, s, durable, func(w *wtx) ([]string, error) { return w.addDeliveries(ds) })
}

const sqlAddDelivery = `INSERT INTO deliveries (id, entry_id, subscription, state, reason, next_attempt_ms, created_ms, updated_ms)
	SELECT ?, e.id, ?, ?, ?, ?, ?, ? FROM entries e WHERE e.id = ?
	ON CONFLICT DO NOTHING`

func (w *wtx) addDeliveries(ds []store.EntryDelivery) ([]string, error) {
	now := w.s.now()
	nowMs := encodeTime(now)
	added := []string{}
	var due []string
	for _, d := range ds {
		var found int
		if err := w.queryRow(`SELECT count(*) FROM entries WHERE id = ?`, d.EntryID).Scan(&found); err != nil {
			return nil, fmt.Errorf("add deliveries: entry %q: %w", d.EntryID, err)
		}
		if found == 0 {
			return nil, fmt.Errorf("add deliveries: entry %q: %w", d.EntryID, store.ErrNotFound)
		}
		next := encodeTime(store.DueAt(d.State, d.NextAttemptAt, now))
		res, err := w.exec(sqlAddDelivery, d.ID, d.Subscription, string(d.State), d.Reason, next, nowMs, nowMs, d.EntryID)
		if err != nil {
			return nil, fmt.Errorf("add deliveries: entry %q delivery %q (subscription %q): %w", d.EntryID, d.ID, d.Subscription, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("add deliveries: %w", err)
		} else if n == 1 {
			added = append(added, d.ID)
			if d.State == store.Pending {
				due = append(due, d.Subscription)
			}
		}
	}
	if len(added) > 0 {
		w.changed(store.Change{Kind: store.DeliveriesChanged, IDs: added, Subscriptions: due})
	}
	return added, nil
}
