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
	// sqlClaimGate reads the subscription's operator state and rate bucket
	// (no row: neither paused nor limited yet) and, when MaxInFlight
	// applies, its in-flight count. It runs after the advisory lock, so its
	// snapshot sees every claim committed before ours.
	sqlClaimGate = `SELECT coalesce(bool_or(s.paused), false), coalesce(bool_or(s.disabled), false),
		coalesce(max(s.rate_tokens), 0), max(s.rate_updated_at),
		CASE WHEN $2 THEN (SELECT count(*) FROM deliveries WHERE subscription = $1 AND state = 'inflight') ELSE 0 END
		FROM (SELECT 1) one LEFT JOIN subscription_state s ON s.name = $1`
	// sqlClaim leases up to $3 due deliveries in claim order: SKIP LOCKED
	// lets claimers of one subscription without limits (which take no
	// advisory lock) pass each other, and UPDATE … RETURNING makes the
	// claim one statement. It also stores the rate bucket when $9.
	sqlClaim = `WITH picked AS (
		SELECT seq FROM deliveries
		WHERE subscription = $1 AND state = 'pending' AND next_attempt_at <= $2
		ORDER BY next_attempt_at, seq
		LIMIT $3
		FOR UPDATE SKIP LOCKED
	), claimed AS (
		UPDATE deliveries d
		SET state = 'inflight', attempts = d.attempts + 1, lease_owner = $4, lease_until = $5,
			last_attempt_at = $2, updated_at = $2, updated_by = $6
		FROM picked
		WHERE d.seq = picked.seq AND d.state = 'pending'
		RETURNING d.*
	), bucket AS (
		INSERT INTO subscription_state (name, rate_tokens, rate_updated_at)
		SELECT $1, $7::float8 - (SELECT count(*) FROM claimed), $8 WHERE $9
		ON CONFLICT (name) DO UPDATE SET rate_tokens = excluded.rate_tokens, rate_updated_at = excluded.rate_updated_at
	)
	SELECT ` + deliveryCols + `, e.raw FROM claimed d JOIN entries e ON e.id = d.entry_id
	ORDER BY d.next_attempt_at, d.seq`
	// sqlClaimNext reads, after the claim, the earliest pending delivery
	// and the earliest lease of the subscription: the first entry of each
	// partial index. ORDER BY … LIMIT 1 rather than min(), which the
	// planner computes by a full scan when its statistics think the table
	// is tiny (a queue filled since the last ANALYZE).
	sqlClaimNext = `SELECT
		(SELECT next_attempt_at FROM deliveries WHERE subscription = $1 AND state = 'pending' ORDER BY next_attempt_at LIMIT 1),
		(SELECT lease_until FROM deliveries WHERE subscription = $1 AND state = 'inflight' ORDER BY lease_until LIMIT 1)`
)

// Claim leases due deliveries of one subscription; see store.Store.
//
// With MaxInFlight or a Rate, claims of one subscription are serialised
// by a transaction-scoped advisory lock on the subscription (every
// instance takes the same key), so the in-flight count and the token
// bucket read under it are exact across instances. The transaction is two
// pipelined round trips: BEGIN, the lock and the gate; then the claim, the
// next-due read and COMMIT. It commits without waiting for its WAL flush
// (synchronous_commit off): a claim lost to a crash of the database only
// hands the deliveries out again.
func (s *Store) Claim(ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	if err := p.Validate(); err != nil {
		return store.ClaimResult{}, err
	}
	if err := s.checkOpen(); err != nil {
		return store.ClaimResult{}, err
	}
	res, err := s.claim(ctx, p)
	if err != nil {
		return store.ClaimResult{}, fmt.Errorf("claim %s: %w", p.Subscription, err)
	}
	if c, ok := store.ClaimedChange(res.Claimed); ok {
		s.changed(c)
	}
	return res, nil
}

