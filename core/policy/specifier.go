package policy

import (
	"strings"
	"unicode/utf8"
)

// Specifier is a compiled resource specifier such as
// "proj/*;mobile:env/production:flag/ops_*". Parse it once with
// ParseSpecifier and match it many times; matching does not allocate.
type Specifier struct {
	raw   string
	any   bool // bare "*": every resource
	segs  []specSeg
	shape uint64 // hash of the segment types, compared before anything else
}

type specSeg struct {
	tid   uint8  // typeID(typ)
	typ   string // resource type, compared exactly
	name  glob   // resource key or id, case-sensitive
	tags  []glob // every tag must be on the resource (AND), case-insensitive
	props []prop // property-based selectors such as {critical:true}
}

// prop is a property-based selector. LaunchDarkly documents the braced form
// {property:value}; its examples also write view:key without braces.
type prop struct {
	key    string
	value  glob
	braced bool
}

func (p *prop) String() string {
	if p.braced {
		return "{" + p.key + ":" + p.value.pat + "}"
	}
	return p.key + ":" + p.value.pat
}

// ParseSpecifier compiles one resource specifier. The grammar is in the
// package documentation. Errors are *SyntaxError with the byte position.
func ParseSpecifier(s string) (Specifier, error) {
	sp := Specifier{raw: s}
	switch s {
	case "":
		return sp, syntaxErrorf(s, 0, "empty resource specifier")
	case "*":
		sp.any = true
		return sp, nil
	case "acct":
		sp.segs = []specSeg{{tid: typeID("acct"), typ: "acct", name: glob{pat: "*", any: true}}}
		sp.shape = addShape(shapeSeed, "acct")
		return sp, nil
	}
	sp.shape = shapeSeed
	for i := 0; ; {
		raw, next, err := scanSegment(s, i)
		if err != nil {
			return Specifier{raw: s}, err
		}
		seg := specSeg{tid: typeID(raw.typ), typ: raw.typ, name: compileGlob(raw.name)}
		for j := 0; raw.hasSel && j < len(raw.sel); {
			var item string
			item, j = nextItem(raw.sel, j)
			if k, v, braced, ok := splitProp(item); ok {
				seg.props = append(seg.props, prop{key: k, value: compileGlob(v), braced: braced})
			} else {
				seg.tags = append(seg.tags, compileGlob(item))
			}
		}
		sp.segs = append(sp.segs, seg)
		sp.shape = addShape(sp.shape, raw.typ)
		if next >= len(s) {
			return sp, nil
		}
		i = next + 1 // past ':'
	}
}

// String returns the specifier as written.
func (s Specifier) String() string { return s.raw }

// Any reports whether the specifier is the bare "*" that names every resource.
func (s Specifier) Any() bool { return s.any }

// Types returns the resource type of each segment, outermost first:
// ["proj" "env" "flag"] for "proj/*:env/*:flag/*".
func (s Specifier) Types() []string {
	out := make([]string, len(s.segs))
	for i := range s.segs {
		out[i] = s.segs[i].typ
	}
	return out
}

// Match reports whether the specifier names the resource r.
func (s *Specifier) Match(r *Resource) bool { return s.matches(r) }

// missCode says which part of a specifier failed to match a resource.
type missCode uint8

const (
	missNone       missCode = iota
	missScope               // different number of segments
	missKind                // a segment has another resource type
	missKey                 // a segment's key does not match
	missTag                 // a required tag is not on the resource
	missProp                // a required property selector is not on the resource
	missBareAccess          // the access resource is a bare "*"
)

// miss is the allocation-free result of matching; seg and item locate the
// failing segment and tag or property for explanations.
type miss struct {
	code      missCode
	seg, item int
}

