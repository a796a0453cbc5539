package store

import "testing"

func TestEncodeHeaders(t *testing.T) {
	for _, c := range []struct {
		h    []Header
		want string
	}{
		{nil, "[]"},
		{[]Header{}, "[]"},
		{[]Header{{Name: "Retry-After", Value: "120"}}, `[{"name":"Retry-After","value":"120"}]`},
		{[]Header{{Name: "X", Value: "a \"quoted\" <value>"}}, `[{"name":"X","value":"a \"quoted\" \u003cvalue\u003e"}]`},
	} {
		if got, err := EncodeHeaders(c.h); err != nil || got != c.want {
			t.Errorf("EncodeHeaders(%v) = %q, %v; want %q", c.h, got, err, c.want)
		}
	}
}

func TestListLimit(t *testing.T) {
	for n, want := range map[int]int{-1: DefaultListLimit, 0: DefaultListLimit, 1: 1, 500: 500} {
		if got := ListLimit(n); got != want {
			t.Errorf("ListLimit(%d) = %d, want %d", n, got, want)
		}
	}
}
