package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/auditrelay/auditrelay/core/store"
)

const defaultListLimit = 100

// deliveryCols selects a store.Delivery from deliveries d joined with
// entries e; scanDelivery reads them in this order.
const deliveryCols = `d.id, d.entry_id, d.subscription, d.state, d.reason, d.attempts, d.step,
	d.next_attempt_at, d.lease_owner, d.lease_until, d.last_status, d.last_error,
	d.last_latency_us, d.last_attempt_at, d.created_at, d.updated_at, e.date, e.kind, e.title, d.lost`

func scanDelivery(sc pgx.Row, extra ...any) (store.Delivery, error) {
	var d store.Delivery
	var state string
	var next, leaseUntil, lastAt, created, updated, entryDate pgtype.Timestamptz
	var latency int64
	dest := append([]any{&d.ID, &d.EntryID, &d.Subscription, &state, &d.Reason, &d.Attempts, &d.Step,
		&next, &d.LeaseOwner, &leaseUntil, &d.LastStatus, &d.LastError,
		&latency, &lastAt, &created, &updated, &entryDate, &d.EntryKind, &d.EntryTitle, &d.Lost}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return d, err
	}
	d.State = store.State(state)
	d.NextAttemptAt = fromTS(next)
	d.LeaseUntil = fromTS(leaseUntil)
	d.LastLatency = fromMicros(latency)
	d.LastAttemptAt = fromTS(lastAt)
	d.CreatedAt = fromTS(created)
	d.UpdatedAt = fromTS(updated)
	d.EntryDate = fromTS(entryDate)
	return d, nil
}

const entrySummaryCols = `id, date, received_at, source, kind, title, member, project, environment`

func scanEntrySummary(sc pgx.Row, extra ...any) (store.EntrySummary, error) {
	var e store.EntrySummary
	var date, received pgtype.Timestamptz
	dest := append([]any{&e.ID, &date, &received, &e.Source, &e.Kind, &e.Title, &e.Member, &e.Project, &e.Environment}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return e, err
	}
	e.Date = fromTS(date)
	e.ReceivedAt = fromTS(received)
	return e, nil
}

const attemptCols = `delivery_id, number, instance, trigger, started_at, duration_us, url, request_digest,
	template, template_hash, status_code, error_class, error, response_headers::text, response_body`

func scanAttempt(sc pgx.Row) (store.Attempt, error) {
	var a store.Attempt
	var started pgtype.Timestamptz
	var dur int64
	var headers string
	if err := sc.Scan(&a.DeliveryID, &a.Number, &a.Instance, &a.Trigger, &started, &dur, &a.URL, &a.RequestDigest,
		&a.Template, &a.TemplateHash, &a.StatusCode, &a.ErrorClass, &a.Error, &headers, &a.ResponseBody); err != nil {
		return a, err
	}
	a.StartedAt = fromTS(started)
	a.Duration = fromMicros(dur)
	if headers != "" && headers != "[]" {
		if err := json.Unmarshal([]byte(headers), &a.ResponseHeaders); err != nil {
			return a, fmt.Errorf("attempt %d of %s: response headers: %w", a.Number, a.DeliveryID, err)
		}
	}
	return a, nil
}

func listLimit(n int) int {
	if n <= 0 {
		return defaultListLimit
	}
	return n
}

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
	sql := `SELECT ` + entrySummaryCols + ` FROM entries` + q.clause() +
		` ORDER BY received_at DESC, id DESC LIMIT ` + q.next(listLimit(f.Limit))
	rows, err := s.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	defer rows.Close()
	out := []store.EntrySummary{}
	for rows.Next() {
		e, err := scanEntrySummary(rows)
		if err != nil {
			return nil, fmt.Errorf("list entries: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
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
		sum, err := scanEntrySummary(tx.QueryRow(ctx, `SELECT `+entrySummaryCols+`, raw FROM entries WHERE id = $1`, id), &e.Raw)
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
		e.Deliveries = []store.Delivery{}
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			e.Deliveries = append(e.Deliveries, d)
		}
		return rows.Err()
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
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		q.add("d.state = ANY(?)", states)
	}
	q.keyset("d.updated_at", "d.id", f.Before, f.BeforeID)
	sql := `SELECT ` + deliveryCols + ` FROM deliveries d JOIN entries e ON e.id = d.entry_id` +
		q.clause() + ` ORDER BY d.updated_at DESC, d.id DESC LIMIT ` + q.next(listLimit(f.Limit))
	rows, err := s.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	out := []store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
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
	attempts := []store.Attempt{}
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN entries e ON e.id = d.entry_id WHERE d.id = $1`, id))
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
		for rows.Next() {
			a, err := scanAttempt(rows)
			if err != nil {
				return err
			}
			attempts = append(attempts, a)
		}
		return rows.Err()
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Delivery{}, nil, err
		}
		return store.Delivery{}, nil, fmt.Errorf("get delivery %q: %w", id, err)
	}
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
		for rows.Next() {
			var sub, state string
			var n int
			if err := rows.Scan(&sub, &state, &n); err != nil {
				return err
			}
			if len(out) == 0 || out[len(out)-1].Subscription != sub {
				out = append(out, store.SubscriptionStats{Subscription: sub, Counts: map[store.State]int{}})
			}
			out[len(out)-1].Counts[store.State(state)] = n
		}
		if err := rows.Err(); err != nil {
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
			var t pgtype.Timestamptz
			if err := oldest.Scan(&sub, &t); err != nil {
				return err
			}
			at[sub] = fromTS(t)
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
	if out == nil {
		out = []store.SubscriptionStats{}
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
		WHERE $1::timestamptz IS NULL OR at >= $1 ORDER BY at DESC, id DESC LIMIT $2`, sinceArg, listLimit(limit))
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