func (s *Store) claim(ctx context.Context, p store.ClaimParams) (res store.ClaimResult, err error) {
	// At the precision the bucket's time is stored in; see store.Bucket.
	now := s.clock(p.Now).Truncate(time.Microsecond)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Release()
	defer func() {
		// Leave no transaction open on a pooled connection.
		if conn.Conn().PgConn().TxStatus() != 'I' {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()

	var (
		paused, disabled bool
		stored           store.Bucket
		inflight         int
	)
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("SET LOCAL synchronous_commit = off")
	if p.MaxInFlight > 0 || p.Rate > 0 {
		b.Queue("SELECT pg_advisory_xact_lock($1)", s.lockKey("claim:"+p.Subscription))
	}
	b.Queue(sqlClaimGate, p.Subscription, p.MaxInFlight > 0).QueryRow(func(row pgx.Row) error {
		return row.Scan(&paused, &disabled, &stored.Tokens, codec{}.Time(&stored.At), &inflight)
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return res, err
	}
	if paused || disabled {
		res.Paused, res.Disabled = paused, disabled
		_, err := conn.Exec(ctx, "COMMIT")
		return res, err
	}

	plan := p.Plan(now, inflight, stored)
	saveBucket := p.Rate > 0
	var next, firstLease time.Time
	b = &pgx.Batch{}
	if plan.N > 0 || saveBucket {
		// The statement stores the bucket less what it claimed.
		b.Queue(sqlClaim, p.Subscription, now, plan.N, p.Owner, now.Add(p.Lease), s.instance,
			plan.Bucket.Tokens, ts(plan.Bucket.At), saveBucket).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var c store.Claimed
					d, err := store.ScanDelivery(rows, codec{}, &c.EntryRaw)
					if err != nil {
						return err
					}
					c.Delivery = d
					res.Claimed = append(res.Claimed, c)
				}
				return rows.Err()
			})
	}
	b.Queue(sqlClaimNext, p.Subscription).QueryRow(func(row pgx.Row) error {
		return row.Scan(codec{}.Time(&next), codec{}.Time(&firstLease))
	})
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return store.ClaimResult{}, err
	}
	err = plan.Settle(&res, next, func() (time.Time, error) { return firstLease, nil })
	return res, err
}

// sqlFinish applies a batch of outcomes in one statement. Every outcome is
// fenced in the UPDATE's WHERE (still in flight, same owner, same attempt),
// the attempts of those that applied are inserted, and 410 Gone disables
// subscriptions, all in the same commit.
const sqlFinish = `WITH o AS (
	SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[],
		$8::timestamptz[], $9::bool[], $10::int[], $11::text[], $12::bigint[], $13::timestamptz[], $14::text[], $38::text[])
		AS o (ord, id, owner, attempt, state, reason, step, next, rec, status, err, latency, started, disable, sub)
), upd AS (
	UPDATE deliveries d
	SET state = o.state, reason = o.reason, step = o.step, next_attempt_at = o.next,
		lease_owner = '', lease_until = NULL, updated_at = $15, updated_by = $16, lost = 0,
		last_status = CASE WHEN o.rec THEN o.status ELSE d.last_status END,
		last_error = CASE WHEN o.rec THEN o.err ELSE d.last_error END,
		last_latency_us = CASE WHEN o.rec THEN o.latency ELSE d.last_latency_us END,
		last_attempt_at = CASE WHEN o.rec THEN coalesce(o.started, d.last_attempt_at) ELSE d.last_attempt_at END
	FROM o
	WHERE d.id = o.id AND d.subscription = o.sub AND d.state = 'inflight' AND d.lease_owner = o.owner AND d.attempts = o.attempt
	RETURNING o.ord, d.id, d.subscription, o.owner, o.attempt, o.disable
), att AS (
	INSERT INTO attempts (delivery_id, number, instance, trigger, started_at, duration_us, url, request_digest,
		template, template_hash, status_code, error_class, error, response_headers, response_body,
		request_method, request_headers, vars_hash, body_digest, body_size, body_encoding, request_body)
	SELECT upd.id, upd.attempt, a.instance, a.trigger, a.started, a.duration, a.url, a.digest,
		a.template, a.template_hash, a.status, a.error_class, a.error, a.headers::jsonb, a.body,
		a.method, a.req_headers::jsonb, a.vars_hash, a.body_digest, a.body_size, a.body_encoding,
		-- A body an earlier attempt of the delivery stored is not stored again.
		CASE WHEN a.method <> '' AND EXISTS (SELECT 1 FROM attempts x
			WHERE x.delivery_id = upd.id AND x.body_digest = a.body_digest AND x.request_body IS NOT NULL)
		THEN NULL ELSE a.req_body END
	FROM unnest($17::int[], $18::text[], $19::text[], $20::timestamptz[], $21::bigint[], $22::text[], $23::text[],
		$24::text[], $25::text[], $26::int[], $27::text[], $28::text[], $29::text[], $30::bytea[],
		$31::text[], $32::text[], $33::text[], $34::text[], $35::int[], $36::text[], $37::bytea[])
		AS a (ord, instance, trigger, started, duration, url, digest, template, template_hash, status, error_class, error, headers, body,
			method, req_headers, vars_hash, body_digest, body_size, body_encoding, req_body)
	JOIN upd ON upd.ord = a.ord
	ORDER BY a.ord
), dis AS (
	INSERT INTO subscription_state (name, disabled, reason, updated_by, updated_at)
	SELECT DISTINCT ON (subscription) subscription, true, disable, owner, $15 FROM upd
	WHERE disable <> ''
	ORDER BY subscription, ord
	ON CONFLICT (name) DO UPDATE SET disabled = true, reason = excluded.reason, updated_by = excluded.updated_by,
		updated_at = excluded.updated_at
)
SELECT ord, subscription, disable <> '' FROM upd`

