package ui

import (
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestWidthMatchesAnsi(t *testing.T) {
	// Every rune the fast path accepts must measure as ansi measures it.
	for r := rune(0x20); r <= 0x2FFF; r++ {
		if r == 0x7f || !(r < 0x80 || narrow(r)) {
			continue
		}
		s := string(r)
		if got, want := Width(s), ansi.StringWidth(s); got != want {
			t.Errorf("Width(%U) = %d, ansi says %d", r, got, want)
		}
	}
	for _, s := range []string{
		"", "plain", "› ✓ delivered ━━┃ ▁▂█ ⟳ ‖ ⊘ ◌ • …",
		"\x1b[38;5;12mblue\x1b[0m text", "\x1b]8;;https://x\x07link\x1b]8;;\x07",
		"日本語", "emoji ✅ wide", "e\u0301 combining", "flag 🇫🇷", "tab\there", "✓\ufe0f",
		"\x1b[", "\x1b", "soft\u00adhyphen",
	} {
		if got, want := Width(s), ansi.StringWidth(s); got != want {
			t.Errorf("Width(%q) = %d, ansi says %d", s, got, want)
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"abc", 5, "abc  "},
		{"abcdef", 4, "abc…"},
		{"✓ ok", 4, "✓ ok"},
		{"", 0, ""},
		{"日本語", 4, "日… "}, // a wide rune does not fit in the last cell
	}
	for _, tt := range tests {
		if got := Fit(tt.in, tt.width); got != tt.want || Width(got) != tt.width {
			t.Errorf("Fit(%q, %d) = %q (width %d), want %q", tt.in, tt.width, got, Width(got), tt.want)
		}
	}
	if got := FitLeft("42", 4); got != "  42" {
		t.Errorf("FitLeft = %q", got)
	}
}

func BenchmarkWidth(b *testing.B) {
	line := "\x1b[38;5;8m15:04:05\x1b[0m flag        \x1b[1;31m✗1 \x1b[0m Turned on flag new-checkout in production   alice@example.com    web/production"
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			Width(line)
		}
	})
	b.Run("ansi", func(b *testing.B) {
		for b.Loop() {
			ansi.StringWidth(line)
		}
	})
}