// matches is match without the explanation, for the hot path.
func (s *Specifier) matches(r *Resource) bool {
	if s.any {
		return true
	}
	if s.shape != r.shape || len(s.segs) != r.n {
		return false
	}
	if r.more != nil {
		return s.match(r).code == missNone // deeper than any documented resource
	}
	rsegs := r.inline[:len(s.segs)]
	for i := range s.segs {
		ss, rs := &s.segs[i], &rsegs[i]
		if ss.tid != rs.tid || ss.tid == 0 && ss.typ != rs.typ {
			return false
		}
		if rs.allEnv {
			continue
		}
		if !ss.name.match(rs.name) {
			return false
		}
		for k := range ss.tags {
			if rs.plainTags {
				if !hasPlainTag(rs.sel, &ss.tags[k]) {
					return false
				}
			} else if !hasTag(rs.sel, &ss.tags[k]) {
				return false
			}
		}
		for k := range ss.props {
			if !hasProp(rs.sel, &ss.props[k]) {
				return false
			}
		}
	}
	return true
}

// hasPlainTag is hasTag for a selector list without property selectors:
// items are split at commas and nothing else.
func hasPlainTag(sel string, g *glob) bool {
	for sel != "" {
		item, rest, _ := strings.Cut(sel, ",")
		if g.matchFold(item) {
			return true
		}
		sel = rest
	}
	return false
}

// shapeSeed and addShape hash a sequence of resource types (FNV-1a), so
// that specifiers and resources of different shapes are told apart with one
// comparison. Equal hashes are still checked type by type.
const shapeSeed uint64 = 14695981039346656037

func addShape(h uint64, typ string) uint64 {
	for i := 0; i < len(typ); i++ {
		h ^= uint64(typ[i])
		h *= 1099511628211
	}
	h ^= ':'
	h *= 1099511628211
	return h
}

// match checks the structure first (segment count, then every type) and only
// then keys and selectors, so that an explanation names the most basic
// difference.
func (s *Specifier) match(r *Resource) miss {
	if s.any {
		return miss{}
	}
	if r.any {
		return miss{code: missBareAccess}
	}
	if len(s.segs) != r.n {
		return miss{code: missScope}
	}
	for i := range s.segs {
		if s.segs[i].typ != r.seg(i).typ {
			return miss{code: missKind, seg: i}
		}
	}
	for i := range s.segs {
		ss, rs := &s.segs[i], r.seg(i)
		if rs.allEnv {
			// An all-environments change stands for every environment, so it
			// satisfies any environment key, tag or selector (guide §7 A6).
			continue
		}
		if !ss.name.match(rs.name) {
			return miss{code: missKey, seg: i}
		}
		for k := range ss.tags {
			if !hasTag(rs.sel, &ss.tags[k]) {
				return miss{code: missTag, seg: i, item: k}
			}
		}
		for k := range ss.props {
			if !hasProp(rs.sel, &ss.props[k]) {
				return miss{code: missProp, seg: i, item: k}
			}
		}
	}
	return miss{}
}

// hasTag reports whether the selector list sel of a resource carries a tag
// matching g, ignoring ASCII case.
func hasTag(sel string, g *glob) bool {
	for i := 0; i < len(sel); {
		var item string
		item, i = nextItem(sel, i)
		if _, _, _, isProp := splitProp(item); isProp {
			continue
		}
		if g.matchFold(item) {
			return true
		}
	}
	return false
}

// hasProp reports whether the selector list sel of a resource carries the
// property p. Property names ignore ASCII case; values are exact.
func hasProp(sel string, p *prop) bool {
	for i := 0; i < len(sel); {
		var item string
		item, i = nextItem(sel, i)
		k, v, _, ok := splitProp(item)
		if ok && equalFoldASCII(k, p.key) && p.value.match(v) {
			return true
		}
	}
	return false
}

// nextItem returns the selector-list item starting at i and the index of
// the next one. Commas inside braces do not separate items.
func nextItem(sel string, i int) (item string, next int) {
	depth := 0
	j := i
	for ; j < len(sel); j++ {
		switch sel[j] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth <= 0 {
				return sel[i:j], j + 1
			}
		}
	}
	return sel[i:j], j
}

