package manifest

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Closed member lists of the framework schema (propertyNames enums).
var (
	topFields = []string{"name", "version", "overview", "description", "details", "author", "supportEmail",
		"links", "categories", "icons", "formVariables", "capabilities", "legacy", "otherCapabilities",
		"requiresOAuth", "hideOnIntegrationsPage", "oauthIntegrationKey", "allowIntegrationConfigurations"}
	topRequired       = []string{"name", "version", "overview", "description", "author", "supportEmail", "links", "categories", "icons"}
	linkFields        = []string{"site", "launchdarklyDocs", "privacyPolicy", "supportWebsite"}
	iconFields        = []string{"square", "horizontal"}
	categoryNames     = []string{"ai", "analytics", "approval", "authentication", "automation", "big-segment-store", "code-references", "customer-support", "data", "developer-tools", "import", "infrastructure", "issue-tracking", "log-management", "messaging", "migration", "monitoring", "synced-segments", "notifications"}
	legacyKinds       = []string{"codeRefs", "datadog", "dataExport", "slackWebhooks", "webhooks"}
	otherCapabilities = []string{"codeRefs", "dataExport", "external", "ide", "sso", "webhooks", "warehouseExperimentation", "warehouseExport"}
	capabilityNames   = []string{"auditLogEventsHook", "buttonAction", "reservedCustomProperties", "trigger", "approval",
		"featureStore", "flagLink", "hideConfiguration", "externalConfigurationURL", "externalConfigurationPages",
		"syncedSegment", "bigSegmentStore", "flagImport", "eventsHook", "flagCleanup", "internalConfigurationURL"}
	hookFields     = []string{"endpoint", "templates", "defaultPolicy", "includeErrorResponseBody", "deliveryMethod", "useStandardWebhookPayload"}
	endpointFields = []string{"url", "method", "headers", "hmacSignature"}
	methods        = []string{"POST", "PUT", "PATCH", "GET", "DELETE"}
	headerFields   = []string{"name", "value"}
	hmacFields     = []string{"headerName", "hmacSecretFormVariableKey"}
	formVarFields  = []string{"key", "name", "type", "description", "placeholder", "isSecret", "isHidden", "isOptional",
		"defaultValue", "allowedValues", "dynamicOptions", "dependsOn", "multiselectOptions", "multiselectDefaultOptions",
		"disableAfterSaving", "hideEmpty"}
	dependsOnFields   = []string{"variableKey", "variableLocation", "conditions", "action"}
	conditionFields   = []string{"operator", "value"}
	operators         = []string{"lessThan", "lessThanOrEqualTo", "greaterThan", "greaterThanOrEqualTo", "equalTo", "notEqual", "contains", "startsWith", "endsWith"}
	variableLocations = []string{"approvalFormVariables", "environmentFormVariables", "formVariables"}
	dependsOnActions  = []string{"hideField", "showField"}
)

// The schema's semantic-version pattern.
var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// emailRE approximates JSON Schema's "email" format as ajv checks it.
var emailRE = regexp.MustCompile("(?i)^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")

// The schema's "^(.*)$": JavaScript's "." stops at line terminators.
func singleLine(s string) string {
	if strings.ContainsAny(s, "\n\r\u2028\u2029") {
		return "must be a single line (no line breaks)"
	}
	return ""
}

func httpURL(s string) string {
	l := strings.ToLower(s)
	if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
		return "must start with http:// or https://"
	}
	return ""
}

func noSpace(s string) string {
	if strings.IndexFunc(s, isJSSpace) >= 0 {
		return "must not contain whitespace"
	}
	return ""
}

