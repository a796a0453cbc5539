package jsonv

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendNumberMatchesJavaScript(t *testing.T) {
	// Expected strings are what Node 20's Number.prototype.toString printed.
	cases := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1, "1"}, {-1, "-1"}, {0.1, "0.1"}, {0.5, "0.5"}, {1.5, "1.5"},
		{123.456, "123.456"}, {1e21, "1e+21"}, {1e-7, "1e-7"}, {1.5e-7, "1.5e-7"},
		{123e-20, "1.23e-18"}, {9007199254740992, "9007199254740992"},
		{1152921504606846976, "1152921504606847000"}, {9007199254740994, "9007199254740994"},
		{1e20, "100000000000000000000"}, {0.000001, "0.000001"}, {0.0000012345, "0.0000012345"},
		{1.7976931348623157e308, "1.7976931348623157e+308"}, {5e-324, "5e-324"},
		{-1.25e-10, "-1.25e-10"}, {1580777685229, "1580777685229"}, {3.14159, "3.14159"},
		{100, "100"}, {1e100, "1e+100"}, {12345678901234567890123, "1.2345678901234568e+22"},
	}
	for _, c := range cases {
		if got := string(AppendNumber(nil, c.in)); got != c.want {
			t.Errorf("AppendNumber(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDecodeKeepsJavaScriptKeyOrder(t *testing.T) {
	v, err := DecodeString(`{"z":1,"a":2,"10":3,"m":4,"2":5,"a":6,"007":7}`)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range v.Members() {
		keys = append(keys, m.Key)
	}
	// Index keys ascending first, then insertion order; the duplicate "a"
	// keeps its first place and takes the last value, as JSON.parse does.
	if got, want := strings.Join(keys, ","), "2,10,z,a,m,007"; got != want {
		t.Errorf("key order = %s, want %s", got, want)
	}
	if got := v.Get("a").Float(); got != 6 {
		t.Errorf(`v.a = %v, want 6`, got)
	}
}

func TestDecodeLargeObjectUsesIndex(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 40; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":` + string(rune('0'+i%10)))
	}
	b.WriteString(`,"kaa":9}`) // duplicate of the first key
	v, err := DecodeString(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != 40 {
		t.Fatalf("len = %d, want 40", v.Len())
	}
	if got := v.Get("kaa").Float(); got != 9 {
		t.Errorf("kaa = %v, want 9 (last duplicate wins)", got)
	}
	if got := v.Members()[0].Key; got != "kaa" {
		t.Errorf("first key = %q, want kaa (a duplicate keeps its first place)", got)
	}
	if v.Get("kzz").Kind() != Undefined {
		t.Error("missing key should be undefined")
	}
}

func TestDecodeSyntaxErrorsPinpoint(t *testing.T) {
	cases := []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"missing comma in array", "{\n\"actions\": [\n\"a\"\n\"b\"\n]}", 4, 1, "expected ',' or ']' after array element"},
		{"trailing comma in array", "[\n1,\n]", 3, 1, "trailing comma before ']'"},
		{"trailing comma in object", "{\"a\":1,\n}", 2, 1, "trailing comma before '}'"},
		{"missing comma in object", "{\"a\":1 \"b\":2}", 1, 8, `expected ',' or '}' after object member "a"`},
		{"missing colon", `{"a" 1}`, 1, 6, `expected ':' after member name "a"`},
		{"unterminated string", `["abc`, 1, 2, "unterminated string"},
		{"bad literal", `[tru]`, 1, 2, `invalid literal: expected "true"`},
		{"leading zero", `[01]`, 1, 3, "leading zero"},
		{"trailing data", `{} {}`, 1, 4, "after the JSON value"},
		{"empty", ``, 1, 1, "found end of input"},
		{"control char", "[\"a\tb\"]", 1, 4, "invalid control character"},
		{"bad escape", `["\x"]`, 1, 3, `invalid escape sequence \x`},
		{"columns count characters", "[\"é\" 1]", 1, 6, "expected ',' or ']'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeString(c.in)
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("err = %v (%T), want *SyntaxError", err, err)
			}
			if se.Line != c.line || se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
				t.Errorf("got %d:%d %q, want %d:%d containing %q", se.Line, se.Col, se.Msg, c.line, c.col, c.msg)
			}
		})
	}
}