// splitProp splits a property selector, "{key:value}" or "key:value", into
// its parts. ok is false for plain tags.
func splitProp(item string) (key, value string, braced, ok bool) {
	if len(item) >= 2 && item[0] == '{' && item[len(item)-1] == '}' {
		inner := item[1 : len(item)-1]
		if k, v, found := strings.Cut(inner, ":"); found {
			return k, v, true, true
		}
		return "", "", false, false
	}
	if k, v, found := strings.Cut(item, ":"); found {
		return k, v, false, true
	}
	return "", "", false, false
}

// rawSeg is one scanned segment, type/name;selectors, as substrings of the
// input.
type rawSeg struct {
	typ, name, sel string
	hasSel         bool
}

// scanSegment reads the segment of s that starts at i and returns it with
// the index just past it: len(s), or the index of the ':' that separates it
// from the next segment.
func scanSegment(s string, i int) (rawSeg, int, *SyntaxError) {
	var seg rawSeg
	j := i
	for j < len(s) && s[j] != '/' && s[j] != ':' && s[j] != ';' && s[j] != ',' {
		if isSpaceOrControl(s[j]) {
			return seg, j, badChar(s, j, "in resource type")
		}
		j++
	}
	seg.typ = s[i:j]
	if seg.typ == "" {
		if j >= len(s) {
			return seg, j, syntaxErrorf(s, j, "expected a resource type")
		}
		return seg, j, syntaxErrorf(s, j, "expected a resource type before %q", s[j:j+1])
	}
	if j >= len(s) || s[j] != '/' {
		return seg, j, syntaxErrorf(s, j, "expected \"/\" after resource type %q", seg.typ)
	}
	j++
	nameStart := j
	for j < len(s) && s[j] != ':' && s[j] != ';' {
		switch c := s[j]; {
		case c == ',':
			return seg, j, syntaxErrorf(s, j, "unexpected \",\" in resource key; give each resource as its own list entry")
		case c == '$' && j+1 < len(s) && s[j+1] == '{':
			end, err := skipRoleAttribute(s, j)
			if err != nil {
				return seg, j, err
			}
			j = end
			continue
		case isSpaceOrControl(c):
			return seg, j, badChar(s, j, "in resource key")
		}
		j++
	}
	seg.name = s[nameStart:j]
	if seg.name == "" {
		return seg, j, syntaxErrorf(s, j, "expected a resource key or \"*\" after %q", s[i:j])
	}
	if j < len(s) && s[j] == ';' {
		seg.hasSel = true
		j++
		end, err := scanSelectors(s, j)
		if err != nil {
			return seg, end, err
		}
		seg.sel = s[j:end]
		j = end
	}
	if j < len(s) && j+1 == len(s) {
		return seg, j + 1, syntaxErrorf(s, j+1, "expected a resource type after \":\"")
	}
	return seg, j, nil
}

// scanSelectors reads the selector list that starts at i, just past ';',
// and returns the index where it ends: len(s) or the ':' before the next
// segment. Items are tags ("mobile", "qa_*"), property-based selectors
// ("{critical:true}") and keyed selectors ("view:checkout").
func scanSelectors(s string, i int) (int, *SyntaxError) {
	j := i
	for {
		if j >= len(s) || s[j] == ',' || s[j] == ':' || s[j] == ';' {
			after := s[j-1 : j]
			return j, syntaxErrorf(s, j, "expected a tag or {property:value} after %q", after)
		}
		if s[j] == '{' {
			end, err := scanBracedProp(s, j)
			if err != nil {
				return end, err
			}
			j = end
		} else {
			start := j
			for j < len(s) && s[j] != ',' && s[j] != ':' && s[j] != ';' {
				if s[j] == '$' && j+1 < len(s) && s[j+1] == '{' {
					end, err := skipRoleAttribute(s, j)
					if err != nil {
						return j, err
					}
					j = end
					continue
				}
				if !isTagChar(s[j]) {
					return j, badChar(s, j, "in tag (tags use letters, digits, \".\", \"_\" and \"-\")")
				}
				j++
			}
			if j < len(s) && s[j] == ':' {
				// Either a keyed selector (view:checkout) or the ':' that
				// starts the next segment (mobile:env/*). A next segment
				// always has a "/" before the next separator.
				end, slash := scanValue(s, j+1)
				if end > j+1 && !slash {
					if err := checkValue(s, j+1, end); err != nil {
						return j, err
					}
					if start == j {
						return j, syntaxErrorf(s, j, "expected a selector name before \":\"")
					}
					j = end
				}
			}
		}
		switch {
		case j >= len(s) || s[j] == ':':
			return j, nil
		case s[j] == ',':
			j++
		case s[j] == ';':
			return j, syntaxErrorf(s, j, "unexpected \";\": a segment has one selector list; separate tags with \",\"")
		default:
			return j, badChar(s, j, "after selector")
		}
	}
}

