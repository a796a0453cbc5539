// Package filter parses and applies the events pane's filter language.
//
// A filter is a list of space-separated terms, all of which must hold:
//
//	checkout                 free text: in the title, member, kind, project, environment or id
//	kind:flag                the entry's kind
//	env:production           its environment   (environment: also works)
//	proj:web                 its project       (project: also works)
//	member:alice@example.com its member            (actor: also works)
//	sub:slack-prod           sent to that subscription (its policy allowed the entry)
//	status:failed            has a delivery in that state: failed, delivered,
//	                         pending, retrying (pending or in flight),
//	                         filtered, skipped, or sent (allowed by any policy)
//	code:5xx                 a delivery whose last HTTP status is in 500-599
//	code:429                 ... or is exactly 429
//	since:2h                 received in the last 2 hours (s, m, h, d, w)
//	since:2026-12-01         received on or after that day (local time)
//	until:2026-12-02         received before that day (or duration ago);
//	                         a date may carry a time: 2026-12-01T15:04
//
// A time range that starts before the oldest entry held in memory reaches
// into the store: see StoreQuery.
//
// Values are case-insensitive and may use * as a wildcard (env:prod*).
// Repeating a key means any of the values (kind:flag kind:segment); a
// leading "-" negates a term (-env:test). Quote a value with spaces:
// "new checkout".
package filter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// Keys is the list of keys a term may use, for error messages and help.
const Keys = "kind, env, proj, member, sub, status, code, since, until"

// Syntax documents the filter language as a Markdown table, for the README.
const Syntax = `| Term | Matches |
| --- | --- |
| ` + "`checkout`" + ` | free text in the title, member, kind, project, environment or entry id |
| ` + "`kind:flag`" + ` | the entry's kind |
| ` + "`env:production`" + ` | its environment (` + "`environment:`" + ` also works) |
| ` + "`proj:web`" + ` | its project (` + "`project:`" + ` also works) |
| ` + "`member:alice@example.com`" + ` | who made the change (` + "`actor:`" + ` also works) |
| ` + "`sub:slack-prod`" + ` | sent to that subscription (its policy allowed the entry) |
| ` + "`status:failed`" + ` | has a delivery in that state: failed, delivered, pending, retrying, filtered, skipped, sent |
| ` + "`code:5xx`" + ` | a delivery whose last HTTP status is in that class (` + "`code:429`" + `: exactly that code) |
| ` + "`since:2h`" + ` | received in the last 2 hours (s, m, h, d, w); ` + "`since:2026-12-01`" + `: on or after that day, local time (` + "`2026-12-01T15:04`" + ` too) |
| ` + "`until:2026-12-02`" + ` | received before that time; a range that starts before the entries in memory searches the store |
| ` + "`env:prod*`" + ` | ` + "`*`" + ` is a wildcard; values ignore case |
| ` + "`kind:flag kind:segment`" + ` | a repeated key means any of the values; different keys must all hold |
| ` + "`-env:test`" + ` | a leading ` + "`-`" + ` negates a term |
| ` + "`\"new checkout\"`" + ` | quotes keep spaces in one term |
`

// Query is a parsed filter. The zero value and nil match everything.
type Query struct {
	raw   string
	terms []term
}

type term struct {
	key    string // "" for free text
	value  string // lower-cased
	neg    bool
	glob   bool
	at     time.Time // since, until
	lo, hi int       // code
}

// canonKey maps a typed key (or its long alias) to the key terms use.
func canonKey(k string) (string, bool) {
	switch strings.ToLower(k) {
	case "kind":
		return "kind", true
	case "env", "environment":
		return "env", true
	case "proj", "project":
		return "proj", true
	case "member", "actor":
		return "member", true
	case "code":
		return "code", true
	case "since":
		return "since", true
	case "until":
		return "until", true
	case "sub", "subscription":
		return "sub", true
	case "status":
		return "status", true
	}
	return "", false
}

func validStatus(s string) bool {
	switch s {
	case "failed", "delivered", "pending", "retrying", "inflight", "filtered", "skipped", "sent":
		return true
	}
	return false
}

// Parse reads a filter with durations (since:2h) counted back from the
// wall clock; the console uses ParseAt with its own clock.
func Parse(s string) (*Query, error) { return ParseAt(s, time.Now()) }

