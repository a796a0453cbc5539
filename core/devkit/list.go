package devkit

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/mask"
)

// ListIntegrations prints the built-in integrations and those in dirs
// (later ones replace earlier ones of the same name) with their templates
// and form variables: a table, or JSON when asJSON. Integrations that fail
// to load are left out and named on s.Err.
func ListIntegrations(dirs []string, asJSON bool, s Streams) error {
	cat, probs := Catalog(dirs...)
	reportLoadProblems(s.Err, probs)
	list := cat.All()
	if asJSON {
		return writeJSON(s.Out, integrationsJSON(list))
	}
	return writeIntegrationsTable(s.Out, list)
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

// origin describes where an integration comes from.
func origin(in *manifest.Integration) string {
	if in.Builtin {
		return "builtin"
	}
	return in.Path
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}

func writeIntegrationsTable(w io.Writer, list []*manifest.Integration) error {
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
			if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
				return err
			}
		}
	}
	return nil
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
