package delivery

import (
	"strings"
	"testing"
	"time"
)

func TestMaskURL(t *testing.T) {
	cases := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"https://user:hunter2@hooks.example.com/x", nil, "https://user:****@hooks.example.com/x"},
		{"https://user@hooks.example.com/x", nil, "https://user@hooks.example.com/x"},
		{"https://hooks.example.com/services/T0/B0/abcDEF123", []string{"abcDEF123"}, "https://hooks.example.com/services/T0/B0/****"},
		{"https://h.example.com/in?api_key=a%2Fb%3Dc&x=1", []string{"a/b=c"}, "https://h.example.com/in?api_key=****&x=1"},
		{"https://h.example.com/p/a%20b", []string{"a b"}, "https://h.example.com/p/****"},
		{"https://h.example.com/?k=abcd&k2=abcdef", []string{"abcd", "abcdef"}, "https://h.example.com/?k=****&k2=****"},
		{"https://h.example.com/?k=x", []string{""}, "https://h.example.com/?k=x"},
		{"http://us er:pa ss@h/%zz", nil, "http://****@h/%zz"},
	}
	for _, tc := range cases {
		if got := MaskURL(tc.in, tc.secrets); got != tc.want {
			t.Errorf("MaskURL(%q, %q) = %q, want %q", tc.in, tc.secrets, got, tc.want)
		}
	}
}

func TestMaskSecretsLongestFirst(t *testing.T) {
	got := MaskSecrets("token=abc123456 short=abc", []string{"abc", "abc123456"})
	if got != "token=**** short=****" {
		t.Errorf("got %q", got)
	}
}

func FuzzMaskURL(f *testing.F) {
	f.Add("https://user:pw@h.example.com/a?token=s3cret#frag", "s3cret")
	f.Add("http://h/p%2Fq?x=a+b", "a b")
	f.Add("not a url s3cret", "s3cret")
	f.Fuzz(func(t *testing.T, u, secret string) {
		out := MaskURL(u, []string{secret})
		if secret != "" && !strings.Contains(secret, "*") && strings.Contains(out, secret) {
			t.Fatalf("MaskURL(%q, %q) = %q still contains the secret", u, secret, out)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 8, 23, 14, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                               0,
		"120":                            120 * time.Second,
		" 7 ":                            7 * time.Second,
		"0":                              0,
		"-5":                             0,
		"1.5":                            0,
		"soon":                           0,
		"99999999999999999999999":        maxRetryAfter,
		"Sun, 23 Aug 2026 14:02:00 GMT":  2 * time.Minute,
		"Sunday, 23-Aug-26 14:00:30 GMT": 30 * time.Second,
		"Sun Aug 23 15:00:00 2026":       time.Hour,
		"Sun, 23 Aug 2026 13:00:00 GMT":  0, // past
		"Sun, 23 Aug 2099 13:00:00 GMT":  maxRetryAfter,
	}
	for in, want := range cases {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
	// Sub-second remainders round up: never earlier than the date.
	if got := ParseRetryAfter("Sun, 23 Aug 2026 14:00:10 GMT", now.Add(500*time.Millisecond)); got != 10*time.Second {
		t.Errorf("rounding: %s, want 10s", got)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Sun, 23 Aug 2026 14:02:00 GMT", "", "-1", "1e9", "18446744073709551616"} {
		f.Add(s)
	}
	now := time.Date(2026, 8, 23, 14, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := ParseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %s, outside [0, %s]", v, d, maxRetryAfter)
		}
	})
}
