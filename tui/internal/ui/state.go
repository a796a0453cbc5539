package ui

import (
	"github.com/auditrelay/auditrelay/core/engine/api"
)

// Status is a state as people read it: a glyph and a word (never color
// alone, so it survives NO_COLOR and color blindness) and the style that
// colors it when color is on.
type Status struct {
	Glyph string
	Word  string
	Style Style
}

// String is the glyph and the word.
func (s Status) String() string { return s.Glyph + " " + s.Word }

// Render is the styled glyph and word.
func (s Status) Render() string { return s.Style.Render(s.String()) }

// DeliveryStatus says where a delivery stands. retrying is the console's
// optimistic state between a retry request and the engine's answer.
func (s *Styles) DeliveryStatus(st api.State, attempts int, retrying bool) Status {
	if retrying {
		return Status{"⟳", "retrying…", s.Warn}
	}
	switch st {
	case api.Delivered:
		return Status{"✓", "delivered", s.Ok}
	case api.Failed:
		return Status{"✗", "failed", s.Fail}
	case api.Pending:
		if attempts > 0 {
			return Status{"⟳", "retrying", s.Warn}
		}
		return Status{"◌", "pending", s.Warn}
	case api.InFlight:
		return Status{"→", "sending", s.Warn}
	case api.Filtered:
		return Status{"·", "filtered", s.Muted}
	case api.Skipped:
		return Status{"–", "skipped", s.Muted}
	case "":
		return Status{"·", "none", s.Muted}
	default:
		return Status{"?", string(st), s.Muted}
	}
}

// SubStatus says how a subscription is doing, most urgent first.
func (s *Styles) SubStatus(sub api.SubscriptionInfo) Status {
	switch {
	case sub.Disabled:
		w := "disabled"
		if sub.Reason != "" {
			w += " (" + sub.Reason + ")"
		}
		return Status{"⊘", w, s.Fail}
	case sub.Paused:
		return Status{"‖", "paused", s.Paused}
	case !sub.Enabled:
		return Status{"○", "off", s.Muted}
	case sub.Counts[api.Failed] > 0:
		return Status{"✗", "failed", s.Fail}
	case !sub.NextRetryAt.IsZero() || (sub.Counts[api.Pending] > 0 && sub.LastError != ""):
		return Status{"⟳", "retrying", s.Warn}
	case sub.CustomDelivery:
		return Status{"◇", "custom", s.Muted}
	case sub.Counts[api.Delivered] > 0 || (sub.LastStatus >= 200 && sub.LastStatus < 300):
		return Status{"✓", "delivered", s.Ok}
	default:
		return Status{"·", "idle", s.Muted}
	}
}

// DecisionStatus summarises one policy decision and its delivery.
func (s *Styles) DecisionStatus(d api.Decision) Status {
	if !d.Sent {
		return Status{"·", "filtered", s.Muted}
	}
	return s.DeliveryStatus(d.State, 0, false)
}

// Where is an entry's project/environment as the lists show it: both,
// either, or "—" for entries outside any project (members, teams…).
func Where(e *api.EntryView) string {
	switch {
	case e.Project != "" && e.Environment != "":
		return e.Project + "/" + e.Environment
	case e.Project != "":
		return e.Project
	case e.Environment != "":
		return e.Environment
	}
	return "—"
}
