package manifest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// ValueError is a problem with one operator-supplied form-variable value.
type ValueError struct {
	Key string // the form variable's key
	Msg string // the complete message, naming the variable
}

func (e *ValueError) Error() string { return e.Msg }

// ValueErrors lists every problem found in a set of values.
type ValueErrors []*ValueError

func (es ValueErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Msg
	}
	return strings.Join(lines, "\n")
}

// label names a form variable in messages: key and, when it differs, its UI
// name.
func (fv *FormVariable) label() string {
	if fv.Name != "" && fv.Name != fv.Key {
		return fmt.Sprintf("form variable %q (%s)", fv.Key, fv.Name)
	}
	return fmt.Sprintf("form variable %q", fv.Key)
}

// ResolveValues checks operator-supplied values against the form variables
// and returns the complete set the templates see: every supplied value,
// plus the defaultValue of each optional variable left unset, plus false
// for unset booleans. A null value, and an empty string for an optional
// variable, count as unset; a required one must not be empty. It reports every
// problem at once as ValueErrors: unknown keys, missing required values,
// and values of the wrong type (booleans must be true/false, uri values
// absolute URLs with scheme and host, enum values one of allowedValues).
func (m *Manifest) ResolveValues(in map[string]jsonv.Value) (map[string]jsonv.Value, error) {
	var errs ValueErrors
	fail := func(key, format string, args ...any) {
		errs = append(errs, &ValueError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	declared := make([]string, len(m.FormVariables))
	for i := range m.FormVariables {
		declared[i] = m.FormVariables[i].Key
	}
	for _, k := range keys {
		if m.FormVariable(k) == nil {
			if len(declared) == 0 {
				fail(k, "unknown form variable %q: this integration declares no form variables", k)
			} else {
				fail(k, "unknown form variable %q (declared: %s)%s", k, strings.Join(declared, ", "), suggest(k, declared))
			}
		}
	}
	out := make(map[string]jsonv.Value, len(m.FormVariables))
	for i := range m.FormVariables {
		fv := &m.FormVariables[i]
		if m.FormVariable(fv.Key) != fv {
			continue // a key declared twice: the first declaration counts
		}
		v, set := in[fv.Key]
		if set && (v.IsNullish() || (!fv.Required() && v.Kind() == jsonv.String && v.Text() == "")) {
			set = false // an optional variable left empty takes its default
		}
		if !set {
			switch {
			case !fv.DefaultValue.IsUndefined():
				out[fv.Key] = fv.DefaultValue
			case fv.Type == TypeBoolean:
				out[fv.Key] = jsonv.Boolean(false)
			case fv.Required():
				hint := ""
				if fv.Placeholder != "" {
					hint = fmt.Sprintf(" (for example %q)", fv.Placeholder)
				}
				fail(fv.Key, "%s is required%s", fv.label(), hint)
			}
			continue
		}
		if fv.Required() && isEmptyValue(v) {
			fail(fv.Key, "%s is required and cannot be empty", fv.label())
			continue
		}
		if msg := fv.checkValue(v); msg != "" {
			fail(fv.Key, "%s %s", fv.label(), msg)
			continue
		}
		out[fv.Key] = v
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// checkValue returns what is wrong with v for this variable, or "".
func (fv *FormVariable) checkValue(v jsonv.Value) string {
	found := func() string {
		if v.Kind() == jsonv.String {
			return fmt.Sprintf("%q", v.Text())
		}
		return kindName(v)
	}
	switch fv.Type {
	case TypeBoolean:
		if v.Kind() != jsonv.Bool {
			return "must be true or false, found " + found()
		}
	case TypeURI:
		if v.Kind() != jsonv.String {
			return "must be a URL string, found " + found()
		}
		if checkURI(v.Text()) != "" {
			return fmt.Sprintf("must be an absolute URL with scheme and host (such as https://hooks.example.com/path), found %q", v.Text())
		}
	case TypeEnum:
		if v.Kind() != jsonv.String {
			return "must be a string, found " + found()
		}
		if len(fv.AllowedValues) > 0 && !contains(fv.AllowedValues, v.Text()) { // none: any string (load warns)
			return fmt.Sprintf("must be one of %s, found %q%s", quoteList(fv.AllowedValues), v.Text(), suggest(v.Text(), fv.AllowedValues))
		}
	case TypeOAuth:
		return "has type \"oauth\": supply OAuth credentials (base URI and access token) instead of a value"
	case TypeMultiselect:
		allowed := make([]string, len(fv.MultiselectOptions))
		for i, o := range fv.MultiselectOptions {
			allowed[i] = o.Value
		}
		if v.Kind() != jsonv.Array {
			return "must be a list of strings, found " + found()
		}
		for _, e := range v.Elems() {
			if e.Kind() != jsonv.String {
				return "must be a list of strings, found an element that is " + kindName(e)
			}
			if !contains(allowed, e.Text()) {
				return fmt.Sprintf("lists %q, which is not one of %s", e.Text(), quoteList(allowed))
			}
		}
	case TypeEnvironmentSelector:
		// LaunchDarkly fills it with the keys of the environments the
		// operator picks: keys are letters, digits, '.', '_' and '-'.
		if v.Kind() == jsonv.Array {
			for _, e := range v.Elems() {
				if e.Kind() != jsonv.String {
					return "must be an environment key or a list of them, found an element that is " + kindName(e)
				}
				if !isEnvKey(e.Text()) {
					return fmt.Sprintf("lists %q, which is not an environment key (letters, digits, '.', '_', '-')", e.Text())
				}
			}
			return ""
		}
		if v.Kind() != jsonv.String {
			return "must be an environment key or a list of them, found " + found()
		}
		if v.Text() != "" && !isEnvKey(v.Text()) {
			return fmt.Sprintf("must be an environment key (letters, digits, '.', '_', '-'), found %q", v.Text())
		}
	case TypeDynamicEnum:
		// LaunchDarkly offers the choices its dynamicOptions endpoint
		// returns when the integration is configured; the relay cannot ask
		// that service, so any one choice (a single string) is accepted.
		if v.Kind() != jsonv.String {
			return "must be one choice (a string), found " + found()
		}
		if strings.ContainsAny(v.Text(), "\r\n") {
			return "must be one choice on one line"
		}
	default: // string, dynamicEnum, generated, publicKey
		if v.Kind() != jsonv.String {
			return "must be a string, found " + found()
		}
	}
	return ""
}

// isEmptyValue reports whether a set value leaves a required variable
// without content: an empty or blank string, an empty list.
func isEmptyValue(v jsonv.Value) bool {
	switch v.Kind() {
	case jsonv.String:
		return strings.TrimSpace(v.Text()) == ""
	case jsonv.Array:
		return len(v.Elems()) == 0
	}
	return false
}

func isEnvKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// CheckValue checks one value against its form variable as ResolveValues
// does, for an editor that validates field by field. An empty optional
// value means "unset" there (its default applies), so it is accepted. It
// returns "" when the value is acceptable, else the message naming the
// variable.
func (m *Manifest) CheckValue(key string, v jsonv.Value) string {
	fv := m.FormVariable(key)
	if fv == nil {
		return fmt.Sprintf("unknown form variable %q", key)
	}
	if v.IsNullish() || (!fv.Required() && v.Kind() == jsonv.String && v.Text() == "") {
		if fv.Required() && fv.DefaultValue.IsUndefined() {
			return fv.label() + " is required"
		}
		return ""
	}
	if fv.Required() && isEmptyValue(v) {
		return fv.label() + " is required and cannot be empty"
	}
	if msg := fv.checkValue(v); msg != "" {
		return fv.label() + " " + msg
	}
	return ""
}

// ParseValue converts command-line text into a value of the variable's
// type: "true"/"false" for booleans, a comma-separated list for
// multiselect variables, the text itself otherwise. The result still goes
// through ResolveValues.
func (m *Manifest) ParseValue(key, text string) (jsonv.Value, error) {
	fv := m.FormVariable(key)
	if fv == nil {
		declared := make([]string, len(m.FormVariables))
		for i := range m.FormVariables {
			declared[i] = m.FormVariables[i].Key
		}
		return jsonv.Value{}, &ValueError{Key: key, Msg: fmt.Sprintf("unknown form variable %q (declared: %s)%s", key, strings.Join(declared, ", "), suggest(key, declared))}
	}
	switch fv.Type {
	case TypeBoolean:
		switch strings.ToLower(text) {
		case "true":
			return jsonv.Boolean(true), nil
		case "false":
			return jsonv.Boolean(false), nil
		}
		return jsonv.Value{}, &ValueError{Key: key, Msg: fmt.Sprintf("%s must be true or false, found %q", fv.label(), text)}
	case TypeMultiselect:
		var elems []jsonv.Value
		for _, part := range strings.Split(text, ",") {
			if part = strings.TrimSpace(part); part != "" {
				elems = append(elems, jsonv.Str(part))
			}
		}
		return jsonv.Arr(elems...), nil
	}
	return jsonv.Str(text), nil
}

// SecretValues returns the values of the secret form variables in values
// (non-empty strings only), for masking.
func (m *Manifest) SecretValues(values map[string]jsonv.Value) []string {
	var out []string
	for i := range m.FormVariables {
		fv := &m.FormVariables[i]
		if !fv.IsSecret {
			continue
		}
		if v := values[fv.Key]; v.Kind() == jsonv.String && v.Text() != "" {
			out = append(out, v.Text())
		}
	}
	return out
}
