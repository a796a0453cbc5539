package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// After a prune removed this many rows, the WAL is truncated and free pages
// go back to the file system (Store.reclaimAfter).
const reclaimAfterDefault = 10000

// Prune applies the retention policy (store.PrunePlan.Run) in transactions
// of p.BatchSize rows, each one queued with the other writes so it never
// holds the writer long, and reclaims the space once it removed many rows.
func (s *Store) Prune(ctx context.Context, p store.PruneParams) (store.PruneResult, error) {
	if err := p.Validate(); err != nil {
		return store.PruneResult{}, err
	}
	res, err := p.Plan(s.clock(p.Now)).Run(ctx, pruner{s})
	if err != nil {
		return res, err
	}
	removed := res.Entries + res.Deliveries + res.Attempts
	if removed > 0 {
		s.log.Info("store pruned", "entries", res.Entries, "deliveries", res.Deliveries, "attempts", res.Attempts)
	}
	if removed >= s.reclaimAfter {
		if _, err := do(ctx, s, outsideTx, (*wtx).reclaim); err != nil {
			return res, fmt.Errorf("prune: reclaim space: %w", err)
		}
	}
	return res, nil
}

// pruner runs each batch of a prune as one request to the writer.
type pruner struct{ s *Store }

// batch submits fn as one write request.
func (p pruner) batch(fn func(w *wtx) (pruned, error)) store.PruneBatch {
	return func(ctx context.Context) (store.PruneResult, bool, error) {
		r, err := do(ctx, p.s, durable, fn)
		return r.PruneResult, r.more, err
	}
}

func (p pruner) Deliveries(states []store.State, cutoff, entryCutoff time.Time, batch int) store.PruneBatch {
	return p.batch(func(w *wtx) (pruned, error) {
		return w.pruneDeliveries(states, encodeTime(cutoff), encodeTime(entryCutoff), batch)
	})
}

func (p pruner) BareEntries(cutoff time.Time, batch int) store.PruneBatch {
	after := entryKey{received: math.MinInt64}
	return p.batch(func(w *wtx) (pruned, error) {
		return w.pruneBareEntries(encodeTime(cutoff), &after, batch)
	})
}

func (p pruner) Overflow(maxEntries, batch int) store.PruneBatch {
	after := entryKey{received: math.MinInt64}
	return p.batch(func(w *wtx) (pruned, error) {
		return w.pruneOverflow(maxEntries, &after, batch)
	})
}

type pruned struct {
	store.PruneResult
	more bool // the batch was full: run another
}

// entryKey is a keyset position in entries_received order.
type entryKey struct {
	received int64
	id       string
}

func jsonList[T any](v []T) string {
	b, _ := json.Marshal(v) // strings and ints cannot fail to marshal
	return string(b)
}

// deleteDeliveries removes deliveries by id with their attempts.
func (w *wtx) deleteDeliveries(ids string) (store.PruneResult, error) {
	var r store.PruneResult
	res, err := w.exec(`DELETE FROM attempts WHERE delivery_id IN (SELECT value FROM json_each(?))`, ids)
	if err != nil {
		return r, err
	}
	n, _ := res.RowsAffected()
	r.Attempts = int(n)
	if res, err = w.exec(`DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))`, ids); err != nil {
		return r, err
	}
	n, _ = res.RowsAffected()
	r.Deliveries = int(n)
	return r, nil
}

