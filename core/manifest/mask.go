package manifest

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

const maskDots = "••••"

// Mask hides a secret for display. Long secrets (12 characters or more)
// keep their last two characters so an operator can tell two keys apart;
// shorter ones are hidden entirely, since two revealed characters of a
// short secret give away too much. An empty secret stays empty, so "not
// set" remains visible.
func Mask(secret string) string {
	if secret == "" {
		return ""
	}
	n := utf8.RuneCountInString(secret)
	if n < 12 {
		return "••••••"
	}
	cut := len(secret)
	for range 2 {
		_, size := utf8.DecodeLastRuneInString(secret[:cut])
		cut -= size
	}
	return maskDots + secret[cut:]
}

// SecretValues returns the values of the secret form variables in values
// (non-empty strings only).
func (m *Manifest) SecretValues(values map[string]jsonv.Value) []string {
	var out []string
	for i := range m.FormVariables {
		fv := &m.FormVariables[i]
		if !fv.IsSecret {
			continue
		}
		if v := values[fv.Key]; v.Kind() == jsonv.String && v.Text() != "" {
			out = append(out, v.Text())
		}
	}
	return out
}

// Masker replaces secrets in text shown to people.
type Masker struct {
	pairs []string // old, new pairs for strings.Replacer
}

// NewMasker returns a Masker for the given secrets. Besides each secret as
// is, it hides the forms a template may have turned it into: JSON-escaped,
// percent-encoded and HTML-escaped.
func NewMasker(secrets ...string) *Masker {
	type pair struct{ old, new string }
	var ps []pair
	seen := map[string]bool{}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		masked := Mask(s)
		for _, form := range []string{
			s,
			string(jsonv.AppendEscapedString(nil, s)),
			url.QueryEscape(s),
			strings.ReplaceAll(url.QueryEscape(s), "+", "%20"),
			url.PathEscape(s),
			htmlEscape(s),
		} {
			if form != "" && !seen[form] {
				seen[form] = true
				ps = append(ps, pair{form, masked})
			}
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	slices.SortStableFunc(ps, func(a, b pair) int { return cmp.Compare(len(b.old), len(a.old)) })
	m := &Masker{}
	for _, p := range ps {
		m.pairs = append(m.pairs, p.old, p.new)
	}
	return m
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&apos;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// Mask returns s with every occurrence of a secret masked.
func (m *Masker) Mask(s string) string {
	if m == nil || len(m.pairs) == 0 {
		return s
	}
	return strings.NewReplacer(m.pairs...).Replace(s)
}
