package hook

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/render"
)

// Reasons a Request carries no body to send.
const (
	SkipNoTemplate     = "no-template"            // no template for the entry's kind and no default
	SkipEmptyBody      = "empty-body"             // the template rendered only whitespace
	SkipCustomDelivery = "custom-delivery-method" // deliveryMethod "custom": needs a custom sink, not HTTP
	SkipNoEndpoint     = "no-endpoint"            // the hook has no endpoint (the load warned): nowhere to send
	SkipNoRawEntry     = "no-raw-entry"           // standard payload, but only a context is known
)

// Event is one audit-log entry as templates see it. It is immutable and
// shared read-only across subscriptions and goroutines.
type Event struct {
	raw  []byte
	kind string

	ctxOnce sync.Once
	build   func() jsonv.Value // nil once ctx is known
	ctx     jsonv.Value

	escOnce sync.Once
	esc     jsonv.Value
}

// NewEvent wraps a template context (not escaped) and, when known, the raw
// audit-log entry JSON that standard-payload hooks send as is. raw is not
// copied; the caller must not change it.
func NewEvent(ctx jsonv.Value, raw []byte) *Event {
	return &Event{ctx: ctx, raw: raw, kind: ctx.Get("kind").Text()}
}

// NewLazyEvent is NewEvent for a context built only when a template needs
// it: building one (Markdown to HTML and text, links, timestamps) costs
// more than deciding and sending an entry, and integrations that send the
// standard payload never need it. build is called at most once.
func NewLazyEvent(raw []byte, kind string, build func() jsonv.Value) *Event {
	return &Event{raw: raw, kind: kind, build: build}
}

// Context returns the unescaped template context.
func (e *Event) Context() jsonv.Value {
	e.ctxOnce.Do(func() {
		if e.build != nil {
			e.ctx = e.build()
			e.build = nil
		}
	})
	return e.ctx
}

// Raw returns the raw entry JSON, or nil.
func (e *Event) Raw() []byte { return e.raw }

// Kind returns the context's kind ("flag", "project", ...).
func (e *Event) Kind() string { return e.kind }

// Escaped returns the context with every string JSON-escaped, as JSON
// templates see it. It is computed once per event, on first use.
func (e *Event) Escaped() jsonv.Value {
	e.escOnce.Do(func() { e.esc = jsonv.EscapeStrings(e.Context()) })
	return e.esc
}

// OAuth holds the credentials of an OAuth integration (requiresOAuth).
type OAuth struct {
	BaseURI     string
	AccessToken string
}

// Vars are the configured form-variable values of one subscription.
type Vars struct {
	// Values are validated values including defaults (see
	// manifest.Manifest.ResolveValues). Render does not validate them.
	Values map[string]jsonv.Value
	OAuth  *OAuth
	// Budget bounds each render of the URL, each header and the body
	// (see render.Budget); the zero value means render's defaults.
	Budget render.Budget
}

// Header is one request header.
type Header struct {
	Name  string
	Value string
	// Secret is set when the value derives from a secret form variable;
	// show it masked.
	Secret bool
}

// Request is what LaunchDarkly would send for one entry.
type Request struct {
	// TemplateKey is the template key used (flag, project, environment,
	// member, default, validation); "" for the standard payload or when no
	// template applies.
	TemplateKey string
	// Template is the template path used, "" for the standard payload.
	Template string
	// TemplateHash is the hex SHA-256 of the template source, "" without
	// a template.
	TemplateHash string
	Method       string
	URL          string
	// URLSecret is set when the URL uses a secret form variable.
	URLSecret bool
	// Headers in manifest order, then the signature header.
	Headers []Header
	// Body is the rendered template, or for the standard payload the
	// event's raw entry itself (shared: do not modify). nil when Skipped
	// says nothing is sent, except for custom delivery.
	Body []byte
	// Skipped is "" or why nothing is sent (Skip* constants). URL and
	// headers are still rendered.
	Skipped string
	// Custom marks deliveryMethod "custom": the body is rendered but the
	// request needs a custom sink rather than HTTP.
	Custom bool
}

// Integration is a manifest integration compiled for rendering. It is
// immutable and safe for concurrent use.
type Integration struct {
	src       *manifest.Integration
	hook      *manifest.AuditLogEventsHook
	method    string
	url       part
	headers   []namedPart
	bodies    map[string]*body // by template key
	fvKeys    []string         // form variables passed to templates, manifest order
	hmacName  string
	hmacKey   string // form variable holding the HMAC secret
	oauth     bool   // requiresOAuth
	templated bool   // the URL or a header value is a template
	// endpointContext is set when the URL or a header template may read the
	// entry (context, or the whole scope through this, @root or lookup);
	// otherwise the endpoint scope leaves the context out and a lazy
	// event's context is never built.
	endpointContext bool
	standard        bool
	custom          bool
}

// part is a URL or header-value template; static text skips rendering.
type part struct {
	tpl    *render.Template
	static string
	secret bool // references a secret form variable
}

type namedPart struct {
	name string
	part
}

