package ring

import "testing"

func TestRingKeepsNewestAndAddressesBySeq(t *testing.T) {
	r := New[int](3)
	for i := 0; i < 5; i++ {
		seq, old, ev := r.Push(i * 10)
		if seq != uint64(i) {
			t.Fatalf("push %d: seq %d", i, seq)
		}
		if wantEv := i >= 3; ev != wantEv {
			t.Fatalf("push %d: evicted=%v", i, ev)
		} else if ev && old != (i-3)*10 {
			t.Fatalf("push %d: evicted %d, want %d", i, old, (i-3)*10)
		}
	}
	if r.Len() != 3 || r.First() != 2 || r.Next() != 5 {
		t.Fatalf("len=%d first=%d next=%d", r.Len(), r.First(), r.Next())
	}
	for seq, want := range map[uint64]int{2: 20, 3: 30, 4: 40} {
		if got := r.Get(seq); got == nil || *got != want {
			t.Errorf("Get(%d) = %v, want %d", seq, got, want)
		}
	}
	for _, seq := range []uint64{0, 1, 5, 99} {
		if r.Get(seq) != nil {
			t.Errorf("Get(%d) should be gone", seq)
		}
	}
	if *r.At(0) != 20 || *r.At(2) != 40 || r.At(3) != nil || r.At(-1) != nil {
		t.Error("At does not index oldest first")
	}
}

func TestRingZeroCapacityHoldsOne(t *testing.T) {
	r := New[string](0)
	r.Push("a")
	r.Push("b")
	if r.Len() != 1 || *r.At(0) != "b" {
		t.Fatalf("got len %d", r.Len())
	}
}
