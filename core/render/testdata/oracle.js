// Differential oracle for core/render tests (not part of the build).
//
// Renders cases with handlebars.js 4.7.7 and the integration framework's
// helpers as ld-semantics §4.1 describes them (equal: see below), with LaunchDarkly's
// production HTML escaping (& < > " ' only, ' as &apos;). Set up with
//   npm install --prefix /tmp/hbs handlebars@4.7.7 dateformat@4.5.1
// and run the differential test with
//   HBS_NODE_MODULES=/tmp/hbs/node_modules go test -run Differential ./core/render/
//
// Input (file named by argv[2]): [{"t": template, "c": context, "strict": bool}]
// Output on stdout: [{"out": string} | {"err": message}]
'use strict';
const Handlebars = require('handlebars');
const dateFormat = require('dateformat');
const fs = require('fs');

const entities = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
function escapeProduction(v) {
  if (typeof v !== 'string') {
    if (v && v.toHTML) return v.toHTML();
    if (v == null) return '';
    if (!v) return v + '';
    v = '' + v;
  }
  return v.replace(/[&<>"']/g, (c) => entities[c]);
}

function instance() {
  const hb = Handlebars.create();
  hb.Utils.escapeExpression = escapeProduction;
  hb.escapeExpression = escapeProduction;
  // equal and equalWithElse as auditrelay implements them (ld-semantics §7
  // A2, LaunchDarkly's production behaviour): the values compare as the
  // text {{{a}}} would print; equal never renders its {{else}}.
  const text = (v) => (v == null ? '' : String(v));
  hb.registerHelper('equal', function (a, b, options) {
    return text(a) === text(b) ? options.fn(this) : '';
  });
  hb.registerHelper('equalWithElse', function (a, b, options) {
    return text(a) === text(b) ? options.fn(this) : options.inverse(this);
  });
  hb.registerHelper('pathEncode', (v) => encodeURI(v));
  hb.registerHelper('queryEncode', (v) => encodeURIComponent(v));
  hb.registerHelper('basicAuthHeaderValue', (u, p) => 'Basic ' + Buffer.from(u + ':' + p).toString('base64'));
  hb.registerHelper('formatWithOffset', (ms, offset, format) => {
    const date = new Date(ms + 1000 * offset);
    switch (format) {
      case 'milliseconds': return date.getTime();
      case 'seconds': return Math.round(date.getTime() / 1000);
      case 'rfc3339': return date.toISOString();
      case 'simple': return dateFormat(date, 'yyyy-mm-dd h:MM:ss', true);
      default: return date.getTime();
    }
  });
  return hb;
}

// {{log}} must not write into the JSON answer.
for (const k of ['log', 'info', 'warn', 'error', 'debug']) console[k] = () => {};

const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = cases.map((c) => {
  try {
    const render = instance().compile(c.t, { strict: !!c.strict });
    return { out: render(c.c === undefined ? {} : c.c) };
  } catch (e) {
    return { err: String(e && e.message) };
  }
});
process.stdout.write(JSON.stringify(results));
