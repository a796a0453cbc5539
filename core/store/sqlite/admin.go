package sqlite

import (
	"context"
	"fmt"
	"strconv"

	"github.com/auditrelay/auditrelay/core/store"
)

const sqlSetSubscription = `INSERT INTO subscription_state (name, paused, disabled, reason, updated_by, updated_ms)
	VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, disabled = excluded.disabled, reason = excluded.reason,
		updated_by = excluded.updated_by, updated_ms = excluded.updated_ms`

// SetSubscriptionState replaces a subscription's operator state, keeping its
// rate-limit bucket.
func (s *Store) SetSubscriptionState(ctx context.Context, st store.SubscriptionState) error {
	if err := st.Validate(); err != nil {
		return err
	}
	at := encodeTime(s.clock(st.UpdatedAt))
	_, err := do(ctx, s, durable, func(w *wtx) (struct{}, error) {
		if _, err := w.exec(sqlSetSubscription, st.Name, st.Paused, st.Disabled, st.Reason, st.UpdatedBy, at); err != nil {
			return struct{}{}, fmt.Errorf("set subscription state %q: %w", st.Name, err)
		}
		w.changed(store.Change{Kind: store.SubscriptionChanged, Subscriptions: []string{st.Name}})
		return struct{}{}, nil
	})
	return err
}

// RecordAction stores an operator action.
func (s *Store) RecordAction(ctx context.Context, a store.Action) (store.Action, error) {
	if err := a.Validate(); err != nil {
		return store.Action{}, err
	}
	a.At = s.clock(a.At)
	return do(ctx, s, durable, func(w *wtx) (store.Action, error) {
		err := w.queryRow(`INSERT INTO actions (at_ms, actor, kind, target, detail) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			encodeTime(a.At), a.Actor, a.Kind, a.Target, a.Detail).Scan(&a.ID)
		if err != nil {
			return store.Action{}, fmt.Errorf("record action %s: %w", a.Kind, err)
		}
		a.At = decodeTime(encodeTime(a.At)) // as stored
		w.changed(store.Change{Kind: store.ActionRecorded, IDs: []string{strconv.FormatInt(a.ID, 10)}})
		return a, nil
	})
}

// sqlLead takes the lease when it is free or expired, renews it for its
// owner, and returns no row when another owner holds it: one statement, so
// the PostgreSQL backend can use the same shape.
const sqlLead = `INSERT INTO leaders (name, owner, elected_ms, expires_ms) VALUES (?, ?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET
		owner = excluded.owner,
		elected_ms = CASE WHEN leaders.owner = excluded.owner AND leaders.expires_ms > excluded.elected_ms
			THEN leaders.elected_ms ELSE excluded.elected_ms END,
		expires_ms = excluded.expires_ms
	WHERE leaders.owner = excluded.owner OR leaders.expires_ms <= excluded.elected_ms
	RETURNING owner`

// TryLead acquires or renews the named lease for p.Owner.
func (s *Store) TryLead(ctx context.Context, p store.LeadParams) (bool, error) {
	if err := p.Validate(); err != nil {
		return false, err
	}
	now := s.clock(p.Now)
	return do(ctx, s, leaseOnly, func(w *wtx) (bool, error) {
		var owner string
		err := w.queryRow(sqlLead, p.Name, p.Owner, encodeTime(now), encodeTime(now.Add(p.TTL))).Scan(&owner)
		if isNoRows(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("try lead %s: %w", p.Name, err)
		}
		return true, nil
	})
}

// Resign gives up the named lease if owner holds it.
func (s *Store) Resign(ctx context.Context, name, owner string) error {
	_, err := do(ctx, s, leaseOnly, func(w *wtx) (struct{}, error) {
		if _, err := w.exec(`DELETE FROM leaders WHERE name = ? AND owner = ?`, name, owner); err != nil {
			return struct{}{}, fmt.Errorf("resign %s: %w", name, err)
		}
		return struct{}{}, nil
	})
	return err
}
