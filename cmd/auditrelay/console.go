package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/auditrelay/auditrelay/tui"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// runConsole is what `auditrelay` does without a subcommand: run the engine
// in this process and open the console on it (or print a line per event
// when stdout is not a terminal).
func (a *app) runConsole(cmd *cobra.Command) error {
	ctx := cmd.Context()
	flags := cmd.Flags()
	demoMode, _ := flags.GetBool("demo")
	rate, _ := flags.GetFloat64("rate")
	jsonLines, _ := flags.GetBool("json")
	mouse, _ := flags.GetBool("mouse")

	var demo *relay.Demo
	path := a.configPath()
	if demoMode {
		listen := a.cfg.GetString("http.listen")
		if listen == "" {
			listen = "127.0.0.1:0" // the demo must not fail because 8080 is taken
		}
		var err error
		demo, err = relay.StartDemo(a.cfg.GetString("data_dir"), rate, listen)
		if err != nil {
			return failure(err)
		}
		defer demo.Close()
		path = demo.ConfigFile
	} else if path == "" {
		return usageErrorf("no configuration: pass --config FILE (see config.example.yaml), or try `auditrelay --demo`")
	}
	cfg, err := config.Load(a.cfg, path, nil)
	if err != nil {
		return usageErrorf("invalid configuration:\n%v", err)
	}
	tty := isTerminal(a.stdout)
	// While the console owns the terminal, logs go to a file.
	logw := io.Writer(a.stderr)
	if tty {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return failure(err)
		}
		f, err := os.OpenFile(filepath.Join(cfg.DataDir, "auditrelay.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return failure(fmt.Errorf("log file: %w", err))
		}
		defer f.Close()
		logw = f
	}
	log, flushLog := relay.NewLogger(cfg, logw)
	defer flushLog()
	relay.TuneRuntime(cfg.Runtime, os.LookupEnv, log)
	rt, err := relay.Open(ctx, cfg, log, relay.Options{Version: version, Demo: demo})
	if err != nil {
		return failure(err)
	}
	defer rt.Close()
	stopSSH, err := startSSH(ctx, cfg, rt, log)
	if err != nil {
		return failure(err)
	}
	defer stopSSH()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx) }()

	var uiErr error
	if tty {
		uiErr = tui.Run(runCtx, rt.Engine(), tui.Options{Actor: localActor(), Role: tui.Operator, Mouse: mouse, GeneratorRate: rate, NoColor: os.Getenv("NO_COLOR") != ""})
	} else {
		uiErr = tui.Tail(runCtx, rt.Engine(), a.stdout, jsonLines)
	}
	stop() // quit: drain the engine
	if err := <-done; err != nil && uiErr == nil {
		uiErr = err
	}
	if uiErr != nil && ctx.Err() == nil {
		return failure(uiErr)
	}
	if demo != nil && tty {
		fmt.Fprintf(a.stderr, "demo data kept in %s (config, database, log)\n", demo.Dir)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// localActor names the person at the embedded console in the audit
// record: "local:" and their login name, as SSH sessions are named by key.
func localActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "local:" + u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return "local:" + n
	}
	return "local"
}
