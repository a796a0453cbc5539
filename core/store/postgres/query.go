package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrelay/auditrelay/core/store"
)

// The column lists of the table shapes, each in the order of its store
// scan function (store.ScanDelivery, ScanEntrySummary, ScanAttempt).
const (
	// deliveryCols selects a delivery from deliveries d joined with entries e.
	deliveryCols = `d.id, d.entry_id, d.subscription, d.state, d.reason, d.attempts, d.step,
	d.next_attempt_at, d.lease_owner, d.lease_until, d.last_status, d.last_error,
	d.last_latency_us, d.last_attempt_at, d.created_at, d.updated_at, e.date, e.kind, e.title, d.lost`
	entrySummaryCols = `id, date, received_at, source, kind, title, member, project, environment, list_item`
	attemptCols      = `delivery_id, number, instance, trigger, started_at, duration_us, url, request_digest,
	template, template_hash, status_code, error_class, error, response_headers::text, response_body,
	request_method, request_headers::text, vars_hash, body_digest, body_size, body_encoding, request_body`
)

// query builds a WHERE clause with numbered placeholders.
type query struct {
	where []string
	args  []any
}

func (q *query) add(cond string, args ...any) {
	for _, a := range args {
		q.args = append(q.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(q.args)), 1)
	}
	q.where = append(q.where, cond)
}

// keyset adds "(col, id) < (before, beforeID)" paging.
func (q *query) keyset(timeCol, idCol string, before time.Time, beforeID string) {
	if before.IsZero() {
		return
	}
	if beforeID == "" {
		q.add(timeCol+" < ?", before)
		return
	}
	q.add("("+timeCol+", "+idCol+") < (?, ?)", before, beforeID)
}

func (q *query) clause() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

