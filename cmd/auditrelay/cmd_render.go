package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/mask"
)

type renderOpts struct {
	integration string
	contextFile string
	entryFile   string
	sample      string
	baseURL     string
	varsFile    string
	sets        []string
	template    string
	reveal      bool
	oauthBase   string
	oauthToken  string
}

func newRenderCmd(a *app) *cobra.Command {
	var o renderOpts
	cmd := &cobra.Command{
		Use:   "render --integration DIR|NAME (--context FILE | --entry FILE | --sample KIND) [flags]",
		Short: "Show the exact request an integration would send for an entry",
		Long: `Render the HTTP request LaunchDarkly's audit-log events hook would send:
the template chosen by the entry's kind, the URL and headers rendered with
the form variables, and the body. Prints one JSON object:

  {"template": "...", "method": "...", "url": "...",
   "headers": [{"name": "...", "value": "..."}], "body": "..."}

with headers in manifest order (then the signature header) and the body as
the exact rendered string. When nothing would be sent it prints
{"template": ..., "skipped": "<reason>"}; reasons are no-template,
empty-body, no-raw-entry and custom-delivery-method.

The entry comes from one of:
  --context FILE  a template context (the framework's sample-context shape)
  --entry FILE    a LaunchDarkly audit-log entry (webhook or REST API shape),
                  converted to a context; standard-payload hooks send it as is
  --sample KIND   a built-in sample context (` + strings.Join(hook.SampleNames(), ", ") + `)
FILE may be "-" for stdin.

Form values come from --vars (a JSON object of key: value) and --set
key=value (repeatable, overrides --vars; booleans take true/false,
multiselect values a comma-separated list). They are validated against the
form variables; defaults fill the rest. Secret values are masked in the URL,
headers and body unless --reveal is given.

Exit status: 0 when rendered (also when skipped), 1 when rendering fails,
2 on bad usage or bad input files.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runRender(a, &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.integration, "integration", "", "integration `NAME` (built-in or in --integrations-dir) or directory")
	f.StringVar(&o.contextFile, "context", "", "template context JSON `FILE`")
	f.StringVar(&o.entryFile, "entry", "", "audit-log entry JSON `FILE`")
	f.StringVar(&o.sample, "sample", "", "use the built-in sample context `KIND`")
	f.StringVar(&o.baseURL, "base-url", auditlog.DefaultBaseURL, "LaunchDarkly app `URL` for links built from --entry")
	f.StringVar(&o.varsFile, "vars", "", "form-variable values: JSON object `FILE`")
	f.StringArrayVar(&o.sets, "set", nil, "form-variable value `KEY=VALUE` (repeatable)")
	f.StringVar(&o.template, "template", "", "force template `KEY` ("+strings.Join(manifest.TemplateKeys(), ", ")+")")
	f.BoolVar(&o.reveal, "reveal", false, "show secret values instead of masking them")
	f.StringVar(&o.oauthBase, "oauth-base-uri", "", "oauth.baseURI for integrations that require OAuth")
	f.StringVar(&o.oauthToken, "oauth-token", "", "oauth.accessToken for integrations that require OAuth")
	return cmd
}

func runRender(a *app, o *renderOpts) error {
	if o.integration == "" {
		return usageErrorf("render: --integration NAME|DIR is required")
	}
	sources := 0
	for _, s := range []string{o.contextFile, o.entryFile, o.sample} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return usageErrorf("render: give exactly one of --context FILE, --entry FILE or --sample KIND")
	}
	if o.template != "" && !slices.Contains(manifest.TemplateKeys(), o.template) {
		return usageErrorf("render: --template %q: expected one of %s", o.template, strings.Join(manifest.TemplateKeys(), ", "))
	}
	if (o.contextFile == "-" || o.entryFile == "-") && o.varsFile == "-" {
		return usageErrorf("render: only one input can be read from stdin")
	}

	cat, catProbs, err := a.catalog()
	if err != nil {
		return err
	}
	src, err := cat.Lookup(o.integration)
	if err != nil {
		var probs manifest.Problems
		if errors.As(err, &probs) {
			return usageErrorf("render: integration %s is not valid:\n%v", o.integration, probs)
		}
		if catProbs.HasErrors() {
			return usageErrorf("render: %v (some integrations failed to load; run auditrelay validate)", err)
		}
		return usageErrorf("render: %v", err)
	}
	in, err := hook.New(src)
	if err != nil {
		return usageErrorf("render: %v", err)
	}
	if o.template != "" && src.Hook().UseStandardWebhookPayload {
		return usageErrorf("render: --template: %s sends the standard webhook payload; it has no templates", src.Name)
	}

	vars, err := renderVars(a, src.Manifest, o)
	if err != nil {
		return err
	}
	ev, err := renderEvent(a, o)
	if err != nil {
		return err
	}

	var req *hook.Request
	if o.template != "" {
		req, err = in.RenderTemplate(ev, vars, o.template)
	} else {
		req, err = in.Render(ev, vars)
	}
	if err != nil {
		return failure(fmt.Errorf("render: %s: %w", src.Name, err))
	}

	out, masked := requestJSON(req, mask.New(in.Secrets(vars)...), o.reveal)
	if masked {
		fmt.Fprintln(a.stderr, "auditrelay: secret values are masked; use --reveal to show them")
	}
	return writeJSON(a.stdout, out)
}

// renderVars reads --vars and --set, checks them against the form
// variables and applies defaults.
func renderVars(a *app, m *manifest.Manifest, o *renderOpts) (hook.Vars, error) {
	values := map[string]jsonv.Value{}
	if o.varsFile != "" {
		data, err := readRenderInput(a, o.varsFile)
		if err != nil {
			return hook.Vars{}, usageErrorf("render: --vars: %v", err)
		}
		v, err := jsonv.Decode(data)
		if err != nil {
			return hook.Vars{}, usageErrorf("render: %s:%v", o.varsFile, err)
		}
		if v.Kind() != jsonv.Object {
			return hook.Vars{}, usageErrorf("render: %s: expected a JSON object of form-variable values, found %s", o.varsFile, v.Kind())
		}
		for _, mem := range v.Members() {
			values[mem.Key] = mem.Value
		}
	}
	for _, s := range o.sets {
		key, text, ok := strings.Cut(s, "=")
		if !ok || key == "" {
			return hook.Vars{}, usageErrorf("render: --set %q: expected KEY=VALUE", s)
		}
		v, err := m.ParseValue(key, text)
		if err != nil {
			return hook.Vars{}, usageErrorf("render: --set: %v", err)
		}
		values[key] = v
	}
	resolved, err := m.ResolveValues(values)
	if err != nil {
		return hook.Vars{}, usageErrorf("render: form variables:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	vars := hook.Vars{Values: resolved}
	switch {
	case o.oauthBase != "" || o.oauthToken != "":
		vars.OAuth = &hook.OAuth{BaseURI: o.oauthBase, AccessToken: o.oauthToken}
		if !m.RequiresOAuth {
			fmt.Fprintln(a.stderr, "auditrelay: warning: the integration does not require OAuth; --oauth-* values are ignored")
		}
	case m.RequiresOAuth:
		fmt.Fprintln(a.stderr, "auditrelay: warning: the integration requires OAuth but no --oauth-base-uri/--oauth-token was given; templates see oauth as null")
	}
	return vars, nil
}

// renderEvent builds the event from --context, --entry or --sample.
func renderEvent(a *app, o *renderOpts) (*hook.Event, error) {
	switch {
	case o.sample != "":
		ctx, err := hook.Sample(o.sample)
		if err != nil {
			return nil, usageErrorf("render: --sample: %v", err)
		}
		return hook.NewEvent(ctx, nil), nil
	case o.contextFile != "":
		data, err := readRenderInput(a, o.contextFile)
		if err != nil {
			return nil, usageErrorf("render: --context: %v", err)
		}
		ctx, err := jsonv.Decode(data)
		if err != nil {
			return nil, usageErrorf("render: %s:%v", o.contextFile, err)
		}
		if ctx.Kind() != jsonv.Object {
			return nil, usageErrorf("render: %s: expected a template context (JSON object), found %s", o.contextFile, ctx.Kind())
		}
		if ctx.Get("kind").Kind() != jsonv.String {
			fmt.Fprintf(a.stderr, "auditrelay: warning: %s has no \"kind\"; the default template applies\n", o.contextFile)
		}
		return hook.NewEvent(ctx, nil), nil
	default:
		data, err := readRenderInput(a, o.entryFile)
		if err != nil {
			return nil, usageErrorf("render: --entry: %v", err)
		}
		entry, err := auditlog.DecodeEntry(data)
		if err != nil {
			return nil, usageErrorf("render: %s:%v", o.entryFile, err)
		}
		b, err := auditlog.NewBuilder(auditlog.Options{BaseURL: o.baseURL})
		if err != nil {
			return nil, usageErrorf("render: --base-url: %v", err)
		}
		return hook.NewEvent(b.Build(entry), entry.Raw), nil
	}
}

// readRenderInput reads a file, or stdin for "-".
func readRenderInput(a *app, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(a.stdin)
	}
	return os.ReadFile(path)
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
