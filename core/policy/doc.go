// Package policy implements LaunchDarkly's policy language as audit-log
// events hooks use it: an integration's defaultPolicy decides which
// audit-log entries are sent, and the package explains every decision.
//
// Typical use: compile each integration's policy once (Parse or
// ParseManifest), parse an entry's accesses once (NewAccess),
// then call Decide for every integration. Decide does not allocate. Explain
// gives the reasons, as plain data that marshals to JSON, with a compact
// one-line Summary for a console and a multi-line Text form.
//
// Tags below: [doc] LaunchDarkly's documentation says so; [schema] the
// integration framework's manifest schema says so; [inferred] a choice made
// here where the documentation is silent (see the ambiguities A5–A10 in the
// project's ld-semantics guide).
//
// # Sources
//
//   - Using resources: https://launchdarkly.com/docs/home/account/roles/role-resources
//   - Using policies: https://launchdarkly.com/docs/home/account/role-policies
//   - Using actions: https://launchdarkly.com/docs/home/account/roles/role-actions
//   - Using tags: https://launchdarkly.com/docs/home/account/roles/role-tags
//   - Tags: https://launchdarkly.com/docs/home/account/tags
//   - Example roles and policies: https://launchdarkly.com/docs/home/account/roles/example-roles
//   - API statement model: https://github.com/launchdarkly/api-client-ruby/blob/3.6.0/docs/Statement.md
//   - Manifest schema: launchdarkly/integration-framework, schemas/capabilities/auditLogEventsHook.json
//
// # Resource specifier grammar
//
//	specifier = "*" | "acct" | segment { ":" segment }
//	segment   = type "/" key [ ";" selectors ]
//	type      = 1*( any byte but "/" ":" ";" "," whitespace )
//	key       = 1*( any byte but ":" ";" "," whitespace | role-attr )   ; "*" is a wildcard
//	selectors = item { "," item }
//	item      = tag | "{" name ":" value "}" | name ":" value
//	tag       = 1*( letter | digit | "." | "_" | "-" | "*" | role-attr )
//	role-attr = "${" { any byte but "}" } "}"
//
// Examples: "proj/*", "proj/default:env/production:flag/*",
// "proj/*;mobile:env/*;qa,dev:flag/ops_*", "proj/*:env/*;{critical:true}:flag/*",
// "proj/*:env/*:flag/*;view:checkout", "member/*:token/*", "acct", "*".
//
//   - The type/key;tag1,tag2 form, scoping with ":", "*" globs and tags are
//     [doc] (Using resources). Tags may contain only letters, digits, ".",
//     "_" and "-" [doc] (Tags), plus "*" in specifiers [doc] (qa_* in Example
//     roles).
//   - Property-based selectors "{property:value}" in the selector list, such
//     as {critical:true}, are [doc] (Using resources, Example roles). The
//     unbraced name:value form is used for views (flag/*;view:KEY) in
//     LaunchDarkly's view examples; it is read as a selector when the text
//     after ":" has no "/", otherwise the ":" starts the next segment
//     [inferred].
//   - Role attributes "${roleAttribute/name}" are [doc], but they are filled
//     in from a member's role assignment and an integration policy has none:
//     they are kept as literal text (so they match nothing) and linted
//     [inferred].
//   - A bare "*" names every resource [inferred from the schema default
//     ["*"]]. "acct" is the account itself [doc]. A "*" type ("*/x") is
//     literal, not a wildcard [inferred, A10].
//   - Only "*" is a wildcard; "?" and "[" are literal (A9) [inferred].
//   - Errors are *SyntaxError values with the byte position in the
//     specifier, e.g. "proj/*:env": position 10: expected "/" after resource
//     type "env".
//
// Resource types are not checked when matching, so types LaunchDarkly adds
// later work unchanged; a lint warning names types missing from the
// documented list or nested differently. Documented scopes: top level acct,
// proj, member, role, team, webhook, integration, service-token,
// relay-proxy-config, code-reference-repository, application,
// domain-verification, pending-request, template; inside proj: env, metric,
// metric-group, context-kind, layer, release-pipeline, release-policy, view,
// aiconfig, ai-model-config, agent-graphs, alert, error, log, session,
// trace; inside proj and env: flag, segment, experiment, holdout,
// destination, user, product-analytics-dashboard, request; inside member:
// token [doc: Using resources, Using actions].
//
// # Access resources
//
// An audit-log entry lists accesses, {action, resource}, where resource is a
// concrete specifier such as "proj/default:env/production:flag/checkout"
// [doc: webhooks API sample]. NewAccess reads it with the same grammar.
// A segment may carry the resource's tags and properties after ";"
// ("flag/f;beta,mobile", "env/prod;{critical:true}") [inferred, A7]: without
// them a tag or selector filter cannot match. Keys in an access are literal,
// except that an environment key "*" or "~" marks a change that applies to
// every environment, such as createFlag [inferred, A6].
//
// # Matching a specifier against an access resource
//
//  1. A bare "*" matches everything.
//  2. Both must have the same number of segments and the same type in each
//     position: "proj/*" does not cover "proj/x:env/y" [inferred from the
//     documented scoping].
//  3. Keys match by glob, anchored, case-sensitively [doc: keys are
//     case-sensitive (Using policies); globs (Using resources)].
//  4. Every tag listed must be on the resource: ";tag1,tag2" means tag1 AND
//     tag2; OR takes separate statements [doc: Using tags]. Tags compare
//     ignoring ASCII case [doc: "Tags are not case-sensitive"]; tag patterns
//     may be globs [doc].
//  5. Every property selector must be on the resource with a matching value;
//     property names ignore ASCII case, values do not [inferred].
//  6. An all-environments access segment (env/* or env/~) satisfies any
//     environment key, tag and selector of the specifier: the change applies
//     to every environment, including the ones the policy names [inferred,
//     A6; the guide spoke of keys only].
//
// Action specifiers are globs on the action name, case-sensitive: "*",
// "update*" [doc: Using actions]. Unknown actions are accepted.
//
// # Statements and evaluation
//
// A statement is {effect, resources | notResources, actions | notActions}.
// Exactly one list of each pair must be non-empty; an empty list counts as
// absent [doc: API model, "The resources field must be empty to use this
// field"]. The schema also gives ["*"] as the default of all four lists;
// that default is not applied, since it would make every list present and
// contradict the exactly-one rule [inferred]. A missing effect takes the schema default "allow", with a
// warning [schema; the guide suggested requiring it]; any other value than
// "allow" or "deny" is an error. Unknown fields are errors: the schema is
// closed [schema].
//
// A statement matches an access when its resource part and its action part
// both match; with notResources or notActions a part matches when none of
// its specifiers does [doc]. For one access, a matching deny statement wins
// over any allow; otherwise a matching allow allows; otherwise the access is
// denied by default; statement order does not matter [doc: Using
// policies]. An entry is sent when at least one of its accesses is allowed
// [inferred, A8]. An access whose resource cannot be parsed is never
// allowed. An absent or empty policy sends every entry, with a warning
// [inferred, A5: webhooks without a policy filter receive every event].
//
// # Errors
//
// Parse and ParseManifest collect every problem and
// return them together as an ErrorList of *Error, each with the statement
// index, the field ("resources[2]"), the line and column in the JSON and
// the underlying error (a *SyntaxError for a malformed specifier).
//
// # Explanations
//
// Explain records, for every access and every statement, whether each part
// matched and, when not, a structured Reason: scope (segment count), kind
// (type), key, tag or property, naming the segment, what the policy wants
// and what the access has; or action, excluded-resource (notResources
// matched), excluded-action (notActions matched). When several resource
// specifiers miss, the one that came closest explains the statement.
package policy