// scanBracedProp reads "{key:value}" starting at the '{' at i and returns
// the index just past '}'.
func scanBracedProp(s string, i int) (int, *SyntaxError) {
	j := i + 1
	for j < len(s) && s[j] != ':' && s[j] != '}' {
		if !isTagChar(s[j]) || s[j] == '*' {
			return j, badChar(s, j, "in property name")
		}
		j++
	}
	if j == i+1 {
		return j, syntaxErrorf(s, j, "expected a property name after \"{\"")
	}
	if j >= len(s) || s[j] != ':' {
		return j, syntaxErrorf(s, j, "expected \":\" after property name %q", s[i+1:j])
	}
	j++
	vstart := j
	for j < len(s) && s[j] != '}' {
		switch c := s[j]; {
		case c == '$' && j+1 < len(s) && s[j+1] == '{':
			end, err := skipRoleAttribute(s, j)
			if err != nil {
				return j, err
			}
			j = end
			continue
		case c == '{' || c == ',' || c == ':' || c == ';' || isSpaceOrControl(c):
			return j, badChar(s, j, "in property value")
		}
		j++
	}
	if j >= len(s) {
		return j, syntaxErrorf(s, j, "expected \"}\" to close the property selector opened at position %d", i)
	}
	if j == vstart {
		return j, syntaxErrorf(s, j, "expected a property value after \":\"")
	}
	return j + 1, nil
}

// scanValue finds the end of a keyed selector's value starting at i and
// reports whether it contains a "/" outside role attributes.
func scanValue(s string, i int) (end int, slash bool) {
	j := i
	for j < len(s) && s[j] != ',' && s[j] != ':' && s[j] != ';' {
		if s[j] == '$' && j+1 < len(s) && s[j+1] == '{' {
			if k := strings.IndexByte(s[j:], '}'); k >= 0 {
				j += k + 1
				continue
			}
		}
		if s[j] == '/' {
			slash = true
		}
		j++
	}
	return j, slash
}

func checkValue(s string, i, end int) *SyntaxError {
	for j := i; j < end; j++ {
		c := s[j]
		if c == '$' && j+1 < end && s[j+1] == '{' {
			k, err := skipRoleAttribute(s, j)
			if err != nil {
				return err
			}
			j = k - 1
			continue
		}
		if isSpaceOrControl(c) || c == '{' || c == '}' {
			return badChar(s, j, "in selector value")
		}
	}
	return nil
}

// skipRoleAttribute skips "${roleAttribute/name}" starting at the '$' at i.
// Role attributes are placeholders LaunchDarkly fills from a member's role
// assignment; a hook policy has no member, so they are kept as literal text.
func skipRoleAttribute(s string, i int) (int, *SyntaxError) {
	k := strings.IndexByte(s[i:], '}')
	if k < 0 {
		return i, syntaxErrorf(s, i, "unterminated \"${\": expected \"}\"")
	}
	return i + k + 1, nil
}

func isSpaceOrControl(c byte) bool { return c <= ' ' || c == 0x7f }

func isTagChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '*'
}

func badChar(s string, i int, where string) *SyntaxError {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return syntaxErrorf(s, i, "invalid character %q %s", r, where)
}