type body struct {
	key  string
	path string
	hash string
	json bool
	tpl  *render.Template
}

// New compiles a loaded integration for rendering.
func New(src *manifest.Integration) (*Integration, error) {
	h := src.Hook()
	if h == nil {
		return nil, fmt.Errorf("integration %s has no auditLogEventsHook capability", src.Name)
	}
	m := src.Manifest
	in := &Integration{
		src:      src,
		hook:     h,
		bodies:   map[string]*body{},
		oauth:    m.RequiresOAuth,
		standard: h.UseStandardWebhookPayload,
		custom:   h.DeliveryMethod == manifest.DeliveryCustom,
	}
	for i := range m.FormVariables {
		if fv := &m.FormVariables[i]; fv.Type.InTemplateScope() {
			in.fvKeys = append(in.fvKeys, fv.Key)
		}
	}
	secret := func(src string) bool {
		for _, r := range manifest.TemplateRefs(src) {
			if fv := m.FormVariable(r.Segs[0]); fv != nil && fv.IsSecret {
				return true
			}
		}
		return false
	}
	mkPart := func(src string, tpl *render.Template) part {
		if !strings.Contains(src, "{{") {
			return part{static: src}
		}
		for _, word := range []string{"context", "this", "@root", "lookup", "each", "with", "../"} {
			in.endpointContext = in.endpointContext || strings.Contains(src, word)
		}
		return part{tpl: tpl, secret: secret(src)}
	}
	if ep := h.Endpoint; ep != nil {
		in.method = ep.Method
		in.url = mkPart(ep.URL, src.URLTemplate())
		in.templated = in.url.tpl != nil
		tpls := src.HeaderTemplates()
		for i, hd := range ep.Headers {
			p := mkPart(hd.Value, tpls[i])
			in.templated = in.templated || p.tpl != nil
			in.headers = append(in.headers, namedPart{name: hd.Name, part: p})
		}
		if sig := ep.HMACSignature; sig != nil {
			in.hmacName, in.hmacKey = sig.Header(), sig.HMACSecretFormVariableKey
		}
	}
	for _, key := range manifest.TemplateKeys() {
		t := src.Template(key)
		if t == nil {
			continue
		}
		if t.Compiled == nil {
			return nil, fmt.Errorf("integration %s: template %s is not compiled", src.Name, t.Path)
		}
		sum := sha256.Sum256([]byte(t.Source))
		in.bodies[key] = &body{key: key, path: t.Path, hash: hex.EncodeToString(sum[:]), json: t.JSON, tpl: t.Compiled}
	}
	return in, nil
}

// Source returns the loaded integration this was compiled from.
func (in *Integration) Source() *manifest.Integration { return in.src }

// Secrets returns the secret values among vars, for masking.
func (in *Integration) Secrets(vars Vars) []string {
	s := in.src.Manifest.SecretValues(vars.Values)
	if vars.OAuth != nil && vars.OAuth.AccessToken != "" {
		s = append(s, vars.OAuth.AccessToken)
	}
	return s
}

// Bound is an Integration bound to one subscription's form values. The
// parts of the template scopes that depend only on the values are built
// once, so each render builds only what depends on the entry. A Bound is
// immutable and safe for concurrent use.
type Bound struct {
	in    *Integration
	vars  Vars
	oauth jsonv.Value
	fv    jsonv.Value    // body scope's formVariables: values plus oauth
	top   []jsonv.Member // endpoint scope's form values, in manifest order
}

// Bind prepares rendering with vars. Vars.Values must not change
// afterwards.
func (in *Integration) Bind(vars Vars) *Bound {
	b := &Bound{in: in, vars: vars, oauth: in.oauthValue(vars.OAuth)}
	fv := jsonv.NewMembers(len(in.fvKeys) + 1)
	for _, k := range in.fvKeys {
		if v, ok := vars.Values[k]; ok {
			fv.Set(k, v)
			b.top = append(b.top, jsonv.Member{Key: k, Value: v, KeyOffset: -1})
		}
	}
	fv.Set("oauth", b.oauth)
	b.fv = jsonv.Obj(fv)
	return b
}

// Render builds the request for ev: the template matching the entry's kind
// (or default), URL, headers, body and signature. For many entries with
// the same values, Bind once and use Bound.Render.
func (in *Integration) Render(ev *Event, vars Vars) (*Request, error) {
	return in.Bind(vars).Render(ev)
}

// RenderValidation builds the "validate connection" test request, rendered
// with templates.validation.
func (in *Integration) RenderValidation(ev *Event, vars Vars) (*Request, error) {
	return in.Bind(vars).RenderValidation(ev)
}

// RenderTemplate builds the request with the template named by key,
// whatever the entry's kind. A key the manifest does not set yields
// Skipped "no-template".
func (in *Integration) RenderTemplate(ev *Event, vars Vars, key string) (*Request, error) {
	return in.Bind(vars).RenderTemplate(ev, key)
}

// Render is Integration.Render with the bound values.
func (b *Bound) Render(ev *Event) (*Request, error) {
	key := ""
	if !b.in.standard {
		key, _ = b.in.hook.Templates.ForKind(ev.Kind())
	}
	return b.render(ev, key)
}

