package render

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

func TestZZManual(t *testing.T) {
	f := os.Getenv("CASES")
	if f == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(f)
	var cases []struct {
		T      string          `json:"t"`
		C      json.RawMessage `json:"c"`
		Strict bool            `json:"strict"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	var res []map[string]string
	for _, c := range cases {
		ctx := jsonv.Obj(nil)
		if len(c.C) > 0 {
			v, err := jsonv.Decode(c.C)
			if err != nil {
				t.Fatal(err)
			}
			ctx = v
		}
		tpl, err := Parse("t", c.T)
		if err != nil {
			res = append(res, map[string]string{"err": err.Error()})
			continue
		}
		if c.Strict {
			var msgs string
			for _, i := range tpl.Lint(ctx) {
				msgs += i.String() + "; "
			}
			res = append(res, map[string]string{"lint": msgs})
			continue
		}
		out, err := tpl.Execute(ctx)
		if err != nil {
			res = append(res, map[string]string{"err": err.Error()})
			continue
		}
		res = append(res, map[string]string{"out": out})
	}
	b, _ := json.Marshal(res)
	os.WriteFile(os.Getenv("OUT"), b, 0o644)
}
