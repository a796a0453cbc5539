package show

import (
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// The --json output of the deliveries commands: a documented, stable
// format (README "JSON output"), independent of the engine's Go types.
// Field names are snake_case; times are RFC 3339 in UTC with milliseconds
// and absent when unknown; durations are whole milliseconds in fields
// ending in _ms; empty values are left out rather than printed as Go zero
// values.

// jsonTime is a time as RFC 3339 (UTC, milliseconds), nil when zero so
// that omitempty leaves it out.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	return &s
}

// DeliveryJSON is a delivery in `deliveries list --json`.
type DeliveryJSON struct {
	ID            string  `json:"id"`
	EntryID       string  `json:"entry_id"`
	Subscription  string  `json:"subscription"`
	State         string  `json:"state"`
	Reason        string  `json:"reason,omitempty"`
	Attempts      int     `json:"attempts"`
	NextAttemptAt *string `json:"next_attempt_at,omitempty"`
	LastStatus    int     `json:"last_status,omitempty"`
	LastError     string  `json:"last_error,omitempty"`
	LastLatencyMs *int64  `json:"last_latency_ms,omitempty"`
	LastAttemptAt *string `json:"last_attempt_at,omitempty"`
	UpdatedAt     *string `json:"updated_at,omitempty"`
	EntryDate     *string `json:"entry_date,omitempty"`
	EntryKind     string  `json:"entry_kind,omitempty"`
	EntryTitle    string  `json:"entry_title,omitempty"`
}

// HeaderJSON is one header, its value masked where secret.
type HeaderJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// RequestJSON is a request: as an attempt sent it (sent_at set), or as
// it would be rendered now.
type RequestJSON struct {
	SentAt       *string      `json:"sent_at,omitempty"`
	Method       string       `json:"method,omitempty"`
	URL          string       `json:"url,omitempty"`
	Headers      []HeaderJSON `json:"headers,omitempty"`
	Body         string       `json:"body,omitempty"`
	BodySize     int          `json:"body_size,omitempty"`
	BodySHA256   string       `json:"body_sha256,omitempty"`
	BodyError    string       `json:"body_error,omitempty"`
	Template     string       `json:"template,omitempty"`
	TemplateHash string       `json:"template_sha256,omitempty"`
	VarsHash     string       `json:"form_values_sha256,omitempty"`
	Skipped      string       `json:"skipped,omitempty"`
	Note         string       `json:"note,omitempty"`
	// Diff is the unified diff from the sent request to what would be
	// sent now; absent when they agree.
	Diff string `json:"diff,omitempty"`
}

// AttemptJSON is one attempt.
type AttemptJSON struct {
	Number          int          `json:"number"`
	StartedAt       *string      `json:"started_at,omitempty"`
	DurationMs      int64        `json:"duration_ms"`
	Trigger         string       `json:"trigger,omitempty"`
	Instance        string       `json:"instance,omitempty"`
	StatusCode      int          `json:"status_code,omitempty"`
	ErrorClass      string       `json:"error_class,omitempty"`
	Error           string       `json:"error,omitempty"`
	Outcome         string       `json:"outcome,omitempty"`
	Request         *RequestJSON `json:"request,omitempty"`
	ResponseHeaders []HeaderJSON `json:"response_headers,omitempty"`
	ResponseBody    string       `json:"response_body,omitempty"`
}

// DeliveryDetailJSON is `deliveries show --json`.
type DeliveryDetailJSON struct {
	DeliveryJSON
	AttemptList []AttemptJSON `json:"attempt_list"`
	// RequestNow is what the subscription would send now.
	RequestNow RequestJSON `json:"request_now"`
}

