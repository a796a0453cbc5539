// Package ring is a fixed-capacity buffer that forgets its oldest items, so
// a live stream keeps memory flat however long it runs. Items are addressed
// by a sequence number that never repeats.
package ring

// Ring holds at most its capacity of items, oldest first.
type Ring[T any] struct {
	buf   []T
	start int    // index in buf of the oldest item
	n     int    // items held
	first uint64 // sequence number of the oldest item
}

// New returns an empty ring holding at most capacity items (at least 1).
func New[T any](capacity int) *Ring[T] {
	return &Ring[T]{buf: make([]T, max(capacity, 1))}
}

// Push appends v and returns its sequence number. When the ring was full,
// the oldest item is dropped and returned with evicted set.
func (r *Ring[T]) Push(v T) (seq uint64, old T, evicted bool) {
	if r.n == len(r.buf) {
		old = r.buf[r.start]
		r.buf[r.start] = v
		r.start = (r.start + 1) % len(r.buf)
		r.first++
		return r.first + uint64(r.n) - 1, old, true
	}
	r.buf[(r.start+r.n)%len(r.buf)] = v
	r.n++
	return r.first + uint64(r.n) - 1, old, false
}

// Len is the number of items held.
func (r *Ring[T]) Len() int { return r.n }

// Cap is the most items the ring holds.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// First is the sequence number of the oldest item held.
func (r *Ring[T]) First() uint64 { return r.first }

// Next is the sequence number the next Push will get.
func (r *Ring[T]) Next() uint64 { return r.first + uint64(r.n) }

// Get returns the item with sequence number seq, or nil when it was
// dropped or never pushed. The pointer is valid until the item is dropped.
func (r *Ring[T]) Get(seq uint64) *T {
	if seq < r.first || seq >= r.Next() {
		return nil
	}
	return &r.buf[(r.start+int(seq-r.first))%len(r.buf)]
}

// At returns the i-th oldest item (0 ≤ i < Len).
func (r *Ring[T]) At(i int) *T {
	if i < 0 || i >= r.n {
		return nil
	}
	return &r.buf[(r.start+i)%len(r.buf)]
}
