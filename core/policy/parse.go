package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Parse reads a policy from JSON: either an array of statements or an
// integration manifest, whose capabilities.auditLogEventsHook.defaultPolicy
// is used. Every problem is reported, each with its line and column, in an
// ErrorList.
func Parse(data []byte) (*Policy, error) {
	r, base, err := newReader(data)
	if err != nil {
		return nil, err
	}
	switch data[base] {
	case '[':
		return r.statements(base, SourceArray)
	case '{':
		return r.manifest(base)
	case 'n': // null: no policy
		return compile(nil, SourceArray, true)
	}
	return nil, r.fail(-1, "", base, errors.New("expected a JSON array of policy statements or a manifest object"))
}

// ParseManifest reads an integration manifest and compiles its
// capabilities.auditLogEventsHook.defaultPolicy. A manifest without one
// gives an absent policy, which sends every entry, with a warning.
func ParseManifest(data []byte) (*Policy, error) {
	r, base, err := newReader(data)
	if err != nil {
		return nil, err
	}
	if data[base] != '{' {
		return nil, r.fail(-1, "", base, fmt.Errorf("expected a manifest object, got %s", describeJSON(data[base])))
	}
	return r.manifest(base)
}

// reader walks a JSON document that is known to be well formed, recording
// byte offsets so that every error can name its line and column.
type reader struct {
	src  []byte
	errs ErrorList
}

// newReader checks that data is one well-formed JSON value and returns the
// offset of its first byte.
func newReader(data []byte) (*reader, int, error) {
	r := &reader{src: data}
	base := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		base = 3 // a UTF-8 byte order mark, as some editors write
	}
	var raw json.RawMessage
	if err := json.Unmarshal(data[base:], &raw); err != nil {
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return nil, 0, r.fail(-1, "", base, fmt.Errorf("invalid JSON: %w", err))
		}
		off := base + int(se.Offset)
		if off > base && !strings.Contains(se.Error(), "unexpected end") {
			off-- // Offset counts the offending byte
		}
		return nil, 0, r.fail(-1, "", off, fmt.Errorf("invalid JSON: %s", se.Error()))
	}
	return r, skipSpace(data, base), nil
}

func (r *reader) add(stmt int, field string, off int, err error) {
	line, col := lineCol(r.src, off)
	r.errs = append(r.errs, &Error{Statement: stmt, Field: field, Line: line, Col: col, Err: err})
}

// fail records one error and returns the list.
func (r *reader) fail(stmt int, field string, off int, err error) error {
	r.add(stmt, field, off, err)
	return r.errs
}

// manifest finds defaultPolicy in the manifest object at off.
func (r *reader) manifest(off int) (*Policy, error) {
	path := []string{"capabilities", "auditLogEventsHook", "defaultPolicy"}
	for i, key := range path {
		valOff, found := r.member(off, key)
		where := strings.Join(path[:i+1], ".")
		if !found || r.src[valOff] == 'n' {
			p, err := compile(nil, SourceManifest, true)
			if err == nil {
				p.warnings = []Warning{{Statement: -1, Msg: "the manifest has no " + strings.Join(path, ".") +
					": every entry is sent"}}
			}
			return p, err
		}
		want := byte('{')
		if i == len(path)-1 {
			want = '['
		}
		if r.src[valOff] != want {
			kind := "an object"
			if want == '[' {
				kind = "an array of policy statements"
			}
			return nil, r.fail(-1, where, valOff, fmt.Errorf("expected %s, got %s", kind, describeJSON(r.src[valOff])))
		}
		off = valOff
	}
	return r.statements(off, SourceManifest)
}

// member returns the offset of the value of key in the object at off. When
// a key repeats, the last one wins, as in JavaScript's JSON.parse.
func (r *reader) member(off int, key string) (int, bool) {
	found := -1
	r.object(off, func(k string, keyOff, valOff int) {
		if k == key {
			found = valOff
		}
	})
	return found, found >= 0
}

// object calls fn for every member of the object at off.
func (r *reader) object(off int, fn func(key string, keyOff, valOff int)) {
	dec := json.NewDecoder(bytes.NewReader(r.src[off:]))
	if _, err := dec.Token(); err != nil { // '{'
		return
	}
	for dec.More() {
		keyOff := skipSep(r.src, off+int(dec.InputOffset()))
		tok, err := dec.Token()
		if err != nil {
			return
		}
		key, _ := tok.(string)
		valOff := skipSep(r.src, off+int(dec.InputOffset()))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return
		}
		fn(key, keyOff, valOff)
	}
}

// array calls fn with the offset of every element of the array at off.
func (r *reader) array(off int, fn func(i, elemOff int)) {
	dec := json.NewDecoder(bytes.NewReader(r.src[off:]))
	if _, err := dec.Token(); err != nil { // '['
		return
	}
	for i := 0; dec.More(); i++ {
		elemOff := skipSep(r.src, off+int(dec.InputOffset()))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return
		}
		fn(i, elemOff)
	}
}

// fieldPos records where a statement field and its elements are.
type fieldPos struct {
	off   int
	elems []int
}

