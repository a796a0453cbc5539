// Package render compiles and renders LaunchDarkly integration templates
// (Handlebars) the way LaunchDarkly's integration framework does.
//
// The fidelity target is what handlebars.js 4.7.7 renders, non-strict, with
// the framework's helpers (helpers/index.js) and LaunchDarkly's production
// HTML escaping: the golden files of the reference data. A template is
// parsed and compiled once (Parse) into Go closures over jsonv values; a
// Template is immutable and can be executed from any number of goroutines.
// AppendExecute allocates nothing per render (the run state is pooled);
// Execute allocates only the result string.
//
// # Language
//
//   - {{x}} (HTML-escaped), {{{x}}} and {{& x}} (raw); comments {{! }} and
//     {{!-- --}}; escaped mustaches \{{x}}; raw blocks {{{{x}}}}…{{{{/x}}}}.
//   - Paths: a.b, a/b, this, ., ./a, this.a, ../a, segment literals a.[0]
//     and [foo bar]; @index, @key, @first, @last, @root, @../index; string,
//     number, true/false, null and undefined literals; hash arguments
//     (key=value); subexpressions (helper a b); block parameters
//     (as |item key|).
//   - Blocks with {{else}} (or {{^}}), {{else if …}} chains, inverted
//     sections {{^x}}, and bare sections {{#name}} on names that are not
//     helpers (true keeps the context, false/null/undefined/[] render the
//     inverse, arrays iterate, any other value becomes the context).
//   - Whitespace control: "~" in tags, and standalone lines (a block tag,
//     {{else}} or comment alone on its line disappears with its line),
//     exactly as handlebars.js applies them, including the two cases raymond
//     gets wrong: a standalone close followed by a standalone open on the
//     next line, and a tag at the template's end followed by text.
//   - Values print as JavaScript's String(): arrays comma-joined, objects
//     "[object Object]", numbers as Number.prototype.toString. Objects
//     iterate in JavaScript key order (jsonv). {} is truthy, [] is falsy.
//     A name missing in the current context is undefined: there is no
//     lookup in parent contexts (raymond's mustache behaviour).
//   - Escaping: & < > " ' become &amp; &lt; &gt; &quot; &apos; (raymond's
//     table, which LaunchDarkly's renderer uses); ` and = are not escaped.
//
// Helpers are fixed: if, unless (includeZero=true), each, with, lookup, log
// (output discarded, or passed to Options.Log) and the framework's equal,
// equalWithElse, pathEncode (encodeURI), queryEncode (encodeURIComponent;
// both fail like URIError on a lone surrogate), basicAuthHeaderValue
// ("Basic " + base64 of the UTF-8 of String(user) + ":" + String(password))
// and formatWithOffset. Partials, decorators and custom helpers are not
// supported: the framework's templates use none. A call with arguments of
// an unknown helper fails at render time with its position
// (t.json.hbs:3:5: unknown helper "foo"); {{name}} of a missing name
// renders "".
//
// # Decisions
//
// equal: LaunchDarkly renders in production with Go's raymond, whose
// built-in equal compares the values as text and never renders {{else}};
// the framework's helpers/index.js says equalWithElse exists for that
// reason. No golden pair distinguishes this from the JavaScript helper (the
// corpus uses equal only with string operands and without {{else}}), so
// equal follows production (ld-semantics §7 A2): the operands compare as
// the text {{{a}}} prints (null and undefined as ""), {{else}} is ignored
// (Lint warns about it), and equalWithElse compares the same way and
// renders its else branch. Both take exactly two arguments.
//
// formatWithOffset(ms, offsetSeconds, format): "milliseconds" (and any
// other or missing format) gives the number ms + 1000·offset, "seconds"
// Math.round of it / 1000, "rfc3339" Date.toISOString (always with
// milliseconds). For "simple", the goldens (sample-integration's flag
// template) hold what the framework's dateformat mask "yyyy-mm-dd h:MM:ss"
// prints in UTC: a 12-hour clock, unpadded hour, no AM/PM
// ("2020-02-04 1:56:18"). That is the default, so rendering matches the
// goldens; Options.SimpleDate24h selects ld-semantics §7 A1's
// "2006-01-02 15:04:05" instead. A string timestamp makes JavaScript
// concatenate and Date-parse; here it is an invalid time ("NaN", or an
// error for rfc3339 and simple, where JavaScript throws).
//
// # Budget
//
// The template is the operator's, but the entry is LaunchDarkly's, and a
// loop nested over one of its arrays multiplies it: {{#each tags}}{{#each
// ../tags}}{{this}};{{/each}}{{/each}} turns 20,000 tags (141 KB) into
// gigabytes. Every render therefore runs within a Budget: MaxOutput bytes
// of output (default 1 MiB), and MaxSteps evaluation steps (default
// 1,000,000: one per statement, per loop iteration, and per 64 bytes of
// text a helper or comparison builds), which stops loops that print
// nothing. Text a helper builds is capped at MaxOutput too, so nested
// helpers cannot multiply it. Past the budget the render stops with an
// *Error that wraps ErrBudget and names the template and the position of
// the statement that crossed the limit ("t.json.hbs:2:32: the template
// produced more than 1 MiB of output (render budget)"); Lint reports it as
// an error. Checking costs a decrement and two comparisons per statement:
// the render stays allocation-free. Nesting is bounded at parse time (500
// levels of blocks and subexpressions), and there are no partials, so
// recursion is bounded by the template. Lint also warns, statically, about
// a loop over an array nested in a loop over the same array.
//
// Strict mode: the framework's tests compile with strict: true, which LaunchDarkly's
// production renderer does not have. Execute renders leniently; Lint runs
// the same compiled template in strict mode and reports every failure
// handlebars.js would raise (message as handlebars.js words it, e.g.
// `"comment" not defined in [object Object]`, at the path's line and
// column) instead of stopping at the first, plus static findings and
// warnings (HTML escaping that changes a value, form variables inside JSON
// strings, JSON templates rendering invalid JSON).
//
// # Divergences from handlebars.js 4.7.7
//
//   - HTML escaping uses the production table above (handlebars.js also
//     escapes ` and =, and writes ' as &#x27;).
//   - equal and equalWithElse compare text (see above).
//   - handlebars.js joins a block's outputs with JavaScript "+", so two
//     unescaped numbers at the start of a block are added ({{{a}}}{{{b}}}
//     with 1 and 2 gives "3"); they are concatenated here, as in
//     LaunchDarkly's Go renderer.
//   - A framework helper called with too few arguments fails here; in
//     JavaScript it would stringify the options object ("[object Object]").
//     #each with more than one argument fails with a clear message.
//   - Error texts are this package's (unknown helper "x", not Missing
//     helper or a TypeError); lint messages are handlebars.js'. Columns are
//     1-based and count characters, where handlebars.js counts UTF-16 units
//     from 0.
//   - helperMissing and blockHelperMissing are not callable by name;
//     blocks and subexpressions nest at most 500 levels.
//   - In strict mode, "name in object" knows only Object.prototype's
//     inherited names, not Array.prototype's.
//
// Every other behaviour was checked against handlebars.js with random
// templates and contexts (testdata/differential*.json, regenerated with
// testdata/oracle.js and node; see differential_test.go), including its
// strict-mode quirks.
//
// # Divergences from raymond (LaunchDarkly's production renderer)
//
// The goldens are rendered by handlebars.js, and raymond differs from it
// where it is arguably wrong: its standalone-line pass has two bugs (above),
// arrays print without commas, map iteration order is random, {} is
// falsy, objects print as Go maps, and names missing in a block's context
// are looked up in parent contexts. None of that can be fixed from outside
// raymond's evaluator, so this package has its own lexer, parser and
// evaluator (written from the Handlebars language definition, no code
// copied). raymond's parser is not used either: its lexer runs in a
// goroutine that is leaked on every syntax error and scans comments in
// quadratic time (seconds for a 20 KB comment), and it lacks the null and
// undefined literals and Handlebars' identifier and number rules.
package render
