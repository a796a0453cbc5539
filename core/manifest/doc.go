// Package manifest loads and validates LaunchDarkly integration-framework
// integrations: a directory holding manifest.json and the Handlebars
// templates it names.
//
// Validation follows the framework's closed JSON schema
// (schemas/base.json and friends) plus the extra rules its test suite
// enforces (a standard-payload hook has no templates, every named template
// file exists, the HMAC secret is a secret string variable, ...): breaking
// those is an error. Rules of auditrelay's own that go further (a static
// endpoint host however the variable is spelled, enums with allowedValues,
// keys declared once, ...) are warnings marked Ours, because LaunchDarkly
// publishes integrations that break them; validate --strict makes them
// errors (Problems.Strict). Every problem carries the file and the
// line:column it is about, and all problems of an integration are
// collected rather than stopping at the first.
//
// The package also validates operator-supplied form-variable values
// (ResolveValues), lists the secret ones among them (SecretValues, for
// core/mask), and keeps a Catalog of built-in and on-disk integrations.
package manifest