// ParseAt reads a filter, counting durations back from now and reading
// dates in now's location. The error names the offending term and what
// was expected.
func ParseAt(s string, now time.Time) (*Query, error) {
	words, err := split(s)
	if err != nil {
		return nil, err
	}
	q := &Query{raw: strings.TrimSpace(s)}
	for _, w := range words {
		t := term{}
		if strings.HasPrefix(w.text, "-") && len(w.text) > 1 && !w.quoted {
			t.neg = true
			w.text = w.text[1:]
		}
		if k, v, ok := strings.Cut(w.text, ":"); ok && !w.quoted {
			canon, known := canonKey(k)
			if !known {
				return nil, fmt.Errorf("filter term %q: unknown key %q (use %s)", w.text, k, Keys)
			}
			if v == "" {
				return nil, fmt.Errorf("filter term %q: missing value after %q", w.text, k+":")
			}
			t.key = canon
			t.value = strings.ToLower(v)
			if canon == "status" && !validStatus(t.value) {
				return nil, fmt.Errorf("filter term %q: unknown status %q (use failed, delivered, pending, retrying, filtered, skipped or sent)", w.text, v)
			}
			switch canon {
			case "code":
				if t.lo, t.hi, err = parseCode(t.value); err != nil {
					return nil, fmt.Errorf("filter term %q: %w", w.text, err)
				}
			case "since", "until":
				if t.neg {
					return nil, fmt.Errorf("filter term %q: a time bound cannot be negated (use since: or until: instead)", w.text)
				}
				if t.at, err = parseTime(t.value, now); err != nil {
					return nil, fmt.Errorf("filter term %q: %w", w.text, err)
				}
			}
		} else {
			t.value = strings.ToLower(w.text)
		}
		t.glob = t.key != "" && t.key != "code" && t.key != "since" && t.key != "until" && strings.Contains(t.value, "*")
		q.terms = append(q.terms, t)
	}
	return q, nil
}

type word struct {
	text   string
	quoted bool
}