// finishArgs are the columns of sqlFinish's two unnest inputs.
type finishArgs struct {
	ord, attempt, step, status                      []int32
	id, sub, owner, state, reason, errText, disable []string
	next, started                                   []pgtype.Timestamptz
	rec                                             []bool
	latency                                         []int64
	aOrd, aStatus                                   []int32
	aInstance, aTrigger, aURL, aDigest, aTemplate   []string
	aTemplateHash, aErrorClass, aError, aHeaders    []string
	aStarted                                        []pgtype.Timestamptz
	aDuration                                       []int64
	aBody                                           [][]byte
	// The request as sent (store.SentCols).
	rMethod, rHeaders, rVarsHash, rDigest, rEncoding []string
	rSize                                            []int32
	rBody                                            [][]byte
}

// Finish records outcomes of claimed deliveries; see store.Store.
func (s *Store) Finish(ctx context.Context, outcomes []store.Outcome) (store.FinishResult, error) {
	if err := store.ValidateFinish(outcomes); err != nil {
		return store.FinishResult{}, err
	}
	if err := s.checkOpen(); err != nil {
		return store.FinishResult{}, err
	}
	res := store.FinishResult{Stale: []string{}}
	if len(outcomes) == 0 {
		return res, nil
	}
	now := s.now()
	var a finishArgs
	// An outcome repeated (same delivery, owner and attempt) applies once:
	// the first; the repeats are stale.
	type fence struct {
		id, owner string
		attempt   int
	}
	first := make(map[fence]bool, len(outcomes))
	for i, o := range outcomes {
		f := fence{o.DeliveryID, o.Owner, o.Attempt}
		if first[f] {
			continue
		}
		first[f] = true
		next := ts(store.DueAt(o.State, o.NextAttemptAt, now))
		a.ord = append(a.ord, int32(i))
		a.id = append(a.id, o.DeliveryID)
		a.sub = append(a.sub, o.Subscription)
		a.owner = append(a.owner, o.Owner)
		a.attempt = append(a.attempt, int32(o.Attempt))
		a.state = append(a.state, string(o.State))
		a.reason = append(a.reason, o.Reason)
		a.step = append(a.step, int32(o.Step))
		a.next = append(a.next, next)
		a.disable = append(a.disable, o.DisableSubscription)
		r := o.Record
		a.rec = append(a.rec, r != nil)
		if r == nil {
			a.status = append(a.status, 0)
			a.errText = append(a.errText, "")
			a.latency = append(a.latency, 0)
			a.started = append(a.started, pgtype.Timestamptz{})
			continue
		}
		a.status = append(a.status, int32(r.StatusCode))
		a.errText = append(a.errText, r.Error)
		a.latency = append(a.latency, micros(r.Duration))
		a.started = append(a.started, ts(r.StartedAt))
		headers, err := store.EncodeHeaders(r.ResponseHeaders)
		if err != nil {
			return res, fmt.Errorf("finish: outcome %d (delivery %q): %w", i, o.DeliveryID, err)
		}
		a.aOrd = append(a.aOrd, int32(i))
		a.aInstance = append(a.aInstance, r.Instance)
		a.aTrigger = append(a.aTrigger, r.Trigger)
		a.aStarted = append(a.aStarted, ts(r.StartedAt))
		a.aDuration = append(a.aDuration, micros(r.Duration))
		a.aURL = append(a.aURL, r.URL)
		a.aDigest = append(a.aDigest, r.RequestDigest)
		a.aTemplate = append(a.aTemplate, r.Template)
		a.aTemplateHash = append(a.aTemplateHash, r.TemplateHash)
		a.aStatus = append(a.aStatus, int32(r.StatusCode))
		a.aErrorClass = append(a.aErrorClass, r.ErrorClass)
		a.aError = append(a.aError, r.Error)
		a.aHeaders = append(a.aHeaders, headers)
		a.aBody = append(a.aBody, r.ResponseBody)
		method, reqHeaders, varsHash, digest, size, encoding, body, err := store.SentArgs(r.Request)
		if err != nil {
			return res, fmt.Errorf("finish: outcome %d (delivery %q): %w", i, o.DeliveryID, err)
		}
		if r.Request == nil {
			body = nil
		}
		a.rMethod = append(a.rMethod, method)
		a.rHeaders = append(a.rHeaders, reqHeaders)
		a.rVarsHash = append(a.rVarsHash, varsHash)
		a.rDigest = append(a.rDigest, digest)
		a.rSize = append(a.rSize, int32(size))
		a.rEncoding = append(a.rEncoding, encoding)
		a.rBody = append(a.rBody, body)
	}
	if a.aOrd == nil {
		a.aOrd = []int32{}
	}
	rows, err := s.pool.Query(ctx, sqlFinish,
		a.ord, a.id, a.owner, a.attempt, a.state, a.reason, a.step, a.next, a.rec, a.status, a.errText, a.latency, a.started, a.disable,
		now, s.instance,
		a.aOrd, a.aInstance, a.aTrigger, a.aStarted, a.aDuration, a.aURL, a.aDigest, a.aTemplate, a.aTemplateHash,
		a.aStatus, a.aErrorClass, a.aError, a.aHeaders, a.aBody,
		a.rMethod, a.rHeaders, a.rVarsHash, a.rDigest, a.rSize, a.rEncoding, a.rBody,
		a.sub)
	if err != nil {
		return res, fmt.Errorf("finish %d outcomes: %w", len(outcomes), err)
	}
	applied := make(map[int32]string, len(outcomes))
	var disabled []string
	for rows.Next() {
		var ord int32
		var sub string
		var dis bool
		if err := rows.Scan(&ord, &sub, &dis); err != nil {
			rows.Close()
			return res, fmt.Errorf("finish: %w", err)
		}
		applied[ord] = sub
		if dis {
			disabled = append(disabled, sub)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("finish %d outcomes: %w", len(outcomes), err)
	}
	var ids, subs []string
	for i, o := range outcomes {
		sub, ok := applied[int32(i)]
		if !ok {
			res.Stale = append(res.Stale, o.DeliveryID)
			continue
		}
		res.Applied++
		ids = append(ids, o.DeliveryID)
		subs = append(subs, sub)
	}
	if len(ids) > 0 {
		s.changed(store.Change{Kind: store.DeliveriesChanged, IDs: ids, Subscriptions: subs})
	}
	if len(disabled) > 0 {
		s.changed(store.Change{Kind: store.SubscriptionChanged, Subscriptions: disabled})
	}
	return res, nil
}

const (
	rescueBatch = 1000
	// sqlRescue takes a batch of expired leases (SKIP LOCKED: a delivery
	// being finished right now is left to its Finish), repeats the
	// precondition in the UPDATE (river #1302) and logs the lost attempt,
	// in one statement. A delivery whose lease expired $4 times in a row
	// ($4 > 0) fails as poison (reason $5, store.PoisonReasonFormat)
	// instead of becoming due: store.RescueParams.Poisons, in SQL.
	sqlRescue = `WITH lost AS (
		SELECT seq, lease_owner, lease_until, attempts, last_attempt_at, lost + 1 AS lost_now FROM deliveries
		WHERE state = 'inflight' AND lease_until < $1
		ORDER BY lease_until
		LIMIT $2
		FOR UPDATE SKIP LOCKED
	), upd AS (
		UPDATE deliveries d
		SET state = CASE WHEN m.poison THEN 'failed' ELSE 'pending' END,
			next_attempt_at = CASE WHEN m.poison THEN NULL ELSE $1 END,
			reason = CASE WHEN m.poison THEN replace($5, '%d', l.lost_now::text) ELSE m.msg END,
			lost = l.lost_now, lease_owner = '', lease_until = NULL,
			last_status = 0, last_error = m.msg, last_latency_us = m.dur, updated_at = $1, updated_by = $3
		FROM lost l, LATERAL (SELECT
			'worker lost: the lease of ' || l.lease_owner || ' expired at ' ||
				to_char(l.lease_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ' without an outcome' AS msg,
			CASE WHEN l.last_attempt_at IS NULL THEN 0
				ELSE (extract(epoch FROM $1::timestamptz - l.last_attempt_at) * 1000000)::bigint END AS dur,
			$4::int > 0 AND l.lost_now >= $4::int AS poison) m
		WHERE d.seq = l.seq AND d.state = 'inflight' AND d.lease_until < $1
			AND d.attempts = l.attempts AND d.lease_owner = l.lease_owner
		RETURNING d.id, d.subscription, l.lease_owner, l.attempts, l.last_attempt_at, m.msg, m.dur, m.poison
	), att AS (
		INSERT INTO attempts (delivery_id, number, instance, trigger, started_at, duration_us, error_class, error)
		SELECT id, attempts, lease_owner, 'auto', last_attempt_at, dur, 'worker-lost', msg FROM upd
	)
	SELECT id, subscription, poison FROM upd`
)

// RescueExpired makes InFlight deliveries whose lease ended before now
// Pending and due at now, or Failed as poison, logging a "worker-lost"
// attempt for each; see the package documentation of store for why
// Attempts and Step stay as they are. Every instance may run it at once:
// each takes different rows.
func (s *Store) RescueExpired(ctx context.Context, p store.RescueParams) (store.RescueResult, error) {
	var res store.RescueResult
	if err := s.checkOpen(); err != nil {
		return res, err
	}
	now := s.clock(p.Now)
	poisonAfter := max(p.PoisonAfter, 0)
	for {
		rows, err := s.pool.Query(ctx, sqlRescue, now, rescueBatch, s.instance, poisonAfter, store.PoisonReasonFormat())
		if err != nil {
			return res, fmt.Errorf("rescue expired leases: %w", err)
		}
		var refs []store.DeliveryRef
		for rows.Next() {
			var ref store.DeliveryRef
			var poison bool
			if err := rows.Scan(&ref.ID, &ref.Subscription, &poison); err != nil {
				rows.Close()
				return res, fmt.Errorf("rescue expired leases: %w", err)
			}
			refs = append(refs, ref)
			if poison {
				res.Poisoned = append(res.Poisoned, ref)
			} else {
				res.Requeued++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, fmt.Errorf("rescue expired leases: %w", err)
		}
		if len(refs) > 0 {
			s.changed(store.RefsChanged(refs))
		}
		if len(refs) < rescueBatch {
			if n := res.Requeued + len(res.Poisoned); n > 0 {
				s.log.Warn("rescued deliveries whose lease expired", "count", n, "poisoned", len(res.Poisoned))
			}
			return res, nil
		}
	}
}

// Retry makes terminal deliveries pending again; see store.Store.
func (s *Store) Retry(ctx context.Context, p store.RetryParams) (int, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	var names []string
	for _, st := range p.Selected() {
		names = append(names, string(st))
	}
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	now := s.clock(p.Now)
	target, col := p.Subscription, "subscription"
	if p.DeliveryID != "" {
		target, col = p.DeliveryID, "id"
	}
	q := `UPDATE deliveries SET state = 'pending', step = 0, lost = 0, next_attempt_at = $1, lease_owner = '', lease_until = NULL,
		updated_at = $1, updated_by = $4
		WHERE ` + col + ` = $2 AND state = ANY($3) RETURNING id, subscription`
	rows, err := s.pool.Query(ctx, q, now, target, names, s.instance)
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
		err := s.pool.QueryRow(ctx, `SELECT 1 FROM deliveries WHERE id = $1`, p.DeliveryID).Scan(&one)
		if isNoRows(err) {
			return 0, fmt.Errorf("retry: delivery %q: %w", p.DeliveryID, store.ErrNotFound)
		}
		if err != nil {
			return 0, fmt.Errorf("retry %s: %w", target, err)
		}
	}
	if len(refs) > 0 {
		s.changed(store.RefsChanged(refs))
	}
	return len(refs), nil
}
