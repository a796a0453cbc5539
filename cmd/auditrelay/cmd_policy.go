package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/devkit"
	"github.com/auditrelay/auditrelay/core/policy"
)

// newPolicyCmd groups the commands that check and explain integration
// policies.
func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check entries against an integration policy and lint policies",
		Long: `Work with LaunchDarkly policies: the defaultPolicy of an audit-log events
hook, or any JSON array of policy statements.

A FILE is either a JSON array of statements or an integration manifest.json,
whose capabilities.auditLogEventsHook.defaultPolicy is used. "-" reads stdin.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newPolicyCheckCmd(a), newPolicyLintCmd(a))
	return cmd
}

func newPolicyCheckCmd(a *app) *cobra.Command {
	var policyPath, entryPath, resource, action string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check --policy FILE (--entry FILE | --resource SPEC --action ACTION) [--json]",
		Short: "Explain whether an audit-log entry would be sent",
		Long: `Evaluate an audit-log entry against a policy and explain the decision for
every access and every statement.

--entry reads a LaunchDarkly audit-log entry (REST API or webhook shape) as
the relay reads every entry it receives (_id, date, kind and accesses are
required; a refused entry is reported as FILE:line:col: "field": reason) and
uses its "accesses". --resource and --action give a single access instead,
such as --resource proj/default:env/production:flag/checkout --action updateOn.

Exit status: 0 when the entry would be sent, 1 when not, 2 on invalid input.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			switch {
			case policyPath == "":
				return usageErrorf("policy check: --policy FILE is required")
			case entryPath != "" && (resource != "" || action != ""):
				return usageErrorf("policy check: give either --entry or --resource with --action, not both")
			case entryPath == "" && resource == "" && action == "":
				return usageErrorf("policy check: give --entry FILE, or --resource SPEC with --action ACTION")
			case entryPath == "" && (resource == "" || action == ""):
				return usageErrorf("policy check: --resource and --action go together")
			case policyPath == "-" && entryPath == "-":
				return usageErrorf("policy check: only one of --policy and --entry can read stdin")
			}
			p, err := loadPolicyFile(a, policyPath)
			if err != nil {
				return err
			}
			var accesses []policy.Access
			if entryPath != "" {
				name, data, err := devkit.ReadInput(a.stdin, entryPath)
				if err != nil {
					return usageErrorf("policy check: %v", err)
				}
				// The entry is read as every source reads one, and
				// refused in the same words: FILE:line:col: "field": …
				entry, err := auditlog.DecodeEntry(data)
				if err != nil {
					return usageErrorf("policy check: %s:%v", name, err)
				}
				for _, w := range entry.Warnings {
					fmt.Fprintf(a.stderr, "auditrelay: %s:%d:%d: warning: %q: %s\n", name, w.Line, w.Col, w.Field, w.Msg)
				}
				for i, acc := range entry.Accesses {
					accesses = append(accesses, policy.NewAccess(acc.Action, acc.Resource))
					if err := accesses[i].Err(); err != nil {
						fmt.Fprintf(a.stderr, "auditrelay: warning: %s: access %d cannot be evaluated: %v\n", name, i, err)
					}
				}
			} else {
				acc := policy.NewAccess(action, resource)
				if err := acc.Err(); err != nil {
					return usageErrorf("policy check: --resource: %v", err)
				}
				accesses = []policy.Access{acc}
			}
			printPolicyWarnings(a, policyPath, p.Warnings())

			e := p.Explain(accesses)
			if asJSON {
				out, err := json.MarshalIndent(e, "", "  ")
				if err != nil {
					return fmt.Errorf("policy check: %w", err)
				}
				fmt.Fprintf(a.stdout, "%s\n", out)
			} else {
				io.WriteString(a.stdout, e.Text())
			}
			if !e.Sent {
				return failure(nil)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&policyPath, "policy", "", "policy `FILE`: a JSON array of statements or a manifest.json")
	f.StringVar(&entryPath, "entry", "", "audit-log entry JSON `FILE`")
	f.StringVar(&resource, "resource", "", "access resource `SPEC`, e.g. proj/default:env/production:flag/checkout")
	f.StringVar(&action, "action", "", "access `ACTION`, e.g. updateOn")
	f.BoolVar(&asJSON, "json", false, "print the explanation as JSON")
	return cmd
}