// RenderValidation is Integration.RenderValidation with the bound values.
func (b *Bound) RenderValidation(ev *Event) (*Request, error) {
	key := ""
	if !b.in.standard {
		key = manifest.TemplateValidation
		if b.in.bodies[key] == nil {
			key = ""
		}
	}
	return b.render(ev, key)
}

// RenderTemplate is Integration.RenderTemplate with the bound values.
func (b *Bound) RenderTemplate(ev *Event, key string) (*Request, error) {
	if !contains(manifest.TemplateKeys(), key) {
		return nil, fmt.Errorf("unknown template key %q (expected one of %s)", key, strings.Join(manifest.TemplateKeys(), ", "))
	}
	if b.in.standard {
		return nil, errors.New("the integration sends the standard webhook payload; it has no templates")
	}
	if b.in.bodies[key] == nil {
		key = ""
	}
	return b.render(ev, key)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// request is a Request with room for a few headers, so that one
// allocation serves both.
type request struct {
	Request
	hdrs [4]Header
}

func (b *Bound) render(ev *Event, key string) (*Request, error) {
	in := b.in
	rb := &request{}
	req := &rb.Request
	req.Method, req.Custom = in.method, in.custom
	if in.method != "" {
		var endpoint jsonv.Value
		if in.templated {
			endpoint = b.endpointRoot(ev)
		}
		u, err := in.url.render(endpoint, b.vars.Budget)
		if err != nil {
			return nil, fmt.Errorf("rendering endpoint.url: %w", err)
		}
		req.URL, req.URLSecret = u, in.url.secret
		req.Headers = rb.hdrs[:0]
		for i, h := range in.headers {
			v, err := h.render(endpoint, b.vars.Budget)
			if err != nil {
				return nil, fmt.Errorf("rendering endpoint.headers[%d] (%s): %w", i, h.name, err)
			}
			req.Headers = append(req.Headers, Header{Name: h.name, Value: v, Secret: h.secret})
		}
	}
	switch {
	case in.standard:
		if ev.raw == nil {
			req.Skipped = SkipNoRawEntry
			return req, nil
		}
		req.Body = ev.raw
	case key == "":
		req.Skipped = SkipNoTemplate
		return req, nil
	default:
		bt := in.bodies[key]
		req.TemplateKey, req.Template, req.TemplateHash = key, bt.path, bt.hash
		ctx := ev.Context()
		if bt.json {
			ctx = ev.Escaped()
		}
		out, err := bt.tpl.AppendExecuteBudget(nil, b.bodyRoot(ctx), b.vars.Budget)
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", bt.path, err)
		}
		if isBlank(out) {
			req.Skipped = SkipEmptyBody
			return req, nil
		}
		req.Body = out
	}
	if in.custom {
		req.Skipped = SkipCustomDelivery
		return req, nil
	}
	if in.method == "" {
		req.Skipped = SkipNoEndpoint
		return req, nil
	}
	if in.hmacName != "" {
		if secret := b.vars.Values[in.hmacKey]; secret.Kind() == jsonv.String && secret.Text() != "" {
			req.Headers = append(req.Headers, Header{Name: in.hmacName, Value: auditlog.Sign([]byte(secret.Text()), req.Body)})
		}
	}
	return req, nil
}

// endpointRoot is the URL/header scope: every form variable at the top
// level, the unescaped entry as context, and oauth.
func (b *Bound) endpointRoot(ev *Event) jsonv.Value {
	m := jsonv.NewMembers(len(b.top) + 2)
	for _, mem := range b.top {
		m.Set(mem.Key, mem.Value)
	}
	if b.in.endpointContext {
		m.Set("context", ev.Context())
	}
	m.Set("oauth", b.oauth)
	return jsonv.Obj(m)
}

// bodyRoot is the body scope: the entry's members at the top level plus
// formVariables (values and oauth, never JSON-escaped, as in the
// framework).
func (b *Bound) bodyRoot(ctx jsonv.Value) jsonv.Value {
	mems := ctx.Members()
	m := jsonv.NewMembers(len(mems) + 1)
	for _, mem := range mems {
		m.Set(mem.Key, mem.Value)
	}
	m.Set("formVariables", b.fv)
	return jsonv.Obj(m)
}

// oauthValue is what templates see as oauth: {baseURI, accessToken} for
// integrations that require OAuth and have credentials, else null.
func (in *Integration) oauthValue(o *OAuth) jsonv.Value {
	if !in.oauth || o == nil {
		return jsonv.NullValue()
	}
	m := jsonv.NewMembers(2)
	m.Set("baseURI", jsonv.Str(o.BaseURI))
	m.Set("accessToken", jsonv.Str(o.AccessToken))
	return jsonv.Obj(m)
}

func isBlank(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			return false
		}
	}
	return true
}

func (p *part) render(root jsonv.Value, budget render.Budget) (string, error) {
	if p.tpl == nil {
		return p.static, nil
	}
	return p.tpl.ExecuteBudget(root, budget)
}
