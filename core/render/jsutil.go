package render

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// JavaScript value rules the helpers and lookups need beyond jsonv. Strings
// are UTF-8 in which a lone UTF-16 surrogate is stored as its 3-byte
// (WTF-8) encoding, as jsonv.Decode does for "\udXXX" escapes.

func firstRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }
func lastRune(s string) (rune, int)  { return utf8.DecodeLastRuneInString(s) }

// surrogateAt reports whether s[i:] starts with a WTF-8 lone surrogate and
// returns its code unit.
func surrogateAt(s string, i int) (uint16, bool) {
	if i+2 < len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
		return 0xD000 | uint16(s[i+1]&0x3F)<<6 | uint16(s[i+2]&0x3F), true
	}
	return 0, false
}

// utf16Len is JavaScript's String.prototype.length.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		if _, ok := surrogateAt(s, i); ok {
			n++
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// utf16At is JavaScript's s[idx]: the UTF-16 code unit at idx as a string,
// or undefined past the end.
func utf16At(s string, idx int) jsonv.Value {
	n := 0
	for i := 0; i < len(s); {
		size := 1
		units := 1
		var r rune
		if s[i] >= utf8.RuneSelf {
			if _, ok := surrogateAt(s, i); ok {
				size = 3
			} else {
				r, size = utf8.DecodeRuneInString(s[i:])
				if r > 0xFFFF {
					units = 2
				}
			}
		}
		if idx < n+units {
			if units == 1 {
				if r == utf8.RuneError && size == 1 {
					return jsonv.Str("\uFFFD")
				}
				return jsonv.Str(s[i : i+size])
			}
			hi, lo := surrogatePair(r)
			if idx == n {
				return jsonv.Str(wtf8(hi))
			}
			return jsonv.Str(wtf8(lo))
		}
		n += units
		i += size
	}
	return jsonv.Value{}
}

func surrogatePair(r rune) (hi, lo uint16) {
	r -= 0x10000
	return uint16(0xD800 + (r>>10)&0x3FF), uint16(0xDC00 + r&0x3FF)
}

func wtf8(u uint16) string {
	return string([]byte{0xE0 | byte(u>>12), 0x80 | byte(u>>6)&0x3F, 0x80 | byte(u)&0x3F})
}

// jsTruthy is JavaScript's Boolean(v): unlike Value.Truthy (Handlebars'
// #if), an empty array is true.
func jsTruthy(v jsonv.Value) bool {
	return v.Truthy() || v.Kind() == jsonv.Array
}

// jsString is String(v) for a value handed to a helper: "undefined" and
// "null" for those, arrays comma-joined, objects "[object Object]".
func jsString(v jsonv.Value) string { return jsonv.ToJSString(v) }

var jsDecimal = regexp.MustCompile(`^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// toNumber is JavaScript's Number(v).
func toNumber(v jsonv.Value) float64 {
	switch v.Kind() {
	case jsonv.Undefined:
		return math.NaN()
	case jsonv.Null:
		return 0
	case jsonv.Bool:
		return boolNum(v)
	case jsonv.Number:
		return v.Float()
	case jsonv.String:
		return stringToNumber(v.Text())
	}
	if v.Kind() == jsonv.Object || v.Len() > 1 {
		// Two or more elements print a comma, which no number reads.
		return math.NaN()
	}
	return stringToNumber(string(jsonv.AppendJSString(nil, v)))
}

// appendJSStringMax is jsonv.AppendJSString that gives up (ok false) as
// soon as it has appended more than max bytes, so that comparing a short
// text with a large array costs no more than the text.
func appendJSStringMax(buf []byte, v jsonv.Value, max int) (out []byte, ok bool) {
	base := len(buf)
	if v.Kind() != jsonv.Array {
		buf = jsonv.AppendJSString(buf, v)
		return buf, len(buf)-base <= max
	}
	for i, e := range v.Elems() {
		if i > 0 {
			buf = append(buf, ',')
		}
		if buf, ok = appendJSStringMax(buf, e, max-(len(buf)-base)); !ok {
			return buf, false
		}
	}
	return buf, len(buf)-base <= max
}

func stringToNumber(s string) float64 {
	s = strings.TrimFunc(s, jsSpace)
	switch s {
	case "":
		return 0
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			f := 0.0
			for _, c := range s[2:] {
				d := digitVal(c)
				if d >= base {
					return math.NaN()
				}
				f = f*float64(base) + float64(d)
			}
			return f
		}
	}
	if !jsDecimal.MatchString(s) {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}

func digitVal(c rune) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}
