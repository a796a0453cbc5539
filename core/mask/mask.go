// Package mask is auditrelay's one policy for hiding secrets in what it
// shows and records: the console (local and over SSH), the CLI (text and
// JSON), the admin API, logs and the attempts kept in the store. Nothing
// else in the tree masks; everything that shows a value that may carry a
// secret passes it through here, and every secret is shown as Masked.
//
// What is masked:
//
//   - Known secret values (isSecret form variables, HMAC keys, OAuth and
//     Standard Webhooks secrets), given to New, in every form a template or
//     URL may have turned them into: as is, JSON-escaped, percent-encoded
//     (query and path) and HTML-escaped.
//   - Header values whose name says they carry a credential (Authorization,
//     Proxy-Authorization, Cookie, Set-Cookie, X-API-Key, DD-API-KEY,
//     Api-Key, *token*, *secret*, *signature*, *password*, *-key, *-auth),
//     whatever they hold. Authorization headers keep their scheme
//     ("Bearer ••••••••") so an operator can see which kind was sent.
//   - In URLs: the userinfo (user:password@), query values whose name says
//     they carry a credential (token, api_key, sig, ...), and query values
//     and path segments that are a known secret, however short.
//
// Whole values versus text: a value that is itself a secret (a form value,
// a header or query value, a path segment) is masked whole whatever its
// length. Inside free text (bodies, error messages) a known secret of at
// least MinInText characters is masked wherever it occurs; a shorter one
// only where it stands as a word of its own, not inside a longer word, so
// that a one-letter secret "q" leaves "invalid request" alone.
package mask

import (
	"bytes"
	"cmp"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Masked is how every secret is shown. It has a fixed length so it tells
// nothing about the secret's.
const Masked = "••••••••"

// MinInText is the length (in characters) from which a known secret is
// masked wherever it occurs inside text; shorter ones are masked only as a
// whole word there.
const MinInText = 8

// Value is how a secret value is shown on its own: Masked, or "" when it
// is empty, so that "not set" stays visible.
func Value(secret string) string {
	if secret == "" {
		return ""
	}
	return Masked
}

// Masker masks the known secrets of one subscription (or none) following
// the package's policy. It is immutable and safe for concurrent use; the
// nil *Masker knows no secret and still masks by header and parameter
// name and URL userinfo.
type Masker struct {
	forms []form // every form of every secret, longest first
}

// form is one spelling of a secret.
type form struct {
	s     string
	b     []byte // s, for Bytes
	short bool   // fewer than MinInText characters: masked in text only as a word
	// wordStart/wordEnd: the form begins/ends with a word character, so a
	// word character next to it means it is part of a longer word.
	wordStart, wordEnd bool
}

// New returns a Masker for the given secrets (empty ones are ignored).
func New(secrets ...string) *Masker {
	m := &Masker{}
	seen := map[string]bool{}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, f := range []string{
			s,
			string(jsonv.AppendEscapedString(nil, s)),
			url.QueryEscape(s),
			strings.ReplaceAll(url.QueryEscape(s), "+", "%20"),
			url.PathEscape(s),
			htmlEscaper.Replace(s),
		} {
			if f == "" || seen[f] {
				continue
			}
			seen[f] = true
			first, _ := utf8.DecodeRuneInString(f)
			last, _ := utf8.DecodeLastRuneInString(f)
			m.forms = append(m.forms, form{
				s:         f,
				b:         []byte(f),
				short:     utf8.RuneCountInString(f) < MinInText,
				wordStart: isWord(first),
				wordEnd:   isWord(last),
			})
		}
	}
	// Longest first, so a secret that contains another is masked whole.
	slices.SortStableFunc(m.forms, func(a, b form) int { return cmp.Compare(len(b.s), len(a.s)) })
	return m
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "'", "&apos;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// Text masks the known secrets in free text (see the package comment for
// how short secrets are treated).
func (m *Masker) Text(s string) string {
	if m == nil {
		return s
	}
	for _, f := range m.forms {
		if strings.Contains(s, f.s) {
			s = f.replace(s)
		}
	}
	return s
}

// Bytes is Text for a byte slice; b is returned as is when it holds no
// secret.
func (m *Masker) Bytes(b []byte) []byte {
	if m == nil {
		return b
	}
	for _, f := range m.forms {
		if bytes.Contains(b, f.b) {
			return []byte(m.Text(string(b)))
		}
	}
	return b
}

// replace masks the occurrences of f in s that count (all of them for a
// long form, whole words for a short one).
func (f form) replace(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is written
	for from := 0; from < len(s); {
		i := strings.Index(s[from:], f.s)
		if i < 0 {
			break
		}
		start, end := from+i, from+i+len(f.s)
		if f.short && !f.wordAt(s, start, end) {
			_, size := utf8.DecodeRuneInString(s[start:])
			from = start + size
			continue
		}
		b.WriteString(s[done:start])
		b.WriteString(Masked)
		done, from = end, end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// wordAt reports whether s[start:end] is not part of a longer word.
func (f form) wordAt(s string, start, end int) bool {
	if f.wordStart && start > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:start]); isWord(r) {
			return false
		}
	}
	if f.wordEnd && end < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[end:]); isWord(r) {
			return false
		}
	}
	return true
}

