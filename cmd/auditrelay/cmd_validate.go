package main

import (
	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/devkit"
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
			o := devkit.ValidateOptions{Builtin: builtin || len(args) == 0, Paths: args, Lint: !noLint, Strict: strict, ProductionDiff: prodDiff}
			if len(args) == 0 {
				dirs, err := a.integrationsDirs()
				if err != nil {
					return err
				}
				o.Paths = dirs
			}
			if devkit.Validate(a.stdout, o) > 0 {
				return failure(nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&builtin, "builtin", false, "validate the built-in integrations")
	cmd.Flags().BoolVar(&strict, "strict", false, "treat strict-mode lint findings and auditrelay's own rules as errors")
	cmd.Flags().BoolVar(&noLint, "no-lint", false, "skip the strict-mode lint and the production render check")
	cmd.Flags().BoolVar(&prodDiff, "production-diff", false, "print how Go Handlebars' output differs, as unified diffs")
	return cmd
}
