package delivery

import (
	"bytes"
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// Mask replaces a secret wherever it appears in text Send returns.
const Mask = "****"

// MaskURL returns u with a userinfo password and every occurrence of the
// given secrets (raw, query-escaped or path-escaped) replaced by Mask. A URL
// that does not parse is still masked as text, and anything between "://"
// and "@" is treated as credentials.
func MaskURL(u string, secrets []string) string {
	if p, err := url.Parse(u); err == nil {
		if p.User != nil {
			if _, has := p.User.Password(); has {
				// url escapes '*' in userinfo; put the mask in afterwards.
				const placeholder = "auditrelay-masked-password"
				p.User = url.UserPassword(p.User.Username(), placeholder)
				u = strings.Replace(p.String(), placeholder, Mask, 1)
			}
		}
	} else if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.LastIndex(rest, "@"); j >= 0 && !strings.ContainsAny(rest[:j], "/?#") {
			u = u[:i+3] + Mask + rest[j:]
		}
	}
	return MaskSecrets(u, secrets)
}

// MaskSecrets replaces every occurrence of each non-empty secret in s (raw,
// query-escaped and path-escaped) with Mask. Longer secrets are replaced
// first so one secret containing another is masked whole.
func MaskSecrets(s string, secrets []string) string {
	for _, v := range secretVariants(secrets) {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return s
}

func maskBytes(b []byte, secrets []string) []byte {
	for _, v := range secretVariants(secrets) {
		if bytes.Contains(b, []byte(v)) {
			b = bytes.ReplaceAll(b, []byte(v), []byte(Mask))
		}
	}
	return b
}

// secretVariants lists the forms a secret takes in URLs and text, longest
// first.
func secretVariants(secrets []string) []string {
	if len(secrets) == 0 {
		return nil
	}
	out := make([]string, 0, len(secrets)*3)
	for _, s := range secrets {
		if s == "" {
			continue
		}
		out = append(out, s)
		if q := url.QueryEscape(s); q != s {
			out = append(out, q)
		}
		if p := url.PathEscape(s); p != s {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return slices.Compact(out)
}
