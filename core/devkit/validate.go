package devkit

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/policy"
	"github.com/auditrelay/auditrelay/core/prodcheck"
	"github.com/auditrelay/auditrelay/templates"
)

// ValidateOptions say what to validate and how strictly.
type ValidateOptions struct {
	// Builtin validates the integrations built into auditrelay.
	Builtin bool
	// Paths are integration directories, manifest.json files or
	// directories of integrations (the framework's integrations/ folder).
	Paths []string
	// Lint renders every template in strict mode, as the framework's tests
	// do, and with Go Handlebars (the production check); its findings are
	// warnings unless Strict.
	Lint bool
	// Strict makes lint findings and auditrelay's own rules errors.
	Strict bool
	// ProductionDiff prints each production-check difference as a
	// unified diff.
	ProductionDiff bool
}

// Validate checks the integrations o names, prints every problem and a
// summary line per integration to w, and returns the number of errors
// (0: every integration is valid, warnings allowed).
func Validate(w io.Writer, o ValidateOptions) int {
	var results []manifest.Result
	var global manifest.Problems
	if o.Builtin {
		rs, ps := manifest.ScanBuiltins(templates.FS())
		results, global = append(results, rs...), append(global, ps...)
	}
	for _, p := range o.Paths {
		rs, ps := manifest.Scan(p)
		results, global = append(results, rs...), append(global, ps...)
	}

	errs := 0
	global.Sort()
	for _, p := range global {
		fmt.Fprintln(w, p)
		if p.Severity == manifest.SeverityError {
			errs++
		}
	}
	valid := 0
	for _, r := range results {
		probs := append(manifest.Problems(nil), r.Problems...)
		var diffs []prodcheck.Diff
		if o.Strict {
			probs = probs.Strict()
		}
		if in := r.Integration; in != nil && in.Hook() != nil && in.Hook().DefaultPolicy != nil {
			probs = append(probs, policyProblems(in)...)
		}
		if in := r.Integration; in != nil && o.Lint && in.Hook() != nil {
			h, err := hook.New(in)
			if err != nil {
				probs = append(probs, manifest.Problem{File: in.File(manifest.ManifestFile), Severity: manifest.SeverityError, Msg: err.Error()})
			} else {
				for _, p := range h.Lint() {
					if !o.Strict {
						p.Severity = manifest.SeverityWarning
					}
					probs = append(probs, p)
				}
				rep, err := prodcheck.Check(h, prodcheck.Options{})
				if err != nil {
					probs = append(probs, manifest.Problem{File: in.File(manifest.ManifestFile), Severity: manifest.SeverityError, Msg: "production check: " + err.Error()})
				} else {
					probs = append(probs, prodcheck.Problems(in, rep)...)
					if o.ProductionDiff {
						diffs = append(diffs, rep.Diffs...)
					}
				}
			}
		}
		probs.Sort()
		nErr, nWarn := 0, 0
		for _, p := range probs {
			fmt.Fprintln(w, p)
			if p.Severity == manifest.SeverityError {
				nErr++
			} else {
				nWarn++
			}
		}
		for _, d := range diffs {
			fmt.Fprint(w, d.Unified())
		}
		errs += nErr
		var notes []string
		if in := r.Integration; in != nil {
			notes = append(notes, describeIntegration(in))
		}
		if nErr > 0 {
			notes = append(notes, fmt.Sprintf("%d error%s", nErr, plural(nErr)))
		}
		if nWarn > 0 {
			notes = append(notes, fmt.Sprintf("%d warning%s", nWarn, plural(nWarn)))
		}
		status := "ok  "
		if nErr > 0 {
			status = "FAIL"
		} else {
			valid++
		}
		fmt.Fprintf(w, "%s  %s  %s: %s\n", status, r.Name, r.Path, strings.Join(notes, ", "))
	}
	if len(results) > 1 {
		fmt.Fprintf(w, "%d of %d integrations valid\n", valid, len(results))
	}
	return errs
}

// describeIntegration summarizes what a valid integration sends.
func describeIntegration(in *manifest.Integration) string {
	h := in.Hook()
	fvs := len(in.Manifest.FormVariables)
	vars := fmt.Sprintf("%d form variable%s", fvs, plural(fvs))
	switch {
	case h == nil:
		return "no audit-log hook, " + vars
	case h.UseStandardWebhookPayload:
		return "standard webhook payload, " + vars
	}
	files := map[string]bool{}
	for _, k := range manifest.TemplateKeys() {
		if p := h.Templates.Get(k); p != "" {
			files[p] = true
		}
	}
	return fmt.Sprintf("%d template%s (%s), %s", len(files), plural(len(files)), templateSummary(in), vars)
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

// policyProblems checks the manifest's defaultPolicy with core/policy, the
// parser the relay filters entries with.
func policyProblems(in *manifest.Integration) manifest.Problems {
	file := in.File(manifest.ManifestFile)
	prob := func(sev manifest.Severity, line, col int, msg string) manifest.Problem {
		return manifest.Problem{File: file, Line: line, Col: col, Severity: sev, Msg: "defaultPolicy: " + msg}
	}
	p, err := policy.ParseManifest(in.ManifestJSON())
	var probs manifest.Problems
	if err != nil {
		var list policy.ErrorList
		if !errors.As(err, &list) {
			return manifest.Problems{prob(manifest.SeverityError, 0, 0, err.Error())}
		}
		for _, e := range list {
			probs = append(probs, prob(manifest.SeverityError, e.Line, e.Col, stripPosition(e.Error(), e.Line, e.Col)))
		}
		return probs
	}
	for _, w := range p.Warnings() {
		probs = append(probs, prob(manifest.SeverityWarning, w.Line, w.Col, stripPosition(w.String(), w.Line, w.Col)))
	}
	return probs
}

// stripPosition drops the "line:col: " prefix policy messages carry, since
// the problem shows the position itself.
func stripPosition(msg string, line, col int) string {
	return strings.TrimPrefix(msg, fmt.Sprintf("%d:%d: ", line, col))
}
