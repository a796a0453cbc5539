package jsonv

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestDecodeRefusesInvalidUTF8(t *testing.T) {
	cases := []struct {
		name, in  string
		line, col int
		msg       string
	}{
		// Two ids that a decoder folding bad bytes to U+FFFD would make one.
		{"0xFE in a value", "{\"_id\":\"\xfeXYZ1\"}", 1, 9, "invalid UTF-8: byte 0xFE in a string"},
		{"0xFF in a value", "{\"_id\":\"\xffXYZ1\"}", 1, 9, "invalid UTF-8: byte 0xFF in a string"},
		{"in a member name", "{\"a\xc3\":1}", 1, 4, "invalid UTF-8: byte 0xC3"},
		{"after an escape", "[\"\\n\xe2\x82\"]", 1, 5, "invalid UTF-8: byte 0xE2"},
		{"surrogate as raw bytes", "[\"\xed\xa0\x80\"]", 1, 3, "invalid UTF-8: byte 0xED"},
		{"overlong encoding", "[\"\xc0\xaf\"]", 1, 3, "invalid UTF-8: byte 0xC0"},
		{"outside a string", "[1,\xfe]", 1, 4, "found byte 0xFE (not UTF-8)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for name, err := range map[string]error{"Decode": decodeErr(c.in), "Check": Check([]byte(c.in))} {
				se, ok := err.(*SyntaxError)
				if !ok {
					t.Fatalf("%s: err = %v (%T), want *SyntaxError", name, err, err)
				}
				if se.Line != c.line || se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
					t.Errorf("%s: got %d:%d %q, want %d:%d containing %q", name, se.Line, se.Col, se.Msg, c.line, c.col, c.msg)
				}
			}
		})
	}
	// Valid UTF-8 and escapes, lone surrogates included, still decode.
	v, err := DecodeString(`{"é😀":"\u00e9\ud800x"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Get("é😀").Text(); got != "é\xed\xa0\x80x" {
		t.Errorf("decoded %q", got)
	}
}

func decodeErr(s string) error {
	_, err := DecodeString(s)
	return err
}

func TestCheckAgreesWithDecode(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `{"a":[1,{"b":"c\n"}],"d":null}`, ` [1, 2.5e3, -0, "x"] `, `"\ud800"`,
		`{"a":1,}`, `[1 2]`, `{"a" 1}`, `[`, ``, `1e999`, `{"a":1} x`, strings.Repeat("[", 1001) + strings.Repeat("]", 1001),
	} {
		_, derr := DecodeString(in)
		if cerr := Check([]byte(in)); fmt.Sprint(cerr) != fmt.Sprint(derr) {
			t.Errorf("Check(%q) = %v, Decode: %v", in, cerr, derr)
		}
	}
}

func TestErrorsQuoteLittleOfTheInput(t *testing.T) {
	long := strings.Repeat("k", 1<<20)
	for _, in := range []string{`{"` + long + `" 1}`, `{"` + long + `":1 2}`, `[1` + strings.Repeat("0", 1<<20) + `e999]`} {
		err := Check([]byte(in))
		if err == nil || len(err.Error()) > 300 {
			t.Errorf("error of %d bytes for a %d-byte input: %.200v", len(fmt.Sprint(err)), len(in), err)
		}
	}
}

// TestDecodeOrdersManyIndexKeys decodes objects whose array-index keys
// arrive in descending order, the input that made ordering quadratic.
func TestDecodeOrdersManyIndexKeys(t *testing.T) {
	for _, n := range []int{5, 30, 100000} {
		var b strings.Builder
		b.WriteString(`{"z":true`)
		for i := n; i > 0; i-- {
			fmt.Fprintf(&b, `,"%d":%d`, i, i)
		}
		b.WriteString(`,"1":-1,"a":true,"z":false}`) // duplicates: first place, last value
		v, err := DecodeString(b.String())
		if err != nil {
			t.Fatal(err)
		}
		ms := v.Members()
		if len(ms) != n+2 {
			t.Fatalf("n=%d: %d members, want %d", n, len(ms), n+2)
		}
		for i := 0; i < n; i++ {
			if ms[i].Key != strconv.Itoa(i+1) {
				t.Fatalf("n=%d: member %d is %q, want %d", n, i, ms[i].Key, i+1)
			}
		}
		if ms[n].Key != "z" || ms[n+1].Key != "a" || v.Get("z").Bool() || v.Get("1").Float() != -1 || v.Get(strconv.Itoa(n)).Float() != float64(n) {
			t.Errorf("n=%d: tail %q %q, z=%v, 1=%v", n, ms[n].Key, ms[n+1].Key, v.Get("z"), v.Get("1").Float())
		}
	}
}

// TestDecodeMemoryIsProportional decodes the inputs that cost the most per
// byte and checks the documented bound: what Decode allocates (the value
// and what it dropped on the way) stays under 40 bytes per input byte (it
// was 140 to 190 before values shrank to 24 bytes and pending values
// stopped being copied as they grew), and Check allocates (almost)
// nothing.
func TestDecodeMemoryIsProportional(t *testing.T) {
	const size = 256 << 10
	fill := func(open, elem, sep, close string) string {
		n := (size - len(open) - len(close)) / (len(elem) + len(sep))
		return open + strings.Repeat(elem+sep, n-1) + elem + close
	}
	var keys strings.Builder
	keys.WriteString("{")
	for i := 0; keys.Len() < size; i++ {
		fmt.Fprintf(&keys, `"%d":0,`, 1<<30-i)
	}
	keys.WriteString(`"x":0}`)
	inputs := map[string]string{
		"numbers":          fill("[", "1", ",", "]"),
		"empty arrays":     fill("[", "[]", ",", "]"),
		"empty objects":    fill("[", "{}", ",", "]"),
		"small objects":    fill("[", `{"":0}`, ",", "]"),
		"nested":           fill("[", "[[[[1]]]]", ",", "]"),
		"descending index": keys.String(),
		"escaped strings":  fill("[", `"\n"`, ",", "]"),
	}
	for name, in := range inputs {
		data := []byte(in)
		got := allocated(func() {
			if _, err := Decode(data); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		})
		if perByte := float64(got) / float64(len(data)); perByte > 40 {
			t.Errorf("%s: Decode allocated %d bytes for %d (%.1f per byte), want at most 40 per byte", name, got, len(data), perByte)
		}
		// Check keeps one buffer, for strings with escapes.
		if n := testing.AllocsPerRun(10, func() { _ = Check(data) }); n > 1 {
			t.Errorf("%s: Check made %v allocations, want at most 1", name, n)
		}
	}
}

// allocated returns the bytes allocated while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestSyntaxErrorPath(t *testing.T) {
	for in, want := range map[string]string{
		"{\"a\":{\"b\":[1,{\"c\":\"\xfe\"}]}}": "a.b[1].c",
		"{\"_id\":\"\xffXYZ1\"}":               "_id",
		"{\"a\":{\"k\xfe\":1}}":                "a",
		`[1,2,]`:                               "",
		`{"a":[` + strings.Repeat(`{"long-key-`+strings.Repeat("x", 100)+`":[`, 50) + `x`: "…",
	} {
		err := Check([]byte(in))
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Fatalf("%.40q: %v", in, err)
		}
		if want == "…" {
			if !strings.HasPrefix(se.Path, "…") || len(se.Path) > maxPath+len("…") {
				t.Errorf("long path %q", se.Path)
			}
			continue
		}
		if se.Path != want {
			t.Errorf("%.40q: path %q, want %q", in, se.Path, want)
		}
	}
}
