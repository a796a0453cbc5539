package manifest

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// checker walks a decoded JSON document, recording problems located in it.
type checker struct {
	file  string // display path of the document
	src   string // its text, for line:col
	probs Problems
}

func (c *checker) add(sev Severity, off int, format string, args ...any) {
	p := Problem{File: c.file, Severity: sev, Msg: fmt.Sprintf(format, args...)}
	if off >= 0 {
		p.Line, p.Col = jsonv.LineCol(c.src, off)
	}
	c.probs = append(c.probs, p)
}

func (c *checker) errorf(off int, format string, args ...any) {
	c.add(SeverityError, off, format, args...)
}

func (c *checker) warnf(off int, format string, args ...any) {
	c.add(SeverityWarning, off, format, args...)
}

// ourf records a breach of one of auditrelay's own rules, those beyond
// what LaunchDarkly's schema and tests enforce: a warning that validate
// --strict turns into an error.
func (c *checker) ourf(off int, format string, args ...any) {
	c.add(SeverityWarning, off, format, args...)
	c.probs[len(c.probs)-1].Ours = true
}

// join builds a field path for messages: join("a", "b") = "a.b".
func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func index(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// kindName names a JSON kind for "expected X, found Y" messages.
func kindName(v jsonv.Value) string {
	switch v.Kind() {
	case jsonv.Array:
		return "an array"
	case jsonv.Object:
		return "an object"
	case jsonv.String:
		return "a string"
	case jsonv.Number:
		return "a number"
	case jsonv.Bool:
		return "a boolean"
	case jsonv.Null:
		return "null"
	}
	return "nothing"
}

// object checks that v is an object whose member names are all in allowed
// (the schema's closed propertyNames). It reports unknown members at their
// key and returns false when v is not an object.
func (c *checker) object(v jsonv.Value, path string, allowed ...string) bool {
	if v.Kind() != jsonv.Object {
		c.errorf(v.Offset(), "%s must be an object, found %s", describe(path), kindName(v))
		return false
	}
	for _, m := range v.Members() {
		if !contains(allowed, m.Key) {
			where := "in " + path
			if path == "" {
				where = "at the top level"
			}
			c.errorf(int(m.KeyOffset), "unknown field %q %s (allowed: %s)%s", m.Key, where, strings.Join(allowed, ", "), suggest(m.Key, allowed))
		}
	}
	return true
}

// describe names a path for the start of a message.
func describe(path string) string {
	if path == "" {
		return "the manifest"
	}
	return path
}

// suggest returns a " (did you mean ...?)" hint for a near-miss name.
func suggest(name string, candidates []string) string {
	best, bestD := "", 3
	for _, cand := range candidates {
		if strings.EqualFold(cand, name) {
			return fmt.Sprintf("; did you mean %q?", cand)
		}
		l, lc := strings.ToLower(name), strings.ToLower(cand)
		if len(l) >= 4 && (strings.HasPrefix(lc, l) || strings.HasPrefix(l, lc)) {
			return fmt.Sprintf("; did you mean %q?", cand)
		}
		if d := editDistance(l, lc); d < bestD && d <= max(1, len(l)/3) {
			best, bestD = cand, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// required reports members of obj that the schema requires but are absent,
// at the object's opening brace.
func (c *checker) required(obj jsonv.Value, path string, keys ...string) {
	for _, k := range keys {
		if !obj.Has(k) {
			c.errorf(obj.Offset(), "%s is missing required field %q", describe(path), k)
		}
	}
}

// field returns the member key of obj and whether it is present.
func field(obj jsonv.Value, key string) (jsonv.Value, bool) {
	v := obj.Get(key)
	return v, !v.IsUndefined()
}

// keyOffset returns the offset of member key's name in obj, or obj's own
// offset when absent.
func keyOffset(obj jsonv.Value, key string) int {
	for _, m := range obj.Members() {
		if m.Key == key {
			return int(m.KeyOffset)
		}
	}
	return obj.Offset()
}

// strRule constrains a string field as the schema does.
type strRule struct {
	min, max int                 // character counts; 0 = no bound
	check    func(string) string // returns "" or what is wrong
}

// str reads an optional string member. ok is false when absent or not a
// string (the latter reported).
func (c *checker) str(obj jsonv.Value, key, parent string, rule strRule) (string, bool) {
	v, present := field(obj, key)
	if !present {
		return "", false
	}
	path := join(parent, key)
	if v.Kind() != jsonv.String {
		c.errorf(v.Offset(), "%s must be a string, found %s", path, kindName(v))
		return "", false
	}
	s := v.Text()
	n := utf8.RuneCountInString(s)
	switch {
	case rule.min > 0 && n < rule.min:
		c.errorf(v.Offset(), "%s must be at least %d characters long, found %d", path, rule.min, n)
	case rule.max > 0 && n > rule.max:
		c.errorf(v.Offset(), "%s must be at most %d characters long, found %d", path, rule.max, n)
	}
	if rule.check != nil {
		if msg := rule.check(s); msg != "" {
			c.errorf(v.Offset(), "%s %s", path, msg)
		}
	}
	return s, true
}

// enumStr reads an optional string member that must be one of allowed.
func (c *checker) enumStr(obj jsonv.Value, key, parent string, allowed []string) (string, bool) {
	s, ok := c.str(obj, key, parent, strRule{})
	if !ok {
		return "", false
	}
	if !contains(allowed, s) {
		c.errorf(obj.Get(key).Offset(), "%s must be one of %s, found %q%s", join(parent, key), quoteList(allowed), s, suggest(s, allowed))
		return s, false
	}
	return s, true
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// boolean reads an optional boolean member.
func (c *checker) boolean(obj jsonv.Value, key, parent string) (bool, bool) {
	v, present := field(obj, key)
	if !present {
		return false, false
	}
	if v.Kind() != jsonv.Bool {
		c.errorf(v.Offset(), "%s must be a boolean (true or false), found %s", join(parent, key), kindName(v))
		return false, false
	}
	return v.Bool(), true
}

// array reads an optional array member.
func (c *checker) array(obj jsonv.Value, key, parent string) ([]jsonv.Value, bool) {
	v, present := field(obj, key)
	if !present {
		return nil, false
	}
	if v.Kind() != jsonv.Array {
		c.errorf(v.Offset(), "%s must be an array, found %s", join(parent, key), kindName(v))
		return nil, false
	}
	return v.Elems(), true
}

// strArray reads an optional array of strings; elements that are not
// strings are reported and skipped. allowed, when non-nil, restricts them.
func (c *checker) strArray(obj jsonv.Value, key, parent string, allowed []string) ([]string, bool) {
	elems, ok := c.array(obj, key, parent)
	if !ok {
		return nil, false
	}
	path := join(parent, key)
	out := make([]string, 0, len(elems))
	for i, e := range elems {
		if e.Kind() != jsonv.String {
			c.errorf(e.Offset(), "%s must be a string, found %s", index(path, i), kindName(e))
			continue
		}
		if allowed != nil && !contains(allowed, e.Text()) {
			c.errorf(e.Offset(), "%s must be one of %s, found %q%s", index(path, i), quoteList(allowed), e.Text(), suggest(e.Text(), allowed))
			continue
		}
		out = append(out, e.Text())
	}
	return out, true
}
