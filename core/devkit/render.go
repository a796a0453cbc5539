package devkit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/mask"
)

// RenderOptions say which request to render: an integration, one source of
// the entry (ContextFile, EntryFile or Sample; a file may be "-" for
// standard input), form values and, optionally, the template.
type RenderOptions struct {
	Integration string   // a name in the catalog, or a directory
	Dirs        []string // integration directories besides the built-ins (integrations_dirs)
	ContextFile string   // a template context (the framework's sample-context shape)
	EntryFile   string   // a LaunchDarkly audit-log entry, converted to a context
	Sample      string   // a built-in sample context (hook.SampleNames)
	BaseURL     string   // LaunchDarkly's app URL, for links built from EntryFile
	VarsFile    string   // form values: a JSON object
	Sets        []string
	Template    string // force this template key
	Reveal      bool   // show secret values instead of masking them
	OAuthBase   string
	OAuthToken  string
}

// Render prints, as one JSON object, the request the integration would
// send for the entry: template, method, URL, headers (in manifest order,
// then the signature header) and the exact body; or the template and why
// nothing would be sent. Secrets are masked unless o.Reveal.
func Render(o RenderOptions, s Streams) error {
	if o.Integration == "" {
		return inputErrorf("render: --integration NAME|DIR is required")
	}
	sources := 0
	for _, f := range []string{o.ContextFile, o.EntryFile, o.Sample} {
		if f != "" {
			sources++
		}
	}
	if sources != 1 {
		return inputErrorf("render: give exactly one of --context FILE, --entry FILE or --sample KIND")
	}
	if o.Template != "" && !slices.Contains(manifest.TemplateKeys(), o.Template) {
		return inputErrorf("render: --template %q: expected one of %s", o.Template, strings.Join(manifest.TemplateKeys(), ", "))
	}
	if (o.ContextFile == "-" || o.EntryFile == "-") && o.VarsFile == "-" {
		return inputErrorf("render: only one input can be read from stdin")
	}

	cat, catProbs := Catalog(o.Dirs...)
	src, err := cat.Lookup(o.Integration)
	if err != nil {
		var probs manifest.Problems
		if errors.As(err, &probs) {
			return inputErrorf("render: integration %s is not valid:\n%v", o.Integration, probs)
		}
		if catProbs.HasErrors() {
			return inputErrorf("render: %v (some integrations failed to load; run auditrelay validate)", err)
		}
		return inputErrorf("render: %v", err)
	}
	in, err := hook.New(src)
	if err != nil {
		return inputErrorf("render: %v", err)
	}
	if o.Template != "" && src.Hook().UseStandardWebhookPayload {
		return inputErrorf("render: --template: %s sends the standard webhook payload; it has no templates", src.Name)
	}

	vars, err := renderVars(s, src.Manifest, o)
	if err != nil {
		return err
	}
	ev, err := renderEvent(s, o)
	if err != nil {
		return err
	}

	var req *hook.Request
	if o.Template != "" {
		req, err = in.RenderTemplate(ev, vars, o.Template)
	} else {
		req, err = in.Render(ev, vars)
	}
	if err != nil {
		return fmt.Errorf("render: %s: %w", src.Name, err)
	}

	out, masked := requestJSON(req, mask.New(in.Secrets(vars)...), o.Reveal)
	if masked {
		fmt.Fprintln(s.Err, "auditrelay: secret values are masked; use --reveal to show them")
	}
	return writeJSON(s.Out, out)
}

