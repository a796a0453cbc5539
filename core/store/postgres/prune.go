package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrelay/auditrelay/core/store"
)

const (
	// sqlPruneDeliveries removes one batch of old finished deliveries with
	// their attempts (SKIP LOCKED: rows someone is changing now wait for
	// the next run) and returns the entries they belonged to.
	sqlPruneDeliveries = `WITH victims AS (
		SELECT seq, id, entry_id FROM deliveries
		WHERE updated_at < $1 AND state = ANY($2)
		ORDER BY updated_at
		LIMIT $3
		FOR UPDATE SKIP LOCKED
	), a AS (
		DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM victims) RETURNING 1
	), d AS (
		DELETE FROM deliveries WHERE seq IN (SELECT seq FROM victims) RETURNING entry_id
	)
	SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM d), (SELECT coalesce(array_agg(DISTINCT entry_id), '{}') FROM d)`
	// sqlDeleteBareEntries removes the given entries when they have no
	// delivery left and were received before the cutoff. It runs as a
	// statement of its own, so it sees the deliveries just deleted.
	sqlDeleteBareEntries = `DELETE FROM entries e WHERE e.id = ANY($1) AND e.received_at < $2
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.entry_id = e.id)`
	sqlBareEntriesPage = `SELECT received_at, id FROM entries WHERE received_at < $1 AND (received_at, id) > ($2, $3)
		ORDER BY received_at, id LIMIT $4`
	// sqlOverflowPage walks the oldest entries and tells which still have
	// work.
	sqlOverflowPage = `SELECT e.received_at, e.id, EXISTS (SELECT 1 FROM deliveries d
			WHERE d.entry_id = e.id AND d.state IN ('pending', 'inflight'))
		FROM entries e WHERE (e.received_at, e.id) > ($1, $2) ORDER BY e.received_at, e.id LIMIT $3`
	// sqlDeleteEntries removes whole entries, repeating the "no work left"
	// check in the statement that deletes (an operator's retry may have
	// made one pending since the page was read).
	sqlDeleteEntries = `WITH gone AS (
		SELECT e.id FROM entries e WHERE e.id = ANY($1)
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.entry_id = e.id AND d.state IN ('pending', 'inflight'))
		FOR UPDATE
	), dl AS (
		SELECT d.id FROM deliveries d WHERE d.entry_id IN (SELECT id FROM gone) FOR UPDATE
	), a AS (
		DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM dl) RETURNING 1
	), d AS (
		DELETE FROM deliveries WHERE id IN (SELECT id FROM dl) RETURNING 1
	), e AS (
		DELETE FROM entries WHERE id IN (SELECT id FROM gone) RETURNING 1
	)
	SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM d), (SELECT count(*) FROM a)`
)

// Prune applies the retention policy (store.PrunePlan.Run) in
// transactions of p.BatchSize rows, so it never holds locks long and other
// instances keep working.
func (s *Store) Prune(ctx context.Context, p store.PruneParams) (store.PruneResult, error) {
	if err := p.Validate(); err != nil {
		return store.PruneResult{}, err
	}
	if err := s.checkOpen(); err != nil {
		return store.PruneResult{}, err
	}
	res, err := p.Plan(s.clock(p.Now)).Run(ctx, pruner{s})
	if err != nil {
		return res, err
	}
	if res.Entries+res.Deliveries+res.Attempts > 0 {
		s.log.Info("store pruned", "entries", res.Entries, "deliveries", res.Deliveries, "attempts", res.Attempts)
	}
	return res, nil
}

// pruner runs the batches of a prune as statements of their own.
type pruner struct{ s *Store }

func (p pruner) Deliveries(states []store.State, cutoff, entryCutoff time.Time, batch int) store.PruneBatch {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	return func(ctx context.Context) (store.PruneResult, bool, error) {
		return p.s.pruneDeliveries(ctx, names, cutoff, entryCutoff, batch)
	}
}