func newPolicyLintCmd(a *app) *cobra.Command {
	var policyPath string
	cmd := &cobra.Command{
		Use:   "lint --policy FILE",
		Short: "Validate a policy and list every error and warning",
		Long: `Validate a policy and print every error and warning with its line and
column. For a manifest, an empty defaultPolicy is an error, as the integration
framework's schema requires at least one statement.

Exit status: 0 when the policy is valid (warnings allowed), 1 when it is not,
2 when the file cannot be read.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if policyPath == "" {
				return usageErrorf("policy lint: --policy FILE is required")
			}
			data, err := readPolicyInput(a, policyPath)
			if err != nil {
				return usageErrorf("policy lint: %v", err)
			}
			p, err := policy.Parse(data)
			if err != nil {
				var list policy.ErrorList
				if !errors.As(err, &list) {
					return fmt.Errorf("policy lint: %s: %w", policyPath, err)
				}
				for _, e := range list {
					fmt.Fprintf(a.stdout, "%s: error: %s\n", policyLocation(policyPath, e.Line, e.Col), policyErrorText(e))
				}
				fmt.Fprintf(a.stdout, "%s: invalid: %d error%s\n", policyPath, len(list), policyPlural(len(list)))
				return failure(nil)
			}
			warnings := p.Warnings()
			for _, w := range warnings {
				fmt.Fprintf(a.stdout, "%s: warning: %s\n", policyLocation(policyPath, w.Line, w.Col), policyWarningText(w))
			}
			if p.Source() == policy.SourceManifest && p.Empty() && !p.Absent() {
				fmt.Fprintf(a.stdout, "%s: error: capabilities.auditLogEventsHook.defaultPolicy: the integration schema requires at least one statement (minItems 1)\n", policyPath)
				fmt.Fprintf(a.stdout, "%s: invalid: 1 error\n", policyPath)
				return failure(nil)
			}
			fmt.Fprintf(a.stdout, "%s: ok: %d statement%s, %d warning%s\n", policyPath,
				p.Len(), policyPlural(p.Len()), len(warnings), policyPlural(len(warnings)))
			return nil
		},
	}
	cmd.Flags().StringVar(&policyPath, "policy", "", "policy `FILE`: a JSON array of statements or a manifest.json")
	return cmd
}

// loadPolicyFile reads and compiles a policy; any problem is bad input (exit 2)
// and is reported with the file name, line and column.
func loadPolicyFile(a *app, path string) (*policy.Policy, error) {
	data, err := readPolicyInput(a, path)
	if err != nil {
		return nil, usageErrorf("policy check: %v", err)
	}
	p, err := policy.Parse(data)
	if err == nil {
		return p, nil
	}
	var list policy.ErrorList
	if !errors.As(err, &list) {
		return nil, usageErrorf("policy check: %s: %v", path, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "policy check: %s: invalid policy (%d error%s):", path, len(list), policyPlural(len(list)))
	for _, e := range list {
		fmt.Fprintf(&b, "\n  %s: %s", policyLocation(path, e.Line, e.Col), policyErrorText(e))
	}
	return nil, usageErrorf("%s", b.String())
}

// readPolicyInput reads a file, or stdin for "-".
func readPolicyInput(a *app, path string) ([]byte, error) {
	if path == "-" {
		data, err := io.ReadAll(a.stdin)
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %w", err)
	}
	return data, nil
}

func printPolicyWarnings(a *app, path string, ws []policy.Warning) {
	for _, w := range ws {
		fmt.Fprintf(a.stderr, "auditrelay: warning: %s: %s\n", policyLocation(path, w.Line, w.Col), policyWarningText(w))
	}
}

func policyLocation(path string, line, col int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d:%d", path, line, col)
	}
	return path
}

// policyErrorText formats a policy error without its line and column, which
// location prints in front.
func policyErrorText(e *policy.Error) string {
	c := *e
	c.Line, c.Col = 0, 0
	return c.Error()
}

func policyWarningText(w policy.Warning) string {
	w.Line, w.Col = 0, 0
	return w.String()
}

func policyPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
