package jsonv

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSString appends JavaScript's String(v) as Handlebars prints it:
// undefined and null print nothing at the top level, numbers use
// Number.prototype.toString, arrays join their elements with "," (null and
// undefined elements empty), and objects print "[object Object]".
func AppendJSString(buf []byte, v Value) []byte {
	switch v.kind {
	case Undefined, Null:
		return buf
	case Bool:
		if v.n != 0 {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case Number:
		return AppendNumber(buf, v.num())
	case String:
		return append(buf, v.str()...)
	case Array:
		for i, e := range v.arr() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = AppendJSString(buf, e)
		}
		return buf
	case Object:
		return append(buf, "[object Object]"...)
	}
	return buf
}

// ToJSString returns String(v) with JavaScript's rules for a value passed
// to a helper: unlike AppendJSString, null and undefined become "null" and
// "undefined".
func ToJSString(v Value) string {
	switch v.kind {
	case Undefined:
		return "undefined"
	case Null:
		return "null"
	case String:
		return v.str()
	}
	return string(AppendJSString(nil, v))
}

// AppendNumber appends f formatted as JavaScript's Number.prototype.toString
// does: integers up to 1e21 without exponent, otherwise the shortest
// round-trip digits with JavaScript's placement of the decimal point and
// exponent.
func AppendNumber(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	case f == 0:
		return append(buf, '0') // also -0
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		if math.Abs(f) < 1<<53 {
			return strconv.AppendInt(buf, int64(f), 10)
		}
	}
	if f < 0 {
		buf = append(buf, '-')
		f = -f
	}
	// Shortest digits and exponent: "d.ddde±x".
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	var digits [24]byte
	k := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[k] = e[i]
			k++
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	n := exp + 1 // position of the decimal point relative to the digits
	switch {
	case k <= n && n <= 21:
		buf = append(buf, digits[:k]...)
		for j := 0; j < n-k; j++ {
			buf = append(buf, '0')
		}
	case 0 < n && n <= 21:
		buf = append(buf, digits[:n]...)
		buf = append(buf, '.')
		buf = append(buf, digits[n:k]...)
	case -6 < n && n <= 0:
		buf = append(buf, '0', '.')
		for j := 0; j < -n; j++ {
			buf = append(buf, '0')
		}
		buf = append(buf, digits[:k]...)
	default:
		buf = append(buf, digits[0])
		if k > 1 {
			buf = append(buf, '.')
			buf = append(buf, digits[1:k]...)
		}
		buf = append(buf, 'e')
		if n-1 >= 0 {
			buf = append(buf, '+')
		}
		buf = strconv.AppendInt(buf, int64(n-1), 10)
	}
	return buf
}

// needsJSONEscape reports whether s has a byte that JSON.stringify escapes
// (", \, control characters) or a lone surrogate stored as WTF-8.
func needsJSONEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			return true
		}
		if c == 0xED && i+1 < len(s) && s[i+1] >= 0xA0 {
			return true
		}
	}
	return false
}

const hexDigits = "0123456789abcdef"

// AppendEscapedString appends s escaped exactly as JSON.stringify(s) does,
// without the surrounding quotes: only ", \ and U+0000–U+001F are escaped
// (\b \t \n \f \r by name, others as \u00xx in lower-case hex), plus lone
// surrogates as \udxxx. Non-ASCII, <, >, &, / and U+2028/U+2029 are kept
// as they are, which is where encoding/json differs.
func AppendEscapedString(buf []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != 0xED {
			i++
			continue
		}
		if c == 0xED {
			if i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF {
				// WTF-8 lone surrogate U+D800–U+DFFF.
				r := rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
				buf = append(buf, s[start:i]...)
				buf = append(buf, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
				i += 3
				start = i
				continue
			}
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"':
			buf = append(buf, '\\', '"')
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\b':
			buf = append(buf, '\\', 'b')
		case '\f':
			buf = append(buf, '\\', 'f')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	return append(buf, s[start:]...)
}

// EscapeStrings returns v with every string, at any depth, replaced by its
// JSON.stringify form without quotes: the framework's json-escape step for
// .json and .json.hbs templates. Numbers, booleans and null are unchanged.
// Subtrees without anything to escape are shared, not copied.
func EscapeStrings(v Value) Value {
	out, _ := escapeStrings(v)
	return out
}

// escapeLazy escapes a Lazy object and stays lazy: its known members are
// escaped now, the others when the escaped object is first read whole.
func escapeLazy(v Value) Value {
	l := (*Members)(v.ptr).lazy
	known := make([]Member, len(l.known))
	for i, m := range l.known {
		known[i] = Member{Key: m.Key, Value: EscapeStrings(m.Value), KeyOffset: m.KeyOffset}
	}
	return Lazy(known, func(out *Members) {
		src := v.obj()
		out.list = make([]Member, len(src.list))
		for i, m := range src.list {
			out.list[i] = Member{Key: m.Key, Value: EscapeStrings(m.Value), KeyOffset: m.KeyOffset}
		}
		out.index = src.index // same keys in the same places
	})
}

func escapeStrings(v Value) (Value, bool) {
	switch v.kind {
	case String:
		s := v.str()
		if !needsJSONEscape(s) {
			return v, false
		}
		return strValue(string(AppendEscapedString(make([]byte, 0, len(s)+8), s)), v.pos), true
	case Array:
		var out []Value
		elems := v.arr()
		for i, e := range elems {
			ne, changed := escapeStrings(e)
			if changed && out == nil {
				out = make([]Value, len(elems))
				copy(out, elems)
			}
			if out != nil {
				out[i] = ne
			}
		}
		if out == nil {
			return v, false
		}
		return arrValue(out, v.pos), true
	case Object:
		if (*Members)(v.ptr).lazy != nil {
			return escapeLazy(v), true
		}
		var list []Member
		obj := v.obj()
		for i, m := range obj.list {
			ne, changed := escapeStrings(m.Value)
			if changed && list == nil {
				list = make([]Member, len(obj.list))
				copy(list, obj.list)
			}
			if list != nil {
				list[i].Value = ne
			}
		}
		if list == nil {
			return v, false
		}
		nm := &Members{list: list}
		if obj.index != nil {
			nm.index = obj.index // same keys in the same places
		}
		return objValue(nm, v.pos), true
	}
	return v, false
}
