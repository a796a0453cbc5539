package hook

import (
	"fmt"
	"slices"
	"strings"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/render"
)

// Lint checks the integration the way the framework's test suite does,
// with auditrelay's own sample contexts: the URL and header templates
// must render in Handlebars strict mode against the endpoint scope; each
// body template must render strictly with the sample for its key
// (flag/default: flag, project: project, environment/validation:
// environment, member: member); JSON templates other than validation must
// produce valid JSON; validation must not render blank. Form variables get
// the framework's test values (the key itself, true, https://<key>.com).
//
// Problems keep the severity the checks give them; callers decide whether
// a lint problem fails validation.
func (in *Integration) Lint() manifest.Problems {
	var probs manifest.Problems
	src := in.src
	m := src.Manifest
	add := func(name string, line, col int, sev manifest.Severity, msg string) {
		file, l, c := src.Locate(name, line, col)
		if line == 0 {
			l, c = 0, 0
		}
		probs = append(probs, manifest.Problem{File: file, Line: l, Col: c, Severity: sev, Msg: msg})
	}
	issues := func(name string, is []render.Issue, what string) {
		for _, is := range is {
			sev := manifest.SeverityError
			if is.Severity == "warning" {
				sev = manifest.SeverityWarning
			}
			add(name, is.Line, is.Col, sev, fmt.Sprintf("lint (%s): %s", what, is.Msg))
		}
	}
	bound := in.Bind(TestVars(m))
	flag, err := Sample("flag")
	if err != nil {
		return manifest.Problems{{File: src.Path, Severity: manifest.SeverityError, Msg: "lint: " + err.Error()}}
	}
	if in.method != "" {
		root := bound.endpointRoot(NewEvent(flag, nil))
		if in.url.tpl != nil {
			issues("endpoint.url", in.url.tpl.Lint(root), "endpoint scope")
		}
		for i, h := range in.headers {
			if h.tpl != nil {
				issues(fmt.Sprintf("endpoint.headers[%d].value", i), h.tpl.Lint(root), "endpoint scope")
			}
		}
	}
	for _, key := range manifest.TemplateKeys() {
		b := in.bodies[key]
		if b == nil {
			continue
		}
		sample := lintSample(key)
		ctx, err := Sample(sample)
		if err != nil {
			return append(probs, manifest.Problem{File: src.Path, Severity: manifest.SeverityError, Msg: "lint: " + err.Error()})
		}
		ev := NewEvent(ctx, nil)
		c := ev.Context()
		if b.json {
			c = ev.Escaped()
		}
		root := bound.bodyRoot(c)
		what := fmt.Sprintf("templates.%s, sample %s context", key, sample)
		found := b.tpl.Lint(root)
		if key == manifest.TemplateValidation {
			// The framework does not require the validation body to be
			// JSON, only not blank.
			found = slices.DeleteFunc(found, func(is render.Issue) bool {
				return strings.HasPrefix(is.Msg, "rendered output is not valid JSON")
			})
			if out, err := b.tpl.Execute(root); err == nil && strings.TrimSpace(out) == "" {
				add(b.path, 0, 0, manifest.SeverityError, "lint ("+what+"): renders an empty body, so the validation test event would send nothing")
			}
		}
		issues(b.path, found, what)
	}
	probs.Sort()
	return slices.CompactFunc(probs, func(a, b manifest.Problem) bool {
		return a.File == b.File && a.Line == b.Line && a.Col == b.Col && stripContext(a.Msg) == stripContext(b.Msg)
	})
}

// stripContext drops the "lint (...): " prefix so that one finding
// reported with two sample contexts counts once.
func stripContext(msg string) string {
	if i := strings.Index(msg, "): "); i >= 0 && strings.HasPrefix(msg, "lint (") {
		return msg[i+3:]
	}
	return msg
}

// testValues are the form-variable values the framework's tests render
// with.
func testValues(m *manifest.Manifest) map[string]jsonv.Value {
	vals := map[string]jsonv.Value{}
	for i := range m.FormVariables {
		fv := &m.FormVariables[i]
		switch fv.Type {
		case manifest.TypeBoolean:
			vals[fv.Key] = jsonv.Boolean(true)
		case manifest.TypeURI:
			vals[fv.Key] = jsonv.Str("https://" + fv.Key + ".com")
		case manifest.TypeString, manifest.TypeEnum, manifest.TypeDynamicEnum, manifest.TypeGenerated:
			vals[fv.Key] = jsonv.Str(fv.Key)
		}
	}
	return vals
}

// TestVars are the form values the framework's tests render with (the key
// itself, true, https://<key>.com) and, for OAuth integrations, example
// credentials: values that are nobody's secrets, for checks and previews
// of an integration rather than of a subscription.
func TestVars(m *manifest.Manifest) Vars {
	vars := Vars{Values: testValues(m)}
	if m.RequiresOAuth {
		vars.OAuth = &OAuth{BaseURI: "https://oauth.example.com", AccessToken: "oauth-access-token"}
	}
	return vars
}

// BodyContext is the root a body template of key is rendered with for ev
// (the entry, JSON-escaped for JSON templates, plus formVariables), and
// false when the integration has no such template.
func (b *Bound) BodyContext(ev *Event, key string) (jsonv.Value, bool) {
	bt := b.in.bodies[key]
	if bt == nil {
		return jsonv.Value{}, false
	}
	ctx := ev.Context()
	if bt.json {
		ctx = ev.Escaped()
	}
	return b.bodyRoot(ctx), true
}

// EndpointContext is the root the URL and header templates are rendered
// with for ev: the form variables, the entry as context, and oauth.
func (b *Bound) EndpointContext(ev *Event) jsonv.Value {
	m := jsonv.NewMembers(len(b.top) + 2)
	for _, mem := range b.top {
		m.Set(mem.Key, mem.Value)
	}
	m.Set("context", ev.Context())
	m.Set("oauth", b.oauth)
	return jsonv.Obj(m)
}
