package jsonv

import "maps"

// Support for core/render's evaluator, kept apart from the value model:
// pointer lookups let a path walk nested objects without copying each
// intermediate Value.

// LookupPtr returns a pointer to the value stored under key, or nil. The
// pointer aliases the member list, which is immutable: callers must not
// write through it.
func (m *Members) LookupPtr(key string) *Value {
	if m.index != nil {
		if i, ok := m.index[key]; ok {
			return &m.list[i].Value
		}
		return nil
	}
	for i := range m.list {
		if m.list[i].Key == key {
			return &m.list[i].Value
		}
	}
	return nil
}

// GetPtr is Get returning a pointer to the member's value (nil when v is not
// an object or has no such member). Callers must not write through it.
func (v *Value) GetPtr(key string) *Value {
	if v.kind != Object {
		return nil
	}
	if p := (*Members)(v.ptr).knownPtr(key); p != nil {
		return p
	}
	return v.obj().LookupPtr(key)
}

// IndexPtr is Index returning a pointer to the element (nil when v is not an
// array or i is out of range). Callers must not write through it.
func (v *Value) IndexPtr(i int) *Value {
	if v.kind != Array || i < 0 || i >= int(v.n) {
		return nil
	}
	return &v.arr()[i]
}

// With returns a copy of the object v with key set to val, as
// Members.Set would: an existing key keeps its place, a new one goes where
// JavaScript orders it. v is unchanged. Building a template context from a
// decoded event this way copies the member list once instead of setting
// every member again. For a value that is not an object, With returns v.
func (v Value) With(key string, val Value) Value {
	if v.kind != Object {
		return v
	}
	obj := v.obj()
	m := &Members{list: make([]Member, len(obj.list), len(obj.list)+1)}
	copy(m.list, obj.list)
	if obj.index != nil {
		m.index = maps.Clone(obj.index)
	}
	m.set(key, val, -1)
	return Obj(m)
}
