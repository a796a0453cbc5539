package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

const defaultListLimit = 100

// deliveryCols selects a store.Delivery from deliveries d joined with
// entries e; scanDelivery reads them in this order.
const deliveryCols = `d.id, d.entry_id, d.subscription, d.state, d.reason, d.attempts, d.step,
	d.next_attempt_ms, d.lease_owner, d.lease_until_ms, d.last_status, d.last_error,
	d.last_latency_us, d.last_attempt_ms, d.created_ms, d.updated_ms, e.date_ms, e.kind, e.title, d.lost`

func scanDelivery(sc rowScanner, extra ...any) (store.Delivery, error) {
	var d store.Delivery
	var state string
	var next, leaseUntil, latency, lastAt, created, updated, entryDate int64
	dest := append([]any{&d.ID, &d.EntryID, &d.Subscription, &state, &d.Reason, &d.Attempts, &d.Step,
		&next, &d.LeaseOwner, &leaseUntil, &d.LastStatus, &d.LastError,
		&latency, &lastAt, &created, &updated, &entryDate, &d.EntryKind, &d.EntryTitle, &d.Lost}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return d, err
	}
	d.State = store.State(state)
	d.NextAttemptAt = decodeTime(next)
	d.LeaseUntil = decodeTime(leaseUntil)
	d.LastLatency = decodeDuration(latency)
	d.LastAttemptAt = decodeTime(lastAt)
	d.CreatedAt = decodeTime(created)
	d.UpdatedAt = decodeTime(updated)
	d.EntryDate = decodeTime(entryDate)
	return d, nil
}

const entrySummaryCols = `id, date_ms, received_ms, source, kind, title, member, project, environment`

func scanEntrySummary(sc rowScanner, extra ...any) (store.EntrySummary, error) {
	var e store.EntrySummary
	var date, received int64
	dest := append([]any{&e.ID, &date, &received, &e.Source, &e.Kind, &e.Title, &e.Member, &e.Project, &e.Environment}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return e, err
	}
	e.Date = decodeTime(date)
	e.ReceivedAt = decodeTime(received)
	return e, nil
}

const attemptCols = `delivery_id, number, instance, trigger, started_ms, duration_us, url, request_digest,
	template, template_hash, status_code, error_class, error, response_headers, response_body`

func scanAttempt(sc rowScanner) (store.Attempt, error) {
	var a store.Attempt
	var started, dur int64
	var headers string
	if err := sc.Scan(&a.DeliveryID, &a.Number, &a.Instance, &a.Trigger, &started, &dur, &a.URL, &a.RequestDigest,
		&a.Template, &a.TemplateHash, &a.StatusCode, &a.ErrorClass, &a.Error, &headers, &a.ResponseBody); err != nil {
		return a, err
	}
	a.StartedAt = decodeTime(started)
	a.Duration = decodeDuration(dur)
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
	q := `SELECT ` + entrySummaryCols + ` FROM entries` + whereClause(where) +
		` ORDER BY received_ms DESC, id DESC LIMIT ?`
	rows, err := s.rdb.QueryContext(ctx, q, append(args, listLimit(f.Limit))...)
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
		sum, err := scanEntrySummary(tx.QueryRowContext(ctx, `SELECT `+entrySummaryCols+`, raw FROM entries WHERE id = ?`, id), &e.Raw)
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
	if len(f.States) > 0 {
		where = append(where, "d.state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	where, args = keyset(where, args, "d.updated_ms", "d.id", f.Before, f.BeforeID)
	q := `SELECT ` + deliveryCols + ` FROM deliveries d JOIN entries e ON e.id = d.entry_id` +
		whereClause(where) + ` ORDER BY d.updated_ms DESC, d.id DESC LIMIT ?`
	rows, err := s.rdb.QueryContext(ctx, q, append(args, listLimit(f.Limit))...)
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

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// GetDelivery returns a delivery and its attempts, oldest first.
func (s *Store) GetDelivery(ctx context.Context, id string) (store.Delivery, []store.Attempt, error) {
	if err := s.checkOpen(); err != nil {
		return store.Delivery{}, nil, err
	}
	var d store.Delivery
	attempts := []store.Attempt{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d JOIN entries e ON e.id = d.entry_id WHERE d.id = ?`, id))
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
		for i := range out {
			if out[i].Counts[store.Pending] == 0 {
				continue
			}
			var oldest int64
			if err := tx.QueryRowContext(ctx, `SELECT min(created_ms) FROM deliveries WHERE subscription = ? AND state = 'pending'`,
				out[i].Subscription).Scan(&oldest); err != nil {
				return err
			}
			out[i].OldestPending = decodeTime(oldest)
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
		WHERE at_ms >= ? ORDER BY at_ms DESC, id DESC LIMIT ?`, encodeTime(since), listLimit(limit))
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
func (s *Store) checkOpen() error {
	select {
	case <-s.closing:
		return store.ErrClosed
	default:
		return nil
	}
}
