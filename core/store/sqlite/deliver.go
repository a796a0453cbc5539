package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

const (
	sqlSubscriptionGate = `SELECT paused, disabled, rate_tokens, rate_updated_ms FROM subscription_state WHERE name = ?`
	sqlCountInFlight    = `SELECT count(*) FROM deliveries WHERE subscription = ? AND state = 'inflight'`
	// The claim reads the due deliveries first and then leases them by
	// rowid: the writer's connection holds the write lock, so nothing
	// changes them in between, and an UPDATE … RETURNING (which SQLite runs
	// into a temporary table first) costs more than the second statement.
	// The SELECT walks deliveries_due in order (seq is the rowid, the
	// index's implicit last column), so it never sorts. Its LIMIT is ?+0:
	// SQLite plans a bare "LIMIT ?" for the value bound and prepares the
	// statement again whenever that value changes, which it does here on
	// almost every claim.
	sqlClaimDue = `SELECT ` + deliveryCols + `, e.raw, d.seq FROM deliveries d JOIN entries e ON e.id = d.entry_id
		WHERE d.subscription = ? AND d.state = 'pending' AND d.next_attempt_ms <= ?
		ORDER BY d.next_attempt_ms, d.seq LIMIT ? + 0`
	sqlLeaseOne = `UPDATE deliveries
		SET state = 'inflight', attempts = attempts + 1, lease_owner = ?, lease_until_ms = ?, last_attempt_ms = ?, updated_ms = ?
		WHERE seq = ?`
	sqlLeaseMany = `UPDATE deliveries
		SET state = 'inflight', attempts = attempts + 1, lease_owner = ?, lease_until_ms = ?, last_attempt_ms = ?, updated_ms = ?
		WHERE seq IN (SELECT value FROM json_each(?))`
	sqlSaveBucket = `INSERT INTO subscription_state (name, rate_tokens, rate_updated_ms) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET rate_tokens = excluded.rate_tokens, rate_updated_ms = excluded.rate_updated_ms`
	sqlNextPending = `SELECT min(next_attempt_ms) FROM deliveries WHERE subscription = ? AND state = 'pending'`
	sqlFirstLease  = `SELECT min(lease_until_ms) FROM deliveries WHERE subscription = ? AND state = 'inflight'`
)

// Claim leases due deliveries of one subscription; see store.Store. The
// writer's single connection serialises claims, so the in-flight count and
// the rate bucket it reads are exact.
func (s *Store) Claim(ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	if err := p.Validate(); err != nil {
		return store.ClaimResult{}, err
	}
	return do(ctx, s, leaseOnly, func(w *wtx) (store.ClaimResult, error) {
		res, err := w.claim(p)
		if err != nil {
			return store.ClaimResult{}, fmt.Errorf("claim %s: %w", p.Subscription, err)
		}
		return res, nil
	})
}

func (w *wtx) claim(p store.ClaimParams) (store.ClaimResult, error) {
	var res store.ClaimResult
	// At the precision the bucket's time is stored in; see store.Bucket.
	now := decodeTime(encodeTime(w.s.clock(p.Now)))

	var paused, disabled bool
	var stored store.Bucket
	err := w.queryRow(sqlSubscriptionGate, p.Subscription).Scan(&paused, &disabled, &stored.Tokens, codec{}.Time(&stored.At))
	if err != nil && !isNoRows(err) {
		return res, err
	}
	if paused || disabled {
		res.Paused, res.Disabled = paused, disabled
		return res, nil
	}
	var inflight int
	if p.MaxInFlight > 0 {
		if err := w.queryRow(sqlCountInFlight, p.Subscription).Scan(&inflight); err != nil {
			return res, err
		}
	}
	plan := p.Plan(now, inflight, stored)

	if plan.N > 0 {
		if res.Claimed, err = w.claimDue(p, now, plan.N); err != nil {
			return res, err
		}
	}
	if c, ok := store.ClaimedChange(res.Claimed); ok {
		w.changed(c)
	}
	if p.Rate > 0 {
		b := plan.Bucket.Take(len(res.Claimed))
		if _, err := w.exec(sqlSaveBucket, p.Subscription, b.Tokens, encodeTime(b.At)); err != nil {
			return res, err
		}
	}

	var next, first time.Time
	if err := w.queryRow(sqlNextPending, p.Subscription).Scan(codec{}.Time(&next)); err != nil {
		return res, err
	}
	err = plan.Settle(&res, next, func() (time.Time, error) {
		err := w.queryRow(sqlFirstLease, p.Subscription).Scan(codec{}.Time(&first))
		return first, err
	})
	return res, err
}

