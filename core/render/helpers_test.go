package render

import (
	"math"
	"testing"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Expected values in this file come from Node 20 (encodeURI,
// encodeURIComponent, Date.prototype.toISOString).

func TestURIEncodingASCII(t *testing.T) {
	var all []byte
	for c := 1; c < 128; c++ {
		all = append(all, byte(c))
	}
	cases := []struct {
		component bool
		want      string
	}{
		{false, "%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B%1C%1D%1E%1F%20!%22#$%25&'()*+,-./0123456789:;%3C=%3E?@ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~%7F"},
		{true, "%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B%1C%1D%1E%1F%20!%22%23%24%25%26'()*%2B%2C-.%2F0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~%7F"},
	}
	for _, c := range cases {
		got, ok := appendURIEncoded(nil, string(all), c.component)
		if !ok || string(got) != c.want {
			t.Errorf("component=%v:\n got %s\nwant %s", c.component, got, c.want)
		}
	}
}

func TestURIEncodingUnicode(t *testing.T) {
	got, ok := appendURIEncoded(nil, "\u0080\u07ff\u0800\uffff\U00010000\U0010ffff", true)
	if want := "%C2%80%DF%BF%E0%A0%80%EF%BF%BF%F0%90%80%80%F4%8F%BF%BF"; !ok || string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// A lone surrogate (decoded from "\ud800") is a URIError.
	v, err := jsonv.DecodeString(`"a\udc00b"`)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := appendURIEncoded(nil, v.Text(), false); ok {
		t.Error("lone surrogate encoded")
	}
	// A surrogate pair is one character.
	v, err = jsonv.DecodeString(`"\ud83d\ude00"`)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := appendURIEncoded(nil, v.Text(), true); !ok || string(got) != "%F0%9F%98%80" {
		t.Errorf("pair: %s %v", got, ok)
	}
}

func TestISOString(t *testing.T) {
	for ms, want := range map[float64]string{
		0:               "1970-01-01T00:00:00.000Z",
		-1:              "1969-12-31T23:59:59.999Z",
		1580777778959:   "2020-02-04T00:56:18.959Z",
		8.64e15:         "+275760-09-13T00:00:00.000Z",
		-8.64e15:        "-271821-04-20T00:00:00.000Z",
		253402300800000: "+010000-01-01T00:00:00.000Z",
	} {
		if got := isoString(ms); got != want {
			t.Errorf("isoString(%v) = %s, want %s", ms, got, want)
		}
	}
}

func TestFormatWithOffsetEdges(t *testing.T) {
	cases := []struct {
		ms, off, format jsonv.Value
		want            string
		err             string
	}{
		{jsonv.Num(8.64e15), jsonv.Num(1), jsonv.Str("milliseconds"), "NaN", ""},         // past TimeClip
		{jsonv.Num(1.9), jsonv.Num(0), jsonv.Str("milliseconds"), "1", ""},               // truncated
		{jsonv.NullValue(), jsonv.Num(1), jsonv.Str("milliseconds"), "1000", ""},         // null is 0
		{jsonv.Boolean(true), jsonv.Str("2"), jsonv.Str("milliseconds"), "2001", ""},     // offset string
		{jsonv.Num(0), jsonv.Str("x"), jsonv.Str("seconds"), "NaN", ""},                  // NaN offset
		{jsonv.Num(-2500), jsonv.Num(0), jsonv.Str("seconds"), "-2", ""},                 // Math.round(-2.5)
		{jsonv.Num(0), jsonv.Num(0), jsonv.Num(5), "0", ""},                              // non-string format
		{jsonv.Value{}, jsonv.Num(0), jsonv.Str("simple"), "", "Invalid date"},           // undefined timestamp
		{jsonv.Num(0), jsonv.Num(43200), jsonv.Str("simple"), "1970-01-01 12:00:00", ""}, // noon is 12
		{jsonv.Num(-62198755200000), jsonv.Num(0), jsonv.Str("simple"), "00-1-01-01 12:00:00", ""},
	}
	for _, c := range cases {
		v, msg := formatWithOffset(c.ms, c.off, c.format, false)
		if c.err != "" {
			if msg == "" || msg != "formatWithOffset: "+c.err {
				t.Errorf("%v %v %v: error %q, want %q", c.ms, c.off, c.format, msg, c.err)
			}
			continue
		}
		if got := jsString(v); msg != "" || got != c.want {
			t.Errorf("%v %v %v: got %q (%s), want %q", jsString(c.ms), jsString(c.off), jsString(c.format), got, msg, c.want)
		}
	}
}

func TestJSNumbers(t *testing.T) {
	for s, want := range map[string]float64{
		"": 0, "  12  ": 12, "0x1F": 31, "0b101": 5, "0o17": 15, "1e3": 1000, ".5": 0.5, "5.": 5,
		"-Infinity": math.Inf(-1), "+Infinity": math.Inf(1), "\u00a0\n7\t": 7,
	} {
		if got := stringToNumber(s); got != want {
			t.Errorf("Number(%q) = %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"abc", "1_000", "inf", "NaN", "0x", "1e", "--1", "0xG"} {
		if got := stringToNumber(s); !math.IsNaN(got) {
			t.Errorf("Number(%q) = %v, want NaN", s, got)
		}
	}
}

func TestUTF16(t *testing.T) {
	s := "aé😀b"
	if n := utf16Len(s); n != 5 {
		t.Errorf("length %d", n)
	}
	want := []string{"a", "é", "\xed\xa0\xbd", "\xed\xb8\x80", "b"}
	for i, w := range want {
		if got := utf16At(s, i); got.Text() != w {
			t.Errorf("[%d] = %q, want %q", i, got.Text(), w)
		}
	}
	if !utf16At(s, 5).IsUndefined() {
		t.Error("index past the end")
	}
}
