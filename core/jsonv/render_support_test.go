package jsonv

import "testing"

func TestRenderSupport(t *testing.T) {
	v, err := DecodeString(`{"b":1,"a":{"x":[10,20]},"1":"one"}`)
	if err != nil {
		t.Fatal(err)
	}
	if p := v.GetPtr("a"); p == nil || p.GetPtr("x").IndexPtr(1).Float() != 20 {
		t.Fatalf("GetPtr/IndexPtr: %v", p)
	}
	if v.GetPtr("zz") != nil || v.GetPtr("a").GetPtr("x").IndexPtr(2) != nil || v.IndexPtr(0) != nil {
		t.Error("missing members must give nil")
	}
	w := v.With("0", Str("zero")).With("b", Num(2)).With("c", Boolean(true))
	if got := string(Marshal(w)); got != `{"0":"zero","1":"one","b":2,"a":{"x":[10,20]},"c":true}` {
		t.Errorf("With: %s", got)
	}
	if got := string(Marshal(v)); got != `{"1":"one","b":1,"a":{"x":[10,20]}}` {
		t.Errorf("With changed its receiver: %s", got)
	}
	// Large objects keep a working index.
	m := NewMembers(20)
	for i := 0; i < 20; i++ {
		m.Set(string(rune('a'+i)), Int(int64(i)))
	}
	big := Obj(m).With("zz", Int(99)).With("c", Int(-1))
	if big.Get("zz").Float() != 99 || big.Get("c").Float() != -1 || big.Get("t").Float() != 19 || big.Len() != 21 {
		t.Errorf("With on an indexed object: %s", Marshal(big))
	}
	if Obj(m).Get("c").Float() != 2 {
		t.Error("With changed the indexed receiver")
	}
	if s := Str("x"); s.With("k", NullValue()).Text() != "x" {
		t.Error("With on a string")
	}
}
