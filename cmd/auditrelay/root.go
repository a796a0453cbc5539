package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/devkit"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Exit codes shared by every subcommand.
const (
	exitOK       = 0
	exitFailure  = 1 // the operation ran and failed (invalid manifest, entry not sent, render error)
	exitBadUsage = 2 // bad flags, unreadable or malformed input files
)

// exitError carries an exit code through cobra's error return. Its message
// is printed once by run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf reports bad usage or bad input (exit 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitBadUsage, err: fmt.Errorf(format, args...)}
}

// failure reports that the operation ran and failed (exit 1). A nil err
// means the command already printed what went wrong.
func failure(err error) error { return &exitError{code: exitFailure, err: err} }

// devkitError gives core/devkit's errors their exit codes: bad usage or
// input exits 2, anything else 1.
func devkitError(err error) error {
	var ie *devkit.InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return &exitError{code: exitBadUsage, err: ie.Err}
	}
	return failure(err)
}

// app is what every subcommand shares: I/O streams and the configuration.
// It is built per invocation so tests can run commands in parallel.
type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	cfg    *viper.Viper
}

// streams are the command's standard streams, for core/devkit.
func (a *app) streams() devkit.Streams {
	return devkit.Streams{In: a.stdin, Out: a.stdout, Err: a.stderr}
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, cfg: viper.New()}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(stderr, "auditrelay: %v\n", ee.err)
		}
		return ee.code
	}
	// Errors from cobra itself (unknown flag, wrong arg count) are usage errors.
	fmt.Fprintf(stderr, "auditrelay: %v\n", err)
	return exitBadUsage
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "auditrelay",
		Short: "Relay LaunchDarkly audit-log entries to integration endpoints",
		Long: `auditrelay takes LaunchDarkly audit-log entries, decides with each
integration's policy whether an entry goes out, renders the integration's
Handlebars templates and delivers the result durably, with retries.

Run without a subcommand to open the console with the engine embedded.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.loadConfig(cmd.Flags())
		},
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runConsole(cmd)
		},
	}
	addServeFlags(root)
	root.Flags().Bool("demo", false, "run the demo: generated entries, local sinks, built-in integrations; needs no config or network")
	root.Flags().Float64("rate", 5, "demo entries per second (change it in the console with + and -)")
	root.Flags().Bool("json", false, "without a terminal, print events as JSON lines")
	root.Flags().Bool("mouse", false, "enable mouse reporting in the console (disables the terminal's own text selection)")
	root.PersistentFlags().String("config", "", "config file (default: ./auditrelay.yaml if present)")
	root.PersistentFlags().String("integrations-dir", "", "directory of extra integrations (LaunchDarkly integration-framework layout)")
	root.AddCommand(
		newValidateCmd(a),
		newIntegrationsCmd(a),
		newRenderCmd(a),
		newPolicyCmd(a),
		newContextCmd(a),
		newServeCmd(a),
		newDeliveriesCmd(a),
		newReplayCmd(a),
		newBenchCmd(a),
		newMigrateCmd(a),
		newSinkCmd(a),
		newConfigCmd(a),
	)
	return root
}

// loadConfig binds flags and the environment (AUDITRELAY_*) into a.cfg;
// the config file is read by config.Load (see a.config), which layers it
// under them: flag, env, file, default.
func (a *app) loadConfig(flags *pflag.FlagSet) error {
	if err := config.Bind(a.cfg, flags); err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}

// configPath is --config, AUDITRELAY_CONFIG, or ./auditrelay.yaml when it
// exists.
func (a *app) configPath() string {
	if p := a.cfg.GetString("config"); p != "" {
		return p
	}
	if _, err := os.Stat("auditrelay.yaml"); err == nil {
		return "auditrelay.yaml"
	}
	return ""
}

// config loads and validates the whole configuration.
func (a *app) config() (config.Config, error) {
	cfg, err := config.Load(a.cfg, a.configPath(), nil)
	if err != nil {
		return cfg, usageErrorf("invalid configuration:\n%v", err)
	}
	return cfg, nil
}