// isJSSpace matches the characters of a JavaScript regexp's \s.
func isJSSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// decodeManifest checks doc against the framework schema and builds the
// Manifest. It records every violation in c and returns what it could
// decode, together with the positions the framework rules need.
func (c *checker) decodeManifest(doc jsonv.Value) (*Manifest, *positions) {
	m := &Manifest{}
	pos := &positions{root: doc}
	if !c.object(doc, "", topFields...) {
		return m, pos
	}
	c.required(doc, "", topRequired...)
	m.Name, _ = c.str(doc, "name", "", strRule{min: 3, max: 100})
	m.Version, _ = c.str(doc, "version", "", strRule{min: 5, max: 14, check: func(s string) string {
		if !semverRE.MatchString(s) {
			return "must be a semantic version such as 1.0.0"
		}
		return ""
	}})
	m.Overview, _ = c.str(doc, "overview", "", strRule{min: 10, max: 100, check: singleLine})
	m.Description, _ = c.str(doc, "description", "", strRule{min: 50, max: 2048, check: singleLine})
	m.Details, _ = c.str(doc, "details", "", strRule{min: 50, max: 2048, check: singleLine})
	m.Author, _ = c.str(doc, "author", "", strRule{min: 3, max: 100, check: singleLine})
	m.SupportEmail, _ = c.str(doc, "supportEmail", "", strRule{check: func(s string) string {
		if !emailRE.MatchString(s) {
			return "must be an email address"
		}
		return ""
	}})
	if v, ok := field(doc, "links"); ok && c.object(v, "links", linkFields...) {
		c.required(v, "links", "site", "privacyPolicy")
		rule := strRule{max: 2048, check: httpURL}
		m.Links.Site, _ = c.str(v, "site", "links", rule)
		m.Links.LaunchdarklyDocs, _ = c.str(v, "launchdarklyDocs", "links", rule)
		m.Links.PrivacyPolicy, _ = c.str(v, "privacyPolicy", "links", rule)
		m.Links.SupportWebsite, _ = c.str(v, "supportWebsite", "links", rule)
	}
	if cats, ok := c.strArray(doc, "categories", "", categoryNames); ok {
		m.Categories = cats
		v := doc.Get("categories")
		switch n := v.Len(); {
		case n == 0:
			c.errorf(v.Offset(), "categories must list at least one category")
		case n > 3:
			c.errorf(v.Offset(), "categories must list at most 3 categories, found %d", n)
		}
		seen := map[string]bool{}
		for _, e := range v.Elems() {
			if seen[e.Text()] {
				c.errorf(e.Offset(), "categories lists %q twice", e.Text())
			}
			seen[e.Text()] = true
		}
	}
	if v, ok := field(doc, "icons"); ok && c.object(v, "icons", iconFields...) {
		c.required(v, "icons", iconFields...)
		rule := strRule{check: func(s string) string {
			if !strings.HasSuffix(s, ".svg") {
				return "must be the path of an .svg file"
			}
			return ""
		}}
		m.Icons.Square, _ = c.str(v, "square", "icons", rule)
		m.Icons.Horizontal, _ = c.str(v, "horizontal", "icons", rule)
	}
	if v, ok := field(doc, "legacy"); ok && c.object(v, "legacy", "kind") {
		c.required(v, "legacy", "kind")
		if k, ok := c.enumStr(v, "kind", "legacy", legacyKinds); ok {
			m.Legacy = &Legacy{Kind: k}
		}
	}
	if oc, ok := c.strArray(doc, "otherCapabilities", "", otherCapabilities); ok {
		m.OtherCapabilities = oc
		if len(doc.Get("otherCapabilities").Elems()) == 0 {
			c.errorf(doc.Get("otherCapabilities").Offset(), "otherCapabilities must list at least one capability when present")
		}
	}
	m.RequiresOAuth, _ = c.boolean(doc, "requiresOAuth", "")
	m.HideOnIntegrationsPage, _ = c.boolean(doc, "hideOnIntegrationsPage", "")
	m.AllowIntegrationConfigurations, _ = c.boolean(doc, "allowIntegrationConfigurations", "")
	m.OAuthIntegrationKey, _ = c.str(doc, "oauthIntegrationKey", "", strRule{min: 3, max: 100})

	if elems, ok := c.array(doc, "formVariables", ""); ok {
		for i, e := range elems {
			fv := c.decodeFormVariable(e, index("formVariables", i))
			m.FormVariables = append(m.FormVariables, fv)
			pos.formVars = append(pos.formVars, e)
		}
	}
	if v, ok := field(doc, "capabilities"); ok && c.object(v, "capabilities", capabilityNames...) {
		for _, mem := range v.Members() {
			if mem.Key == "auditLogEventsHook" {
				m.Capabilities.AuditLogEventsHook = c.decodeHook(mem.Value, "capabilities.auditLogEventsHook", pos)
				pos.hook = mem.Value
				continue
			}
			if contains(capabilityNames, mem.Key) {
				m.Capabilities.Other = append(m.Capabilities.Other, RawCapability{Name: mem.Key, Value: mem.Value})
			}
		}
	}
	return m, pos
}

// positions keeps the JSON values the framework rules point at.
type positions struct {
	root     jsonv.Value
	formVars []jsonv.Value // parallel to Manifest.FormVariables
	hook     jsonv.Value
	endpoint jsonv.Value
}

