package store

import (
	"errors"
	"fmt"
)

// ValidateIngest checks an Ingest call before any backend writes: ids and
// subscriptions present, one delivery per subscription, states a new
// delivery may have, a cursor with a source.
func ValidateIngest(entries []NewEntry, cursor *Cursor) error {
	for i, e := range entries {
		if e.ID == "" {
			return fmt.Errorf("ingest: entry %d: empty ID", i)
		}
		subs := make(map[string]bool, len(e.Deliveries))
		ids := make(map[string]bool, len(e.Deliveries))
		for j, d := range e.Deliveries {
			where := fmt.Sprintf("ingest: entry %q delivery %d", e.ID, j)
			switch {
			case d.ID == "":
				return fmt.Errorf("%s: empty ID", where)
			case d.Subscription == "":
				return fmt.Errorf("%s (%s): empty Subscription", where, d.ID)
			case subs[d.Subscription]:
				return fmt.Errorf("%s (%s): second delivery for subscription %q", where, d.ID, d.Subscription)
			case ids[d.ID]:
				return fmt.Errorf("%s: delivery ID %q used twice", where, d.ID)
			}
			if err := CheckState(d.State, Pending, Delivered, Failed, Filtered, Skipped); err != nil {
				return fmt.Errorf("%s (%s): %w", where, d.ID, err)
			}
			if l := d.Lease; l != nil {
				switch {
				case d.State != Pending:
					return fmt.Errorf("%s (%s): Lease on a %s delivery, only a pending one can be leased", where, d.ID, d.State)
				case l.Owner == "":
					return fmt.Errorf("%s (%s): Lease with empty Owner", where, d.ID)
				case l.Until.IsZero():
					return fmt.Errorf("%s (%s): Lease with zero Until", where, d.ID)
				}
			}
			subs[d.Subscription] = true
			ids[d.ID] = true
		}
	}
	if cursor != nil && cursor.Source == "" {
		return errors.New("ingest: cursor with empty Source")
	}
	return nil
}

// ValidateFinish checks a Finish call before any backend writes: each
// outcome names a delivery, its owner and the claimed attempt, and a state
// a claimed delivery may end in.
func ValidateFinish(outcomes []Outcome) error {
	for i, o := range outcomes {
		where := fmt.Sprintf("finish: outcome %d (delivery %q)", i, o.DeliveryID)
		switch {
		case o.DeliveryID == "":
			return fmt.Errorf("finish: outcome %d: empty DeliveryID", i)
		case o.Subscription == "":
			return fmt.Errorf("%s: empty Subscription", where)
		case o.Owner == "":
			return fmt.Errorf("%s: empty Owner", where)
		case o.Attempt < 1:
			return fmt.Errorf("%s: Attempt %d, expected the claimed attempt (>= 1)", where, o.Attempt)
		}
		if err := CheckState(o.State, Delivered, Pending, Failed, Skipped); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

// CheckState reports an error unless st is one of allowed.
func CheckState(st State, allowed ...State) error {
	for _, a := range allowed {
		if st == a {
			return nil
		}
	}
	return fmt.Errorf("state %q not allowed here (expected one of %v)", st, allowed)
}

// Validate checks a TryLead call.
func (p LeadParams) Validate() error {
	switch {
	case p.Name == "":
		return errors.New("try lead: empty Name")
	case p.Owner == "":
		return fmt.Errorf("try lead %s: empty Owner", p.Name)
	case p.TTL <= 0:
		return fmt.Errorf("try lead %s: TTL %v, expected > 0", p.Name, p.TTL)
	}
	return nil
}

// Validate checks a Retry call: it names a delivery or a subscription and
// selects terminal states only.
func (p RetryParams) Validate() error {
	if p.DeliveryID == "" && p.Subscription == "" {
		return errors.New("retry: DeliveryID or Subscription is required")
	}
	for _, st := range p.States {
		if !st.Terminal() {
			return fmt.Errorf("retry: state %q is not terminal (expected delivered, failed, filtered or skipped)", st)
		}
	}
	return nil
}

// Validate checks a SetSubscriptionState call.
func (s SubscriptionState) Validate() error {
	if s.Name == "" {
		return errors.New("set subscription state: empty Name")
	}
	return nil
}

// Validate checks a RecordAction call.
func (a Action) Validate() error {
	if a.Kind == "" {
		return errors.New("record action: empty Kind")
	}
	return nil
}

// ValidateAdd checks the deliveries of an AddDeliveries call.
func ValidateAdd(ds []EntryDelivery) error {
	type key struct{ entry, sub string }
	seen := make(map[key]bool, len(ds))
	ids := make(map[string]bool, len(ds))
	for i, d := range ds {
		where := fmt.Sprintf("add deliveries: delivery %d", i)
		switch {
		case d.EntryID == "":
			return fmt.Errorf("%s: empty EntryID", where)
		case d.ID == "":
			return fmt.Errorf("%s: empty ID", where)
		case d.Subscription == "":
			return fmt.Errorf("%s (%s): empty Subscription", where, d.ID)
		case d.Lease != nil:
			return fmt.Errorf("%s (%s): a Lease; added deliveries are claimed as usual", where, d.ID)
		case seen[key{d.EntryID, d.Subscription}]:
			return fmt.Errorf("%s (%s): second delivery of entry %q for subscription %q", where, d.ID, d.EntryID, d.Subscription)
		case ids[d.ID]:
			return fmt.Errorf("%s: delivery ID %q used twice", where, d.ID)
		}
		if err := CheckState(d.State, Pending, Delivered, Failed, Filtered, Skipped); err != nil {
			return fmt.Errorf("%s (%s): %w", where, d.ID, err)
		}
		seen[key{d.EntryID, d.Subscription}] = true
		ids[d.ID] = true
	}
	return nil
}
