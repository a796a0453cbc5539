package prodcheck

import (
	"fmt"
	"sync"

	"github.com/aymerick/raymond"
	"github.com/aymerick/raymond/ast"
	"github.com/aymerick/raymond/parser"

	"github.com/auditrelay/auditrelay/core/jsonv"
	"github.com/auditrelay/auditrelay/core/render"
)

// registerOnce guards raymond's process-wide helper registry: a second
// RegisterHelper of a name panics, and every check in the process shares
// the one registration.
var registerOnce sync.Once

// registerHelpers gives raymond the framework's helpers, implemented by
// core/render (so that the comparison shows the renderers' differences,
// not the helpers'). equal is raymond's own built-in, which is what
// LaunchDarkly's production renders with and why equalWithElse exists.
func registerHelpers() {
	registerOnce.Do(func() {
		value := func(name string) func(args ...any) any {
			return func(args ...any) any {
				vs := make([]jsonv.Value, len(args))
				for i, a := range args {
					vs[i] = fromGo(a)
				}
				v, err := render.CallHelper(name, vs...)
				if err != nil {
					panic(err) // raymond's Exec turns it into its error
				}
				return toGo(v)
			}
		}
		pathEncode, queryEncode := value("pathEncode"), value("queryEncode")
		basicAuth, format := value("basicAuthHeaderValue"), value("formatWithOffset")
		raymond.RegisterHelper("pathEncode", func(v any) any { return pathEncode(v) })
		raymond.RegisterHelper("queryEncode", func(v any) any { return queryEncode(v) })
		raymond.RegisterHelper("basicAuthHeaderValue", func(u, p any) any { return basicAuth(u, p) })
		raymond.RegisterHelper("formatWithOffset", func(ms, offset, f any) any { return format(ms, offset, f) })
		raymond.RegisterHelper("equalWithElse", func(a, b any, options *raymond.Options) any {
			if raymond.Str(a) == raymond.Str(b) {
				return options.Fn()
			}
			return options.Inverse()
		})
	})
}

// goTemplate is a template as raymond parsed it.
type goTemplate struct {
	tpl      *raymond.Template
	contents []*ast.ContentStatement // after raymond's whitespace control, in source order
}

// parseGo parses src with raymond. Callers hand it only sources that
// core/render parsed (see the package comment).
func parseGo(src string) (*goTemplate, error) {
	prog, err := parser.Parse(src)
	if err != nil {
		return nil, err
	}
	tpl, err := raymond.Parse(src)
	if err != nil {
		return nil, err
	}
	g := &goTemplate{tpl: tpl}
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		switch n := n.(type) {
		case *ast.Program:
			if n == nil {
				return
			}
			for _, s := range n.Body {
				walk(s)
			}
		case *ast.ContentStatement:
			g.contents = append(g.contents, n)
		case *ast.BlockStatement:
			if n.Program != nil {
				walk(n.Program)
			}
			if n.Inverse != nil {
				walk(n.Inverse)
			}
		}
	}
	walk(prog)
	return g, nil
}

// execGo renders a raymond template for root.
func execGo(tpl *raymond.Template, root jsonv.Value) (string, error) {
	registerHelpers()
	out, err := tpl.Exec(toGo(root))
	if err != nil {
		return "", fmt.Errorf("Go Handlebars fails: %w", err)
	}
	return out, nil
}

// toGo converts a JSON value into what a Go program decoding JSON with
// encoding/json holds: maps, slices, float64, string, bool, nil.
func toGo(v jsonv.Value) any {
	switch v.Kind() {
	case jsonv.Object:
		m := make(map[string]any, v.Len())
		for _, mem := range v.Members() {
			m[mem.Key] = toGo(mem.Value)
		}
		return m
	case jsonv.Array:
		s := make([]any, v.Len())
		for i, e := range v.Elems() {
			s[i] = toGo(e)
		}
		return s
	case jsonv.String:
		return v.Text()
	case jsonv.Number:
		return v.Float()
	case jsonv.Bool:
		return v.Bool()
	}
	return nil
}

// fromGo converts a helper argument back. raymond passes nil for both a
// missing value and null; missing is the common case (undefined).
func fromGo(a any) jsonv.Value {
	switch a := a.(type) {
	case nil:
		return jsonv.Value{}
	case string:
		return jsonv.Str(a)
	case raymond.SafeString:
		return jsonv.Str(string(a))
	case float64:
		return jsonv.Num(a)
	case int:
		return jsonv.Int(int64(a))
	case bool:
		return jsonv.Boolean(a)
	case []any:
		elems := make([]jsonv.Value, len(a))
		for i, e := range a {
			elems[i] = fromGo(e)
		}
		return jsonv.Arr(elems...)
	case map[string]any:
		m := jsonv.NewMembers(len(a))
		for k, e := range a {
			m.Set(k, fromGo(e))
		}
		return jsonv.Obj(m)
	}
	return jsonv.Str(raymond.Str(a))
}
