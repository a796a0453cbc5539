package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/policy"
	"github.com/auditrelay/auditrelay/core/store"
)

// resendPage is how many entries or deliveries Resend reads (and adds)
// per store call, so a long range never sits in memory at once.
const resendPage = 500

// Resend implements API.
func (e *Engine) Resend(ctx context.Context, actor string, p ResendParams) (ResendResult, error) {
	_, s, err := e.sub(p.Subscription)
	if err != nil {
		return ResendResult{}, err
	}
	if p.Since.IsZero() {
		return ResendResult{}, errors.New("resend: a start of the range (since) is required")
	}
	if !p.DryRun && !p.Resume {
		if err := e.held(ctx, p.Subscription); err != nil {
			return ResendResult{}, err
		}
	}
	var res ResendResult
	if p.Failed {
		err = e.resendFailed(ctx, actor, p, &res)
	} else {
		err = e.resendEntries(ctx, actor, s, p, &res)
	}
	if err != nil {
		return res, err
	}
	if res.Queued > 0 {
		kind := "resend"
		if p.Failed {
			kind = "retry-since"
		}
		e.record(ctx, actor, kind, p.Subscription, fmt.Sprintf("%d queued since %s (%d in range)", res.Queued, p.Since.UTC().Format("2006-01-02T15:04:05Z"), res.InRange))
		e.wakeSub(p.Subscription)
	}
	if p.Resume && !p.DryRun {
		// After queuing: see ResumeAndRetry.
		return res, e.SetPaused(ctx, actor, p.Subscription, false)
	}
	return res, nil
}

// resendEntries adds a delivery to s for every entry received since
// p.Since that its policy allows and that has none for s yet.
func (e *Engine) resendEntries(ctx context.Context, actor string, s *subscription, p ResendParams, res *ResendResult) error {
	f := store.EntryFilter{Kind: p.Kind, Limit: resendPage}
	for {
		page, err := e.st.ListEntries(ctx, f)
		if err != nil {
			return err
		}
		var add []store.EntryDelivery
		done := len(page) < resendPage
		for _, sum := range page {
			if sum.ReceivedAt.Before(p.Since) {
				done = true // newest first: the rest are older
				break
			}
			res.InRange++
			ent, err := e.st.GetEntry(ctx, sum.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue // pruned meanwhile
			}
			if err != nil {
				return err
			}
			dec, ok, err := e.allows(s, ent)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			res.Allowed++
			if hasDelivery(ent, p.Subscription) {
				res.Already++
				continue
			}
			add = append(add, store.EntryDelivery{EntryID: ent.ID, NewDelivery: store.NewDelivery{
				ID:            DeliveryID(p.Subscription, ent.ID),
				Subscription:  p.Subscription,
				State:         store.Pending,
				Reason:        "resent by " + actor + "; " + dec,
				NextAttemptAt: e.now(),
			}})
		}
		if len(add) > 0 {
			if p.DryRun {
				res.Queued += len(add)
			} else {
				ids, err := e.st.AddDeliveries(ctx, add)
				if err != nil {
					return err
				}
				res.Queued += len(ids)
				res.Already += len(add) - len(ids) // added meanwhile by someone else
				res.Delivery = appendCapped(res.Delivery, ids)
			}
		}
		if done || len(page) == 0 {
			return nil
		}
		last := page[len(page)-1]
		f.Before, f.BeforeID = last.ReceivedAt, last.ID
	}
}

// allows decides whether s's current policy sends ent, with the one-line
// reason stored on the delivery.
func (e *Engine) allows(s *subscription, ent store.Entry) (string, bool, error) {
	dec, err := auditlog.DecodeEntry(ent.Raw)
	if err != nil {
		return "", false, fmt.Errorf("stored entry %s: %w", ent.ID, err)
	}
	accesses := make([]policy.Access, len(dec.Accesses))
	for i, a := range dec.Accesses {
		accesses[i] = policy.NewAccess(a.Action, a.Resource)
	}
	d := s.policy.Decide(accesses)
	if !d.Send {
		return "", false, nil
	}
	return decisionSummary(s, d, dec.Accesses), true, nil
}

func hasDelivery(ent store.Entry, sub string) bool {
	for _, d := range ent.Deliveries {
		if d.Subscription == sub {
			return true
		}
	}
	return false
}

// resendFailed retries the failed deliveries of the subscription last
// updated since p.Since.
func (e *Engine) resendFailed(ctx context.Context, actor string, p ResendParams, res *ResendResult) error {
	f := store.DeliveryFilter{Subscription: p.Subscription, States: []store.State{store.Failed}, Limit: resendPage}
	var ids []string
	for {
		page, err := e.st.ListDeliveries(ctx, f)
		if err != nil {
			return err
		}
		done := len(page) < resendPage
		for _, d := range page {
			if d.UpdatedAt.Before(p.Since) {
				done = true
				break
			}
			if p.Kind != "" && d.EntryKind != p.Kind {
				continue
			}
			ids = append(ids, d.ID)
		}
		if done || len(page) == 0 {
			break
		}
		last := page[len(page)-1]
		f.Before, f.BeforeID = last.UpdatedAt, last.ID
	}
	res.InRange, res.Allowed = len(ids), len(ids)
	if p.DryRun {
		res.Queued = len(ids)
		return nil
	}
	for _, id := range ids {
		n, err := e.st.Retry(ctx, store.RetryParams{DeliveryID: id, Now: e.now()})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if n > 0 {
			res.Queued++
			res.Delivery = appendCapped(res.Delivery, []string{id})
		}
	}
	return nil
}

func appendCapped(dst, ids []string) []string {
	if room := MaxResendIDs - len(dst); room > 0 {
		dst = append(dst, ids[:min(room, len(ids))]...)
	}
	return dst
}
