package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/auditrelay/auditrelay/core/store"
)

const sqlSetSubscription = `INSERT INTO subscription_state (name, paused, disabled, reason, updated_by, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6)
	ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, disabled = excluded.disabled, reason = excluded.reason,
		updated_by = excluded.updated_by, updated_at = excluded.updated_at`

// SetSubscriptionState replaces a subscription's operator state, keeping its
// rate-limit bucket.
func (s *Store) SetSubscriptionState(ctx context.Context, st store.SubscriptionState) error {
	if err := st.Validate(); err != nil {
		return err
	}
	if err := s.checkOpen(); err != nil {
		return err
	}
	at := s.clock(st.UpdatedAt)
	if _, err := s.pool.Exec(ctx, sqlSetSubscription, st.Name, st.Paused, st.Disabled, st.Reason, st.UpdatedBy, at); err != nil {
		return fmt.Errorf("set subscription state %q: %w", st.Name, err)
	}
	s.changed(store.Change{Kind: store.SubscriptionChanged, Subscriptions: []string{st.Name}})
	return nil
}

// RecordAction stores an operator action.
func (s *Store) RecordAction(ctx context.Context, a store.Action) (store.Action, error) {
	if err := a.Validate(); err != nil {
		return store.Action{}, err
	}
	if err := s.checkOpen(); err != nil {
		return store.Action{}, err
	}
	a.At = s.clock(a.At)
	var at = ts(a.At)
	err := s.pool.QueryRow(ctx, `INSERT INTO actions (at, actor, kind, target, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id, at`,
		a.At, a.Actor, a.Kind, a.Target, a.Detail).Scan(&a.ID, &at)
	if err != nil {
		return store.Action{}, fmt.Errorf("record action %s: %w", a.Kind, err)
	}
	a.At = fromTS(at) // as stored
	s.changed(store.Change{Kind: store.ActionRecorded, IDs: []string{strconv.FormatInt(a.ID, 10)}})
	return a, nil
}

// sqlLead takes the lease when it is free or expired, renews it for its
// owner, and returns no row when another owner holds it: one statement,
// serialised by the primary key, so two instances can never both win.
// The term (elected_at) survives renewals.
const sqlLead = `INSERT INTO leaders (name, owner, elected_at, expires_at) VALUES ($1, $2, $3, $4)
	ON CONFLICT (name) DO UPDATE SET
		owner = excluded.owner,
		elected_at = CASE WHEN leaders.owner = excluded.owner AND leaders.expires_at > excluded.elected_at
			THEN leaders.elected_at ELSE excluded.elected_at END,
		expires_at = excluded.expires_at
	WHERE leaders.owner = excluded.owner OR leaders.expires_at <= excluded.elected_at
	RETURNING owner`

// TryLead acquires or renews the named lease for p.Owner.
func (s *Store) TryLead(ctx context.Context, p store.LeadParams) (bool, error) {
	if err := p.Validate(); err != nil {
		return false, err
	}
	if err := s.checkOpen(); err != nil {
		return false, err
	}
	now := s.clock(p.Now)
	var owner string
	err := s.pool.QueryRow(ctx, sqlLead, p.Name, p.Owner, now, now.Add(p.TTL)).Scan(&owner)
	if isNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("try lead %s: %w", p.Name, err)
	}
	return true, nil
}

// Resign gives up the named lease if owner holds it.
func (s *Store) Resign(ctx context.Context, name, owner string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM leaders WHERE name = $1 AND owner = $2`, name, owner); err != nil {
		return fmt.Errorf("resign %s: %w", name, err)
	}
	return nil
}
