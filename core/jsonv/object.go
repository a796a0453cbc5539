package jsonv

import (
	"strconv"
	"sync"
)

// Member is one key/value pair of an object.
type Member struct {
	Key   string
	Value Value
	// KeyOffset is the byte offset of the key's opening quote in decoded
	// input, or -1 for members built in code.
	KeyOffset int32
}

// indexThreshold is the member count from which an object keeps a hash
// index; below it a linear scan over a few short keys is faster.
const indexThreshold = 24

// Members is the ordered member list of an object. Build one with Set; once
// wrapped in a Value it must not change, so that values can be shared.
type Members struct {
	list  []Member
	index map[string]int
	lazy  *lazyMembers // set by Lazy; never changed after
}

// lazyMembers is what a Lazy object needs to fill itself.
type lazyMembers struct {
	once  sync.Once
	known []Member
	fill  func(*Members)
}

// Lazy returns an object whose members fill sets, with Set, the first time
// one of them is needed: a template context's costly members (markdown
// rendered three ways) are then made only for templates that read them.
// Lookups of a key in known are answered from known without filling, so
// fill must set those members to the same values (in their place among
// the others). fill runs at most once; readers on other goroutines wait
// for it.
func Lazy(known []Member, fill func(m *Members)) Value {
	return objValue(&Members{lazy: &lazyMembers{known: known, fill: fill}}, -1)
}

// load fills a Lazy object's members if that has not happened yet, and
// returns m.
func (m *Members) load() *Members {
	if l := m.lazy; l != nil {
		l.once.Do(func() { l.fill(m) })
	}
	return m
}

// knownPtr is a pointer to a Lazy object's known member key, or nil.
func (m *Members) knownPtr(key string) *Value {
	if m.lazy == nil {
		return nil
	}
	for i := range m.lazy.known {
		if m.lazy.known[i].Key == key {
			return &m.lazy.known[i].Value
		}
	}
	return nil
}

// NewMembers returns an empty member list with room for n members.
func NewMembers(n int) *Members { return &Members{list: make([]Member, 0, n)} }

// Len returns the number of members.
func (m *Members) Len() int { return len(m.list) }

// Lookup returns the value stored under key.
func (m *Members) Lookup(key string) (Value, bool) {
	if m.index != nil {
		if i, ok := m.index[key]; ok {
			return m.list[i].Value, true
		}
		return Value{}, false
	}
	for i := range m.list {
		if m.list[i].Key == key {
			return m.list[i].Value, true
		}
	}
	return Value{}, false
}

// Set stores v under key with JavaScript's property order: an existing key
// keeps its place and takes the new value (as JSON.parse does for duplicate
// keys); a new array-index key ("0", "17") goes among the other index keys
// in ascending numeric order, ahead of all string keys; any other new key
// goes last.
func (m *Members) Set(key string, v Value) {
	m.set(key, v, -1)
}

func (m *Members) set(key string, v Value, keyOff int32) {
	if i, ok := m.find(key); ok {
		m.list[i].Value = v
		return
	}
	mem := Member{Key: key, Value: v, KeyOffset: keyOff}
	pos := len(m.list)
	if idx, ok := arrayIndex(key); ok {
		pos = 0
		for pos < len(m.list) {
			j, isIdx := arrayIndex(m.list[pos].Key)
			if !isIdx || j > idx {
				break
			}
			pos++
		}
	}
	if pos == len(m.list) {
		m.list = append(m.list, mem)
	} else {
		m.list = append(m.list, Member{})
		copy(m.list[pos+1:], m.list[pos:])
		m.list[pos] = mem
		if m.index != nil {
			for i := pos; i < len(m.list); i++ {
				m.index[m.list[i].Key] = i
			}
		}
	}
	if m.index != nil {
		m.index[key] = pos
	} else if len(m.list) >= indexThreshold {
		m.index = make(map[string]int, len(m.list)*2)
		for i := range m.list {
			m.index[m.list[i].Key] = i
		}
	}
}

func (m *Members) find(key string) (int, bool) {
	if m.index != nil {
		i, ok := m.index[key]
		return i, ok
	}
	for i := range m.list {
		if m.list[i].Key == key {
			return i, true
		}
	}
	return 0, false
}

// arrayIndex reports whether key is a canonical array index ("0", "42", not
// "007" or "-1"), which JavaScript orders before other property names.
func arrayIndex(key string) (uint32, bool) {
	if key == "" || len(key) > 10 || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(key, 10, 32)
	if err != nil || n == 1<<32-1 { // 2^32-1 is not an array index
		return 0, false
	}
	return uint32(n), true
}