func (p pruner) BareEntries(cutoff time.Time, batch int) store.PruneBatch {
	var after entryKey
	return func(ctx context.Context) (store.PruneResult, bool, error) {
		return p.s.pruneBareEntries(ctx, cutoff, &after, batch)
	}
}

// Overflow counts the entries once, at its first batch, and then keeps
// count of what it removed: count(*) reads the whole table.
func (p pruner) Overflow(maxEntries, batch int) store.PruneBatch {
	var after entryKey
	excess, counted := 0, false
	return func(ctx context.Context) (store.PruneResult, bool, error) {
		if !counted {
			var count int
			if err := p.s.pool.QueryRow(ctx, `SELECT count(*) FROM entries`).Scan(&count); err != nil {
				return store.PruneResult{}, false, fmt.Errorf("count entries: %w", err)
			}
			excess, counted = count-maxEntries, true
		}
		return p.s.pruneOverflow(ctx, &excess, &after, batch)
	}
}

// entryKey is a keyset position in entries_received order; the zero key
// is before every entry.
type entryKey struct {
	received pgtype.Timestamptz
	id       string
}

func (k entryKey) args() (any, string) {
	if !k.received.Valid {
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, ""
	}
	return k.received, k.id
}

func (s *Store) pruneDeliveries(ctx context.Context, states []string, cutoff, entryCutoff time.Time, batch int) (store.PruneResult, bool, error) {
	var r store.PruneResult
	var entries []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, sqlPruneDeliveries, cutoff, states, batch).Scan(&r.Attempts, &r.Deliveries, &entries); err != nil {
			return err
		}
		if len(entries) == 0 || entryCutoff.IsZero() {
			return nil
		}
		tag, err := tx.Exec(ctx, sqlDeleteBareEntries, entries, entryCutoff)
		r.Entries = int(tag.RowsAffected())
		return err
	})
	return r, err == nil && r.Deliveries == batch, err
}

// pruneBareEntries walks entries received before cutoff, a batch at a time
// from *after, and removes those without deliveries.
func (s *Store) pruneBareEntries(ctx context.Context, cutoff time.Time, after *entryKey, batch int) (store.PruneResult, bool, error) {
	var r store.PruneResult
	at, id := after.args()
	rows, err := s.pool.Query(ctx, sqlBareEntriesPage, cutoff, at, id, batch)
	if err != nil {
		return r, false, err
	}
	var ids []string
	for rows.Next() {
		if err := rows.Scan(&after.received, &after.id); err != nil {
			rows.Close()
			return r, false, err
		}
		ids = append(ids, after.id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return r, false, err
	}
	tag, err := s.pool.Exec(ctx, sqlDeleteBareEntries, ids, cutoff)
	if err != nil {
		return r, false, err
	}
	r.Entries = int(tag.RowsAffected())
	return r, len(ids) == batch, nil
}

// pruneOverflow removes the oldest entries whose deliveries are all
// terminal while *excess > 0, a batch at a time from *after.
func (s *Store) pruneOverflow(ctx context.Context, excess *int, after *entryKey, batch int) (store.PruneResult, bool, error) {
	var r store.PruneResult
	if *excess <= 0 {
		return r, false, nil
	}
	at, id := after.args()
	rows, err := s.pool.Query(ctx, sqlOverflowPage, at, id, batch)
	if err != nil {
		return r, false, err
	}
	var ids []string
	seen := 0
	for len(ids) < *excess && rows.Next() {
		var busy bool
		if err := rows.Scan(&after.received, &after.id, &busy); err != nil {
			rows.Close()
			return r, false, err
		}
		seen++
		if !busy {
			ids = append(ids, after.id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, false, err
	}
	if len(ids) == 0 {
		return r, seen == batch, nil
	}
	if err := s.pool.QueryRow(ctx, sqlDeleteEntries, ids).Scan(&r.Entries, &r.Deliveries, &r.Attempts); err != nil {
		return r, false, err
	}
	*excess -= r.Entries
	// Go on while entries are still over the cap and the scan has not
	// reached the newest entry.
	return r, *excess > 0 && seen == batch, nil
}
