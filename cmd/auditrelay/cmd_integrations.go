package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/mask"
	"github.com/auditrelay/auditrelay/templates"
)

// newIntegrationsCmd groups the commands about known integrations.
func newIntegrationsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "integrations",
		Short: "List the built-in and loaded integrations",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newIntegrationsListCmd(a))
	return cmd
}

func newIntegrationsListCmd(a *app) *cobra.Command {
	var (
		dirs   []string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "list [--dir DIR]... [--json]",
		Aliases: []string{"ls"},
		Short:   "List integrations with their templates and form variables",
		Long: `List the built-in integrations and those loaded from --integrations-dir
and --dir, with their templates and form variables.

A DIR is an integration directory (manifest.json plus templates/) or a
directory of them, such as the integration framework's integrations/ folder.
An integration in a directory replaces a built-in of the same name.
Integrations that fail validation are left out and reported on stderr; run
"auditrelay validate DIR" for the details.

Form variable marks: REQUIRED "yes" when an operator must supply a value;
SECRET "yes" when the value is masked wherever auditrelay shows it.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cat, probs, err := a.catalog(dirs...)
			if err != nil {
				return err
			}
			reportLoadProblems(a.stderr, probs)
			list := cat.All()
			if asJSON {
				return writeJSON(a.stdout, integrationsJSON(list))
			}
			writeIntegrationsTable(a.stdout, list)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "dir", nil, "also load integrations from `DIR` (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// catalog loads the built-in integrations, then the configured
// integrations directories (--integrations-dir, AUDITRELAY_INTEGRATIONS_DIRS
// or integrations_dirs in the config file), then extra directories; later
// ones replace earlier ones of the same name.
func (a *app) catalog(extra ...string) (*manifest.Catalog, manifest.Problems, error) {
	dirs, err := a.integrationsDirs()
	if err != nil {
		return nil, nil, err
	}
	cat := manifest.NewCatalog()
	probs := cat.AddBuiltins(templates.FS())
	for _, d := range append(dirs, extra...) {
		probs = append(probs, cat.AddDir(d)...)
	}
	return cat, probs, nil
}

// integrationsDirs returns the configured integrations directories.
func (a *app) integrationsDirs() ([]string, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	return cfg.IntegrationsDirs, nil
}

// reportLoadProblems tells on stderr which integrations could not be
// loaded, without the full list of problems.
func reportLoadProblems(w io.Writer, probs manifest.Problems) {
	files := map[string]int{}
	var order []string
	for _, p := range probs.Errors() {
		if files[p.File] == 0 {
			order = append(order, p.File)
		}
		files[p.File]++
	}
	for _, f := range order {
		n := files[f]
		fmt.Fprintf(w, "auditrelay: warning: %s: %d problem%s, integration skipped (see auditrelay validate)\n", f, n, plural(n))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// origin describes where an integration comes from.
func origin(in *manifest.Integration) string {
	if in.Builtin {
		return "builtin"
	}
	return in.Path
}

// templateSummary lists the template keys an integration sets, or how it
// builds bodies otherwise.
func templateSummary(in *manifest.Integration) string {
	h := in.Hook()
	switch {
	case h == nil:
		return "(no audit-log hook)"
	case h.UseStandardWebhookPayload:
		return "standard payload"
	}
	var keys []string
	for _, k := range manifest.TemplateKeys() {
		if h.Templates.Get(k) != "" {
			keys = append(keys, k)
		}
	}
	s := strings.Join(keys, ",")
	if h.DeliveryMethod == manifest.DeliveryCustom {
		s += " (custom delivery)"
	}
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}

func writeIntegrationsTable(w io.Writer, list []*manifest.Integration) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tTEMPLATES\tFORM VARIABLE\tTYPE\tREQUIRED\tSECRET\tDEFAULT")
	for _, in := range list {
		first := fmt.Sprintf("%s\t%s\t%s", in.Name, origin(in), templateSummary(in))
		fvs := in.Manifest.FormVariables
		if len(fvs) == 0 {
			fmt.Fprintf(tw, "%s\t-\t\t\t\t\n", first)
			continue
		}
		for i := range fvs {
			fv := &fvs[i]
			lead := "\t\t"
			if i == 0 {
				lead = first
			}
			def := ""
			if !fv.DefaultValue.IsUndefined() {
				def = string(jsonv.Marshal(fv.DefaultValue))
				if fv.IsSecret {
					def = mask.Value(fv.DefaultValue.Text())
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", lead, fv.Key, fv.Type, yesNo(fv.Required()), yesNo(fv.IsSecret), def)
		}
	}
	tw.Flush()
	// Empty trailing cells leave padding behind; drop it.
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			io.WriteString(w, strings.TrimRight(line, " \n")+"\n")
		}
	}
}

func integrationsJSON(list []*manifest.Integration) jsonv.Value {
	out := make([]jsonv.Value, 0, len(list))
	for _, in := range list {
		m := jsonv.NewMembers(8)
		m.Set("name", jsonv.Str(in.Name))
		m.Set("title", jsonv.Str(in.Manifest.Name))
		m.Set("source", jsonv.Str(origin(in)))
		m.Set("path", jsonv.Str(in.Path))
		if h := in.Hook(); h != nil {
			tm := jsonv.NewMembers(6)
			for _, k := range manifest.TemplateKeys() {
				if p := h.Templates.Get(k); p != "" {
					tm.Set(k, jsonv.Str(p))
				}
			}
			m.Set("templates", jsonv.Obj(tm))
			m.Set("standardPayload", jsonv.Boolean(h.UseStandardWebhookPayload))
			if h.DeliveryMethod != "" {
				m.Set("deliveryMethod", jsonv.Str(h.DeliveryMethod))
			}
			if ep := h.Endpoint; ep != nil {
				m.Set("method", jsonv.Str(ep.Method))
			}
		}
		fvs := make([]jsonv.Value, 0, len(in.Manifest.FormVariables))
		for i := range in.Manifest.FormVariables {
			fv := &in.Manifest.FormVariables[i]
			f := jsonv.NewMembers(7)
			f.Set("key", jsonv.Str(fv.Key))
			f.Set("name", jsonv.Str(fv.Name))
			f.Set("type", jsonv.Str(string(fv.Type)))
			f.Set("required", jsonv.Boolean(fv.Required()))
			f.Set("secret", jsonv.Boolean(fv.IsSecret))
			if d := fv.DefaultValue; !d.IsUndefined() {
				if fv.IsSecret {
					d = jsonv.Str(mask.Value(d.Text()))
				}
				f.Set("default", d)
			}
			if len(fv.AllowedValues) > 0 {
				f.Set("allowedValues", jsonv.FromGo(fv.AllowedValues))
			}
			fvs = append(fvs, jsonv.Obj(f))
		}
		m.Set("formVariables", jsonv.Arr(fvs...))
		out = append(out, jsonv.Obj(m))
	}
	return jsonv.Arr(out...)
}

// writeJSON prints v indented, with JSON.stringify's escaping (so strings
// round-trip exactly and nothing is HTML-escaped).
func writeJSON(w io.Writer, v jsonv.Value) error {
	buf := jsonv.MarshalIndent(v, "  ")
	buf = append(buf, '\n')
	_, err := w.Write(buf)
	return err
}
