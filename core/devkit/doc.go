// Package devkit is the integration author's kit: what `auditrelay
// validate`, `render`, `context` and `integrations list` do with
// integrations and entries on disk, without a running relay.
//
//   - Validate checks integrations as LaunchDarkly's integration framework
//     does: the manifest and the framework's rules (core/manifest), the
//     defaultPolicy with the parser the relay filters with (core/policy)
//     and the strict-mode template lint (core/hook), and prints every
//     problem as FILE:LINE:COL: MESSAGE with a summary per integration.
//   - Render prints the exact request an integration would send for an
//     entry, a template context or a built-in sample, masked with
//     core/mask as everything auditrelay shows is.
//   - Context prints the template context built from audit-log entries:
//     what an integration's templates see for them.
//   - ListIntegrations prints the catalog with templates and form
//     variables, as a table or as JSON.
//
// The commands parse flags and choose exit codes; bad usage or unreadable
// input comes back as an *InputError (exit 2), anything else that fails as
// a plain error (exit 1).
package devkit