// claimDue leases up to n due deliveries of p.Subscription to p.Owner and
// returns them as the store now holds them.
func (w *wtx) claimDue(p store.ClaimParams, now time.Time, n int) ([]store.Claimed, error) {
	nowMs := encodeTime(now)
	rows, err := w.query(sqlClaimDue, p.Subscription, nowMs, n)
	if err != nil {
		return nil, err
	}
	var out []store.Claimed
	var seqs []int64
	for rows.Next() {
		var seq int64
		var c store.Claimed
		d, err := store.ScanDelivery(rows, codec{}, &c.EntryRaw, &seq)
		if err != nil {
			rows.Close()
			return nil, err
		}
		c.Delivery = d
		out = append(out, c)
		seqs = append(seqs, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	leaseUntil := encodeTime(now.Add(p.Lease))
	if len(seqs) == 1 {
		_, err = w.exec(sqlLeaseOne, p.Owner, leaseUntil, nowMs, nowMs, seqs[0])
	} else {
		ids, _ := json.Marshal(seqs) // a slice of int64 always marshals
		_, err = w.exec(sqlLeaseMany, p.Owner, leaseUntil, nowMs, nowMs, string(ids))
	}
	if err != nil {
		return nil, err
	}
	// As the UPDATE left them, at the precision the columns keep.
	at, until := decodeTime(nowMs), decodeTime(leaseUntil)
	for i := range out {
		d := &out[i].Delivery
		d.State, d.Attempts, d.LeaseOwner, d.LeaseUntil = store.InFlight, d.Attempts+1, p.Owner, until
		d.LastAttemptAt, d.UpdatedAt = at, at
	}
	return out, nil
}

const (
	// Both finishing UPDATEs repeat the claim's precondition: a late outcome
	// from an owner that lost its lease matches no row. They return
	// nothing: SQLite runs a statement with RETURNING into a temporary
	// table first, which made the update cost a sixth more of the store's
	// work per event (BenchmarkIngestLeasedFinish); the outcome names its
	// subscription instead, and the fence checks it.
	sqlFinish = `UPDATE deliveries
		SET state = ?, reason = ?, step = ?, next_attempt_ms = ?, lease_owner = '', lease_until_ms = 0, updated_ms = ?, lost = 0
		WHERE id = ? AND subscription = ? AND state = 'inflight' AND lease_owner = ? AND attempts = ?`
	sqlFinishRecord = `UPDATE deliveries
		SET state = ?, reason = ?, step = ?, next_attempt_ms = ?, lease_owner = '', lease_until_ms = 0, updated_ms = ?, lost = 0,
			last_status = ?, last_error = ?, last_latency_us = ?, last_attempt_ms = coalesce(nullif(?, 0), last_attempt_ms)
		WHERE id = ? AND subscription = ? AND state = 'inflight' AND lease_owner = ? AND attempts = ?`
	sqlInsertAttempt = `INSERT INTO attempts (delivery_id, number, instance, trigger, started_ms, duration_us, url,
		request_digest, template, template_hash, status_code, error_class, error, response_headers, response_body,
		` + store.SentCols + `)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
			CASE WHEN ?16 <> '' AND EXISTS (SELECT 1 FROM attempts WHERE delivery_id = ?1 AND body_digest = ?19 AND request_body IS NOT NULL)
				THEN NULL ELSE ?22 END)`
	sqlDisable = `INSERT INTO subscription_state (name, disabled, reason, updated_by, updated_ms) VALUES (?, 1, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET disabled = 1, reason = excluded.reason, updated_by = excluded.updated_by,
			updated_ms = excluded.updated_ms`
)

// Finish records outcomes of claimed deliveries; see store.Store.
func (s *Store) Finish(ctx context.Context, outcomes []store.Outcome) (store.FinishResult, error) {
	if err := store.ValidateFinish(outcomes); err != nil {
		return store.FinishResult{}, err
	}
	if len(outcomes) == 0 {
		return store.FinishResult{Stale: []string{}}, nil
	}
	return do(ctx, s, durable, func(w *wtx) (store.FinishResult, error) { return w.finish(outcomes) })
}

func (w *wtx) finish(outcomes []store.Outcome) (store.FinishResult, error) {
	res := store.FinishResult{Stale: []string{}}
	now := w.s.now()
	nowMs := encodeTime(now)
	var applied, disabled []string
	subs := map[string]bool{}
	for _, o := range outcomes {
		next := encodeTime(store.DueAt(o.State, o.NextAttemptAt, now))
		// The fenced UPDATE changes no row when the lease was lost.
		var r sql.Result
		var err error
		if rec := o.Record; rec != nil {
			r, err = w.exec(sqlFinishRecord, string(o.State), o.Reason, o.Step, next, nowMs,
				rec.StatusCode, rec.Error, encodeDuration(rec.Duration), encodeTime(rec.StartedAt),
				o.DeliveryID, o.Subscription, o.Owner, o.Attempt)
		} else {
			r, err = w.exec(sqlFinish, string(o.State), o.Reason, o.Step, next, nowMs,
				o.DeliveryID, o.Subscription, o.Owner, o.Attempt)
		}
		var n int64
		if err == nil {
			n, err = r.RowsAffected()
		}
		if err != nil {
			return res, fmt.Errorf("finish delivery %q: %w", o.DeliveryID, err)
		}
		if n == 0 {
			res.Stale = append(res.Stale, o.DeliveryID)
			continue
		}
		sub := o.Subscription
		res.Applied++
		applied = append(applied, o.DeliveryID)
		subs[sub] = true
		if o.Record != nil {
			if err := w.insertAttempt(o.DeliveryID, o.Attempt, *o.Record); err != nil {
				return res, fmt.Errorf("finish delivery %q: %w", o.DeliveryID, err)
			}
		}
		if o.DisableSubscription != "" {
			if _, err := w.exec(sqlDisable, sub, o.DisableSubscription, o.Owner, nowMs); err != nil {
				return res, fmt.Errorf("finish delivery %q: disable subscription %q: %w", o.DeliveryID, sub, err)
			}
			disabled = append(disabled, sub)
		}
	}
	if len(applied) > 0 {
		w.changed(store.Change{Kind: store.DeliveriesChanged, IDs: applied, Subscriptions: slices.Sorted(maps.Keys(subs))})
	}
	if len(disabled) > 0 {
		w.changed(store.Change{Kind: store.SubscriptionChanged, Subscriptions: disabled})
	}
	return res, nil
}

func (w *wtx) insertAttempt(deliveryID string, number int, a store.Attempt) error {
	headers, err := store.EncodeHeaders(a.ResponseHeaders)
	if err != nil {
		return fmt.Errorf("attempt %d: %w", number, err)
	}
	method, reqHeaders, varsHash, digest, size, encoding, body, err := store.SentArgs(a.Request)
	if err != nil {
		return fmt.Errorf("attempt %d: %w", number, err)
	}
	if a.Request == nil {
		body = nil
	}
	_, err = w.exec(sqlInsertAttempt, deliveryID, number, a.Instance, a.Trigger, encodeTime(a.StartedAt),
		encodeDuration(a.Duration), a.URL, a.RequestDigest, a.Template, a.TemplateHash, a.StatusCode,
		a.ErrorClass, a.Error, headers, a.ResponseBody, method, reqHeaders, varsHash, digest, size, encoding, body)
	if err != nil {
		return fmt.Errorf("attempt %d: %w", number, err)
	}
	return nil
}

const (
	rescueBatch     = 500
	sqlExpiredLease = `SELECT id, attempts, lease_owner, lease_until_ms, last_attempt_ms, lost FROM deliveries
		WHERE state = 'inflight' AND lease_until_ms < ? ORDER BY lease_until_ms LIMIT ?`
	sqlRescue = `UPDATE deliveries
		SET state = ?, next_attempt_ms = ?, lease_owner = '', lease_until_ms = 0, reason = ?, lost = lost + 1,
			last_status = 0, last_error = ?, last_latency_us = ?, updated_ms = ?
		WHERE id = ? AND state = 'inflight' AND lease_until_ms < ? AND attempts = ? AND lease_owner = ?
		RETURNING subscription`
)

// RescueExpired makes InFlight deliveries whose lease ended before now
// Pending and due at now, or Failed as poison, logging a "worker-lost"
// attempt for each; see the package documentation of store for why
// Attempts and Step stay as they are. It works in transactions of
// rescueBatch deliveries.
func (s *Store) RescueExpired(ctx context.Context, p store.RescueParams) (store.RescueResult, error) {
	now := s.clock(p.Now)
	var res store.RescueResult
	for {
		r, err := do(ctx, s, durable, func(w *wtx) (rescued, error) { return w.rescue(now, p) })
		res.Requeued += r.requeued
		res.Poisoned = append(res.Poisoned, r.poisoned...)
		if err != nil {
			return res, fmt.Errorf("rescue expired leases: %w", err)
		}
		if !r.more {
			if n := res.Requeued + len(res.Poisoned); n > 0 {
				s.log.Warn("rescued deliveries whose lease expired", "count", n, "poisoned", len(res.Poisoned))
			}
			return res, nil
		}
	}
}

type rescued struct {
	requeued int
	poisoned []store.DeliveryRef
	more     bool // the batch was full: look again
}

func (w *wtx) rescue(now time.Time, p store.RescueParams) (rescued, error) {
	nowMs := encodeTime(now)
	type lost struct {
		id, owner           string
		attempts, lost      int
		leaseUntil, startMs int64
	}
	rows, err := w.query(sqlExpiredLease, nowMs, rescueBatch)
	if err != nil {
		return rescued{}, err
	}
	var found []lost
	for rows.Next() {
		var l lost
		if err := rows.Scan(&l.id, &l.attempts, &l.owner, &l.leaseUntil, &l.startMs, &l.lost); err != nil {
			rows.Close()
			return rescued{}, err
		}
		found = append(found, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rescued{}, err
	}
	var res rescued
	var refs []store.DeliveryRef
	for _, l := range found {
		msg := fmt.Sprintf("worker lost: the lease of %s expired at %s without an outcome",
			l.owner, decodeTime(l.leaseUntil).Format(time.RFC3339Nano))
		var dur time.Duration
		if l.startMs != 0 {
			dur = time.Duration(nowMs-l.startMs) * time.Millisecond
		}
		state, next, reason := store.Pending, nowMs, msg
		poison := p.Poisons(l.lost)
		if poison {
			state, next, reason = store.Failed, 0, store.PoisonReason(l.lost+1)
		}
		var sub string
		err := w.queryRow(sqlRescue, string(state), next, reason, msg, encodeDuration(dur), nowMs,
			l.id, nowMs, l.attempts, l.owner).Scan(&sub)
		if isNoRows(err) {
			continue
		}
		if err != nil {
			return rescued{}, fmt.Errorf("delivery %q: %w", l.id, err)
		}
		a := store.Attempt{
			Instance:   l.owner,
			Trigger:    "auto",
			StartedAt:  decodeTime(l.startMs),
			Duration:   dur,
			ErrorClass: "worker-lost",
			Error:      msg,
		}
		if err := w.insertAttempt(l.id, l.attempts, a); err != nil {
			return rescued{}, fmt.Errorf("delivery %q: %w", l.id, err)
		}
		ref := store.DeliveryRef{ID: l.id, Subscription: sub}
		refs = append(refs, ref)
		if poison {
			res.poisoned = append(res.poisoned, ref)
		} else {
			res.requeued++
		}
	}
	if len(refs) > 0 {
		w.changed(store.RefsChanged(refs))
	}
	res.more = len(found) == rescueBatch
	return res, nil
}

// Retry makes terminal deliveries pending again; see store.Store.
func (s *Store) Retry(ctx context.Context, p store.RetryParams) (int, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	states := p.Selected()
	args := []any{}
	for _, st := range states {
		args = append(args, string(st))
	}
	now := encodeTime(s.clock(p.Now))
	target, col := p.Subscription, "subscription"
	if p.DeliveryID != "" {
		target, col = p.DeliveryID, "id"
	}
	q := `UPDATE deliveries SET state = 'pending', step = 0, lost = 0, next_attempt_ms = ?, lease_owner = '', lease_until_ms = 0, updated_ms = ?
		WHERE ` + col + ` = ? AND state IN (` + placeholders(len(states)) + `) RETURNING id, subscription`
	args = append([]any{now, now, target}, args...)
	return do(ctx, s, durable, func(w *wtx) (int, error) {
		rows, err := w.query(q, args...)
		if err != nil {
			return 0, fmt.Errorf("retry %s: %w", target, err)
		}
		refs, err := store.ScanRefs(rows)
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("retry %s: %w", target, err)
		}
		if len(refs) == 0 && p.DeliveryID != "" {
			var one int
			err := w.queryRow(`SELECT 1 FROM deliveries WHERE id = ?`, p.DeliveryID).Scan(&one)
			if isNoRows(err) {
				return 0, fmt.Errorf("retry: delivery %q: %w", p.DeliveryID, store.ErrNotFound)
			}
			if err != nil {
				return 0, fmt.Errorf("retry %s: %w", target, err)
			}
		}
		if len(refs) > 0 {
			w.changed(store.RefsChanged(refs))
		}
		return len(refs), nil
	})
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