func (c *checker) decodeFormVariable(v jsonv.Value, path string) FormVariable {
	var fv FormVariable
	if !c.object(v, path, formVarFields...) {
		return fv
	}
	c.required(v, path, "key", "name", "type", "description")
	fv.Key, _ = c.str(v, "key", path, strRule{max: 20, check: noSpace})
	fv.Name, _ = c.str(v, "name", path, strRule{max: 50})
	if t, ok := c.enumStr(v, "type", path, typeNames()); ok {
		fv.Type = FormType(t)
	}
	fv.Description, _ = c.str(v, "description", path, strRule{max: 250})
	fv.Placeholder, _ = c.str(v, "placeholder", path, strRule{})
	fv.IsSecret, _ = c.boolean(v, "isSecret", path)
	fv.IsHidden, _ = c.boolean(v, "isHidden", path)
	fv.IsOptional, _ = c.boolean(v, "isOptional", path)
	fv.DisableAfterSaving, _ = c.boolean(v, "disableAfterSaving", path)
	fv.HideEmpty, _ = c.boolean(v, "hideEmpty", path)
	if d, ok := field(v, "defaultValue"); ok {
		if d.Kind() != jsonv.String && d.Kind() != jsonv.Bool {
			c.errorf(d.Offset(), "%s.defaultValue must be a string or a boolean, found %s", path, kindName(d))
		} else {
			fv.DefaultValue = d
		}
	}
	fv.AllowedValues, _ = c.strArray(v, "allowedValues", path, nil)
	if d, ok := field(v, "dynamicOptions"); ok {
		fv.DynamicOptions = c.decodeDynamicOptions(d, join(path, "dynamicOptions"))
	}
	if elems, ok := c.array(v, "dependsOn", path); ok {
		for i, e := range elems {
			fv.DependsOn = append(fv.DependsOn, c.decodeDependency(e, index(join(path, "dependsOn"), i)))
		}
	}
	if elems, ok := c.array(v, "multiselectOptions", path); ok {
		for i, e := range elems {
			fv.MultiselectOptions = append(fv.MultiselectOptions, c.decodeOption(e, index(join(path, "multiselectOptions"), i)))
		}
	}
	fv.MultiselectDefaultOptions, _ = c.strArray(v, "multiselectDefaultOptions", path, nil)
	return fv
}

func typeNames() []string {
	out := make([]string, len(formTypes))
	for i, t := range formTypes {
		out[i] = string(t)
	}
	return out
}

func (c *checker) decodeOption(v jsonv.Value, path string) Option {
	var o Option
	if !c.object(v, path, "label", "value") {
		return o
	}
	c.required(v, path, "label", "value")
	o.Label, _ = c.str(v, "label", path, strRule{})
	o.Value, _ = c.str(v, "value", path, strRule{})
	return o
}

func (c *checker) decodeDynamicOptions(v jsonv.Value, path string) *DynamicOptions {
	d := &DynamicOptions{}
	if !c.object(v, path, "endpoint", "parser") {
		return d
	}
	c.required(v, path, "endpoint", "parser")
	if e, ok := field(v, "endpoint"); ok {
		if ep := c.decodeEndpoint(e, join(path, "endpoint")); ep != nil {
			d.Endpoint = *ep
		}
	}
	if p, ok := field(v, "parser"); ok {
		pp := join(path, "parser")
		if c.object(p, pp, "optionsPath", "optionsItems") {
			c.required(p, pp, "optionsPath", "optionsItems")
			d.Parser.OptionsPath, _ = c.str(p, "optionsPath", pp, strRule{})
			if it, ok := field(p, "optionsItems"); ok {
				d.Parser.OptionsItems = c.decodeOption(it, join(pp, "optionsItems"))
			}
		}
	}
	return d
}

func (c *checker) decodeDependency(v jsonv.Value, path string) Dependency {
	var d Dependency
	if !c.object(v, path, dependsOnFields...) {
		return d
	}
	c.required(v, path, dependsOnFields...)
	d.VariableKey, _ = c.str(v, "variableKey", path, strRule{max: 20, check: noSpace})
	d.VariableLocation, _ = c.enumStr(v, "variableLocation", path, variableLocations)
	d.Action, _ = c.enumStr(v, "action", path, dependsOnActions)
	if elems, ok := c.array(v, "conditions", path); ok {
		for i, e := range elems {
			cp := index(join(path, "conditions"), i)
			var cond Condition
			if c.object(e, cp, conditionFields...) {
				c.required(e, cp, conditionFields...)
				cond.Operator, _ = c.enumStr(e, "operator", cp, operators)
				cond.Value, _ = c.str(e, "value", cp, strRule{max: 250})
			}
			d.Conditions = append(d.Conditions, cond)
		}
	}
	return d
}

