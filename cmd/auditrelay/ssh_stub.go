package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/auditrelay/auditrelay/core/config"
)

// startSSH serves the console over SSH when configured.
func (a *app) startSSH(ctx context.Context, cfg config.Config, rt *relay, log *slog.Logger) (stop func(), err error) {
	if cfg.SSH.Listen == "" {
		return func() {}, nil
	}
	return nil, errors.New("ssh: the SSH console is not built yet")
}
