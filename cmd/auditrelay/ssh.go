package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/auditrelay/auditrelay/core/config"
	"github.com/auditrelay/auditrelay/core/relay"
	"github.com/auditrelay/auditrelay/tui/sshserve"
)

// hostKeyFile is the host key's name in the data directory when
// ssh.host_key is not set.
const hostKeyFile = "ssh_host_ed25519_key"

// startSSH serves the console over SSH when ssh.listen is set: every
// session gets its own console on rt's engine. stop ends the sessions (each
// is told why) and waits for them. It lives with the commands, not in
// core/relay, because it starts the console: core does not import tui.
func startSSH(ctx context.Context, cfg config.Config, rt *relay.Relay, log *slog.Logger) (stop func(), err error) {
	if cfg.SSH.Listen == "" {
		return func() {}, nil
	}
	if cfg.SSH.AuthorizedKeys == "" {
		return nil, fmt.Errorf("ssh: --ssh needs an authorized-keys file: set ssh.authorized_keys or pass --authorized-keys FILE\n" +
			"  one key per line: role=operator,name=alice ssh-ed25519 AAAA... (role is viewer or operator)\n" +
			"  e.g. echo \"role=operator,name=$(id -un) $(cat ~/.ssh/id_ed25519.pub)\" > authorized_keys")
	}
	hostKey := cfg.SSH.HostKey
	if hostKey == "" {
		hostKey = filepath.Join(cfg.DataDir, hostKeyFile)
	}
	srv, err := sshserve.Start(ctx, sshserve.Options{
		Addr:           cfg.SSH.Listen,
		API:            rt.Engine(),
		AuthorizedKeys: cfg.SSH.AuthorizedKeys,
		HostKey:        hostKey,
		MaxSessions:    cfg.SSH.MaxSessions,
		IdleTimeout:    cfg.SSH.IdleTimeout,
		Logger:         log.With("component", "ssh"),
	})
	if err != nil {
		return nil, err
	}
	if err := rt.SetSSHListener(srv.Addr()); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv.Stop, nil
}
