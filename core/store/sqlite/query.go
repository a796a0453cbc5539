package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// The column lists of the table shapes, each in the order of its store
// scan function (store.ScanDelivery, ScanEntrySummary, ScanAttempt).
const (
	// deliveryCols selects a delivery from deliveries d joined with entries e.
	deliveryCols = `d.id, d.entry_id, d.subscription, d.state, d.reason, d.attempts, d.step,
	d.next_attempt_ms, d.lease_owner, d.lease_until_ms, d.last_status, d.last_error,
	d.last_latency_us, d.last_attempt_ms, d.created_ms, d.updated_ms, e.date_ms, e.kind, e.title, d.lost`
	entrySummaryCols = `id, date_ms, received_ms, source, kind, title, member, project, environment, list_item`
	attemptCols      = `delivery_id, number, instance, trigger, started_ms, duration_us, url, request_digest,
	template, template_hash, status_code, error_class, error, response_headers, response_body, ` + store.SentCols
)

// keyset appends "(col < before) OR (col = before AND id < beforeID)".
func keyset(where []string, args []any, timeCol, idCol string, before time.Time, beforeID string) ([]string, []any) {
	if before.IsZero() {
		return where, args
	}
	b := encodeTime(before)
	if beforeID == "" {
		return append(where, timeCol+" < ?"), append(args, b)
	}
	return append(where, "("+timeCol+", "+idCol+") < (?, ?)"), append(args, b, beforeID)
}

// searchDialect is SQLite's for store.SearchConds: LIKE ignores ASCII
// case already.
var searchDialect = store.Dialect{
	Received: "received_ms",
	Time:     func(t time.Time) any { return encodeTime(t) },
	Like:     "LIKE",
}

