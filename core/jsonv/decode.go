package jsonv

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 1000

// SyntaxError describes malformed JSON: where it is and what was expected.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Line   int // 1-based line
	Col    int // 1-based column, in characters
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
}

// Decode parses one JSON document (RFC 8259) into a Value, keeping object
// key order and value offsets. Errors are *SyntaxError.
func Decode(data []byte) (Value, error) {
	return DecodeString(string(data))
}

// DecodeString is Decode for input already held as a string; decoded strings
// without escapes share its memory.
func DecodeString(src string) (Value, error) {
	d := decoder{src: src}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return Value{}, err
	}
	d.skipSpace()
	if d.i < len(d.src) {
		return Value{}, d.errorf(d.i, "unexpected %s after the JSON value", d.describe(d.i))
	}
	return v, nil
}

type decoder struct {
	src     string
	i       int
	scratch []byte
	stack   []Member // pending members of objects being decoded, reused
	elems   []Value  // pending elements of arrays being decoded, reused

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

// members returns room for n members carved from the slab.
func (d *decoder) members(n int) []Member {
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
		r, _ := utf8.DecodeRuneInString(d.src[off:])
		return fmt.Sprintf("character %U", r)
	}
	return fmt.Sprintf("%q", string(c))
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
		return Value{kind: String, pos: start, str: s}, nil
	case 't':
		if err := d.literal("true"); err != nil {
			return Value{}, err
		}
		return Value{kind: Bool, pos: start, num: 1}, nil
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
		return Value{}, d.errorf(start, "number %s is out of range", d.src[start:i])
	}
	d.i = i
	return Value{kind: Number, pos: int32(start), num: f}, nil
}

func (d *decoder) object(depth int) (Value, error) {
	start := d.i
	d.i++ // '{'
	base := len(d.stack)
	d.skipSpace()
	if d.i < len(d.src) && d.src[d.i] == '}' {
		d.i++
		return Value{kind: Object, pos: int32(start), obj: d.newMembers()}, nil
	}
	for {
		d.skipSpace()
		if d.i >= len(d.src) {
			return Value{}, d.errorf(d.i, "unterminated object opened at %s: expected a member name or '}'", d.where(start))
		}
		if d.src[d.i] != '"' {
			if d.src[d.i] == '}' && len(d.stack) > base {
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
			return Value{}, d.errorf(d.i, "expected ':' after member name %q, found %s", key, d.describe(d.i))
		}
		d.i++
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		d.stack = append(d.stack, Member{Key: key, Value: v, KeyOffset: keyOff})
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
			m := d.finishObject(base)
			return Value{kind: Object, pos: int32(start), obj: m}, nil
		default:
			return Value{}, d.errorf(d.i, "expected ',' or '}' after object member %q, found %s (missing comma?)", key, d.describe(d.i))
		}
	}
}

// finishObject moves the pending members above base into a Members value.
func (d *decoder) finishObject(base int) *Members {
	pending := d.stack[base:]
	m := d.newMembers()
	m.list = d.members(len(pending))[:0]
	simple := true
	for i := range pending {
		if _, isIdx := arrayIndex(pending[i].Key); isIdx {
			simple = false
			break
		}
	}
	if simple && len(pending) < indexThreshold {
		// Fast path: no index keys to reorder; duplicates are rare but must
		// keep the first position with the last value, as JSON.parse does.
		for i := range pending {
			dup := false
			for j := range m.list {
				if m.list[j].Key == pending[i].Key {
					m.list[j].Value = pending[i].Value
					dup = true
					break
				}
			}
			if !dup {
				m.list = append(m.list, pending[i])
			}
		}
	} else {
		for i := range pending {
			m.set(pending[i].Key, pending[i].Value, pending[i].KeyOffset)
		}
	}
	clear(pending)
	d.stack = d.stack[:base]
	return m
}

func (d *decoder) array(depth int) (Value, error) {
	start := d.i
	d.i++ // '['
	base := len(d.elems)
	d.skipSpace()
	if d.i < len(d.src) && d.src[d.i] == ']' {
		d.i++
		return Value{kind: Array, pos: int32(start), arr: []Value{}}, nil
	}
	for {
		d.skipSpace()
		if d.i < len(d.src) && d.src[d.i] == ']' && len(d.elems) > base {
			return Value{}, d.errorf(d.i, "trailing comma before ']': expected another array element")
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		d.elems = append(d.elems, v)
		d.skipSpace()
		if d.i >= len(d.src) {
			return Value{}, d.errorf(d.i, "unterminated array opened at %s: expected ',' or ']'", d.where(start))
		}
		switch d.src[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			pending := d.elems[base:]
			out := d.values(len(pending))
			copy(out, pending)
			clear(pending)
			d.elems = d.elems[:base]
			return Value{kind: Array, pos: int32(start), arr: out}, nil
		default:
			return Value{}, d.errorf(d.i, "expected ',' or ']' after array element, found %s (missing comma?)", d.describe(d.i))
		}
	}
}

func (d *decoder) where(off int) string {
	line, col := LineCol(d.src, off)
	return fmt.Sprintf("%d:%d", line, col)
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
				return d.stringSlow(start, i)
			}
			i += n
			continue
		}
		i++
	}
	return "", d.errorf(start, "unterminated string: expected a closing '\"'")
}

// stringSlow decodes a string that has escapes or invalid UTF-8, from the
// opening quote at start; i is where the fast scan stopped.
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
				// JSON.parse in a browser would see U+FFFD after the UTF-8
				// decoder replaced the byte; do the same.
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, d.src[i:i+n]...)
			}
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