func TestEscapeMatchesJSONStringify(t *testing.T) {
	// Expected values are JSON.stringify(s).slice(1,-1) from Node 20.
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"line1\nline2 \"q\" \\ \t \x01", `line1\nline2 \"q\" \\ \t \u0001`},
		{"<a href='x'>&</a> / \u2028\u2029 é 😀", "<a href='x'>&</a> / \u2028\u2029 é 😀"},
		{"\b\f\r\x1f\x7f", `\b\f\r\u001f` + "\x7f"},
	}
	for _, c := range cases {
		if got := string(AppendEscapedString(nil, c.in)); got != c.want {
			t.Errorf("escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// A lone surrogate survives decoding and escapes as JavaScript does.
	v, err := DecodeString(`"a\ud800b\udfffc\ud83d\ude00"`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(AppendEscapedString(nil, v.Text())), `a\ud800b\udfffc😀`; got != want {
		t.Errorf("lone surrogates = %q, want %q", got, want)
	}
}

func TestEscapeStringsSharesUnchangedSubtrees(t *testing.T) {
	v, err := DecodeString(`{"a":{"x":"plain","y":[1,true,null]},"b":"q\"uote","c":["ok","t\tab"]}`)
	if err != nil {
		t.Fatal(err)
	}
	e := EscapeStrings(v)
	if got, want := string(Marshal(e)), `{"a":{"x":"plain","y":[1,true,null]},"b":"q\\\"uote","c":["ok","t\\tab"]}`; got != want {
		t.Errorf("escaped = %s\nwant      %s", got, want)
	}
	if !StrictEqual(e.Get("a"), v.Get("a")) {
		t.Error("unchanged subtree was copied")
	}
	if v.Get("b").Text() != `q"uote` {
		t.Error("EscapeStrings modified its input")
	}
}

func TestJSStringAndTruthiness(t *testing.T) {
	v, err := DecodeString(`{"arr":["ops",1,null,["x","y"],{}],"obj":{},"empty":[],"zero":0,"s":""}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(AppendJSString(nil, v.Get("arr"))), "ops,1,,x,y,[object Object]"; got != want {
		t.Errorf("array string = %q, want %q", got, want)
	}
	truthy := map[string]bool{"arr": true, "obj": true, "empty": false, "zero": false, "s": false, "missing": false}
	for k, want := range truthy {
		if got := v.Get(k).Truthy(); got != want {
			t.Errorf("%s truthy = %v, want %v", k, got, want)
		}
	}
	if ToJSString(Value{}) != "undefined" || ToJSString(NullValue()) != "null" {
		t.Error("ToJSString of nullish")
	}
}

func TestMarshalMatchesEncodingJSONStructure(t *testing.T) {
	in := `{"_id":"5e38","n":1580777685229,"f":0.25,"t":true,"nil":null,"nested":{"arr":[1,"two",{"three":3}],"e":{}},"html":"<b>&</b>"}`
	v, err := DecodeString(in)
	if err != nil {
		t.Fatal(err)
	}
	out := Marshal(v)
	if string(out) != in {
		t.Errorf("round trip changed the document:\n got %s\nwant %s", out, in)
	}
	var a, b any
	if err := json.Unmarshal(MarshalIndent(v, "  "), &a); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(in), &b)
	if !equalAny(a, b) {
		t.Errorf("indented output differs as a JSON value")
	}
}

func equalAny(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,2,{"b":null}],"c":"\u00e9\n"}`, `"\ud800"`, `-0.5e10`, `{"1":1,"0":0}`, `[1,]`, `{"a" 1}`,
		"[\"\xfeXYZ1\"]", "{\"\xff\":1}", `{"b":1,"2":2,"1":1,"b":3,"10":0}`, `1e999`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := DecodeString(s)
		// Check is Decode without the values: the same verdict, the same
		// error.
		if cerr := Check([]byte(s)); fmt.Sprint(cerr) != fmt.Sprint(err) {
			t.Fatalf("Check(%q) = %v, Decode: %v", s, cerr, err)
		}
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("error %T is not *SyntaxError", err)
			}
			if se.Line < 1 || se.Col < 1 || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("bad position %+v for %q", se, s)
			}
			return
		}
		// Valid per us implies valid per encoding/json, and what we write
		// back decodes to the same document.
		if !json.Valid([]byte(s)) {
			t.Fatalf("accepted invalid JSON %q", s)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("accepted text that is not UTF-8: %q", s)
		}
		out := Marshal(v)
		v2, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decode of %q: %v", out, err)
		}
		if string(Marshal(v2)) != string(out) {
			t.Fatalf("not stable: %s vs %s", out, Marshal(v2))
		}
		_ = EscapeStrings(v)
		_ = AppendJSString(nil, v)
	})
}