// ListEntries returns entry summaries, newest first.
func (s *Store) ListEntries(ctx context.Context, f store.EntryFilter) ([]store.EntrySummary, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	where, args = keyset(where, args, "received_ms", "id", f.Before, f.BeforeID)
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, f.Kind)
	}
	conds, err := store.SearchConds(f, searchDialect)
	if err != nil {
		return nil, err
	}
	for _, c := range conds {
		where = append(where, c.SQL)
		args = append(args, c.Args...)
	}
	q := `SELECT ` + entrySummaryCols + ` FROM entries` + whereClause(where) +
		` ORDER BY received_ms DESC, id DESC LIMIT ?`
	rows, err := s.rdb.QueryContext(ctx, q, append(args, store.ListLimit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanAll(rows, codec{}, store.ScanEntrySummary)
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	return out, nil
}

func whereClause(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// readTx runs fn in one read transaction, so multi-query reads see one
// snapshot.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// GetEntry returns an entry with its raw JSON and deliveries.
func (s *Store) GetEntry(ctx context.Context, id string) (store.Entry, error) {
	if err := s.checkOpen(); err != nil {
		return store.Entry{}, err
	}
	var e store.Entry
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		sum, err := store.ScanEntrySummary(tx.QueryRowContext(ctx, `SELECT `+entrySummaryCols+`, raw FROM entries WHERE id = ?`, id), codec{}, &e.Raw)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("entry %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		e.EntrySummary = sum
		rows, err := tx.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN entries e ON e.id = d.entry_id
			WHERE d.entry_id = ? ORDER BY d.subscription`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		e.Deliveries, err = store.ScanAll(rows, codec{}, store.ScanDelivery)
		return err
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Entry{}, err
		}
		return store.Entry{}, fmt.Errorf("get entry %q: %w", id, err)
	}
	return e, nil
}

// ListDeliveries returns deliveries, most recently updated first.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if f.Subscription != "" {
		where = append(where, "d.subscription = ?")
		args = append(args, f.Subscription)
	}
	if f.EntryID != "" {
		where = append(where, "d.entry_id = ?")
		args = append(args, f.EntryID)
	}
	if err := store.CheckDeliveryFilter(f); err != nil {
		return nil, err
	}
	if len(f.EntryIDs) > 0 {
		where = append(where, "d.entry_id IN ("+placeholders(len(f.EntryIDs))+")")
		for _, id := range f.EntryIDs {
			args = append(args, id)
		}
	}
	if len(f.States) > 0 {
		where = append(where, "d.state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	where, args = keyset(where, args, "d.updated_ms", "d.id", f.Before, f.BeforeID)
	q := `SELECT ` + deliveryCols + ` FROM deliveries d JOIN entries e ON e.id = d.entry_id` +
		whereClause(where) + ` ORDER BY d.updated_ms DESC, d.id DESC LIMIT ?`
	rows, err := s.rdb.QueryContext(ctx, q, append(args, store.ListLimit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanAll(rows, codec{}, store.ScanDelivery)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// GetDelivery returns a delivery and its attempts, oldest first.
func (s *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, []store.Attempt, error) {
	if err := s.checkOpen(); err != nil {
		return store.Delivery{}, nil, err
	}
	var d store.Delivery
	var attempts []store.Attempt
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = store.ScanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN entries e ON e.id = d.entry_id WHERE d.id = ?`, id), codec{})
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+attemptCols+` FROM attempts WHERE delivery_id = ? ORDER BY number, id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		attempts, err = store.ScanAll(rows, codec{}, store.ScanAttempt)
		return err
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Delivery{}, nil, err
		}
		return store.Delivery{}, nil, fmt.Errorf("get delivery %q: %w", id, err)
	}
	store.ExpandSent(attempts)
	return d, attempts, nil
}

// Stats counts deliveries per subscription and state.
func (s *Store) Stats(ctx context.Context) ([]store.SubscriptionStats, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var out []store.SubscriptionStats
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		// Served from the deliveries_due index alone.
		rows, err := tx.QueryContext(ctx, `SELECT subscription, state, count(*) FROM deliveries GROUP BY subscription, state ORDER BY subscription`)
		if err != nil {
			return err
		}
		defer rows.Close()
		if out, err = store.ScanStats(rows); err != nil {
			return err
		}
		for i := range out {
			if out[i].Counts[store.Pending] == 0 {
				continue
			}
			if err := tx.QueryRowContext(ctx, `SELECT min(created_ms) FROM deliveries WHERE subscription = ? AND state = 'pending'`,
				out[i].Subscription).Scan(codec{}.Time(&out[i].OldestPending)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return out, nil
}

// GetCursor returns a source's cursor, store.ErrNotFound when none.
func (s *Store) GetCursor(ctx context.Context, source string) (store.Cursor, error) {
	if err := s.checkOpen(); err != nil {
		return store.Cursor{}, err
	}
	c := store.Cursor{Source: source}
	var at int64
	err := s.rdb.QueryRowContext(ctx, `SELECT position, updated_ms FROM cursors WHERE source = ?`, source).Scan(&c.Position, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Cursor{}, fmt.Errorf("cursor %q: %w", source, store.ErrNotFound)
	}
	if err != nil {
		return store.Cursor{}, fmt.Errorf("get cursor %q: %w", source, err)
	}
	c.UpdatedAt = decodeTime(at)
	return c, nil
}

// SubscriptionStates lists every subscription state set, by name.
func (s *Store) SubscriptionStates(ctx context.Context) ([]store.SubscriptionState, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT name, paused, disabled, reason, updated_by, updated_ms
		FROM subscription_state WHERE updated_ms <> 0 ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("subscription states: %w", err)
	}
	defer rows.Close()
	out := []store.SubscriptionState{}
	for rows.Next() {
		var st store.SubscriptionState
		var at int64
		if err := rows.Scan(&st.Name, &st.Paused, &st.Disabled, &st.Reason, &st.UpdatedBy, &at); err != nil {
			return nil, fmt.Errorf("subscription states: %w", err)
		}
		st.UpdatedAt = decodeTime(at)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("subscription states: %w", err)
	}
	return out, nil
}

// ListActions returns actions at or after since, newest first.
func (s *Store) ListActions(ctx context.Context, since time.Time, limit int) ([]store.Action, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, at_ms, actor, kind, target, detail FROM actions
		WHERE at_ms >= ? ORDER BY at_ms DESC, id DESC LIMIT ?`, encodeTime(since), store.ListLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	defer rows.Close()
	out := []store.Action{}
	for rows.Next() {
		var a store.Action
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Kind, &a.Target, &a.Detail); err != nil {
			return nil, fmt.Errorf("list actions: %w", err)
		}
		a.At = decodeTime(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	return out, nil
}

// checkOpen returns store.ErrClosed once Close began.
func (s *Store) checkOpen() error { return store.CheckOpen(s.closing) }
