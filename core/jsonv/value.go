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
type Value struct {
	kind Kind
	pos  int32 // byte offset where the value starts in decoded input; -1 when built
	num  float64
	str  string
	arr  []Value
	obj  *Members
}

// Str returns a string value.
func Str(s string) Value { return Value{kind: String, pos: -1, str: s} }

// Num returns a number value.
func Num(f float64) Value { return Value{kind: Number, pos: -1, num: f} }

// Int returns a number value from an integer.
func Int(i int64) Value { return Value{kind: Number, pos: -1, num: float64(i)} }

// Boolean returns a boolean value.
func Boolean(b bool) Value {
	v := Value{kind: Bool, pos: -1}
	if b {
		v.num = 1
	}
	return v
}

// NullValue returns JSON null.
func NullValue() Value { return Value{kind: Null, pos: -1} }

// Arr returns an array value holding elems (not copied).
func Arr(elems ...Value) Value {
	if elems == nil {
		elems = []Value{}
	}
	return Value{kind: Array, pos: -1, arr: elems}
}

// Obj returns an object value. A nil m is an empty object.
func Obj(m *Members) Value {
	if m == nil {
		m = &Members{}
	}
	return Value{kind: Object, pos: -1, obj: m}
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
func (v Value) Bool() bool { return v.kind == Bool && v.num != 0 }

// Float returns the number of a Number value and 0 otherwise.
func (v Value) Float() float64 {
	if v.kind != Number {
		return 0
	}
	return v.num
}

// Text returns the string of a String value and "" otherwise. Use
// AppendJSString for JavaScript's String(v) of any kind.
func (v Value) Text() string {
	if v.kind != String {
		return ""
	}
	return v.str
}

// Len returns the number of elements of an array, members of an object, or
// bytes of a string; 0 for other kinds.
func (v Value) Len() int {
	switch v.kind {
	case Array:
		return len(v.arr)
	case Object:
		return len(v.obj.list)
	case String:
		return len(v.str)
	}
	return 0
}

// Elems returns the elements of an array (shared, do not modify).
func (v Value) Elems() []Value {
	if v.kind != Array {
		return nil
	}
	return v.arr
}

// Index returns element i of an array, or undefined.
func (v Value) Index(i int) Value {
	if v.kind != Array || i < 0 || i >= len(v.arr) {
		return Value{}
	}
	return v.arr[i]
}

// Members returns the members of an object in iteration order (shared, do
// not modify), or nil.
func (v Value) Members() []Member {
	if v.kind != Object {
		return nil
	}
	return v.obj.list
}

// Get returns the member key of an object, or undefined.
func (v Value) Get(key string) Value {
	if v.kind != Object {
		return Value{}
	}
	m, _ := v.obj.Lookup(key)
	return m
}

// Has reports whether an object has an own member named key.
func (v Value) Has(key string) bool {
	if v.kind != Object {
		return false
	}
	_, ok := v.obj.Lookup(key)
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
	case Bool:
		return v.num != 0
	case Number:
		return v.num != 0 && !math.IsNaN(v.num)
	case String:
		return v.str != ""
	case Array:
		return len(v.arr) > 0
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
	case Bool, Number:
		return a.num == b.num
	case String:
		return a.str == b.str
	case Array:
		// Identity: an empty array has no element address to compare, and
		// JavaScript's [] === [] is false anyway.
		return len(a.arr) > 0 && len(a.arr) == len(b.arr) && &a.arr[0] == &b.arr[0]
	case Object:
		return a.obj == b.obj
	}
	return false
}
