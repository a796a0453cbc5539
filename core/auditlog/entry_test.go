package auditlog

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDecodeEntryFixture(t *testing.T) {
	raw := fixtures(t)["flag-toggle"]
	e, err := DecodeEntry(raw)
	if err != nil {
		t.Fatal(err)
	}
	if &e.Raw[0] != &raw[0] || len(e.Raw) != len(raw) {
		t.Error("Raw is not the input bytes")
	}
	if e.ID != "6790c1a2e4b0c2d3f4a5b601" || e.AccountID != "5f9a1b2c3d4e5f6a7b8c9d0e" || e.Kind != "flag" || e.Name != "New checkout flow" {
		t.Errorf("scalars: %+v", e)
	}
	if e.Date != 1737540002113 || !e.Time().Equal(time.Date(2025, 1, 22, 10, 0, 2, 113e6, time.UTC)) {
		t.Errorf("date %d → %v", e.Date, e.Time())
	}
	if want := []Access{{"updateOn", "proj/checkout:env/production:flag/new-checkout-flow"}}; !slices.Equal(e.Accesses, want) {
		t.Errorf("accesses %v", e.Accesses)
	}
	if e.Member == nil || e.Member.Email != "maya.okafor@example.com" || e.Member.DisplayName() != "Maya Okafor" || e.Member.ID != "5f9a1b2c3d4e5f6a7b8c9d11" {
		t.Errorf("member %+v", e.Member)
	}
	if e.Target.Name != "New checkout flow" || len(e.Target.Resources) != 1 || e.Target.Links.Get("site").IsUndefined() {
		t.Errorf("target %+v", e.Target)
	}
	if e.Parent == nil || e.Parent.Name != "Checkout" || e.Parent.Resource != "proj/checkout" {
		t.Errorf("parent %+v", e.Parent)
	}
	if e.Comment == "" || e.TitleVerb != "turned on the flag" || !strings.HasPrefix(e.Title, "[Maya Okafor]") {
		t.Errorf("texts: %q %q %q", e.Comment, e.TitleVerb, e.Title)
	}
	// Fields without typed accessors stay reachable through Value.
	if got := e.Value.Path("delta", "instructions").Index(0).Get("kind").Text(); got != "turnFlagOn" {
		t.Errorf("delta kind %q", got)
	}
	if a, ok := e.PrimaryAccess(); !ok || a.Action != "updateOn" {
		t.Errorf("primary access %v %v", a, ok)
	}
}

func TestDecodeEntryErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // full error text
		line     int
		col      int
		field    string
	}{
		{"not json", `{"_id": }`, `1:9: "_id": expected a JSON value (object, array, string, number, true, false or null), found "}"`, 1, 9, "_id"},
		{"empty", ``, `1:1: expected a JSON value, found end of input`, 1, 1, ""},
		{"not an object", `[1]`, `1:1: expected an audit-log entry (a JSON object), found array`, 1, 1, ""},
		{"date string", `{"_id":"a","accesses":[],"kind":"flag","date":"2024-01-01"}`, `1:47: "date": expected a number (milliseconds since epoch), found string`, 1, 47, "date"},
		{"missing id", "{\n  \"date\": 1\n}", `1:1: "_id": required field is missing (the entry id)`, 1, 1, "_id"},
		{"empty id", `{"_id":"","date":1}`, `1:8: "_id": expected a non-empty string (the entry id), found an empty string`, 1, 8, "_id"},
		{"id number", `{"_id":5}`, `1:8: "_id": expected a non-empty string (the entry id), found number`, 1, 8, "_id"},
		{"missing date", `{"_id":"a"}`, `1:1: "date": required field is missing (milliseconds since epoch)`, 1, 1, "date"},
		{"date out of range", `{"_id":"a","date":1e300}`, `1:19: "date": 1e+300 milliseconds is outside the range of dates (±8.64e15)`, 1, 19, "date"},
		{"missing kind", `{"_id":"a","date":1,"accesses":[]}`, `1:1: "kind": required field is missing (the resource kind, e.g. "flag")`, 1, 1, "kind"},
		{"kind null", `{"_id":"a","date":1,"kind":null}`, `1:28: "kind": expected a string (the resource kind, e.g. "flag"), found null`, 1, 28, "kind"},
		{"missing accesses", `{"_id":"a","date":1,"kind":"flag"}`, `1:1: "accesses": required field is missing (an array of {action, resource})`, 1, 1, "accesses"},
		{"accesses object", `{"_id":"a","date":1,"kind":"flag","accesses":{}}`, `1:46: "accesses": expected an array of {action, resource} objects, found object`, 1, 46, "accesses"},
		{"access string", `{"_id":"a","date":1,"kind":"flag","accesses":["proj/x"]}`, `1:47: "accesses[0]": expected an object with "action" and "resource", found string`, 1, 47, "accesses[0]"},
		{"action missing", "{\"_id\":\"a\",\"date\":1,\"kind\":\"flag\",\"accesses\":[\n {\"action\":\"x\",\"resource\":\"r\"},\n {\"resource\":\"r\"}]}", `3:2: "accesses[1].action": required field is missing (the action name)`, 3, 2, "accesses[1].action"},
		{"resource number", `{"_id":"a","date":1,"kind":"flag","accesses":[{"action":"x","resource":7}]}`, `1:72: "accesses[0].resource": expected a string (a resource specifier), found number`, 1, 72, "accesses[0].resource"},
		{"trailing garbage", `{"_id":"a"} x`, `1:13: unexpected "x" after the JSON value`, 1, 13, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := DecodeEntry([]byte(tc.in))
			if err == nil {
				t.Fatalf("decoded %+v, want error", e)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got  %s\n want %s", err, tc.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("%T is not a *DecodeError", err)
			}
			if de.Line != tc.line || de.Col != tc.col || de.Field != tc.field || de.Index != -1 {
				t.Errorf("position %d:%d field %q index %d, want %d:%d %q -1", de.Line, de.Col, de.Field, de.Index, tc.line, tc.col, tc.field)
			}
		})
	}
}

