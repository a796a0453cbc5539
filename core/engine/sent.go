package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/auditrelay/auditrelay/core/delivery"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/mask"
	"github.com/auditrelay/auditrelay/core/store"
)

// varsHash names a version of a subscription's form values: the hex
// SHA-256 over each key with its value, in key order, and the OAuth base
// URI and token. It holds no value: a changed secret shows as a new
// version without telling what it is.
func varsHash(values map[string]jsonv.Value, oauth *hook.OAuth) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	put := func(s string) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	put("auditrelay-vars-v1")
	for _, k := range keys {
		put(k)
		put(string(jsonv.Marshal(values[k])))
	}
	if oauth != nil {
		put("oauth")
		put(oauth.BaseURI)
		put(oauth.AccessToken)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sentRequest is what an attempt stores of the request it sent: the
// rendered headers then those the client added, values masked (a header
// rendered from a secret masked whole), and the body masked.
func (s *subscription) sentRequest(req *hook.Request, added []delivery.Header) *store.SentRequest {
	m := s.masker
	hs := make([]store.Header, 0, len(req.Headers)+len(added))
	for _, h := range req.Headers {
		hs = append(hs, store.Header{Name: h.Name, Value: m.Header(h.Name, h.Value, h.Secret)})
	}
	for _, h := range added {
		hs = append(hs, store.Header{Name: h.Name, Value: m.Header(h.Name, h.Value, false)})
	}
	method := req.Method
	if method == "" {
		method = "POST"
	}
	return store.NewSentRequest(method, hs, m.Bytes(req.Body), s.varsHash)
}

// sentView shows a stored request. What was stored is masked with the
// secrets of its day; masking again applies today's.
func sentView(a store.Attempt, m *mask.Masker) *SentRequest {
	r := a.Request
	if r == nil {
		return nil
	}
	v := &SentRequest{
		At:           a.StartedAt,
		Method:       r.Method,
		URL:          m.URL(a.URL, false),
		Body:         string(m.Bytes(r.Body)),
		BodySize:     r.BodySize,
		BodyDigest:   r.BodyDigest,
		BodyError:    r.BodyError,
		Template:     a.Template,
		TemplateHash: a.TemplateHash,
		VarsHash:     r.VarsHash,
	}
	_, v.BodyIsJSON = prettyJSON(v.Body)
	for _, h := range r.Headers {
		v.Headers = append(v.Headers, Header{Name: h.Name, Value: m.Header(h.Name, h.Value, false)})
	}
	return v
}

// perAttempt are the headers that differ from one attempt to the next by
// design; a diff of what was sent against what would be sent now leaves
// them out.
var perAttempt = []string{
	delivery.HeaderDeliveryID, delivery.HeaderAttempt,
	delivery.HeaderWebhookID, delivery.HeaderWebhookTS, delivery.HeaderWebhookSig,
}

// diffText is a request as the diff compares it: request line, headers,
// blank line, body (indented when JSON), then the template and form-value
// versions.
func diffText(method, url string, headers []Header, body, template, templateHash, varsHash string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", method, url)
	for _, h := range headers {
		if slices.ContainsFunc(perAttempt, func(n string) bool { return strings.EqualFold(n, h.Name) }) {
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", h.Name, h.Value)
	}
	b.WriteString("\n")
	if pretty, ok := prettyJSON(body); ok {
		body = pretty
	}
	b.WriteString(strings.TrimRight(body, "\n"))
	b.WriteString("\n\n")
	if template == "" {
		b.WriteString("standard payload (no template)\n")
	} else {
		fmt.Fprintf(&b, "template %s @ %s\n", template, templateHash)
	}
	fmt.Fprintf(&b, "form values @ %s\n", varsHash)
	return b.String()
}

// sentDiff is the unified diff from a sent request to the one rendered
// now, "" when they agree. User-Agent, which the client adds when the
// template sets none, is compared only when the request now sets one.
func sentDiff(sent *SentRequest, now RequestView, nowVars string) string {
	hs := sent.Headers
	if !slices.ContainsFunc(now.Headers, func(h Header) bool { return strings.EqualFold(h.Name, "User-Agent") }) {
		hs = slices.DeleteFunc(slices.Clone(hs), func(h Header) bool { return strings.EqualFold(h.Name, "User-Agent") })
	}
	from := diffText(sent.Method, sent.URL, hs, sent.Body, sent.Template, sent.TemplateHash, sent.VarsHash)
	method := now.Method
	if method == "" {
		method = "POST"
	}
	to := diffText(method, now.URL, now.Headers, now.Body, now.Template, now.TemplateHash, nowVars)
	if from == to {
		return ""
	}
	return udiff.Unified("sent", "would send now", from, to)
}
