package manifest

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// frameworkRules applies the integration framework's rules beyond the
// schema (its manifest test suite) to a decoded manifest, and auditrelay's
// own rules (reported with ourf: LaunchDarkly's tests do not enforce them,
// so they are warnings unless validate --strict).
func (c *checker) frameworkRules(m *Manifest, pos *positions) {
	c.formVariableRules(m, pos)
	h := m.Hook()
	if h == nil {
		return
	}
	hook := pos.hook
	if h.Endpoint == nil && h.DeliveryMethod != DeliveryCustom && hook.Kind() == jsonv.Object {
		// The schema makes endpoint optional; without one there is nowhere
		// to send, so deliveries are skipped with that reason.
		c.ourf(hook.Offset(), "capabilities.auditLogEventsHook has no endpoint and deliveryMethod is not \"custom\": nothing can be sent, so every delivery is skipped")
	}
	if h.UseStandardWebhookPayload {
		tpl := hook.Get("templates")
		for _, mem := range tpl.Members() {
			c.errorf(int(mem.KeyOffset), "templates.%s must not be set: useStandardWebhookPayload sends the audit-log entry itself, so the templates object must be empty", mem.Key)
		}
	}
	if ep := h.Endpoint; ep != nil {
		if sig := ep.HMACSignature; sig != nil {
			c.hmacRules(m, sig, pos.endpoint.Get("hmacSignature"))
		}
		if h.IncludeErrorResponseBody {
			c.staticHostRule(m, ep.URL, pos.endpoint.Get("url"))
		}
	}
}

func (c *checker) formVariableRules(m *Manifest, pos *positions) {
	seen := map[string]int{}
	for i := range m.FormVariables {
		fv := &m.FormVariables[i]
		obj := pos.formVars[i]
		if obj.Kind() != jsonv.Object {
			continue
		}
		name := fmt.Sprintf("formVariables[%d]", i)
		if fv.Key != "" {
			name = fmt.Sprintf("form variable %q", fv.Key)
			if j, dup := seen[fv.Key]; dup {
				c.ourf(obj.Get("key").Offset(), "form variable key %q is declared twice (first as formVariables[%d]); auditrelay uses the first declaration", fv.Key, j)
			} else {
				seen[fv.Key] = i
			}
		}
		at := func(key string) int { return keyOffset(obj, key) }
		has := func(key string) bool { return obj.Has(key) }
		if fv.IsSecret && fv.Type != TypeString && fv.Type != "" {
			c.errorf(at("isSecret"), "%s: isSecret is only allowed on variables of type \"string\", not %q", name, fv.Type)
		}
		switch fv.Type {
		case TypeMultiselect, TypeEnvironmentSelector:
			// The framework lets these be optional without a default.
		default:
			if fv.IsOptional && !has("defaultValue") {
				c.errorf(at("isOptional"), "%s is optional, so it must have a defaultValue", name)
			}
		}
		if has("defaultValue") && !fv.IsOptional {
			c.errorf(at("defaultValue"), "%s has a defaultValue, which is only allowed together with \"isOptional\": true", name)
		}
		if d := fv.DefaultValue; !d.IsUndefined() {
			switch fv.Type {
			case TypeString, TypeURI, TypeEnum, TypeDynamicEnum:
				if d.Kind() != jsonv.String {
					c.errorf(d.Offset(), "%s has type %q, so its defaultValue must be a string, found %s", name, fv.Type, kindName(d))
				}
			case TypeBoolean:
				if d.Kind() != jsonv.Bool {
					c.errorf(d.Offset(), "%s has type \"boolean\", so its defaultValue must be true or false, found %s", name, kindName(d))
				}
			}
			if fv.Type == TypeEnum && d.Kind() == jsonv.String && len(fv.AllowedValues) > 0 && !contains(fv.AllowedValues, d.Text()) {
				c.ourf(d.Offset(), "%s: defaultValue %q is not one of its allowedValues (%s)", name, d.Text(), quoteList(fv.AllowedValues))
			}
			if fv.Type == TypeURI && d.Kind() == jsonv.String && d.Text() != "" {
				if msg := checkURI(d.Text()); msg != "" {
					c.warnf(d.Offset(), "%s: defaultValue %q %s", name, d.Text(), msg)
				}
			}
		}
		if fv.Type == TypeEnum && len(fv.AllowedValues) == 0 {
			c.ourf(obj.Offset(), "%s has type \"enum\" but no allowedValues, so there is nothing to choose from; auditrelay accepts any string for it", name)
		}
		if fv.Type == TypeDynamicEnum && !has("dynamicOptions") {
			c.errorf(obj.Offset(), "%s has type \"dynamicEnum\", so it needs dynamicOptions", name)
		}
		if has("dynamicOptions") && fv.Type != TypeDynamicEnum && fv.Type != "" {
			c.errorf(at("dynamicOptions"), "%s: dynamicOptions is only allowed on variables of type \"dynamicEnum\", not %q", name, fv.Type)
		}
		if fv.Type == TypeMultiselect && !has("multiselectOptions") {
			c.errorf(obj.Offset(), "%s has type \"multiselect\", so it needs multiselectOptions", name)
		}
		var forbidden []string
		switch fv.Type {
		case TypeMultiselect:
			forbidden = []string{"defaultValue", "allowedValues", "isSecret"}
		case TypeEnvironmentSelector:
			forbidden = []string{"defaultValue", "allowedValues", "isSecret", "multiselectOptions", "multiselectDefaultOptions"}
		}
		for _, f := range forbidden {
			if has(f) && f != "isSecret" { // isSecret on a non-string is reported above
				c.errorf(at(f), "%s has type %q, which does not allow %s", name, fv.Type, f)
			}
		}
		if has("allowedValues") && fv.Type != TypeEnum && fv.Type != TypeMultiselect && fv.Type != TypeEnvironmentSelector && fv.Type != "" {
			c.warnf(at("allowedValues"), "%s: allowedValues only applies to variables of type \"enum\" and is ignored for %q", name, fv.Type)
		}
	}
	// dependsOn may point at other form variables of this manifest.
	for i := range m.FormVariables {
		for j, d := range m.FormVariables[i].DependsOn {
			if d.VariableLocation == "formVariables" && d.VariableKey != "" && m.FormVariable(d.VariableKey) == nil {
				dep := pos.formVars[i].Get("dependsOn").Index(j)
				c.ourf(dep.Get("variableKey").Offset(), "formVariables[%d].dependsOn[%d] refers to form variable %q, which is not declared", i, j, d.VariableKey)
			}
		}
	}
}