func (q *query) next(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// searchDialect is PostgreSQL's for store.SearchConds.
var searchDialect = store.Dialect{
	Received: "received_at",
	Time:     func(t time.Time) any { return t },
	Like:     "ILIKE",
}

// ListEntries returns entry summaries, newest first.
func (s *Store) ListEntries(ctx context.Context, f store.EntryFilter) ([]store.EntrySummary, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var q query
	q.keyset("received_at", "id", f.Before, f.BeforeID)
	if f.Kind != "" {
		q.add("kind = ?", f.Kind)
	}
	conds, err := store.SearchConds(f, searchDialect)
	if err != nil {
		return nil, err
	}
	for _, c := range conds {
		q.add(c.SQL, c.Args...)
	}
	sql := `SELECT ` + entrySummaryCols + ` FROM entries` + q.clause() +
		` ORDER BY received_at DESC, id DESC LIMIT ` + q.next(store.ListLimit(f.Limit))
	rows, err := s.pool.Query(ctx, sql, q.args...)
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

// readTx runs fn in one read-only REPEATABLE READ transaction, so that
// reads of several tables see one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return fn(tx)
}

// GetEntry returns an entry with its raw JSON and deliveries.
func (s *Store) GetEntry(ctx context.Context, id string) (store.Entry, error) {
	if err := s.checkOpen(); err != nil {
		return store.Entry{}, err
	}
	var e store.Entry
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		sum, err := store.ScanEntrySummary(tx.QueryRow(ctx, `SELECT `+entrySummaryCols+`, raw FROM entries WHERE id = $1`, id), codec{}, &e.Raw)
		if isNoRows(err) {
			return fmt.Errorf("entry %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		e.EntrySummary = sum
		rows, err := tx.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN entries e ON e.id = d.entry_id
			WHERE d.entry_id = $1 ORDER BY d.subscription`, id)
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
	var q query
	if f.Subscription != "" {
		q.add("d.subscription = ?", f.Subscription)
	}
	if f.EntryID != "" {
		q.add("d.entry_id = ?", f.EntryID)
	}
	if err := store.CheckDeliveryFilter(f); err != nil {
		return nil, err
	}
	if len(f.EntryIDs) > 0 {
		q.add("d.entry_id = ANY(?)", f.EntryIDs)
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		q.add("d.state = ANY(?)", states)
	}
	q.keyset("d.updated_at", "d.id", f.Before, f.BeforeID)
	sql := `SELECT ` + deliveryCols + ` FROM deliveries d JOIN entries e ON e.id = d.entry_id` +
		q.clause() + ` ORDER BY d.updated_at DESC, d.id DESC LIMIT ` + q.next(store.ListLimit(f.Limit))
	rows, err := s.pool.Query(ctx, sql, q.args...)
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

// GetDelivery returns a delivery and its attempts, oldest first.
func (s *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, []store.Attempt, error) {
	if err := s.checkOpen(); err != nil {
		return store.Delivery{}, nil, err
	}
	var d store.Delivery
	var attempts []store.Attempt
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = store.ScanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN entries e ON e.id = d.entry_id WHERE d.id = $1`, id), codec{})
		if isNoRows(err) {
			return fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+attemptCols+` FROM attempts WHERE delivery_id = $1 ORDER BY number, id`, id)
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

// Stats counts deliveries per subscription and state. The counts scan the
// deliveries table: keep retention bounded (see the package doc).
func (s *Store) Stats(ctx context.Context) ([]store.SubscriptionStats, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var out []store.SubscriptionStats
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT subscription, state, count(*) FROM deliveries GROUP BY subscription, state ORDER BY subscription`)
		if err != nil {
			return err
		}
		defer rows.Close()
		if out, err = store.ScanStats(rows); err != nil {
			return err
		}
		rows.Close()
		oldest, err := tx.Query(ctx, `SELECT subscription, min(created_at) FROM deliveries WHERE state = 'pending' GROUP BY subscription`)
		if err != nil {
			return err
		}
		defer oldest.Close()
		at := map[string]time.Time{}
		for oldest.Next() {
			var sub string
			var t time.Time
			if err := oldest.Scan(&sub, codec{}.Time(&t)); err != nil {
				return err
			}
			at[sub] = t
		}
		if err := oldest.Err(); err != nil {
			return err
		}
		for i := range out {
			out[i].OldestPending = at[out[i].Subscription]
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
	var at pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT position, updated_at FROM cursors WHERE source = $1`, source).Scan(&c.Position, &at)
	if isNoRows(err) {
		return store.Cursor{}, fmt.Errorf("cursor %q: %w", source, store.ErrNotFound)
	}
	if err != nil {
		return store.Cursor{}, fmt.Errorf("get cursor %q: %w", source, err)
	}
	c.UpdatedAt = fromTS(at)
	return c, nil
}

// SubscriptionStates lists every subscription state set, by name.
func (s *Store) SubscriptionStates(ctx context.Context) ([]store.SubscriptionState, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT name, paused, disabled, reason, updated_by, updated_at
		FROM subscription_state WHERE updated_at IS NOT NULL ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("subscription states: %w", err)
	}
	defer rows.Close()
	out := []store.SubscriptionState{}
	for rows.Next() {
		var st store.SubscriptionState
		var at pgtype.Timestamptz
		if err := rows.Scan(&st.Name, &st.Paused, &st.Disabled, &st.Reason, &st.UpdatedBy, &at); err != nil {
			return nil, fmt.Errorf("subscription states: %w", err)
		}
		st.UpdatedAt = fromTS(at)
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
	var sinceArg any = since
	if since.IsZero() {
		sinceArg = nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, kind, target, detail FROM actions
		WHERE $1::timestamptz IS NULL OR at >= $1 ORDER BY at DESC, id DESC LIMIT $2`, sinceArg, store.ListLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	defer rows.Close()
	out := []store.Action{}
	for rows.Next() {
		var a store.Action
		var at pgtype.Timestamptz
		if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Kind, &a.Target, &a.Detail); err != nil {
			return nil, fmt.Errorf("list actions: %w", err)
		}
		a.At = fromTS(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	return out, nil
}