// decodeEndpoint decodes definitions.json#/endpoint; nil when v is not an
// object.
func (c *checker) decodeEndpoint(v jsonv.Value, path string) *Endpoint {
	if !c.object(v, path, endpointFields...) {
		return nil
	}
	c.required(v, path, "url", "method")
	ep := &Endpoint{}
	ep.URL, _ = c.str(v, "url", path, strRule{})
	ep.Method, _ = c.enumStr(v, "method", path, methods)
	if elems, ok := c.array(v, "headers", path); ok {
		ep.Headers = make([]HeaderTemplate, 0, len(elems))
		for i, e := range elems {
			hp := index(join(path, "headers"), i)
			var h HeaderTemplate
			if c.object(e, hp, headerFields...) {
				c.required(e, hp, headerFields...)
				h.Name, _ = c.str(e, "name", hp, strRule{max: 50, check: headerName})
				h.Value, _ = c.str(e, "value", hp, strRule{})
			}
			ep.Headers = append(ep.Headers, h)
		}
	}
	if h, ok := field(v, "hmacSignature"); ok {
		hp := join(path, "hmacSignature")
		if c.object(h, hp, hmacFields...) {
			sig := &HMACSignature{}
			// The schema only asks for a string; a name that is no HTTP
			// token stays an error because no HTTP client can send it.
			sig.HeaderName, _ = c.str(h, "headerName", hp, strRule{check: headerName})
			if n := utf8.RuneCountInString(sig.HeaderName); n > 50 {
				c.ourf(h.Get("headerName").Offset(), "%s.headerName is %d characters long; header names in endpoint.headers may have at most 50", hp, n)
			}
			sig.HMACSecretFormVariableKey, _ = c.str(h, "hmacSecretFormVariableKey", hp, strRule{})
			ep.HMACSignature = sig
		}
	}
	return ep
}

// headerName is the schema's "^[^\s]*$" plus what net/http would refuse
// to send: a header name is an HTTP token.
func headerName(s string) string {
	if msg := noSpace(s); msg != "" {
		return msg
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return "must be a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)"
		}
	}
	return ""
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (c *checker) decodeHook(v jsonv.Value, path string, pos *positions) *AuditLogEventsHook {
	h := &AuditLogEventsHook{}
	if !c.object(v, path, hookFields...) {
		return h
	}
	c.required(v, path, "templates")
	if e, ok := field(v, "endpoint"); ok {
		h.Endpoint = c.decodeEndpoint(e, "endpoint")
		pos.endpoint = e
	}
	if t, ok := field(v, "templates"); ok && c.object(t, "templates", TemplateKeys()...) {
		for _, mem := range t.Members() {
			if !contains(TemplateKeys(), mem.Key) {
				continue
			}
			if p, ok := c.str(t, mem.Key, "templates", strRule{}); ok {
				if p == "" {
					// The framework's tests skip an empty path, as if absent.
					c.ourf(mem.Value.Offset(), "templates.%s is an empty string, so it names no template; leave it out instead", mem.Key)
					continue
				}
				h.Templates.set(mem.Key, p)
			}
		}
	}
	if p, ok := field(v, "defaultPolicy"); ok {
		switch {
		case p.Kind() != jsonv.Array:
			c.errorf(p.Offset(), "defaultPolicy must be an array of policy statements, found %s", kindName(p))
		case p.Len() == 0:
			c.errorf(p.Offset(), "defaultPolicy must hold at least one policy statement")
		default:
			ok := true
			for i, st := range p.Elems() {
				if st.Kind() != jsonv.Object {
					c.errorf(st.Offset(), "defaultPolicy[%d] must be a policy statement object, found %s", i, kindName(st))
					ok = false
				}
			}
			if ok {
				line, col := jsonv.LineCol(c.src, p.Offset())
				h.DefaultPolicy = &RawPolicy{Value: p, JSON: []byte(c.src[p.Offset():valueEnd(c.src, p.Offset())]), Offset: p.Offset(), File: c.file, Line: line, Col: col}
			}
		}
	}
	h.IncludeErrorResponseBody, _ = c.boolean(v, "includeErrorResponseBody", "")
	h.DeliveryMethod, _ = c.enumStr(v, "deliveryMethod", "", []string{DeliveryCustom})
	h.UseStandardWebhookPayload, _ = c.boolean(v, "useStandardWebhookPayload", "")
	return h
}

// valueEnd returns the offset just past the JSON value starting at start
// in src, which is known to be well formed.
func valueEnd(src string, start int) int {
	depth := 0
	inStr := false
	for i := start; i < len(src); i++ {
		ch := src[i]
		if inStr {
			switch ch {
			case '\\':
				i++
			case '"':
				inStr = false
				if depth == 0 {
					return i + 1
				}
			}
			continue
		}
		switch ch {
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return len(src)
}