// checkURI returns "" when s is an absolute URL with scheme and host.
func checkURI(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "is not a valid URL: " + strings.TrimPrefix(err.Error(), "parse "+fmt.Sprintf("%q", s)+": ")
	}
	if u.Scheme == "" || u.Host == "" {
		return "is not an absolute URL (expected scheme://host/...)"
	}
	return ""
}

func (c *checker) hmacRules(m *Manifest, sig *HMACSignature, at jsonv.Value) {
	if sig.HeaderName == "" {
		c.ourf(at.Offset(), "endpoint.hmacSignature has no headerName; auditrelay sends the signature as %q, the header LaunchDarkly's webhooks use", DefaultHMACHeader)
	}
	if !at.Has("hmacSecretFormVariableKey") {
		c.errorf(at.Offset(), "endpoint.hmacSignature needs hmacSecretFormVariableKey, the key of the form variable holding the secret")
		return
	}
	key := sig.HMACSecretFormVariableKey
	off := at.Get("hmacSecretFormVariableKey").Offset()
	fv := m.FormVariable(key)
	switch {
	case fv == nil:
		c.errorf(off, "endpoint.hmacSignature.hmacSecretFormVariableKey refers to form variable %q, which is not declared", key)
	case fv.Type != TypeString:
		c.errorf(off, "endpoint.hmacSignature.hmacSecretFormVariableKey refers to form variable %q of type %q; the HMAC secret must be of type \"string\"", key, fv.Type)
	case !fv.IsSecret:
		c.errorf(off, "endpoint.hmacSignature.hmacSecretFormVariableKey refers to form variable %q, which must be marked \"isSecret\": true", key)
	}
}

// staticHostRule checks that with includeErrorResponseBody the endpoint
// host cannot be chosen freely by whoever configures the integration (who
// could otherwise point it at a host that echoes secrets back into the
// error log).
//
// LaunchDarkly's test enforces a narrow form of this, and that part is an
// error: a URL starting with {{name}} (the name as written between "{{"
// and the first "}", spaces included) and a {{word}} in the host after a
// literal scheme must not name a declared form variable that is not an
// enum. auditrelay's own rule is wider (every mustache in the scheme or
// authority, names trimmed, must be an enum form variable with
// allowedValues) and is a warning unless --strict: LaunchDarkly publishes
// integrations that break it, such as {{ endpointUrl }} of type "uri".
func (c *checker) staticHostRule(m *Manifest, rawURL string, urlVal jsonv.Value) {
	for _, tag := range hostTags(rawURL) {
		name := strings.TrimSpace(strings.Trim(strings.TrimSpace(tag.body), "~"))
		fv := m.FormVariable(name)
		if isSimpleName(name) && fv != nil && fv.Type == TypeEnum && len(fv.AllowedValues) > 0 {
			continue
		}
		off := c.stringOffset(urlVal, tag.off)
		reason := "is not an enum form variable with allowedValues"
		switch {
		case !isSimpleName(name):
			reason = "is not a plain form variable"
		case fv == nil:
			reason = "is not a declared form variable"
		case fv.Type != TypeEnum:
			reason = fmt.Sprintf("is a form variable of type %q, not \"enum\"", fv.Type)
		}
		if frameworkRefusesHostTag(m, rawURL, tag) {
			c.errorf(off, "includeErrorResponseBody is true, so the endpoint host must be static: endpoint.url's host uses %s, which %s", tag.text, reason)
			continue
		}
		c.ourf(off, "includeErrorResponseBody is true, so the endpoint host should be static: endpoint.url's host uses %s, which %s, so whoever configures the integration chooses the host that receives its requests and error log", tag.text, reason)
	}
}

