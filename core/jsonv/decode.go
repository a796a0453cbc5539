package jsonv

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 1000

// maxQuoted bounds how much of a token an error message quotes (a member
// name, a number): the message about a megabyte-long name stays short.
const maxQuoted = 64

// SyntaxError describes malformed JSON: where it is and what was expected.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Line   int // 1-based line
	Col    int // 1-based column, in characters
	Msg    string
	// Path names the member or element the problem is in, as
	// "accesses[0].action" ("" at the top level). Long paths keep their
	// end, after "…". Error does not print it; callers that name fields
	// do.
	Path string
}

// maxPath bounds SyntaxError.Path.
const maxPath = 200

// inPath records, as an error unwinds out of a member or element, that it
// happened inside seg (".key" or "[i]").
func inPath(err error, seg string) error {
	se, ok := err.(*SyntaxError)
	if !ok {
		return err
	}
	se.Path = seg + se.Path
	if len(se.Path) > maxPath {
		cut := len(se.Path) - maxPath
		for cut < len(se.Path) && !utf8.RuneStart(se.Path[cut]) {
			cut++
		}
		se.Path = "…" + se.Path[cut:]
	}
	return err
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
}

// Decode parses one JSON document (RFC 8259) into a Value, keeping object
// key order and value offsets. Errors are *SyntaxError.
//
// The text must be UTF-8 (RFC 8259 §8.1): a string holding bytes that are
// not UTF-8 is an error, not read as U+FFFD the way a browser's decoder
// would, so that two different documents never decode to the same
// strings (an entry id that differs only in such a byte stays distinct).
// Escapes are read as JSON.parse reads them, lone surrogates (\ud800)
// included; those are kept as WTF-8 so that JSON escaping reproduces them.
//
// Memory is proportional to the input: a decoded document is the input
// (strings without escapes share it) plus 24 bytes per value, 48 per
// object member and 32 per object, carved from a few slabs. The costliest
// input ([{},{},…]) holds about 19 bytes per input byte; an audit-log
// entry about 5. While decoding, the values of the arrays and objects
// still open wait in chunks that are never copied, so that everything
// allocated on the way stays under 30 bytes per input byte.
func Decode(data []byte) (Value, error) {
	return DecodeString(string(data))
}

// DecodeString is Decode for input already held as a string; decoded strings
// without escapes share its memory.
func DecodeString(src string) (Value, error) {
	st := stackPool.Get().(*stacks)
	d := decoder{src: src, members: st.members, elems: st.elems}
	v, err := d.document()
	st.members, st.elems = d.members, d.elems
	st.release()
	return v, err
}

// stacks are the pending stacks of one decode, kept for the next: every
// decode otherwise allocated a chunk of each, several KiB, that lived
// only while it ran (the receiver decodes every entry).
type stacks struct {
	members pending[Member]
	elems   pending[Value]
}

// maxPooledChunks bounds what a pooled stack keeps: a huge document's
// chunks go to the collector.
const maxPooledChunks = 4

var stackPool = sync.Pool{New: func() any { return new(stacks) }}

// release clears what the decode left in the chunks (they point into its
// values) and pools them, or drops them when a large document grew them.
func (st *stacks) release() {
	if len(st.members.chunks) > maxPooledChunks || len(st.elems.chunks) > maxPooledChunks {
		return
	}
	for _, c := range st.members.chunks {
		clear(c)
	}
	for _, c := range st.elems.chunks {
		clear(c)
	}
	st.members.n, st.elems.n = 0, 0
	stackPool.Put(st)
}

// Check reports whether data is one JSON document that Decode accepts,
// with the *SyntaxError Decode would return, but builds no value: it
// allocates nothing beyond room for the longest string with escapes. It
// is for refusing a body before anything is spent on it.
func Check(data []byte) error {
	// The string is only read during the call and never kept.
	d := decoder{src: unsafe.String(unsafe.SliceData(data), len(data)), check: true}
	_, err := d.document()
	return err
}

