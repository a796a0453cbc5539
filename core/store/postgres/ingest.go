package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrelay/auditrelay/core/store"
)

// sqlIngest stores a whole Ingest call in one statement (one round trip,
// one commit): new entries (ON CONFLICT on the primary key is the dedupe
// across instances), the deliveries of those that were new, in ingest order
// so that seq is the claim tie-breaker, and the cursor.
const sqlIngest = `WITH new_entries AS (
	INSERT INTO entries (id, date, received_at, source, kind, title, member, project, environment, raw, ingested_by, list_item)
	SELECT u.id, u.date, u.received_at, u.source, u.kind, u.title, u.member, u.project, u.environment, u.raw, $11, u.list_item
	FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[],
		$6::text[], $7::text[], $8::text[], $9::text[], $10::bytea[], $24::text[])
		AS u (id, date, received_at, source, kind, title, member, project, environment, raw, list_item)
	ON CONFLICT (id) DO NOTHING
	RETURNING id
), new_deliveries AS (
	INSERT INTO deliveries (id, entry_id, subscription, state, reason, next_attempt_at, created_at, updated_at, updated_by,
		attempts, lease_owner, lease_until, last_attempt_at)
	SELECT d.id, d.entry_id, d.subscription, d.state, d.reason, d.next, $18, $18, $11,
		CASE WHEN d.owner <> '' THEN 1 ELSE 0 END, d.owner, d.lease_until, CASE WHEN d.owner <> '' THEN $18::timestamptz END
	FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::timestamptz[], $22::text[], $23::timestamptz[])
		WITH ORDINALITY AS d (id, entry_id, subscription, state, reason, next, owner, lease_until, ord)
	WHERE d.entry_id IN (SELECT id FROM new_entries)
	ORDER BY d.ord
	RETURNING 1
), cursor AS (
	INSERT INTO cursors (source, position, updated_at)
	SELECT $19::text, $20::text, $21::timestamptz WHERE $19::text <> ''
	ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
	RETURNING 1
)
SELECT id FROM new_entries`

// Ingest stores new entries with their deliveries, and the cursor, in one
// commit; see store.Store.
func (s *Store) Ingest(ctx context.Context, entries []store.NewEntry, cursor *store.Cursor) ([]store.IngestResult, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := store.ValidateIngest(entries, cursor); err != nil {
		return nil, err
	}
	if len(entries) == 0 && cursor == nil {
		return []store.IngestResult{}, nil
	}
	if cursor == nil && len(entries) < ingestGroupMax {
		return s.ingestGrouped(ctx, entries)
	}
	return s.ingest(ctx, entries, cursor)
}

// ingest stores entries and the cursor in one statement.
func (s *Store) ingest(ctx context.Context, entries []store.NewEntry, cursor *store.Cursor) ([]store.IngestResult, error) {
	now := s.now()
	results := make([]store.IngestResult, len(entries))
	var (
		eID, eSource, eKind, eTitle, eMember, eProject, eEnv []string
		eListItem                                            []string
		eDate, eReceived                                     []pgtype.Timestamptz
		eRaw                                                 [][]byte
		dID, dEntry, dSub, dState, dReason                   []string
		dOwner                                               []string // lease owner, "" when not leased
		dNext, dLeaseUntil                                   []pgtype.Timestamptz
		dueOf                                                = map[string][]string{} // entry → subscriptions with pending work
	)
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		results[i].EntryID = e.ID
		if seen[e.ID] {
			results[i].Duplicate = true // repeated earlier in this call
			continue
		}
		seen[e.ID] = true
		received := e.ReceivedAt
		if received.IsZero() {
			received = now
		}
		eID = append(eID, e.ID)
		eDate = append(eDate, ts(e.Date))
		eReceived = append(eReceived, ts(received))
		eSource = append(eSource, e.Source)
		eKind = append(eKind, e.Kind)
		eTitle = append(eTitle, e.Title)
		eMember = append(eMember, e.Member)
		eProject = append(eProject, e.Project)
		eEnv = append(eEnv, e.Environment)
		eListItem = append(eListItem, e.ListItem)
		eRaw = append(eRaw, e.Raw)
		for _, d := range e.Deliveries {
			next := ts(store.DueAt(d.State, d.NextAttemptAt, now))
			state, owner, until := d.State, "", pgtype.Timestamptz{}
			if d.State == store.Pending {
				if d.Lease != nil {
					// Stored as Claim leaves a delivery; see store.NewDelivery.
					state, owner, until = store.InFlight, d.Lease.Owner, ts(d.Lease.Until)
				} else {
					dueOf[e.ID] = append(dueOf[e.ID], d.Subscription)
				}
			}
			dID = append(dID, d.ID)
			dEntry = append(dEntry, e.ID)
			dSub = append(dSub, d.Subscription)
			dState = append(dState, string(state))
			dOwner = append(dOwner, owner)
			dLeaseUntil = append(dLeaseUntil, until)
			dReason = append(dReason, d.Reason)
			dNext = append(dNext, next)
		}
	}
	var cSource, cPosition string
	var cAt pgtype.Timestamptz
	if cursor != nil {
		cSource, cPosition, cAt = cursor.Source, cursor.Position, ts(cursor.UpdatedAt)
		if !cAt.Valid {
			cAt = ts(now)
		}
	}
	if eID == nil {
		eID, eListItem = []string{}, []string{} // typed empty arrays, not NULL
	}
	rows, err := s.pool.Query(ctx, sqlIngest,
		eID, eDate, eReceived, eSource, eKind, eTitle, eMember, eProject, eEnv, eRaw, s.instance,
		dID, dEntry, dSub, dState, dReason, dNext, now,
		cSource, cPosition, cAt, dOwner, dLeaseUntil, eListItem)
	if err != nil {
		return nil, ingestError(err)
	}
	fresh := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ingest: %w", err)
		}
		fresh[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, ingestError(err)
	}
	var newIDs, due []string
	for i := range results {
		if results[i].Duplicate {
			continue
		}
		id := results[i].EntryID
		if !fresh[id] {
			results[i].Duplicate = true
			continue
		}
		newIDs = append(newIDs, id)
		due = append(due, dueOf[id]...)
	}
	if len(newIDs) > 0 {
		s.changed(store.Change{Kind: store.EntriesIngested, IDs: newIDs, Subscriptions: due})
	}
	return results, nil
}

