package jsonv

import (
	"math"
	"slices"
)

// AppendJSON appends v serialized as JSON.stringify(v, null, indent) would:
// member order kept, strings escaped with AppendEscapedString, undefined
// members omitted and undefined array elements written as null. An empty
// indent gives compact output.
func AppendJSON(buf []byte, v Value, indent string) []byte {
	return appendJSON(buf, v, indent, 0)
}

// Marshal returns v as compact JSON.
func Marshal(v Value) []byte { return AppendJSON(nil, v, "") }

// MarshalIndent returns v as JSON indented with indent per level.
func MarshalIndent(v Value, indent string) []byte { return AppendJSON(nil, v, indent) }

func newline(buf []byte, indent string, depth int) []byte {
	if indent == "" {
		return buf
	}
	buf = append(buf, '\n')
	for i := 0; i < depth; i++ {
		buf = append(buf, indent...)
	}
	return buf
}

func appendJSON(buf []byte, v Value, indent string, depth int) []byte {
	switch v.kind {
	case Undefined, Null:
		return append(buf, "null"...)
	case Bool:
		if v.n != 0 {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case Number:
		f := v.num()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(buf, "null"...)
		}
		return AppendNumber(buf, f)
	case String:
		buf = append(buf, '"')
		buf = AppendEscapedString(buf, v.str())
		return append(buf, '"')
	case Array:
		if v.n == 0 {
			return append(buf, "[]"...)
		}
		buf = append(buf, '[')
		for i, e := range v.arr() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = newline(buf, indent, depth+1)
			buf = appendJSON(buf, e, indent, depth+1)
		}
		buf = newline(buf, indent, depth)
		return append(buf, ']')
	case Object:
		buf = append(buf, '{')
		n := 0
		for _, m := range v.obj().list {
			if m.Value.kind == Undefined {
				continue
			}
			if n > 0 {
				buf = append(buf, ',')
			}
			n++
			buf = newline(buf, indent, depth+1)
			buf = append(buf, '"')
			buf = AppendEscapedString(buf, m.Key)
			buf = append(buf, '"', ':')
			if indent != "" {
				buf = append(buf, ' ')
			}
			buf = appendJSON(buf, m.Value, indent, depth+1)
		}
		if n > 0 {
			buf = newline(buf, indent, depth)
		}
		return append(buf, '}')
	}
	return buf
}

// FromGo converts values decoded by encoding/json (nil, bool, float64,
// json.Number-free numbers, string, []any, map[string]any) and common Go
// scalars into a Value. Map keys are ordered as JavaScript orders them for
// index keys and otherwise sorted, since Go maps have no order.
func FromGo(x any) Value {
	switch t := x.(type) {
	case nil:
		return NullValue()
	case Value:
		return t
	case bool:
		return Boolean(t)
	case string:
		return Str(t)
	case float64:
		return Num(t)
	case float32:
		return Num(float64(t))
	case int:
		return Int(int64(t))
	case int64:
		return Int(t)
	case int32:
		return Int(int64(t))
	case uint:
		return Num(float64(t))
	case uint64:
		return Num(float64(t))
	case []string:
		out := make([]Value, len(t))
		for i, s := range t {
			out[i] = Str(s)
		}
		return Arr(out...)
	case []any:
		out := make([]Value, len(t))
		for i, e := range t {
			out[i] = FromGo(e)
		}
		return Arr(out...)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		m := NewMembers(len(keys))
		for _, k := range keys {
			m.Set(k, FromGo(t[k]))
		}
		return Obj(m)
	case map[string]string:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		m := NewMembers(len(keys))
		for _, k := range keys {
			m.Set(k, Str(t[k]))
		}
		return Obj(m)
	}
	return Value{}
}