// renderVars reads --vars and --set, checks them against the form
// variables and applies defaults.
func renderVars(s Streams, m *manifest.Manifest, o RenderOptions) (hook.Vars, error) {
	values := map[string]jsonv.Value{}
	if o.VarsFile != "" {
		_, data, err := ReadInput(s.In, o.VarsFile)
		if err != nil {
			return hook.Vars{}, inputErrorf("render: --vars: %v", err)
		}
		v, err := jsonv.Decode(data)
		if err != nil {
			return hook.Vars{}, inputErrorf("render: %s:%v", o.VarsFile, err)
		}
		if v.Kind() != jsonv.Object {
			return hook.Vars{}, inputErrorf("render: %s: expected a JSON object of form-variable values, found %s", o.VarsFile, v.Kind())
		}
		for _, mem := range v.Members() {
			values[mem.Key] = mem.Value
		}
	}
	for _, s := range o.Sets {
		key, text, ok := strings.Cut(s, "=")
		if !ok || key == "" {
			return hook.Vars{}, inputErrorf("render: --set %q: expected KEY=VALUE", s)
		}
		v, err := m.ParseValue(key, text)
		if err != nil {
			return hook.Vars{}, inputErrorf("render: --set: %v", err)
		}
		values[key] = v
	}
	resolved, err := m.ResolveValues(values)
	if err != nil {
		return hook.Vars{}, inputErrorf("render: form variables:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	vars := hook.Vars{Values: resolved}
	switch {
	case o.OAuthBase != "" || o.OAuthToken != "":
		vars.OAuth = &hook.OAuth{BaseURI: o.OAuthBase, AccessToken: o.OAuthToken}
		if !m.RequiresOAuth {
			fmt.Fprintln(s.Err, "auditrelay: warning: the integration does not require OAuth; --oauth-* values are ignored")
		}
	case m.RequiresOAuth:
		fmt.Fprintln(s.Err, "auditrelay: warning: the integration requires OAuth but no --oauth-base-uri/--oauth-token was given; templates see oauth as null")
	}
	return vars, nil
}

// renderEvent builds the event from --context, --entry or --sample.
func renderEvent(s Streams, o RenderOptions) (*hook.Event, error) {
	switch {
	case o.Sample != "":
		ctx, err := hook.Sample(o.Sample)
		if err != nil {
			return nil, inputErrorf("render: --sample: %v", err)
		}
		return hook.NewEvent(ctx, nil), nil
	case o.ContextFile != "":
		_, data, err := ReadInput(s.In, o.ContextFile)
		if err != nil {
			return nil, inputErrorf("render: --context: %v", err)
		}
		ctx, err := jsonv.Decode(data)
		if err != nil {
			return nil, inputErrorf("render: %s:%v", o.ContextFile, err)
		}
		if ctx.Kind() != jsonv.Object {
			return nil, inputErrorf("render: %s: expected a template context (JSON object), found %s", o.ContextFile, ctx.Kind())
		}
		if ctx.Get("kind").Kind() != jsonv.String {
			fmt.Fprintf(s.Err, "auditrelay: warning: %s has no \"kind\"; the default template applies\n", o.ContextFile)
		}
		return hook.NewEvent(ctx, nil), nil
	default:
		_, data, err := ReadInput(s.In, o.EntryFile)
		if err != nil {
			return nil, inputErrorf("render: --entry: %v", err)
		}
		entry, err := auditlog.DecodeEntry(data)
		if err != nil {
			return nil, inputErrorf("render: %s:%v", o.EntryFile, err)
		}
		b, err := auditlog.NewBuilder(auditlog.Options{BaseURL: o.BaseURL})
		if err != nil {
			return nil, inputErrorf("render: --base-url: %v", err)
		}
		return hook.NewEvent(b.Build(entry), entry.Raw), nil
	}
}

// requestJSON is the render output for req, masked by m as everything
// auditrelay shows is (core/mask), unless reveal. It reports whether
// anything was masked.
func requestJSON(req *hook.Request, m *mask.Masker, reveal bool) (jsonv.Value, bool) {
	masked := false
	show := func(raw, shown string) string {
		if reveal {
			return raw
		}
		if shown != raw {
			masked = true
		}
		return shown
	}
	out := jsonv.NewMembers(6)
	if req.Template != "" {
		out.Set("template", jsonv.Str(req.Template))
	} else {
		out.Set("template", jsonv.NullValue())
	}
	if req.Skipped != "" {
		out.Set("skipped", jsonv.Str(req.Skipped))
		if req.Custom && req.Body != nil {
			out.Set("body", jsonv.Str(show(string(req.Body), m.Text(string(req.Body)))))
		}
		return jsonv.Obj(out), masked
	}
	out.Set("method", jsonv.Str(req.Method))
	out.Set("url", jsonv.Str(show(req.URL, m.URL(req.URL, req.URLSecret))))
	hs := make([]jsonv.Value, len(req.Headers))
	for i, h := range req.Headers {
		hm := jsonv.NewMembers(2)
		hm.Set("name", jsonv.Str(h.Name))
		hm.Set("value", jsonv.Str(show(h.Value, m.Header(h.Name, h.Value, h.Secret))))
		hs[i] = jsonv.Obj(hm)
	}
	out.Set("headers", jsonv.Arr(hs...))
	out.Set("body", jsonv.Str(show(string(req.Body), m.Text(string(req.Body)))))
	return jsonv.Obj(out), masked
}