// split breaks s on spaces, keeping "quoted phrases" whole.
func split(s string) ([]word, error) {
	var out []word
	var cur strings.Builder
	inQuote, quoted := false, false
	flush := func() {
		if cur.Len() > 0 || quoted {
			out = append(out, word{cur.String(), quoted})
		}
		cur.Reset()
		quoted = false
	}
	for _, r := range s {
		switch {
		case r == '"':
			if inQuote {
				inQuote = false
				flush()
				continue
			}
			inQuote, quoted = true, true
		case unicode.IsSpace(r) && !inQuote:
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	if inQuote {
		return nil, fmt.Errorf("filter %q: missing closing quote", s)
	}
	flush()
	return out, nil
}

// String is the filter as typed (trimmed).
func (q *Query) String() string {
	if q == nil {
		return ""
	}
	return q.raw
}

// Empty reports whether q matches everything.
func (q *Query) Empty() bool { return q == nil || len(q.terms) == 0 }

// UsesStatus reports whether the result depends on delivery states, which
// change after an entry arrives.
func (q *Query) UsesStatus() bool {
	if q == nil {
		return false
	}
	for _, t := range q.terms {
		if t.key == "status" {
			return true
		}
	}
	return false
}

// Bounds is the time range the filter asks for: since (inclusive) and
// until (exclusive), each zero when not given.
func (q *Query) Bounds() (since, until time.Time) {
	if q == nil {
		return
	}
	for _, t := range q.terms {
		switch {
		case t.key == "since" && t.at.After(since):
			since = t.at
		case t.key == "until" && (until.IsZero() || t.at.Before(until)):
			until = t.at
		}
	}
	return since, until
}

// Since is the text of the since: term that sets the start of Bounds
// ("2h", "2026-12-01"), "" without one. Bulk actions offer it as their
// range, read again with ParseSince so that "2h" counts from when they run.
func (q *Query) Since() string {
	if q == nil {
		return ""
	}
	var at time.Time
	v := ""
	for _, t := range q.terms {
		if t.key == "since" && t.at.After(at) {
			at, v = t.at, t.value
		}
	}
	return v
}

// Kind is the one entry kind the filter keeps (kind:flag), "" when it
// has none, several, a negated one or a wildcard: what a bulk action can
// pass on to the engine, which takes a single kind.
func (q *Query) Kind() string {
	if q == nil {
		return ""
	}
	kind := ""
	for _, t := range q.terms {
		if t.key != "kind" {
			continue
		}
		if t.neg || t.glob || kind != "" {
			return ""
		}
		kind = t.value
	}
	return kind
}

// ParseSince reads a since: value on its own: a duration back from now
// (30m, 2h, 7d) or a date, with an optional time, in now's location.
func ParseSince(v string, now time.Time) (time.Time, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return time.Time{}, errors.New("want a duration back from now (30m, 2h, 7d) or a date (2026-12-01, 2026-12-01T15:04), got nothing")
	}
	return parseTime(v, now)
}

// IsDuration reports whether a since: value counts back from now (2h)
// rather than naming a date.
func IsDuration(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	n := len(v)
	if n < 2 || !strings.ContainsRune("smhdw", rune(v[n-1])) {
		return false
	}
	_, err := strconv.ParseUint(v[:n-1], 10, 32)
	return err == nil
}

// HasTime reports whether the filter has a since: or until: term.
func (q *Query) HasTime() bool {
	s, u := q.Bounds()
	return !s.IsZero() || !u.IsZero()
}

// StoreQuery is the filter's positive terms as an engine query, newest
// first, limit entries a page. The store applies them to every entry it
// holds; negated terms stay out, so callers keep the rows Match accepts.
func (q *Query) StoreQuery(limit int) api.EntryQuery {
	out := api.EntryQuery{Limit: limit}
	if q == nil {
		return out
	}
	out.Since, out.Until = q.Bounds()
	states := map[api.State]bool{}
	for _, t := range q.terms {
		if t.neg {
			continue
		}
		switch t.key {
		case "":
			out.Text = append(out.Text, t.value)
		case "kind":
			out.Kinds = append(out.Kinds, t.value)
		case "env":
			out.Environments = append(out.Environments, t.value)
		case "proj":
			out.Projects = append(out.Projects, t.value)
		case "member":
			out.Members = append(out.Members, t.value)
		case "sub":
			out.Subscriptions = append(out.Subscriptions, t.value)
		case "code":
			out.Codes = append(out.Codes, api.CodeRange{Min: t.lo, Max: t.hi})
		case "status":
			for _, st := range statesOf(t.value) {
				states[st] = true
			}
		}
	}
	for _, st := range []api.State{api.Pending, api.InFlight, api.Delivered, api.Failed, api.Filtered, api.Skipped} {
		if states[st] {
			out.States = append(out.States, st)
		}
	}
	return out
}

// statesOf is the delivery states a status: value stands for.
func statesOf(v string) []api.State {
	switch v {
	case "sent":
		return []api.State{api.Pending, api.InFlight, api.Delivered, api.Failed, api.Skipped}
	case "retrying":
		return []api.State{api.Pending, api.InFlight}
	}
	return []api.State{api.State(v)}
}

// Terms returns the values a row should highlight: free text and the
// values of positive keyed text terms (without wildcards).
func (q *Query) Terms() []string {
	if q == nil {
		return nil
	}
	var out []string
	for _, t := range q.terms {
		if t.neg || t.glob {
			continue
		}
		switch t.key {
		case "", "kind", "env", "proj", "member":
			out = append(out, t.value)
		}
	}
	return out
}

// WantsStatus reports whether the query asks for entries with a delivery
// in state (status:failed), not negated.
func (q *Query) WantsStatus(state string) bool {
	if q == nil {
		return false
	}
	for _, t := range q.terms {
		if t.key == "status" && !t.neg && t.value == state {
			return true
		}
	}
	return false
}

// Match reports whether e satisfies every term. Terms with the same key
// (and not negated) match when any of them does.
func (q *Query) Match(e *api.EntryView) bool {
	if q.Empty() {
		return true
	}
	// Positive keyed terms: group by key, any-of within a group.
	var groups [8]struct {
		key      string
		seen, ok bool
	}
	ng := 0
	for _, t := range q.terms {
		hit := t.match(e)
		if t.neg {
			if hit {
				return false
			}
			continue
		}
		if t.key == "" || t.key == "since" || t.key == "until" {
			if !hit {
				return false
			}
			continue
		}
		g := -1
		for i := 0; i < ng; i++ {
			if groups[i].key == t.key {
				g = i
				break
			}
		}
		if g < 0 {
			if ng == len(groups) {
				// More keys than exist cannot happen (aliases are canonical).
				return false
			}
			g = ng
			ng++
			groups[g].key = t.key
		}
		groups[g].seen = true
		groups[g].ok = groups[g].ok || hit
	}
	for i := 0; i < ng; i++ {
		if groups[i].seen && !groups[i].ok {
			return false
		}
	}
	return true
}

func (t term) match(e *api.EntryView) bool {
	switch t.key {
	case "":
		return containsFold(e.Title, t.value) || containsFold(e.Member, t.value) ||
			containsFold(e.Kind, t.value) || containsFold(e.Project, t.value) ||
			containsFold(e.Environment, t.value) || containsFold(e.ID, t.value)
	case "kind":
		return t.eq(e.Kind)
	case "env":
		return t.eq(e.Environment)
	case "proj":
		return t.eq(e.Project)
	case "member":
		return t.eq(e.Member)
	case "sub":
		for _, d := range e.Decisions {
			if d.Sent && t.eq(d.Subscription) {
				return true
			}
		}
		return false
	case "status":
		for _, d := range e.Decisions {
			if statusMatch(t.value, d) {
				return true
			}
		}
		return false
	case "code":
		for _, d := range e.Decisions {
			if d.LastStatus >= t.lo && d.LastStatus <= t.hi {
				return true
			}
		}
		return false
	case "since":
		return !received(e).Before(t.at)
	case "until":
		return received(e).Before(t.at)
	}
	return false
}

// received is when the relay got e; its date when that is unknown.
func received(e *api.EntryView) time.Time {
	if e.ReceivedAt.IsZero() {
		return e.Date
	}
	return e.ReceivedAt
}

// parseCode reads 429 or 5xx into an inclusive range.
func parseCode(v string) (int, int, error) {
	if len(v) == 3 && strings.HasSuffix(v, "xx") && v[0] >= '1' && v[0] <= '5' {
		c := int(v[0]-'0') * 100
		return c, c + 99, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || len(v) != 3 || n < 100 || n > 599 {
		return 0, 0, fmt.Errorf("want an HTTP status (100 to 599) or a class such as 5xx, got %q", v)
	}
	return n, n, nil
}

// maxAgo bounds a duration term, so that counting back cannot overflow.
const maxAgo = 100 * 365 * 24 * time.Hour

// parseTime reads a duration back from now (90s, 15m, 2h, 7d, 2w) or a
// date, with an optional time, in now's location.
func parseTime(v string, now time.Time) (time.Time, error) {
	if n := len(v); n >= 2 {
		unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[v[n-1]]
		if unit > 0 {
			if k, err := strconv.ParseUint(v[:n-1], 10, 32); err == nil {
				d := time.Duration(k) * unit
				if d > maxAgo || d/unit != time.Duration(k) {
					return time.Time{}, fmt.Errorf("duration %q is longer than 100 years", v)
				}
				return now.Add(-d), nil
			}
		}
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02t15:04", "2006-01-02t15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, now.Location()); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, strings.ToUpper(v)); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("want a duration back from now (30m, 2h, 7d) or a date (2026-12-01, 2026-12-01T15:04), got %q", v)
}

func statusMatch(want string, d api.Decision) bool {
	switch want {
	case "sent":
		return d.Sent
	case "retrying":
		return d.State == api.Pending || d.State == api.InFlight
	case "filtered":
		return !d.Sent || d.State == api.Filtered
	default:
		return string(d.State) == want
	}
}

func (t term) eq(s string) bool {
	if t.glob {
		return wildcard(t.value, strings.ToLower(s))
	}
	return strings.EqualFold(s, t.value)
}

// wildcard matches s against pattern where * stands for any run of
// characters and everything else is literal.
func wildcard(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := len(parts) - 1
	for _, p := range parts[1:last] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[last])
}

// containsFold reports whether s contains sub ignoring case; sub is
// already lower-case. ASCII needles are searched without allocating, since
// this runs for every arriving entry while a filter is set.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	for i := 0; i < len(sub); i++ {
		if sub[i] >= utf8.RuneSelf {
			return strings.Contains(strings.ToLower(s), sub)
		}
	}
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
