// Package hook builds the HTTP request LaunchDarkly's audit-log events hook
// would send for one audit-log entry and one configured integration: the
// template chosen by the entry's kind, the URL and headers rendered with the
// form variables, the body rendered from the entry context (JSON-escaped for
// JSON templates) or the raw entry for standard-payload hooks, and the HMAC
// signature header.
//
// An Event is decoded and escaped once per entry and shared by every
// integration that renders it; an Integration is compiled once and shared
// by every subscription, and Bind prepares one subscription's form values
// once. All are safe for concurrent use. Every render of a URL, header or
// body runs within Vars.Budget (render.Budget), so a template that expands
// an entry without bound fails with an error wrapping render.ErrBudget.
//
// Lint checks an integration the way the framework's test suite does, with
// auditrelay's own sample contexts (Sample), which previews can use too.
package hook
