package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/devkit"
	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/manifest"
)

func newRenderCmd(a *app) *cobra.Command {
	var o devkit.RenderOptions
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
		RunE: func(*cobra.Command, []string) error {
			dirs, err := a.integrationsDirs()
			if err != nil {
				return err
			}
			o.Dirs = dirs
			return devkitError(devkit.Render(o, a.streams()))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Integration, "integration", "", "integration `NAME` (built-in or in --integrations-dir) or directory")
	f.StringVar(&o.ContextFile, "context", "", "template context JSON `FILE`")
	f.StringVar(&o.EntryFile, "entry", "", "audit-log entry JSON `FILE`")
	f.StringVar(&o.Sample, "sample", "", "use the built-in sample context `KIND`")
	f.StringVar(&o.BaseURL, "base-url", auditlog.DefaultBaseURL, "LaunchDarkly app `URL` for links built from --entry")
	f.StringVar(&o.VarsFile, "vars", "", "form-variable values: JSON object `FILE`")
	f.StringArrayVar(&o.Sets, "set", nil, "form-variable value `KEY=VALUE` (repeatable)")
	f.StringVar(&o.Template, "template", "", "force template `KEY` ("+strings.Join(manifest.TemplateKeys(), ", ")+")")
	f.BoolVar(&o.Reveal, "reveal", false, "show secret values instead of masking them")
	f.StringVar(&o.OAuthBase, "oauth-base-uri", "", "oauth.baseURI for integrations that require OAuth")
	f.StringVar(&o.OAuthToken, "oauth-token", "", "oauth.accessToken for integrations that require OAuth")
	return cmd
}
