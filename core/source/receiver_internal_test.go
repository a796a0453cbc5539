package source

import (
	"bytes"
	"testing"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// FuzzSplitBody checks the receiver's cutting of an array body into its
// elements against jsonv: every element of a well-formed array comes out,
// exactly, in order, and nothing else is accepted.
func FuzzSplitBody(f *testing.F) {
	for _, s := range []string{
		`[{"_id":"a"},{"_id":"b"}]`, ` [ 1 , "x,]" , {"a":[1,{"b":"]}"}]} , null ] `, `["\"],", "\\"]`,
		`[]`, `[,]`, `[1,]`, `{"_id":"a"}`, `"x"`, "[\"\xfe\"]", `[[[]],[{}]]`, "[\n\t1\r\n]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, a, ok := splitBody(body, 1<<30)
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] == '{' {
			if !ok || len(out) != 1 || !bytes.Equal(out[0], trimmed) {
				t.Fatalf("an object body must pass whole: %v %q", ok, out)
			}
			return
		}
		v, err := jsonv.Decode(trimmed)
		if err != nil || v.Kind() != jsonv.Array || v.Len() == 0 {
			if ok {
				t.Fatalf("accepted %q (decode: %v)", body, err)
			}
			if a.status != 400 {
				t.Fatalf("refused %q with %d, want 400", body, a.status)
			}
			return
		}
		if !ok || len(out) != v.Len() {
			t.Fatalf("%q: %d elements (ok %v, %s), want %d", body, len(out), ok, a.msg, v.Len())
		}
		for i, e := range v.Elems() {
			got, err := jsonv.Decode(out[i])
			if err != nil || !bytes.Equal(jsonv.Marshal(got), jsonv.Marshal(e)) || !bytes.Equal(bytes.TrimSpace(out[i]), out[i]) {
				t.Fatalf("%q: element %d cut as %q (%v)", body, i, out[i], err)
			}
		}
		if n := v.Len(); n > 1 {
			if _, a, ok := splitBody(body, n-1); ok || a.status != 413 {
				t.Fatalf("%d elements over a limit of %d: ok %v status %d", n, n-1, ok, a.status)
			}
		}
	})
}