func TestDecodeEntryTolerant(t *testing.T) {
	in := `{"_id":"a","date":1700000000000.7,"kind":"flag","accesses":[],
"name":42,"futureField":{"x":[1,2]},"member":"someone","target":{"name":"T","resources":["proj/p",{"odd":true}]},
"parent":null,"comment":null}`
	e, err := DecodeEntry([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if e.Date != 1700000000000 {
		t.Errorf("fractional date floors: %d", e.Date)
	}
	if e.Name != "" || e.Member != nil || e.Parent != nil || e.Comment != "" {
		t.Errorf("wrongly typed optional fields should be ignored: %+v", e)
	}
	if !slices.Equal(e.Target.Resources, []string{"proj/p"}) {
		t.Errorf("target resources %v", e.Target.Resources)
	}
	want := []string{
		`2:8: "name": expected a string, found number; ignored`,
		`2:46: "member": expected an object, found string; ignored`,
		`2:99: "target.resources[1]": expected a resource specifier string, found object; ignored`,
	}
	var got []string
	for _, w := range e.Warnings {
		got = append(got, w.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings\n got  %q\n want %q", got, want)
	}
	if e.Value.Path("futureField", "x").Len() != 2 {
		t.Error("unknown field lost")
	}
}

func TestMemberDisplayName(t *testing.T) {
	for _, tc := range []struct {
		m    Member
		want string
	}{
		{Member{FirstName: "Ada", LastName: "Lovelace", Email: "ada@x"}, "Ada Lovelace"},
		{Member{FirstName: "Ada", Email: "ada@x"}, "Ada"},
		{Member{LastName: " Lovelace ", Email: "ada@x"}, "Lovelace"},
		{Member{Email: "ada@x"}, "ada@x"},
		{Member{}, ""},
	} {
		if got := tc.m.DisplayName(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.m, got, tc.want)
		}
	}
}

// TestDecodeEntryNotJSON: text that is not JSON is refused with what was
// expected where, not with the literal its first letter could begin.
func TestDecodeEntryNotJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"not json", `5:1: expected an audit-log entry (a JSON object, starting with '{'), found "not json"`},
		{"  nullx", `5:3: expected an audit-log entry (a JSON object, starting with '{'), found "nullx"`},
		{"# a comment line that goes on and on and on", `5:1: expected an audit-log entry (a JSON object, starting with '{'), found "# a comment line that goes on an"…`},
		{"nul", `5:1: expected an audit-log entry (a JSON object, starting with '{'), found "nul"`},
		{`{"a": nope}`, `5:7: "a": invalid literal: expected "null"`}, // inside an object: JSON's own error
		{"7", `5:1: expected an audit-log entry (a JSON object), found number`},
	} {
		_, err := DecodeEntryAt([]byte(tc.in), 5, 1)
		if err == nil || err.Error() != tc.want {
			t.Errorf("DecodeEntryAt(%q) = %v, want %s", tc.in, err, tc.want)
		}
	}
}