// ingestError names what a constraint violation means for the caller.
func ingestError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		switch pe.ConstraintName {
		case "deliveries_pkey", "deliveries_id_key":
			return fmt.Errorf("ingest: a delivery ID is already used by another entry (%s): nothing was stored", pe.Detail)
		case "deliveries_entry_id_subscription_key":
			return fmt.Errorf("ingest: two deliveries for one entry and subscription (%s): nothing was stored", pe.Detail)
		}
	}
	return fmt.Errorf("ingest: %w", err)
}

// sqlAddDeliveries adds deliveries to stored entries; one an entry
// already has for the subscription is left out. It returns the ids added.
const sqlAddDeliveries = `INSERT INTO deliveries (id, entry_id, subscription, state, reason, next_attempt_at, created_at, updated_at, updated_by)
	SELECT d.id, d.entry_id, d.subscription, d.state, d.reason, d.next, $7, $7, $8
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
		WITH ORDINALITY AS d (id, entry_id, subscription, state, reason, next, ord)
	ORDER BY d.ord
	ON CONFLICT DO NOTHING
	RETURNING id, subscription, state`

// AddDeliveries adds deliveries to stored entries in one commit; see
// store.Store.
func (s *Store) AddDeliveries(ctx context.Context, ds []store.EntryDelivery) ([]string, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := store.ValidateAdd(ds); err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return []string{}, nil
	}
	now := s.now()
	var id, entry, sub, state, reason []string
	var next []pgtype.Timestamptz
	want := map[string]bool{}
	for _, d := range ds {
		id = append(id, d.ID)
		entry = append(entry, d.EntryID)
		sub = append(sub, d.Subscription)
		state = append(state, string(d.State))
		reason = append(reason, d.Reason)
		next = append(next, ts(store.DueAt(d.State, d.NextAttemptAt, now)))
		want[d.EntryID] = true
	}
	entries := make([]string, 0, len(want))
	for e := range want {
		entries = append(entries, e)
	}
	added := []string{}
	var due []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Every entry must be stored; FOR SHARE keeps a prune from taking
		// one away before the deliveries are in.
		rows, err := tx.Query(ctx, `SELECT id FROM entries WHERE id = ANY($1) FOR SHARE`, entries)
		if err != nil {
			return err
		}
		found := map[string]bool{}
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				rows.Close()
				return err
			}
			found[e] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range entries {
			if !found[e] {
				return fmt.Errorf("entry %q: %w", e, store.ErrNotFound)
			}
		}
		rows, err = tx.Query(ctx, sqlAddDeliveries, id, entry, sub, state, reason, next, now, s.instance)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d, dsub, dstate string
			if err := rows.Scan(&d, &dsub, &dstate); err != nil {
				return err
			}
			added = append(added, d)
			if dstate == string(store.Pending) {
				due = append(due, dsub)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("add deliveries: %w", err)
	}
	order := make(map[string]int, len(id))
	for i, d := range id {
		order[d] = i
	}
	slices.SortFunc(added, func(a, b string) int { return order[a] - order[b] })
	if len(added) > 0 {
		s.changed(store.Change{Kind: store.DeliveriesChanged, IDs: added, Subscriptions: due})
	}
	return added, nil
}
