package postgres

import (
	"context"
	"errors"
	"fmt"

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
