package tui

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ttyin"
)

// Run runs the console on the terminal until the user quits or ctx ends.
// It uses the alternate screen, leaves the mouse alone unless opts.Mouse,
// and honors NO_COLOR. A panic anywhere in the console (Update, View or a
// command) restores the terminal, prints the panic and returns an error.
func Run(ctx context.Context, api api.API, opts Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts.Context = ctx
	opts = localOptions(opts, os.Getenv)
	m := newModel(api, opts)
	defer m.cancel()

	popts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(ctx)}
	// ttyin bounds what Bubble Tea buffers of the input (a paste of
	// megabytes), as over SSH. Without a terminal on stdin Bubble Tea
	// opens /dev/tty itself; that is left to it.
	switch {
	case opts.Input != nil:
		popts = append(popts, tea.WithInput(ttyin.Wrap(opts.Input)))
	case term.IsTerminal(os.Stdin.Fd()):
		popts = append(popts, tea.WithInput(ttyin.NewFile(os.Stdin)))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	if opts.Mouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	_, err := tea.NewProgram(m, popts...).Run()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tea.ErrProgramPanic):
		// Bubble Tea restored the terminal and printed the panic.
		return fmt.Errorf("console crashed (terminal restored): %w", err)
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil // stopped from outside (ctx): a clean exit
	case errors.Is(err, tea.ErrInterrupted):
		return nil
	}
	return fmt.Errorf("console: %w", err)
}

// localOptions fills what a local terminal implies: NO_COLOR and a
// renderer on the output.
func localOptions(opts Options, getenv func(string) string) Options {
	if getenv("NO_COLOR") != "" {
		opts.NoColor = true
	}
	if opts.Renderer == nil {
		opts.Renderer = lipgloss.NewRenderer(outputOf(opts))
	}
	return opts
}
