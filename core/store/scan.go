package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Reading rows. Each table shape (a delivery with its entry's fields, an
// entry summary, an attempt) is scanned in one order, written once below:
// a backend's SELECT lists its columns in that order (one column list per
// shape in each backend) and scans with these functions, giving a Codec
// for the columns whose encoding is its own.

// Scanner is one row: *sql.Row, *sql.Rows, pgx.Row or pgx.Rows.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is a result set: *sql.Rows or pgx.Rows. Whoever queried closes it.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Codec gives the scan destinations of the columns a backend encodes its
// own way: times and durations. Each returns a value the backend's driver
// scans into (an sql.Scanner, a pgtype scanner) that sets *t or *d.
type Codec interface {
	Time(t *time.Time) any
	Duration(d *time.Duration) any
}

// ScanDelivery reads a Delivery from columns id, entry_id, subscription,
// state, reason, attempts, step, next attempt, lease_owner, lease until,
// last_status, last_error, last latency, last attempt, created, updated,
// the entry's date, kind and title, lost; then into extra, in order.
func ScanDelivery(sc Scanner, c Codec, extra ...any) (Delivery, error) {
	var d Delivery
	dest := append([]any{&d.ID, &d.EntryID, &d.Subscription, (*string)(&d.State), &d.Reason, &d.Attempts, &d.Step,
		c.Time(&d.NextAttemptAt), &d.LeaseOwner, c.Time(&d.LeaseUntil), &d.LastStatus, &d.LastError,
		c.Duration(&d.LastLatency), c.Time(&d.LastAttemptAt), c.Time(&d.CreatedAt), c.Time(&d.UpdatedAt),
		c.Time(&d.EntryDate), &d.EntryKind, &d.EntryTitle, &d.Lost}, extra...)
	err := sc.Scan(dest...)
	return d, err
}

// ScanEntrySummary reads an EntrySummary from columns id, date, received,
// source, kind, title, member, project, environment, list_item; then
// into extra.
func ScanEntrySummary(sc Scanner, c Codec, extra ...any) (EntrySummary, error) {
	var e EntrySummary
	dest := append([]any{&e.ID, c.Time(&e.Date), c.Time(&e.ReceivedAt), &e.Source, &e.Kind, &e.Title,
		&e.Member, &e.Project, &e.Environment, &e.ListItem}, extra...)
	err := sc.Scan(dest...)
	return e, err
}

// ScanAttempt reads an Attempt from columns delivery_id, number, instance,
// trigger, started, duration, url, request_digest, template,
// template_hash, status_code, error_class, error, response_headers (JSON
// text, see EncodeHeaders), response_body, then the request as sent
// (SentCols); then into extra. The request body comes back as stored:
// ExpandSent reads it.
func ScanAttempt(sc Scanner, c Codec, extra ...any) (Attempt, error) {
	var a Attempt
	var headers, reqHeaders string
	var r SentRequest
	dest := append([]any{&a.DeliveryID, &a.Number, &a.Instance, &a.Trigger, c.Time(&a.StartedAt), c.Duration(&a.Duration),
		&a.URL, &a.RequestDigest, &a.Template, &a.TemplateHash, &a.StatusCode, &a.ErrorClass, &a.Error,
		&headers, &a.ResponseBody,
		&r.Method, &reqHeaders, &r.VarsHash, &r.BodyDigest, &r.BodySize, &r.BodyEncoding, &r.Body}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return a, err
	}
	if headers != "" && headers != "[]" {
		if err := json.Unmarshal([]byte(headers), &a.ResponseHeaders); err != nil {
			return a, fmt.Errorf("attempt %d of %s: response headers: %w", a.Number, a.DeliveryID, err)
		}
	}
	if r.Method != "" {
		if reqHeaders != "" && reqHeaders != "[]" {
			if err := json.Unmarshal([]byte(reqHeaders), &r.Headers); err != nil {
				return a, fmt.Errorf("attempt %d of %s: request headers: %w", a.Number, a.DeliveryID, err)
			}
		}
		a.Request = &r
	}
	return a, nil
}

// SentCols are the columns of the request as sent, after the attempt's
// own in ScanAttempt's order: request_method (” when none was recorded),
// request_headers (JSON text, see EncodeHeaders), vars_hash, body_digest,
// body_size, body_encoding, request_body (NULL when an earlier attempt of
// the delivery stored the same body).
const SentCols = `request_method, request_headers, vars_hash, body_digest, body_size, body_encoding, request_body`

// SentArgs are the values of SentCols for an attempt's Request (zero
// values when nil), the body as given: backends store nil in place of a
// body an earlier attempt of the delivery already holds.
func SentArgs(r *SentRequest) (method, headers, varsHash, digest string, size int, encoding string, body []byte, err error) {
	if r == nil {
		return "", "[]", "", "", 0, "", nil, nil
	}
	b, err := json.Marshal(r.Headers)
	if err != nil {
		return "", "", "", "", 0, "", nil, fmt.Errorf("request headers: %w", err)
	}
	headers = string(b)
	if len(r.Headers) == 0 {
		headers = "[]"
	}
	body = r.Body
	if body == nil {
		body = []byte{}
	}
	return r.Method, headers, r.VarsHash, r.BodyDigest, r.BodySize, r.BodyEncoding, body, nil
}

// EncodeHeaders is an attempt's response headers as stored: a JSON array
// of {name, value}, "[]" when there are none.
func EncodeHeaders(h []Header) (string, error) {
	if len(h) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("response headers: %w", err)
	}
	return string(b), nil
}

// ScanAll reads every row of rows with scan (ScanDelivery,
// ScanEntrySummary or ScanAttempt); an empty result is an empty slice, not
// nil.
func ScanAll[T any](rows Rows, c Codec, scan func(Scanner, Codec, ...any) (T, error)) ([]T, error) {
	out := []T{}
	for rows.Next() {
		v, err := scan(rows, c)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ScanStats reads rows of (subscription, state, count), ordered by
// subscription, into one SubscriptionStats per subscription (without
// OldestPending).
func ScanStats(rows Rows) ([]SubscriptionStats, error) {
	out := []SubscriptionStats{}
	for rows.Next() {
		var sub string
		var state State
		var n int
		if err := rows.Scan(&sub, (*string)(&state), &n); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Subscription != sub {
			out = append(out, SubscriptionStats{Subscription: sub, Counts: map[State]int{}})
		}
		out[len(out)-1].Counts[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ScanRefs reads rows of (id, subscription), as a write's RETURNING id,
// subscription gives them.
func ScanRefs(rows Rows) ([]DeliveryRef, error) {
	var out []DeliveryRef
	for rows.Next() {
		var r DeliveryRef
		if err := rows.Scan(&r.ID, &r.Subscription); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DefaultListLimit is how many rows a list returns when its limit is not
// set.
const DefaultListLimit = 100

// ListLimit is how many rows a list asked for n rows returns at most: n,
// or DefaultListLimit when n <= 0.
func ListLimit(n int) int {
	if n <= 0 {
		return DefaultListLimit
	}
	return n
}
