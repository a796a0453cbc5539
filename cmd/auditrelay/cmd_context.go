package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/jsonv"
)

// newContextCmd prints the template context built from a raw audit-log
// entry: what an integration's templates see for that entry.
func newContextCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "context --entry FILE",
		Short: "Print the template context built from a LaunchDarkly audit-log entry",
		Long: `Reads a raw LaunchDarkly audit-log entry (a webhook body or the response of
GET /api/v2/auditlog/{id}) and prints the template context that integration
templates render with, as indented JSON.

FILE may be "-" for standard input. A JSON array of entries, a list page
({"items": [...]}) or NDJSON prints a JSON array of contexts.`,
		Example: `  auditrelay context --entry entry.json
  curl -s -H "Authorization: $LD_TOKEN" https://app.launchdarkly.com/api/v2/auditlog/ID | auditrelay context --entry -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := cmd.Flags().GetString("entry")
			if err != nil {
				return usageErrorf("context: %v", err)
			}
			baseURL, err := cmd.Flags().GetString("base-url")
			if err != nil {
				return usageErrorf("context: %v", err)
			}
			if !cmd.Flags().Changed("base-url") {
				// The relay's own setting (base_url in the config file or
				// AUDITRELAY_BASE_URL), so the preview matches what it sends.
				cfg, err := a.config()
				if err != nil {
					return err
				}
				baseURL = cfg.BaseURL
			}
			return runContext(a, path, baseURL)
		},
	}
	cmd.Flags().String("entry", "", `audit-log entry JSON file, or "-" for standard input (required)`)
	cmd.Flags().String("base-url", "", "LaunchDarkly app URL for links and the context's baseURL\n(default: base_url from the configuration, else "+auditlog.DefaultBaseURL+")")
	return cmd
}

func runContext(a *app, path, baseURL string) error {
	if path == "" {
		return usageErrorf("context: --entry FILE is required (use - for standard input)")
	}
	builder, err := auditlog.NewBuilder(auditlog.Options{BaseURL: baseURL})
	if err != nil {
		return usageErrorf("context: --base-url: %v", err)
	}
	name, data, err := readInput(a, path)
	if err != nil {
		return usageErrorf("context: %v", err)
	}
	entries, err := auditlog.DecodeEntries(data)
	if err != nil {
		return usageErrorf("%s", describeDecodeErrors(name, err))
	}
	for _, e := range entries {
		for _, w := range e.Warnings {
			fmt.Fprintf(a.stderr, "auditrelay: %s:%d:%d: warning: %q: %s\n", name, w.Line, w.Col, w.Field, w.Msg)
		}
	}

	var out jsonv.Value
	if len(entries) == 1 && bytes.Equal(bytes.TrimSpace(entries[0].Raw), bytes.TrimSpace(data)) {
		out = builder.Build(entries[0]) // the input was one entry
	} else {
		ctxs := make([]jsonv.Value, len(entries))
		for i, e := range entries {
			ctxs[i] = builder.Build(e)
		}
		out = jsonv.Arr(ctxs...)
	}
	buf := append(jsonv.MarshalIndent(out, "  "), '\n')
	if _, err := a.stdout.Write(buf); err != nil {
		return failure(fmt.Errorf("context: writing output: %w", err))
	}
	return nil
}

// readInput reads FILE, or standard input for "-"; name is what errors
// call it.
func readInput(a *app, path string) (name string, data []byte, err error) {
	if path == "-" {
		data, err = io.ReadAll(a.stdin)
		if err != nil {
			return "<stdin>", nil, fmt.Errorf("reading standard input: %w", err)
		}
		return "<stdin>", data, nil
	}
	data, err = os.ReadFile(path)
	return path, data, err
}

// describeDecodeErrors formats each problem as "FILE:line:col: detail", one
// per line, the form editors and CI annotations understand.
func describeDecodeErrors(name string, err error) string {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		var de *auditlog.DecodeError
		if errors.As(e, &de) {
			lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", name, de.Line, de.Col, de.Detail()))
		} else {
			lines = append(lines, fmt.Sprintf("%s: %v", name, e))
		}
	}
	return strings.Join(lines, "\n")
}
