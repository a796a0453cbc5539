package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/hook"
	"github.com/auditrelay/auditrelay/core/manifest"
	"github.com/auditrelay/auditrelay/core/policy"
	"github.com/auditrelay/auditrelay/core/prodcheck"
	"github.com/auditrelay/auditrelay/templates"
)

func newValidateCmd(a *app) *cobra.Command {
	var builtin, strict, noLint, prodDiff bool
	cmd := &cobra.Command{
		Use:   "validate [PATH...] [--builtin] [--strict] [--no-lint] [--production-diff]",
		Short: "Check integration manifests and templates",
		Long: `Validate integrations the way LaunchDarkly's integration framework does,
reporting every problem as FILE:LINE:COL: MESSAGE.

A PATH is an integration directory (manifest.json plus its templates), a
manifest.json file, or a directory of integrations such as the framework's
integrations/ folder. --builtin validates the integrations built into
auditrelay. Without PATH, the built-ins and --integrations-dir are checked.

Checks: the manifest against the framework's closed schema (unknown fields
are errors), the framework's extra rules (standard payload without
templates, template files exist, HMAC secret is a secret string, defaults
match types, ...), template syntax, and form variables referenced but not
declared. Then a strict-mode lint renders every template as the
framework's tests do, with auditrelay's sample contexts: URL and headers
in strict mode, bodies in strict mode, JSON bodies must parse, the
validation template must not be blank.

Rules of auditrelay's own, beyond what LaunchDarkly's schema and tests
enforce (a static endpoint host for includeErrorResponseBody whatever the
spelling, enum variables with allowedValues, form variable keys declared
once, ...), are warnings marked "auditrelay's rule", because LaunchDarkly
publishes integrations that break them. Lint findings are warnings too,
because auditrelay itself renders leniently (a missing field prints as
empty, as LaunchDarkly's production renderer does). --strict makes both
errors.

Last, every template is rendered with Go Handlebars (raymond, the library
LaunchDarkly's production renderer uses) for auditrelay's sample contexts,
and a warning says where LaunchDarkly would send different bytes than
auditrelay (a standalone line kept, an array printed without commas, ...),
with the line. --production-diff also prints each difference as a unified
diff, per template and sample.

Exit status: 0 when every integration is valid (warnings allowed), 1 when
any has an error.`,
		RunE: func(_ *cobra.Command, args []string) error {
			var results []manifest.Result
			var global manifest.Problems
			if builtin || len(args) == 0 {
				rs, ps := manifest.ScanBuiltins(templates.FS())
				results, global = append(results, rs...), append(global, ps...)
			}
			if len(args) == 0 {
				dirs, err := a.integrationsDirs()
				if err != nil {
					return err
				}
				args = dirs
			}
			for _, p := range args {
				rs, ps := manifest.Scan(p)
				results, global = append(results, rs...), append(global, ps...)
			}
			return validateResults(a.stdout, results, global, validateOptions{lint: !noLint, strict: strict, productionDiff: prodDiff})
		},
	}
	cmd.Flags().BoolVar(&builtin, "builtin", false, "validate the built-in integrations")
	cmd.Flags().BoolVar(&strict, "strict", false, "treat strict-mode lint findings and auditrelay's own rules as errors")
	cmd.Flags().BoolVar(&noLint, "no-lint", false, "skip the strict-mode lint and the production render check")
	cmd.Flags().BoolVar(&prodDiff, "production-diff", false, "print how Go Handlebars' output differs, as unified diffs")
	return cmd
}

// validateResults lints the loaded integrations, prints every problem and
// a summary line per integration, and fails when any error was found.
type validateOptions struct {
	lint, strict, productionDiff bool
}

func validateResults(w io.Writer, results []manifest.Result, global manifest.Problems, o validateOptions) error {
	lint, strict := o.lint, o.strict
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
		if strict {
			probs = probs.Strict()
		}
		if in := r.Integration; in != nil && in.Hook() != nil && in.Hook().DefaultPolicy != nil {
			probs = append(probs, policyProblems(in)...)
		}
		if in := r.Integration; in != nil && lint && in.Hook() != nil {
			h, err := hook.New(in)
			if err != nil {
				probs = append(probs, manifest.Problem{File: in.File(manifest.ManifestFile), Severity: manifest.SeverityError, Msg: err.Error()})
			} else {
				for _, p := range h.Lint() {
					if !strict {
						p.Severity = manifest.SeverityWarning
					}
					probs = append(probs, p)
				}
				rep, err := prodcheck.Check(h, prodcheck.Options{})
				if err != nil {
					return err
				}
				probs = append(probs, prodcheck.Problems(in, rep)...)
				if o.productionDiff {
					diffs = append(diffs, rep.Diffs...)
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
	if errs > 0 {
		return failure(nil)
	}
	return nil
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
	s := fmt.Sprintf("%d template%s (%s), %s", len(files), plural(len(files)), templateSummary(in), vars)
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