// statements reads the array of statements at off and compiles it.
func (r *reader) statements(off int, source Source) (*Policy, error) {
	var in []stmtInput
	r.array(off, func(i, elemOff int) {
		in = append(in, r.statement(i, elemOff))
	})
	p, err := compile(in, source, false)
	if err != nil {
		var list ErrorList
		errors.As(err, &list)
		r.errs = append(r.errs, list...)
	}
	if len(r.errs) > 0 {
		slices.SortStableFunc(r.errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, r.errs
	}
	return p, nil
}

// statement reads the statement object at off. Problems with the JSON shape
// are recorded here; compile reports the rest.
func (r *reader) statement(i, off int) stmtInput {
	pos := map[string]*fieldPos{}
	in := stmtInput{bad: map[string]bool{}}
	in.pos = func(field string, elem int) (int, int) {
		at := off
		if fp, ok := pos[field]; ok {
			at = fp.off
			if elem >= 0 && elem < len(fp.elems) {
				at = fp.elems[elem]
			}
		}
		return lineCol(r.src, at)
	}
	if r.src[off] != '{' {
		r.add(i, "", off, fmt.Errorf("expected a statement object, got %s", describeJSON(r.src[off])))
		in.bad["effect"], in.bad["resources"], in.bad["actions"] = true, true, true
		return in
	}
	seen := map[string]int{}
	r.object(off, func(key string, keyOff, valOff int) {
		if first, dup := seen[key]; dup {
			line, col := lineCol(r.src, first)
			r.add(i, key, keyOff, fmt.Errorf("duplicate field (first at %d:%d)", line, col))
			return
		}
		seen[key] = keyOff
		fp := &fieldPos{off: valOff}
		pos[key] = fp
		switch key {
		case "effect":
			var s string
			if r.src[valOff] != '"' || json.Unmarshal(r.value(valOff), &s) != nil {
				r.add(i, key, valOff, fmt.Errorf("must be \"allow\" or \"deny\", got %s", describeJSON(r.src[valOff])))
				in.bad["effect"] = true
				return
			}
			in.st.Effect, in.effectSet = Effect(s), true
		case "resources", "notResources", "actions", "notActions":
			list, ok := r.stringList(i, key, valOff, fp, in.bad)
			if !ok {
				in.bad[pairOf(key)] = true
			}
			switch key {
			case "resources":
				in.st.Resources = list
			case "notResources":
				in.st.NotResources = list
			case "actions":
				in.st.Actions = list
			case "notActions":
				in.st.NotActions = list
			}
		default:
			msg := fmt.Sprintf("unknown field %q: a statement has effect, resources, notResources, actions and notActions", key)
			if hint := fieldHint(key); hint != "" {
				msg = fmt.Sprintf("unknown field %q (did you mean %q?)", key, hint)
			}
			r.add(i, "", keyOff, errors.New(msg))
		}
	})
	return in
}

// pairOf maps a list field to the name compile uses for its pair.
func pairOf(key string) string {
	if strings.HasSuffix(key, "esources") {
		return "resources"
	}
	return "actions"
}

// stringList reads an array of strings. Null counts as absent. It returns
// false when the value is not an array; elements of the wrong type are
// reported, kept as "" and marked in bad so that compile skips them.
func (r *reader) stringList(stmt int, field string, off int, fp *fieldPos, bad map[string]bool) ([]string, bool) {
	switch r.src[off] {
	case 'n':
		return nil, true
	case '[':
	default:
		r.add(stmt, field, off, fmt.Errorf("expected an array of strings, got %s", describeJSON(r.src[off])))
		return nil, false
	}
	list := []string{}
	r.array(off, func(k, elemOff int) {
		fp.elems = append(fp.elems, elemOff)
		var s string
		if r.src[elemOff] != '"' || json.Unmarshal(r.value(elemOff), &s) != nil {
			name := fmt.Sprintf("%s[%d]", field, k)
			r.add(stmt, name, elemOff, fmt.Errorf("expected a string, got %s", describeJSON(r.src[elemOff])))
			bad[name] = true
			list = append(list, "")
			return
		}
		list = append(list, s)
	})
	return list, true
}

// value returns the raw JSON value starting at off.
func (r *reader) value(off int) []byte {
	dec := json.NewDecoder(bytes.NewReader(r.src[off:]))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil
	}
	return raw
}

func fieldHint(key string) string {
	for _, f := range []string{"effect", "resources", "notResources", "actions", "notActions"} {
		if strings.EqualFold(key, f) || strings.EqualFold(key+"s", f) || strings.EqualFold(strings.ReplaceAll(key, "_", ""), f) {
			return f
		}
	}
	switch strings.ToLower(key) {
	case "not_resources", "notresource", "not_resource":
		return "notResources"
	case "not_actions", "notaction", "not_action":
		return "notActions"
	}
	return ""
}

func describeJSON(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipSep skips whitespace and the separators json.Decoder leaves before
// the next token.
func skipSep(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
		default:
			return i
		}
	}
	return i
}