// whole reports whether v is, in one of its forms, a known secret.
func (m *Masker) whole(v string) bool {
	if m == nil || v == "" {
		return false
	}
	for _, f := range m.forms {
		if f.s == v {
			return true
		}
	}
	return false
}

// Header returns how the value of header name is shown. derived says the
// value was rendered from a secret (hook.Header.Secret): when none of the
// known secrets can be found in it any more (a template transformed it),
// it is masked whole. Location headers are masked as URLs.
func (m *Masker) Header(name, value string, derived bool) string {
	if value == "" {
		return ""
	}
	switch {
	case strings.EqualFold(name, "Location") || strings.EqualFold(name, "Content-Location"):
		return m.URL(value, derived)
	case strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization"):
		if scheme, rest, ok := strings.Cut(value, " "); ok && rest != "" && isScheme(scheme) {
			return scheme + " " + Masked
		}
		return Masked
	case credentialName(name):
		return Masked
	}
	out := m.Text(value)
	if derived && out == value {
		return Masked
	}
	return out
}

// isScheme reports whether s looks like an authorization scheme (Bearer,
// Basic, Token, Splunk, GenieKey, ...): letters only.
func isScheme(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// credentialName reports whether a header or query parameter name says
// its value is a credential. It does not allocate: it runs for every
// response header kept.
func credentialName(name string) bool {
	for _, w := range credentialWords {
		if containsFold(name, w) {
			return true
		}
	}
	for _, w := range credentialNames {
		if strings.EqualFold(name, w) {
			return true
		}
	}
	if strings.EqualFold(name, "idempotency-key") {
		return false
	}
	for _, w := range []string{"-key", "_key", "-auth"} {
		if len(name) >= len(w) && strings.EqualFold(name[len(name)-len(w):], w) {
			return true
		}
	}
	return false
}

var (
	// credentialWords anywhere in a name make it a credential's.
	credentialWords = []string{"authorization", "cookie", "token", "secret", "signature", "password", "passwd", "api-key", "apikey", "api_key", "private-key", "access-key"}
	// credentialNames are credentials' names on their own (query
	// parameters mostly: ?key=, ?sig=, Azure Functions' ?code=).
	credentialNames = []string{"key", "sig", "auth", "pass", "pwd", "code"}
)

// containsFold is strings.Contains ignoring ASCII case; sub is lower case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// URL returns how URL u is shown: userinfo masked, credential query values
// and known secrets masked (see the package comment). derived says the URL
// was rendered from a secret (hook.Request.URLSecret): when nothing of it
// could be masked (the whole URL may be the secret, transformed), it is
// masked whole. A URL that does not parse is masked as text, anything
// between "://" and the last "@" before the path counting as userinfo.
func (m *Masker) URL(u string, derived bool) string {
	if u == "" {
		return ""
	}
	if m.whole(u) {
		return Masked
	}
	out := u
	if p, err := url.Parse(u); err == nil {
		if q := maskQuery(p.RawQuery, m); p.User != nil || q != p.RawQuery {
			p.RawQuery = q
			out = rebuild(p)
		}
	} else if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.LastIndex(rest, "@"); j >= 0 && !strings.ContainsAny(rest[:j], "/?#") {
			out = u[:i+3] + Masked + rest[j:]
		}
	}
	out = m.Text(out)
	if derived && out == u {
		return Masked
	}
	return out
}

// rebuild writes p back with its userinfo masked and its query as given
// (url.URL.String would escape the mask).
func rebuild(p *url.URL) string {
	var b strings.Builder
	if p.Scheme != "" {
		b.WriteString(p.Scheme + ":")
	}
	if p.Opaque != "" {
		b.WriteString(p.Opaque)
	} else {
		if p.Host != "" || p.User != nil || strings.HasPrefix(p.Path, "//") {
			b.WriteString("//")
		}
		if p.User != nil {
			if _, has := p.User.Password(); has {
				b.WriteString(p.User.Username() + ":" + Masked + "@")
			} else {
				b.WriteString(Masked + "@")
			}
		}
		b.WriteString(p.Host)
		b.WriteString(p.EscapedPath())
	}
	if p.ForceQuery || p.RawQuery != "" {
		b.WriteString("?")
		b.WriteString(p.RawQuery)
	}
	if p.Fragment != "" {
		b.WriteString("#")
		b.WriteString(p.EscapedFragment())
	}
	return b.String()
}

// maskQuery masks the values of credential parameters and those that are
// a known secret, keeping the rest of q as written.
func maskQuery(q string, m *Masker) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, kv := range parts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			val = v
		}
		if credentialName(name) || m.whole(v) || m.whole(val) {
			parts[i] = k + "=" + Masked
		}
	}
	return strings.Join(parts, "&")
}