// deleteBareEntries removes the entries among ids that have no deliveries
// left and were received before cutoff.
func (w *wtx) deleteBareEntries(ids string, cutoff int64) (int, error) {
	res, err := w.exec(`DELETE FROM entries WHERE id IN (SELECT value FROM json_each(?)) AND received_ms < ?
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.entry_id = entries.id)`, ids, cutoff)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (w *wtx) pruneDeliveries(states []store.State, cutoff, entryCutoff int64, batch int) (pruned, error) {
	args := []any{cutoff}
	for _, st := range states {
		args = append(args, string(st))
	}
	args = append(args, batch)
	rows, err := w.query(`SELECT id, entry_id FROM deliveries WHERE updated_ms < ? AND state IN (`+
		placeholders(len(states))+`) ORDER BY updated_ms LIMIT ?`, args...)
	if err != nil {
		return pruned{}, err
	}
	var ids, entries []string
	for rows.Next() {
		var id, entry string
		if err := rows.Scan(&id, &entry); err != nil {
			rows.Close()
			return pruned{}, err
		}
		ids, entries = append(ids, id), append(entries, entry)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return pruned{}, err
	}
	r, err := w.deleteDeliveries(jsonList(ids))
	if err != nil {
		return pruned{}, err
	}
	if r.Entries, err = w.deleteBareEntries(jsonList(entries), entryCutoff); err != nil {
		return pruned{}, err
	}
	return pruned{PruneResult: r, more: len(ids) == batch}, nil
}

// pruneBareEntries walks entries received before cutoff, a batch at a time
// from *after, and removes those without deliveries.
func (w *wtx) pruneBareEntries(cutoff int64, after *entryKey, batch int) (pruned, error) {
	rows, err := w.query(`SELECT received_ms, id FROM entries WHERE received_ms < ? AND (received_ms, id) > (?, ?)
		ORDER BY received_ms, id LIMIT ?`, cutoff, after.received, after.id, batch)
	if err != nil {
		return pruned{}, err
	}
	var ids []string
	for rows.Next() {
		if err := rows.Scan(&after.received, &after.id); err != nil {
			rows.Close()
			return pruned{}, err
		}
		ids = append(ids, after.id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return pruned{}, err
	}
	n, err := w.deleteBareEntries(jsonList(ids), cutoff)
	if err != nil {
		return pruned{}, err
	}
	return pruned{PruneResult: store.PruneResult{Entries: n}, more: len(ids) == batch}, nil
}

// pruneOverflow removes the oldest entries whose deliveries are all
// terminal while more than maxEntries remain, a batch at a time from *after.
func (w *wtx) pruneOverflow(maxEntries int, after *entryKey, batch int) (pruned, error) {
	var count int
	if err := w.queryRow(`SELECT count(*) FROM entries`).Scan(&count); err != nil {
		return pruned{}, err
	}
	excess := count - maxEntries
	if excess <= 0 {
		return pruned{}, nil
	}
	rows, err := w.query(`SELECT e.received_ms, e.id, EXISTS (SELECT 1 FROM deliveries d
			WHERE d.entry_id = e.id AND d.state IN ('pending', 'inflight'))
		FROM entries e WHERE (e.received_ms, e.id) > (?, ?) ORDER BY e.received_ms, e.id LIMIT ?`,
		after.received, after.id, batch)
	if err != nil {
		return pruned{}, err
	}
	var ids []string
	seen := 0
	for len(ids) < excess && rows.Next() {
		var busy bool
		if err := rows.Scan(&after.received, &after.id, &busy); err != nil {
			rows.Close()
			return pruned{}, err
		}
		seen++
		if !busy {
			ids = append(ids, after.id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return pruned{}, err
	}
	if len(ids) == 0 {
		return pruned{more: seen == batch}, nil
	}
	list := jsonList(ids)
	var r store.PruneResult
	res, err := w.exec(`DELETE FROM attempts WHERE delivery_id IN
		(SELECT id FROM deliveries WHERE entry_id IN (SELECT value FROM json_each(?)))`, list)
	if err != nil {
		return pruned{}, err
	}
	n, _ := res.RowsAffected()
	r.Attempts = int(n)
	if res, err = w.exec(`DELETE FROM deliveries WHERE entry_id IN (SELECT value FROM json_each(?))`, list); err != nil {
		return pruned{}, err
	}
	n, _ = res.RowsAffected()
	r.Deliveries = int(n)
	if res, err = w.exec(`DELETE FROM entries WHERE id IN (SELECT value FROM json_each(?))`, list); err != nil {
		return pruned{}, err
	}
	n, _ = res.RowsAffected()
	r.Entries = int(n)
	// Go on while entries are still over the cap and the scan has not
	// reached the newest entry.
	return pruned{PruneResult: r, more: len(ids) < excess && seen == batch}, nil
}

// reclaim returns free pages to the file system, then truncates the WAL
// (in that order: the vacuum itself goes through the WAL). It runs outside
// a transaction; a checkpoint that readers hold back is fine.
func (w *wtx) reclaim() (struct{}, error) {
	ctx := context.Background()
	// incremental_vacuum frees one page per step: drain its rows.
	rows, err := w.s.wconn.QueryContext(ctx, `PRAGMA incremental_vacuum`)
	if err != nil {
		return struct{}{}, err
	}
	for rows.Next() {
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return struct{}{}, err
	}
	// A TRUNCATE checkpoint gives up at once (busy, no error) while the
	// background checkpointer runs one; its passes are short, so try again
	// a few times rather than leave the log at its full size.
	for try := 0; ; try++ {
		var busy, frames, done int64
		err := w.s.wconn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done)
		if err != nil || busy == 0 || try == reclaimTries {
			return struct{}{}, err
		}
		time.Sleep(time.Duration(try+1) * time.Millisecond)
	}
}

// reclaimTries bounds reclaim's checkpoint retries (about 50 ms in all).
const reclaimTries = 9