type decoder struct {
	src     string
	i       int
	check   bool // Check: validate only, build nothing
	scratch []byte

	// The members and elements of the objects and arrays still open.
	members pending[Member]
	elems   pending[Value]

	// Slabs the decoded objects and arrays are carved from, so a document
	// costs a few allocations rather than two per object. Each slab grows
	// (doubling, capped) as the document does; a small entry stays small.
	memSlab []Member
	valSlab []Value
	objSlab []Members
}

const (
	slabMin = 16
	slabMax = 1024
)

// pending is a stack of values waiting for their array or object to
// close. It grows by fixed chunks that are never copied: the largest array
// of a document costs its slab plus this much once, instead of the series
// of ever larger copies a growing slice leaves behind (five times the
// final size with append's growth factor).
type pending[T any] struct {
	chunks [][]T
	n      int
}

const (
	chunkBits = 6
	chunkLen  = 1 << chunkBits
)

func (p *pending[T]) push(v T) {
	c := p.n >> chunkBits
	if c == len(p.chunks) {
		p.chunks = append(p.chunks, make([]T, chunkLen))
	}
	p.chunks[c][p.n&(chunkLen-1)] = v
	p.n++
}

// pop moves the values from base on into dst, which has room for exactly
// them, and removes them from the stack.
func (p *pending[T]) pop(base int, dst []T) {
	for i := base; i < p.n; {
		off := i & (chunkLen - 1)
		i += copy(dst[i-base:], p.chunks[i>>chunkBits][off:min(chunkLen, off+p.n-i)])
	}
	p.n = base
}

// memberSlab returns room for n members carved from the slab.
func (d *decoder) memberSlab(n int) []Member {
	if cap(d.memSlab)-len(d.memSlab) < n {
		size := min(max(2*cap(d.memSlab), slabMin), slabMax)
		d.memSlab = make([]Member, 0, max(size, n))
	}
	l := len(d.memSlab)
	d.memSlab = d.memSlab[:l+n]
	return d.memSlab[l : l+n : l+n]
}

// values returns room for n array elements carved from the slab.
func (d *decoder) values(n int) []Value {
	if cap(d.valSlab)-len(d.valSlab) < n {
		size := min(max(2*cap(d.valSlab), slabMin), slabMax)
		d.valSlab = make([]Value, 0, max(size, n))
	}
	l := len(d.valSlab)
	d.valSlab = d.valSlab[:l+n]
	return d.valSlab[l : l+n : l+n]
}

// newMembers returns a Members header carved from the slab.
func (d *decoder) newMembers() *Members {
	if len(d.objSlab) == cap(d.objSlab) {
		d.objSlab = make([]Members, 0, min(max(2*cap(d.objSlab), slabMin), slabMax))
	}
	d.objSlab = d.objSlab[:len(d.objSlab)+1]
	return &d.objSlab[len(d.objSlab)-1]
}

