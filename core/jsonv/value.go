// Package jsonv is an ordered JSON value model with JavaScript semantics.
//
// LaunchDarkly's integration framework renders templates with handlebars.js
// over values produced by JSON.parse, so what a template prints depends on
// JavaScript rules: objects keep their key order (integer-like keys first, in
// ascending order, then insertion order), arrays print comma-joined, numbers
// print with Number.prototype.toString, and an empty object is truthy. Go
// maps and encoding/json lose or change each of these, so auditrelay decodes
// audit-log entries into Value instead.
//
// A Value is immutable once built and safe to share between goroutines. The
// zero Value is undefined (a missing key), which is distinct from null.
package jsonv

import (
	"math"
	"strconv"
	"unsafe"
)

// Kind is the JavaScript type of a Value.
type Kind uint8

// The kinds of Value. Undefined is the zero Kind: what a lookup of a missing
// key yields.
const (
	Undefined Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

func (k Kind) String() string {
	switch k {
	case Undefined:
		return "undefined"
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Number:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	case Object:
		return "object"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one JSON value. Build values with the constructors (Str, Num,
// Boolean, NullValue, Arr, Obj) or Decode.
//
// A Value is three words: the kinds share one pointer and one word (a
// string's bytes and length, an array's first element and length, an
// object's members, a number's bits). A decoded document holds all its
// values at once and its sender chooses how many there are, so the size
// of a Value is what a document costs per value: 24 bytes this way, 64 as
// a struct with a field per kind.
type Value struct {
	kind Kind
	pos  int32          // byte offset where the value starts in decoded input; -1 when built
	ptr  unsafe.Pointer // String: its bytes; Array: its first element; Object: its *Members
	n    uint64         // String, Array: the length; Number: math.Float64bits; Bool: 1 for true
}

func strValue(s string, pos int32) Value {
	return Value{kind: String, pos: pos, ptr: unsafe.Pointer(unsafe.StringData(s)), n: uint64(len(s))}
}

func numValue(f float64, pos int32) Value {
	return Value{kind: Number, pos: pos, n: math.Float64bits(f)}
}

func arrValue(elems []Value, pos int32) Value {
	return Value{kind: Array, pos: pos, ptr: unsafe.Pointer(unsafe.SliceData(elems)), n: uint64(len(elems))}
}

func objValue(m *Members, pos int32) Value {
	return Value{kind: Object, pos: pos, ptr: unsafe.Pointer(m)}
}

// str is the string of a String value.
func (v Value) str() string { return unsafe.String((*byte)(v.ptr), int(v.n)) }

// num is the number of a Number value.
func (v Value) num() float64 { return math.Float64frombits(v.n) }

// arr is the elements of an Array value, never nil.
func (v Value) arr() []Value {
	if v.n == 0 {
		return []Value{}
	}
	return unsafe.Slice((*Value)(v.ptr), int(v.n))
}

// obj is the members of an Object value, filled if it is Lazy.
func (v Value) obj() *Members { return (*Members)(v.ptr).load() }

// Str returns a string value.
func Str(s string) Value { return strValue(s, -1) }

// Num returns a number value.
func Num(f float64) Value { return numValue(f, -1) }

// Int returns a number value from an integer.
func Int(i int64) Value { return numValue(float64(i), -1) }

// Boolean returns a boolean value.
func Boolean(b bool) Value {
	v := Value{kind: Bool, pos: -1}
	if b {
		v.n = 1
	}
	return v
}

// NullValue returns JSON null.
func NullValue() Value { return Value{kind: Null, pos: -1} }

// Arr returns an array value holding elems (not copied).
func Arr(elems ...Value) Value { return arrValue(elems, -1) }

// Obj returns an object value. A nil m is an empty object.
func Obj(m *Members) Value {
	if m == nil {
		m = &Members{}
	}
	return objValue(m, -1)
}

// Kind reports the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsUndefined reports whether v is the zero (missing) value.
func (v Value) IsUndefined() bool { return v.kind == Undefined }

// IsNullish reports whether v is null or undefined.
func (v Value) IsNullish() bool { return v.kind <= Null }

// Offset returns the byte offset in the decoded input where v starts, or -1
// for values built in code.
func (v Value) Offset() int {
	if v.kind == Undefined {
		return -1
	}
	return int(v.pos)
}

// Bool returns the boolean of a Bool value and false otherwise.
func (v Value) Bool() bool { return v.kind == Bool && v.n != 0 }

// Float returns the number of a Number value and 0 otherwise.
func (v Value) Float() float64 {
	if v.kind != Number {
		return 0
	}
	return v.num()
}

// Text returns the string of a String value and "" otherwise. Use
// AppendJSString for JavaScript's String(v) of any kind.
func (v Value) Text() string {
	if v.kind != String {
		return ""
	}
	return v.str()
}

// Len returns the number of elements of an array, members of an object, or
// bytes of a string; 0 for other kinds.
func (v Value) Len() int {
	switch v.kind {
	case Array, String:
		return int(v.n)
	case Object:
		return len(v.obj().list)
	}
	return 0
}

// Elems returns the elements of an array (shared, do not modify).
func (v Value) Elems() []Value {
	if v.kind != Array {
		return nil
	}
	return v.arr()
}

// Index returns element i of an array, or undefined.
func (v Value) Index(i int) Value {
	if v.kind != Array || i < 0 || i >= int(v.n) {
		return Value{}
	}
	return v.arr()[i]
}

// Members returns the members of an object in iteration order (shared, do
// not modify), or nil.
func (v Value) Members() []Member {
	if v.kind != Object {
		return nil
	}
	return v.obj().list
}

// Get returns the member key of an object, or undefined.
func (v Value) Get(key string) Value {
	if v.kind != Object {
		return Value{}
	}
	if p := (*Members)(v.ptr).knownPtr(key); p != nil {
		return *p
	}
	m, _ := v.obj().Lookup(key)
	return m
}

// Has reports whether an object has an own member named key.
func (v Value) Has(key string) bool {
	if v.kind != Object {
		return false
	}
	if (*Members)(v.ptr).knownPtr(key) != nil {
		return true
	}
	_, ok := v.obj().Lookup(key)
	return ok
}

// Path follows keys through nested objects, yielding undefined at the first
// missing step.
func (v Value) Path(keys ...string) Value {
	for _, k := range keys {
		v = v.Get(k)
		if v.kind == Undefined {
			return v
		}
	}
	return v
}

// Truthy reports JavaScript truthiness as Handlebars uses it for #if:
// false, undefined, null, "", 0, NaN and empty arrays are falsy; every
// object, including {}, is truthy.
func (v Value) Truthy() bool {
	switch v.kind {
	case Bool, String, Array:
		return v.n != 0
	case Number:
		f := v.num()
		return f != 0 && !math.IsNaN(f)
	case Object:
		return true
	}
	return false
}

// StrictEqual reports JavaScript a === b: same kind and same primitive
// value; arrays and objects are equal only when they are the same instance.
func StrictEqual(a, b Value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case Undefined, Null:
		return true
	case Bool:
		return a.n == b.n
	case Number:
		return a.num() == b.num()
	case String:
		return a.str() == b.str()
	case Array:
		// Identity: an empty array has no element address to compare, and
		// JavaScript's [] === [] is false anyway.
		return a.n > 0 && a.n == b.n && a.ptr == b.ptr
	case Object:
		return a.ptr == b.ptr
	}
	return false
}
