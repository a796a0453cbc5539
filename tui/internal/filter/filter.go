// Package filter parses and applies the events pane's filter language.
//
// A filter is a list of space-separated terms, all of which must hold:
//
//	checkout                 free text: in the title, member, kind, project, environment or id
//	kind:flag                the entry's kind
//	env:production           its environment   (environment: also works)
//	proj:web                 its project       (project: also works)
//	member:alice@example.com its member
//	sub:slack-prod           sent to that subscription (its policy allowed the entry)
//	status:failed            has a delivery in that state: failed, delivered,
//	                         pending, retrying (pending or in flight),
//	                         filtered, skipped, or sent (allowed by any policy)
//
// Values are case-insensitive and may use * as a wildcard (env:prod*).
// Repeating a key means any of the values (kind:flag kind:segment); a
// leading "-" negates a term (-env:test). Quote a value with spaces:
// "new checkout".
package filter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// Keys is the list of keys a term may use, for error messages and help.
const Keys = "kind, env, proj, member, sub, status"

// Syntax documents the filter language as a Markdown table, for the README.
const Syntax = `| Term | Matches |
| --- | --- |
| ` + "`checkout`" + ` | free text in the title, member, kind, project, environment or entry id |
| ` + "`kind:flag`" + ` | the entry's kind |
| ` + "`env:production`" + ` | its environment (` + "`environment:`" + ` also works) |
| ` + "`proj:web`" + ` | its project (` + "`project:`" + ` also works) |
| ` + "`member:alice@example.com`" + ` | who made the change |
| ` + "`sub:slack-prod`" + ` | sent to that subscription (its policy allowed the entry) |
| ` + "`status:failed`" + ` | has a delivery in that state: failed, delivered, pending, retrying, filtered, skipped, sent |
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
	key   string // "" for free text
	value string // lower-cased
	neg   bool
	glob  bool
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
	case "member":
		return "member", true
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

// Parse reads a filter. The error names the offending term and what was
// expected.
func Parse(s string) (*Query, error) {
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
		} else {
			t.value = strings.ToLower(w.text)
		}
		t.glob = t.key != "" && strings.Contains(t.value, "*")
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
		if t.key == "" {
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
	}
	return false
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