func (d *decoder) errorf(off int, format string, args ...any) error {
	line, col := LineCol(d.src, off)
	return &SyntaxError{Offset: off, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// describe names the token at off for error messages.
func (d *decoder) describe(off int) string {
	if off >= len(d.src) {
		return "end of input"
	}
	c := d.src[off]
	if c < 0x20 || c >= 0x7f {
		r, n := utf8.DecodeRuneInString(d.src[off:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Sprintf("byte 0x%02X (not UTF-8)", c)
		}
		return fmt.Sprintf("character %U", r)
	}
	return fmt.Sprintf("%q", string(c))
}

// quoted is s in double quotes for an error message, cut to maxQuoted
// bytes.
func quoted(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// LineCol converts a byte offset into a 1-based line and column (counted in
// characters) of src.
func LineCol(src string, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	line, col = 1, 1
	for i := 0; i < off; {
		if src[i] == '\n' {
			line++
			col = 1
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(src[i:])
		i += n
		col++
	}
	return line, col
}

func (d *decoder) skipSpace() {
	for d.i < len(d.src) {
		switch d.src[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// document reads the one value of the input and checks nothing follows.
func (d *decoder) document() (Value, error) {
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		if se, ok := err.(*SyntaxError); ok && len(se.Path) > 0 && se.Path[0] == '.' {
			se.Path = se.Path[1:]
		}
		return Value{}, err
	}
	d.skipSpace()
	if d.i < len(d.src) {
		return Value{}, d.errorf(d.i, "unexpected %s after the JSON value", d.describe(d.i))
	}
	return v, nil
}

func (d *decoder) value(depth int) (Value, error) {
	if d.i >= len(d.src) {
		return Value{}, d.errorf(d.i, "expected a JSON value, found end of input")
	}
	start := int32(d.i)
	switch c := d.src[d.i]; c {
	case '{':
		if depth >= maxDepth {
			return Value{}, d.errorf(d.i, "nesting deeper than %d levels", maxDepth)
		}
		return d.object(depth)
	case '[':
		if depth >= maxDepth {
			return Value{}, d.errorf(d.i, "nesting deeper than %d levels", maxDepth)
		}
		return d.array(depth)
	case '"':
		s, err := d.string()
		if err != nil {
			return Value{}, err
		}
		return strValue(s, start), nil
	case 't':
		if err := d.literal("true"); err != nil {
			return Value{}, err
		}
		return Value{kind: Bool, pos: start, n: 1}, nil
	case 'f':
		if err := d.literal("false"); err != nil {
			return Value{}, err
		}
		return Value{kind: Bool, pos: start}, nil
	case 'n':
		if err := d.literal("null"); err != nil {
			return Value{}, err
		}
		return Value{kind: Null, pos: start}, nil
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return d.number()
		}
		return Value{}, d.errorf(d.i, "expected a JSON value (object, array, string, number, true, false or null), found %s", d.describe(d.i))
	}
}

func (d *decoder) literal(word string) error {
	if len(d.src)-d.i >= len(word) && d.src[d.i:d.i+len(word)] == word {
		d.i += len(word)
		return nil
	}
	return d.errorf(d.i, "invalid literal: expected %q", word)
}

func (d *decoder) number() (Value, error) {
	start := d.i
	i := d.i
	if d.src[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d.src) && d.src[i] >= '0' && d.src[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(d.src) && d.src[i] == '0' {
		i++
		if i < len(d.src) && d.src[i] >= '0' && d.src[i] <= '9' {
			return Value{}, d.errorf(i, "invalid number: leading zero")
		}
	} else if digits() == 0 {
		return Value{}, d.errorf(i, "invalid number: expected a digit, found %s", d.describe(i))
	}
	if i < len(d.src) && d.src[i] == '.' {
		i++
		if digits() == 0 {
			return Value{}, d.errorf(i, "invalid number: expected a digit after '.', found %s", d.describe(i))
		}
	}
	if i < len(d.src) && (d.src[i] == 'e' || d.src[i] == 'E') {
		i++
		if i < len(d.src) && (d.src[i] == '+' || d.src[i] == '-') {
			i++
		}
		if digits() == 0 {
			return Value{}, d.errorf(i, "invalid number: expected a digit in the exponent, found %s", d.describe(i))
		}
	}
	f, err := strconv.ParseFloat(d.src[start:i], 64)
	if err != nil {
		// Only range errors remain: JSON.parse yields ±Infinity, which
		// JSON cannot carry back out, so reject it with the reason.
		lit := d.src[start:i]
		if len(lit) > maxQuoted {
			lit = lit[:maxQuoted] + "…"
		}
		return Value{}, d.errorf(start, "number %s is out of range", lit)
	}
	d.i = i
	return numValue(f, int32(start)), nil
}

func (d *decoder) object(depth int) (Value, error) {
	start := d.i
	d.i++ // '{'
	d.skipSpace()
	if d.i < len(d.src) && d.src[d.i] == '}' {
		d.i++
		if d.check {
			return Value{}, nil
		}
		return objValue(d.newMembers(), int32(start)), nil
	}
	base, count := d.members.n, 0
	for {
		d.skipSpace()
		if d.i >= len(d.src) {
			return Value{}, d.errorf(d.i, "unterminated object opened at %s: expected a member name or '}'", d.where(start))
		}
		if d.src[d.i] != '"' {
			if d.src[d.i] == '}' && count > 0 {
				return Value{}, d.errorf(d.i, "trailing comma before '}': expected another member name")
			}
			return Value{}, d.errorf(d.i, "expected a member name in double quotes, found %s", d.describe(d.i))
		}
		keyOff := int32(d.i)
		key, err := d.string()
		if err != nil {
			return Value{}, err
		}
		d.skipSpace()
		if d.i >= len(d.src) || d.src[d.i] != ':' {
			return Value{}, d.errorf(d.i, "expected ':' after member name %s, found %s", quoted(key), d.describe(d.i))
		}
		d.i++
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			if len(key) > maxQuoted {
				key = key[:maxQuoted] + "…"
			}
			return Value{}, inPath(err, "."+key)
		}
		if !d.check {
			d.members.push(Member{Key: key, Value: v, KeyOffset: keyOff})
		}
		count++
		d.skipSpace()
		if d.i >= len(d.src) {
			return Value{}, d.errorf(d.i, "unterminated object opened at %s: expected ',' or '}'", d.where(start))
		}
		switch d.src[d.i] {
		case ',':
			d.i++
			continue
		case '}':
			d.i++
			if d.check {
				return Value{}, nil
			}
			list := d.memberSlab(count)
			d.members.pop(base, list)
			return objValue(d.finishObject(list), int32(start)), nil
		default:
			return Value{}, d.errorf(d.i, "expected ',' or '}' after object member %s, found %s (missing comma?)", quoted(key), d.describe(d.i))
		}
	}
}

// finishObject makes the members of an object as read into its Members,
// with JavaScript's property order: a duplicate key keeps its first place
// and takes the last value (as JSON.parse does), and array-index keys go
// first in ascending order. It works in place on list.
func (d *decoder) finishObject(list []Member) *Members {
	m := d.newMembers()
	var index map[string]int
	if len(list) >= indexThreshold {
		index = make(map[string]int, len(list))
	}
	hasIndexKey := false
	w := 0
	for r := range list {
		if !hasIndexKey {
			_, hasIndexKey = arrayIndex(list[r].Key)
		}
		if j, dup := findDup(list[:w], index, list[r].Key); dup {
			list[j].Value = list[r].Value
			continue
		}
		if index != nil {
			index[list[r].Key] = w
		}
		list[w] = list[r]
		w++
	}
	clear(list[w:])
	list = list[:w:w]
	if hasIndexKey {
		orderIndexKeys(list)
		if index != nil {
			for i := range list {
				index[list[i].Key] = i
			}
		}
	}
	if len(list) < indexThreshold {
		index = nil // duplicates made it small
	}
	m.list, m.index = list, index
	return m
}

// findDup finds key among the members kept so far: in index when there is
// one, else by a scan (objects with few members).
func findDup(kept []Member, index map[string]int, key string) (int, bool) {
	if index != nil {
		j, ok := index[key]
		return j, ok
	}
	for j := range kept {
		if kept[j].Key == key {
			return j, true
		}
	}
	return 0, false
}

// orderIndexKeys moves the array-index keys of list to the front in
// ascending order, keeping the order of the others: O(n log n) however the
// keys arrive (inserting each in place would be quadratic, minutes for an
// object of 100,000 descending index keys).
func orderIndexKeys(list []Member) {
	type keyed struct {
		idx uint32
		m   Member
	}
	n := 0
	for _, m := range list {
		if _, ok := arrayIndex(m.Key); ok {
			n++
		}
	}
	idx := make([]keyed, 0, n)
	w := 0
	for _, m := range list {
		if i, ok := arrayIndex(m.Key); ok {
			idx = append(idx, keyed{i, m})
			continue
		}
		list[w] = m
		w++
	}
	copy(list[len(idx):], list[:w])
	slices.SortFunc(idx, func(a, b keyed) int { return cmp.Compare(a.idx, b.idx) })
	for i, k := range idx {
		list[i] = k.m
	}
}

func (d *decoder) array(depth int) (Value, error) {
	start := d.i
	d.i++ // '['
	d.skipSpace()
	if d.i < len(d.src) && d.src[d.i] == ']' {
		d.i++
		return arrValue(nil, int32(start)), nil
	}
	base, count := d.elems.n, 0
	for {
		d.skipSpace()
		if d.i < len(d.src) && d.src[d.i] == ']' && count > 0 {
			return Value{}, d.errorf(d.i, "trailing comma before ']': expected another array element")
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return Value{}, inPath(err, "["+strconv.Itoa(count)+"]")
		}
		if !d.check {
			d.elems.push(v)
		}
		count++
		d.skipSpace()
		if d.i >= len(d.src) {
			return Value{}, d.errorf(d.i, "unterminated array opened at %s: expected ',' or ']'", d.where(start))
		}
		switch d.src[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			if d.check {
				return Value{}, nil
			}
			out := d.values(count)
			d.elems.pop(base, out)
			return arrValue(out, int32(start)), nil
		default:
			return Value{}, d.errorf(d.i, "expected ',' or ']' after array element, found %s (missing comma?)", d.describe(d.i))
		}
	}
}

func (d *decoder) where(off int) string {
	line, col := LineCol(d.src, off)
	return fmt.Sprintf("%d:%d", line, col)
}

// invalidUTF8 is the error for a byte that does not start a UTF-8
// sequence in a string.
func (d *decoder) invalidUTF8(i int) error {
	return d.errorf(i, "invalid UTF-8: byte 0x%02X in a string (JSON text must be UTF-8)", d.src[i])
}

// string decodes a quoted string starting at d.i. Strings without escapes
// share the source's memory.
func (d *decoder) string() (string, error) {
	start := d.i
	i := d.i + 1
	for i < len(d.src) {
		c := d.src[i]
		if c == '"' {
			d.i = i + 1
			return d.src[start+1 : i], nil
		}
		if c == '\\' {
			return d.stringSlow(start, i)
		}
		if c < 0x20 {
			return "", d.errorf(i, "invalid control character %U in string (escape it as \\u%04x)", rune(c), c)
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(d.src[i:])
			if r == utf8.RuneError && n == 1 {
				return "", d.invalidUTF8(i)
			}
			i += n
			continue
		}
		i++
	}
	return "", d.errorf(start, "unterminated string: expected a closing '\"'")
}

// stringSlow decodes a string that has escapes, from the opening quote at
// start; i is where the fast scan stopped.
func (d *decoder) stringSlow(start, i int) (string, error) {
	buf := append(d.scratch[:0], d.src[start+1:i]...)
	for i < len(d.src) {
		c := d.src[i]
		switch {
		case c == '"':
			d.i = i + 1
			d.scratch = buf
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(d.src) {
				return "", d.errorf(i, "unterminated escape sequence")
			}
			esc := d.src[i+1]
			switch esc {
			case '"', '\\', '/':
				buf = append(buf, esc)
				i += 2
			case 'b':
				buf = append(buf, '\b')
				i += 2
			case 'f':
				buf = append(buf, '\f')
				i += 2
			case 'n':
				buf = append(buf, '\n')
				i += 2
			case 'r':
				buf = append(buf, '\r')
				i += 2
			case 't':
				buf = append(buf, '\t')
				i += 2
			case 'u':
				r, ok := hex4(d.src, i+2)
				if !ok {
					return "", d.errorf(i, "invalid \\u escape: expected 4 hex digits")
				}
				i += 6
				if r >= 0xD800 && r < 0xDC00 {
					if lo, ok := hex4(d.src, i+2); ok && i+1 < len(d.src) && d.src[i] == '\\' && d.src[i+1] == 'u' && lo >= 0xDC00 && lo < 0xE000 {
						buf = utf8.AppendRune(buf, 0x10000+(r-0xD800)<<10+(lo-0xDC00))
						i += 6
						continue
					}
				}
				if r >= 0xD800 && r < 0xE000 {
					// A lone surrogate: JavaScript keeps it. Store it as
					// WTF-8 so JSON escaping can reproduce \udXXX exactly.
					buf = append(buf, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
					continue
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", d.errorf(i, "invalid escape sequence \\%c", esc)
			}
		case c < 0x20:
			return "", d.errorf(i, "invalid control character %U in string (escape it as \\u%04x)", rune(c), c)
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(d.src[i:])
			if r == utf8.RuneError && n == 1 {
				return "", d.invalidUTF8(i)
			}
			buf = append(buf, d.src[i:i+n]...)
			i += n
		default:
			buf = append(buf, c)
			i++
		}
	}
	d.scratch = buf
	return "", d.errorf(start, "unterminated string: expected a closing '\"'")
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
