package engine

import (
	"strings"

	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/store"
)

func entryView(sum store.EntrySummary, ds []store.NewDelivery) EntryView {
	v := summaryView(sum)
	v.Decisions = make([]Decision, 0, len(ds))
	for _, d := range ds {
		v.Decisions = append(v.Decisions, Decision{
			Subscription: d.Subscription,
			Sent:         d.State != store.Filtered,
			Summary:      d.Reason,
			DeliveryID:   d.ID,
			State:        d.State,
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
	}
}

func deliveryView(d store.Delivery) DeliveryView {
	return DeliveryView{
		ID:            d.ID,
		EntryID:       d.EntryID,
		Subscription:  d.Subscription,
		State:         d.State,
		Reason:        d.Reason,
		Attempts:      d.Attempts,
		NextAttemptAt: d.NextAttemptAt,
		LastStatus:    d.LastStatus,
		LastError:     d.LastError,
		LastLatency:   d.LastLatency,
		LastAttemptAt: d.LastAttemptAt,
		UpdatedAt:     d.UpdatedAt,
		EntryDate:     d.EntryDate,
		EntryKind:     d.EntryKind,
		EntryTitle:    d.EntryTitle,
	}
}

func attemptView(sub string, a store.Attempt) AttemptView {
	return AttemptView{
		DeliveryID:      a.DeliveryID,
		Subscription:    sub,
		Number:          a.Number,
		Instance:        a.Instance,
		Trigger:         a.Trigger,
		StartedAt:       a.StartedAt,
		Duration:        a.Duration,
		URL:             a.URL,
		Template:        a.Template,
		TemplateHash:    a.TemplateHash,
		StatusCode:      a.StatusCode,
		ErrorClass:      a.ErrorClass,
		Error:           a.Error,
		ResponseHeaders: a.ResponseHeaders,
		ResponseBody:    string(a.ResponseBody),
	}
}

// requestView masks a rendered request for display: secret headers, a URL
// that carries a secret, and any secret value in the body.
func (s *subscription) requestView(r *hook.Request) RequestView {
	v := RequestView{
		Template:     r.Template,
		TemplateHash: r.TemplateHash,
		Method:       r.Method,
		URL:          s.masker.Mask(r.URL),
		Skipped:      r.Skipped,
	}
	if r.Custom {
		v.Note = "deliveryMethod is custom: LaunchDarkly delivers this integration through its own sink; auditrelay renders it but does not send it"
	}
	for _, h := range r.Headers {
		val := s.masker.Mask(h.Value)
		if h.Secret && val == h.Value {
			val = maskAll(h.Value)
		}
		v.Headers = append(v.Headers, store.Header{Name: h.Name, Value: val})
	}
	body := s.masker.Mask(string(r.Body))
	v.Body, v.BodyIsJSON = prettyJSON(body)
	return v
}

func maskAll(s string) string {
	if s == "" {
		return ""
	}
	return "••••••"
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