// hostWordRE is the framework test's pattern for a form variable in the
// host: {{word}} with no spaces.
var hostWordRE = regexp.MustCompile(`\{\{(\w+)\}\}`)

// frameworkRefusesHostTag reports whether LaunchDarkly's test
// ("includeErrorResponseBody is only true if endpoint domain is static")
// fails for tag: a leading tag whose text up to the first "}" names a
// declared form variable that is not an enum, or, after a literal scheme,
// a {{word}} inside the host name (not the user info or port) naming one.
func frameworkRefusesHostTag(m *Manifest, u string, tag hostTag) bool {
	nonEnum := func(name string) bool {
		fv := m.FormVariable(name)
		return fv != nil && fv.Type != TypeEnum
	}
	if tag.off == 0 && strings.HasPrefix(u, "{{") {
		end := strings.IndexByte(u, '}')
		return end > 2 && nonEnum(u[2:end])
	}
	k := strings.Index(u, "://")
	if k < 0 || strings.Contains(u[:k], "{{") {
		return false
	}
	hostStart, hostEnd := hostSpan(u, k+3)
	if tag.off < hostStart || tag.off >= hostEnd {
		return false
	}
	for _, sm := range hostWordRE.FindAllStringSubmatch(tag.text, -1) {
		if nonEnum(sm[1]) {
			return true
		}
	}
	return false
}

// hostSpan returns where the host lies in the authority starting at from:
// after any user info. A port made of a mustache counts as part of the
// host, as for the framework's URL parser, which splits off digits only.
func hostSpan(u string, from int) (start, end int) {
	end = len(u)
	if i := strings.IndexAny(u[from:], "/?#"); i >= 0 {
		end = from + i
	}
	start = from
	if at := strings.LastIndexByte(u[from:end], '@'); at >= 0 {
		start = from + at + 1
	}
	return start, end
}

func isSimpleName(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\n#/^>!(.=") && !isKnownHelper(s)
}

type hostTag struct {
	text string // the whole tag, e.g. "{{hostURL}}"
	body string // between the braces
	off  int    // byte offset in the URL template
}

// hostTags returns the mustaches that lie in the scheme or authority of a
// URL template. Without a literal "scheme://" the template's leading
// mustache chooses the host.
func hostTags(u string) []hostTag {
	var tags []hostTag
	i := 0
	if k := strings.Index(u, "://"); k >= 0 && !strings.Contains(u[:k], "{{") {
		i = k + 3
	}
	for i < len(u) {
		if strings.HasPrefix(u[i:], "{{") {
			open := 2
			if strings.HasPrefix(u[i:], "{{{") {
				open = 3
			}
			end := strings.Index(u[i+open:], "}}")
			if end < 0 {
				break
			}
			stop := i + open + end + 2
			if open == 3 && strings.HasPrefix(u[stop:], "}") {
				stop++
			}
			tags = append(tags, hostTag{text: u[i:stop], body: u[i+open : i+open+end], off: i})
			i = stop
			continue
		}
		if u[i] == '/' || u[i] == '?' || u[i] == '#' {
			if strings.HasPrefix(u[i:], "://") { // scheme chosen by the tag before it
				i += 3
				continue
			}
			break
		}
		i++
	}
	return tags
}

// stringOffset maps a byte offset within the decoded string value v to the
// offset in the JSON source, so positions inside URL and header templates
// point at the right column even after escape sequences.
func (c *checker) stringOffset(v jsonv.Value, decoded int) int {
	return rawOffset(c.src, v.Offset(), decoded)
}

// rawOffset maps decoded byte offset want of the JSON string literal that
// starts (at its opening quote) at start in src to the source offset.
func rawOffset(src string, start, want int) int {
	if start < 0 || start >= len(src) || src[start] != '"' {
		return start
	}
	i, n := start+1, 0
	for i < len(src) && src[i] != '"' {
		if n >= want {
			return i
		}
		if src[i] != '\\' {
			i++
			n++
			continue
		}
		if i+1 >= len(src) {
			break
		}
		switch src[i+1] {
		case 'u':
			r, ok := hexRune(src, i+2)
			i += 6
			switch {
			case !ok:
				n++
			case r >= 0xD800 && r < 0xDC00 && i+5 < len(src) && src[i] == '\\' && src[i+1] == 'u':
				i += 6
				n += 4
			case r < 0x80:
				n++
			case r < 0x800:
				n += 2
			default:
				n += 3
			}
		default:
			i += 2
			n++
		}
	}
	return i
}

func hexRune(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
