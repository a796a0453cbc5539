// Package auditlog reads LaunchDarkly audit-log entries and turns them into
// the template context that LaunchDarkly's integration framework renders
// "audit log events hook" templates with. It is the one reader of
// audit-log JSON in auditrelay: the webhook receiver (through the engine),
// the poller's list pages, replay files and the commands that take an
// --entry all decode with it, so one place decides what a valid entry is
// and every one of them refuses a bad entry in the same words.
//
// # Entries
//
// An Entry is one entry as GET /api/v2/auditlog/{id}, the items of
// GET /api/v2/auditlog and LaunchDarkly webhooks deliver it ("the webhook
// payload is identical to an audit log entry"). DecodeEntry reads one in a
// single jsonv pass and keeps both the exact input bytes (Entry.Raw, what a
// standard-payload delivery sends and signs) and the decoded jsonv.Value,
// so fields this package does not model (delta, currentVersion,
// triggerBody, merge, subentries, approvalRequestId, fields added later)
// are never lost.
//
// Required: _id (non-empty string), date (number, milliseconds since the
// epoch; a fraction is floored, values beyond a JavaScript Date's range are
// refused), kind (non-empty string) and accesses (array of {action,
// resource} strings; it may be empty). Anything else may be missing; an
// optional field of the wrong type is ignored and noted in Entry.Warnings
// with its position.
//
// Errors are *DecodeError values, and their text is the one error format:
// the line and column of the problem in the input, the field and what was
// expected, `3:10: "kind": expected a string (the resource kind, e.g.
// "flag"), found number`. The text does not say what held the entry; a
// caller that knows the input's name puts it in front
// (`entries.json:3:10: …`). DecodeEntryAt decodes an entry cut out of a
// larger input (a replay file read element by element) and places its
// errors and warnings in that input, so the reader of files can keep its
// own resynchronising scanner and still report as this package does.
// When an entry's _id and date were read before the problem was found,
// the error carries them (DecodeError.ID, Date), so that a poller can
// still place the entry in time and a receiver name it.
//
// Keys are text. The input must be UTF-8 (jsonv refuses other bytes rather
// than fold them to U+FFFD, which made two ids one). The fields used as
// keys — _id (at most MaxIDBytes), kind (MaxKindBytes), each access's
// action and resource (MaxActionBytes, MaxResourceBytes) — must be valid
// Unicode (no lone surrogate from a \ud800 escape) without control
// characters, or the entry is refused naming the field; the specifiers of
// target.resources and parent.resource, which only shape the context, are
// ignored with a warning instead. Ids are checked for form, not for being
// LaunchDarkly's hex ObjectIds: tests, imports and the demo use others.
// Summary fields are display text: invalid sequences and control
// characters shown as U+FFFD, lengths bounded.
//
// DecodePage reads a page of the list API ({"items": [...], "_links":
// {...}, "totalCount": N}), keeping the items that are not valid entries
// apart with their errors (Page.Invalid). DecodeNDJSON / NDJSONReader and
// DecodeEntries (which tells a single entry, an array, a page and NDJSON
// apart) read several entries. Each entry's Raw is the exact slice of its
// element in the input. A bad element does not stop the others: the good
// entries are returned with an errors.Join of one *DecodeError per bad
// element, each carrying the element's index.
//
// # Signatures
//
// Sign and Verify are the one implementation of the X-LD-Signature header:
// the lower-case hex HMAC-SHA256 of the raw body keyed with the webhook
// secret. hook signs deliveries with Sign, the receiver checks webhooks
// with Verify, and tests and benchmarks sign what they send with Sign.
// Verify compares in constant time and also accepts a "sha256=" prefix and
// upper-case hex (see Verify for why).
//
// # Template context
//
// Builder.Build produces the context in the shape of the framework's
// sample contexts (sample-context/**.json), key order included, since
// templates iterate objects. LaunchDarkly does not publish how its service
// derives the context from an entry; where a rule below is marked
// "chosen", it is this package's reading of the samples.
//
//	_links            the entry's _links in their order, hrefs made absolute
//	                  against BaseURL; self and parent synthesized when
//	                  missing; details appended (chosen, from the samples):
//	                  {base}/{proj}/{env}/audit/{_id}/details for changes in
//	                  one environment, else {base}/settings/history/{_id}/details
//	baseURL           Options.BaseURL (default https://app.launchdarkly.com)
//	_id, _accountId   copied
//	timestamp         from date: milliseconds; seconds = floor(ms/1000);
//	                  rfc3339 = UTC without fraction ("2020-02-04T00:54:45Z");
//	                  simple = UTC "2006-01-02 15:04:05"
//	kind              copied
//	name              name, else target.name, else the resource key
//	details           description: markdown as delivered; html rendered with
//	                  goldmark (lists compact, strikethrough as <strike>,
//	                  paragraphs inside list items unwrapped, a lone
//	                  paragraph without <p>, raw HTML omitted); plainText
//	                  from the same parse (see below)
//	comment           copied; absent when empty
//	project           name/key/tags of the project and of its environment,
//	                  see "Scope"; {"", "", null, {"", "", null}} for
//	                  resources outside projects (member, webhook, role…)
//	key               name of the last segment of the changed resource's
//	                  specifier; absent for kinds whose specifiers hold ids
//	                  (member, webhook, token, service-token), as in the
//	                  samples
//	tags              tags of the changed resource: the ";tags" of its
//	                  specifier segment, else currentVersion.tags (or
//	                  previousVersion's for deletions); [] when none are
//	                  known for a kind LaunchDarkly tags (project,
//	                  environment, flag, segment, metric, webhook), null for
//	                  other kinds (chosen: the member sample has null, the
//	                  webhook sample [])
//	customProperties  flags only: currentVersion.customProperties (REST
//	                  {key: {name, value: [...]}}) as {key: {name, values:
//	                  [...]}}; absent when the entry carries none (list
//	                  items carry no currentVersion)
//	member            the actor: _links {parent, self} built from
//	                  {base}/api/v2/members[/{_id}] (REST member links are
//	                  relative or internal), _id, email, emailLocalPart (the
//	                  part before the last "@"), firstName, lastName,
//	                  displayName ("First Last", else the email). A change
//	                  made with an API token or OAuth app has no member:
//	                  then displayName is subject.name, token.name or
//	                  app.name, the other fields "" (chosen)
//	titleVerb         copied; when missing, "created the <kind>", "deleted
//	                  the <kind>" or "updated the <kind>" by the action
//	verbKind          the action of the primary access: the first access on
//	                  a resource of the entry's kind, else the first access
//	title             title (markdown) rendered like details; when missing,
//	                  synthesized as LaunchDarkly writes it: "[Actor](mailto:
//	                  email) <titleVerb> [name](site link)", the link left out
//	                  for deletions or without a site link, plus " in `Env`"
//	                  for a flag change in one environment
//	target            _links: target._links made absolute (else the entry's
//	                  canonical and site links); name: target.name (else
//	                  name); _id: currentVersion._id (or previousVersion's),
//	                  else for id-keyed kinds the id in the specifier, else ""
//
// # Scope
//
// The changed resource's specifier is the first of target.resources whose
// last segment is of the entry's kind, else the primary access's resource.
// Its proj and env segments give the project and environment keys
// (resource specifiers, see the policy documentation; this package parses
// them only minimally). Tags come from ";tag" lists on any specifier of the
// entry, else currentVersion.tags when the entry is about that project or
// environment, else the Lookup; [] when none are known.
//
// Names are not in specifiers. In order: the entry's own name when the entry
// is about that project or environment; Options.Lookup; parent.name when
// parent.resource is that project or environment; for environments, the
// name a LaunchDarkly title ends with (" in `Production`"); finally the key
// itself (chosen: a key reads better in a message than an empty string).
//
// A flag change applies to all environments, and project.environment is
// {"All environments", "~", []}, when the specifier has no env segment, an
// env segment "*" or "~", or the entry records the primary action on the
// flag in more than one environment (LaunchDarkly does not document which
// of these shapes it uses; the guide's ambiguity A6 says to accept all).
//
// # Plain text
//
// plainText is the markdown reduced to text for chat and log sinks: one line
// per paragraph, heading and list item, without bullets (ordered items keep
// "N. "), code spans in single quotes ('demo'), emphasis, strikethrough and
// links reduced to their text, block quotes indented by two spaces, raw HTML
// dropped, backslash escapes and entities resolved, trailing blanks cut.
package auditlog