// TestJSONOut is `deliveries test --json`.
type TestJSONOut struct {
	Subscription string       `json:"subscription"`
	What         string       `json:"what"`
	OK           bool         `json:"ok"`
	Outcome      string       `json:"outcome"`
	Request      *RequestJSON `json:"request,omitempty"`  // as sent
	Rendered     *RequestJSON `json:"rendered,omitempty"` // when nothing was sent
	StatusCode   int          `json:"status_code,omitempty"`
	LatencyMs    *int64       `json:"latency_ms,omitempty"`
	Error        string       `json:"error,omitempty"`
	ResponseBody string       `json:"response_body,omitempty"`
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

func headersJSON(hs []api.Header) []HeaderJSON {
	if len(hs) == 0 {
		return nil
	}
	out := make([]HeaderJSON, len(hs))
	for i, h := range hs {
		out[i] = HeaderJSON{Name: h.Name, Value: h.Value}
	}
	return out
}

// DeliveriesJSON converts a list.
func DeliveriesJSON(ds []api.DeliveryView) []DeliveryJSON {
	out := make([]DeliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryJSON(d)
	}
	return out
}

func deliveryJSON(d api.DeliveryView) DeliveryJSON {
	j := DeliveryJSON{
		ID: d.ID, EntryID: d.EntryID, Subscription: d.Subscription, State: string(d.State), Reason: d.Reason,
		Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError,
		LastAttemptAt: jsonTime(d.LastAttemptAt), UpdatedAt: jsonTime(d.UpdatedAt), EntryDate: jsonTime(d.EntryDate),
		EntryKind: d.EntryKind, EntryTitle: d.EntryTitle,
	}
	if d.State == api.Pending {
		j.NextAttemptAt = jsonTime(d.NextAttemptAt)
	}
	if !d.LastAttemptAt.IsZero() {
		l := ms(d.LastLatency)
		j.LastLatencyMs = &l
	}
	return j
}

func sentJSON(s *api.SentRequest) *RequestJSON {
	if s == nil {
		return nil
	}
	return &RequestJSON{SentAt: jsonTime(s.At), Method: s.Method, URL: s.URL, Headers: headersJSON(s.Headers), Body: s.Body,
		BodySize: s.BodySize, BodySHA256: s.BodyDigest, BodyError: s.BodyError, Template: s.Template,
		TemplateHash: s.TemplateHash, VarsHash: s.VarsHash, Diff: s.Diff}
}

func renderedJSON(r api.RequestView) RequestJSON {
	return RequestJSON{Method: r.Method, URL: r.URL, Headers: headersJSON(r.Headers), Body: r.Body,
		Template: r.Template, TemplateHash: r.TemplateHash, Skipped: r.Skipped, Note: r.Note}
}

// DeliveryDetailOut converts `deliveries show`.
func DeliveryDetailOut(d api.DeliveryDetail) DeliveryDetailJSON {
	out := DeliveryDetailJSON{DeliveryJSON: deliveryJSON(d.DeliveryView), AttemptList: []AttemptJSON{}, RequestNow: renderedJSON(d.Request)}
	// Through the admin API the count does not survive: Go's JSON gives
	// DeliveryDetail.Attempts (the list) precedence over the embedded
	// DeliveryView.Attempts (the count).
	out.Attempts = max(out.Attempts, len(d.Attempts))
	for _, a := range d.Attempts {
		out.AttemptList = append(out.AttemptList, AttemptJSON{
			Number: a.Number, StartedAt: jsonTime(a.StartedAt), DurationMs: ms(a.Duration), Trigger: a.Trigger,
			Instance: a.Instance, StatusCode: a.StatusCode, ErrorClass: a.ErrorClass, Error: a.Error, Outcome: a.Outcome,
			Request: sentJSON(a.Sent), ResponseHeaders: headersJSON(a.ResponseHeaders), ResponseBody: a.ResponseBody,
		})
	}
	return out
}

// TestJSON converts a connection test's result.
func TestJSON(sub string, r api.TestResult) TestJSONOut {
	out := TestJSONOut{Subscription: sub, What: r.What, OK: r.OK, Outcome: r.Outcome, Request: sentJSON(r.Sent),
		StatusCode: r.StatusCode, Error: r.Error, ResponseBody: r.Body}
	if r.Sent == nil {
		rj := renderedJSON(r.Request)
		out.Rendered = &rj
	} else {
		l := ms(r.Duration)
		out.LatencyMs = &l
	}
	return out
}

// ResendJSONOut is `deliveries resend --json`.
type ResendJSONOut struct {
	Subscription string   `json:"subscription"`
	Since        *string  `json:"since"`
	Failed       bool     `json:"failed,omitempty"`
	DryRun       bool     `json:"dry_run,omitempty"`
	InRange      int      `json:"in_range"`
	Allowed      int      `json:"allowed"`
	Already      int      `json:"already_sent"`
	Queued       int      `json:"queued"`
	DeliveryIDs  []string `json:"delivery_ids,omitempty"`
}

// ResendJSON converts a resend's result.
func ResendJSON(p api.ResendParams, r api.ResendResult) ResendJSONOut {
	return ResendJSONOut{Subscription: p.Subscription, Since: jsonTime(p.Since), Failed: p.Failed, DryRun: p.DryRun,
		InRange: r.InRange, Allowed: r.Allowed, Already: r.Already, Queued: r.Queued, DeliveryIDs: r.Delivery}
}
