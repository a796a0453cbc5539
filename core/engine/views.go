package engine

import (
	"strings"

	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/mask"
	"github.com/auditrelay/auditrelay/core/store"
)

// The views are where the engine masks: every string that may carry a
// secret (URLs, headers, bodies, errors, reasons) passes through the
// subscription's mask.Masker here, so the console, SSH sessions, the CLI
// (text and JSON) and the admin API all show the same masked values and
// none of them masks anything itself.

func entryView(sum store.EntrySummary, ds []store.NewDelivery) EntryView {
	v := summaryView(sum)
	v.Decisions = make([]Decision, 0, len(ds))
	for _, d := range ds {
		v.Decisions = append(v.Decisions, Decision{
			Subscription: d.Subscription,
			Sent:         d.State != store.Filtered,
			Summary:      d.Reason,
			DeliveryID:   d.ID,
			State:        State(d.State),
		})
	}
	return v
}

func summaryView(sum store.EntrySummary) EntryView {
	return EntryView{
		ID:          sum.ID,
		Date:        sum.Date,
		ReceivedAt:  sum.ReceivedAt,
		Source:      sum.Source,
		Kind:        sum.Kind,
		Title:       sum.Title,
		Member:      sum.Member,
		Project:     sum.Project,
		Environment: sum.Environment,
		ListItem:    sum.ListItem,
	}
}

// maskerFor returns the masker of a subscription; nil (which still masks
// credential headers and URL userinfo) when it is no longer configured.
func (e *Engine) maskerFor(sub string) *mask.Masker {
	if _, s, err := e.sub(sub); err == nil {
		return s.masker
	}
	return nil
}

// decision is a stored delivery as one subscription's verdict on its entry.
func (e *Engine) decision(d store.Delivery) Decision {
	return Decision{
		Subscription: d.Subscription,
		Sent:         d.State != store.Filtered,
		Summary:      e.maskerFor(d.Subscription).Text(d.Reason),
		DeliveryID:   d.ID,
		State:        State(d.State),
		LastStatus:   d.LastStatus,
	}
}

func (e *Engine) deliveryView(d store.Delivery) DeliveryView {
	m := e.maskerFor(d.Subscription)
	return DeliveryView{
		ID:            d.ID,
		EntryID:       d.EntryID,
		Subscription:  d.Subscription,
		State:         State(d.State),
		Reason:        m.Text(d.Reason),
		Attempts:      d.Attempts,
		NextAttemptAt: d.NextAttemptAt,
		LastStatus:    d.LastStatus,
		LastError:     m.Text(d.LastError),
		LastLatency:   d.LastLatency,
		LastAttemptAt: d.LastAttemptAt,
		UpdatedAt:     d.UpdatedAt,
		EntryDate:     d.EntryDate,
		EntryKind:     d.EntryKind,
		EntryTitle:    d.EntryTitle,
	}
}

// attemptView shows a recorded attempt. What was stored is already masked
// with the secrets of its day; masking again applies today's secrets and
// the name rules to the response headers, which are stored as received.
func (e *Engine) attemptView(sub string, a store.Attempt) AttemptView {
	m := e.maskerFor(sub)
	v := AttemptView{
		DeliveryID:   a.DeliveryID,
		Subscription: sub,
		Number:       a.Number,
		Instance:     a.Instance,
		Trigger:      a.Trigger,
		StartedAt:    a.StartedAt,
		Duration:     a.Duration,
		URL:          m.URL(a.URL, false),
		Template:     a.Template,
		TemplateHash: a.TemplateHash,
		StatusCode:   a.StatusCode,
		ErrorClass:   a.ErrorClass,
		Error:        m.Text(a.Error),
		ResponseBody: string(m.Bytes(a.ResponseBody)),
		Sent:         sentView(a, m),
	}
	for _, h := range a.ResponseHeaders {
		v.ResponseHeaders = append(v.ResponseHeaders, Header{Name: h.Name, Value: m.Header(h.Name, h.Value, false)})
	}
	return v
}

func actionView(a store.Action) Action {
	return Action{ID: a.ID, At: a.At, Actor: a.Actor, Kind: a.Kind, Target: a.Target, Detail: a.Detail}
}

// requestView shows a rendered request: the URL, headers and body masked
// (a URL or header rendered from a secret is masked whole when the secret
// cannot be found in it any more).
func (s *subscription) requestView(r *hook.Request) RequestView {
	m := s.masker
	v := RequestView{
		Template:     r.Template,
		TemplateHash: r.TemplateHash,
		Method:       r.Method,
		URL:          m.URL(r.URL, r.URLSecret),
		Skipped:      r.Skipped,
	}
	if r.Custom {
		v.Note = "deliveryMethod is custom: LaunchDarkly delivers this integration through its own sink; auditrelay renders it but does not send it"
	}
	for _, h := range r.Headers {
		v.Headers = append(v.Headers, Header{Name: h.Name, Value: m.Header(h.Name, h.Value, h.Secret)})
	}
	v.Body, v.BodyIsJSON = prettyJSON(m.Text(string(r.Body)))
	return v
}

// prettyJSON indents body when it is JSON, keeping key order and string
// escapes as JavaScript would print them.
func prettyJSON(body string) (string, bool) {
	trimmed := strings.TrimSpace(body)
	if trimmed == "" || (trimmed[0] != '{' && trimmed[0] != '[') {
		return body, false
	}
	v, err := jsonv.DecodeString(trimmed)
	if err != nil {
		return body, false
	}
	return string(jsonv.MarshalIndent(v, "  ")), true
}
