package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// joinFixtures returns the fixtures joined by sep, in name order, and the
// names.
func joinFixtures(t testing.TB, sep string, compact bool) ([]byte, [][]byte) {
	fx := fixtures(t)
	var parts [][]byte
	for _, name := range sortedKeys(fx) {
		b := bytes.TrimSpace(fx[name])
		if compact {
			b = compactJSON(t, b)
		}
		parts = append(parts, b)
	}
	return bytes.Join(parts, []byte(sep)), parts
}

func compactJSON(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	inStr, esc := false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

func checkRaw(t *testing.T, got []*Entry, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Raw, want[i]) {
			t.Errorf("entry %d: Raw is not the element's bytes:\n%.80s…", i, got[i].Raw)
		}
	}
}

func TestDecodeArray(t *testing.T) {
	body, parts := joinFixtures(t, ",\n", false)
	data := append(append([]byte("[\n"), body...), "\n]\n"...)
	entries, err := DecodeEntries(data)
	if err != nil {
		t.Fatal(err)
	}
	checkRaw(t, entries, parts)
	for _, e := range entries {
		if !bytes.Equal(data[e.RawOffset:e.RawOffset+len(e.Raw)], e.Raw) {
			t.Errorf("%s: RawOffset does not locate Raw", e.ID)
		}
	}
}

func TestDecodePage(t *testing.T) {
	body, parts := joinFixtures(t, ", ", true)
	data := []byte(`{"_links":{"next":{"href":"/api/v2/auditlog?before=1737378576221&limit=10","type":"application/json"}},"items":[` + string(body) + `],"totalCount":57}`)
	page, err := DecodePage(data)
	if err != nil {
		t.Fatal(err)
	}
	checkRaw(t, page.Entries, parts)
	if page.TotalCount != 57 {
		t.Errorf("totalCount %d", page.TotalCount)
	}
	if !strings.Contains(page.Links.Path("next", "href").Text(), "before=") {
		t.Errorf("links %v", page.Links)
	}
	auto, err := DecodeEntries(data)
	if err != nil {
		t.Fatal(err)
	}
	checkRaw(t, auto, parts)

	noTotal, err := DecodePage([]byte(`{"items":[]}`))
	if err != nil || noTotal.TotalCount != -1 || len(noTotal.Entries) != 0 {
		t.Errorf("empty page: %+v %v", noTotal, err)
	}
}

func TestDecodeNDJSON(t *testing.T) {
	body, parts := joinFixtures(t, "\r\n\n", true)
	data := append(body, '\n')
	entries, err := DecodeNDJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	checkRaw(t, entries, parts)
	auto, err := DecodeEntries(data)
	if err != nil {
		t.Fatal(err)
	}
	checkRaw(t, auto, parts)
}

func TestDecodeEntriesSingle(t *testing.T) {
	raw := fixtures(t)["metric-create"]
	entries, err := DecodeEntries(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !bytes.Equal(entries[0].Raw, raw) {
		t.Fatalf("got %d entries", len(entries))
	}
}

// TestListErrorsKeepGoodEntries checks that one bad element is reported with
// its index and lines, and the others still come back.
func TestListErrorsKeepGoodEntries(t *testing.T) {
	good := `{"_id":"g%d","date":1,"kind":"flag","accesses":[]}`
	arr := "[\n" + strings.Replace(good, "%d", "0", 1) + ",\n{\"_id\":\"bad\",\n \"date\":\"yesterday\",\"kind\":\"flag\",\"accesses\":[]},\n" + strings.Replace(good, "%d", "2", 1) + "\n]"
	nd := strings.Replace(good, "%d", "0", 1) + "\n{\"_id\":\"bad\",\"date\":\"yesterday\",\"kind\":\"flag\",\"accesses\":[]}\n\n{broken\n" + strings.Replace(good, "%d", "3", 1) + "\n"
	page := `{"items":` + arr + `}`
	tests := []struct {
		name   string
		decode func([]byte) ([]*Entry, error)
		in     string
		ids    []string
		errs   []string
	}{
		{"array", DecodeEntries, arr, []string{"g0", "g2"}, []string{`4:9: "date": expected a number (milliseconds since epoch), found string`}},
		{"page", func(b []byte) ([]*Entry, error) {
			p, err := DecodePage(b)
			if err != nil {
				return nil, err
			}
			return p.Entries, joinErrors(p.Invalid)
		}, page, []string{"g0", "g2"}, []string{`4:9: "date": expected a number (milliseconds since epoch), found string`}},
		{"page via DecodeEntries", DecodeEntries, page, []string{"g0", "g2"}, []string{`4:9: "date": expected a number (milliseconds since epoch), found string`}},
		{"ndjson", DecodeNDJSON, nd, []string{"g0", "g3"}, []string{
			`2:21: "date": expected a number (milliseconds since epoch), found string`,
			`4:2: expected a member name in double quotes, found "b"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := tc.decode([]byte(tc.in))
			var ids []string
			for _, e := range entries {
				ids = append(ids, e.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.ids, ",") {
				t.Errorf("ids %v, want %v", ids, tc.ids)
			}
			if err == nil {
				t.Fatal("no error for the bad element")
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "|") != strings.Join(tc.errs, "|") {
				t.Errorf("errors\n got  %q\n want %q", got, tc.errs)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Index != 1 {
				t.Errorf("first error not a *DecodeError for index 1: %#v", de)
			}
		})
	}
}

// TestPageInvalidKeepsIDAndDate: an item that is wrong only after its _id
// and date still names them, so a poller can place it in time; one whose
// _id or date is the problem does not.
func TestPageInvalidKeepsIDAndDate(t *testing.T) {
	page := `{"items":[` +
		`{"_id":"k","date":1700000000000.9,"kind":7,"accesses":[]},` +
		`{"_id":"d","date":"x","kind":"flag","accesses":[]},` +
		`{"_id":"ok","date":2,"kind":"flag","accesses":[]},` +
		`{"_id":"a","date":3,"kind":"flag","accesses":[{"action":"x"}]}]}`
	p, err := DecodePage([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 1 || p.Entries[0].ID != "ok" {
		t.Fatalf("entries %+v", p.Entries)
	}
	type got struct {
		Index int
		Field string
		ID    string
		Date  int64
	}
	want := []got{{0, "kind", "k", 1700000000000}, {1, "date", "", 0}, {3, "accesses[0].resource", "a", 3}}
	if len(p.Invalid) != len(want) {
		t.Fatalf("invalid %v", p.Invalid)
	}
	for i, de := range p.Invalid {
		if g := (got{de.Index, de.Field, de.ID, de.Date}); g != want[i] {
			t.Errorf("invalid[%d] = %+v, want %+v (%v)", i, g, want[i], de)
		}
	}
}

// TestPageWithABrokenItem: an item that is not JSON makes only that item
// invalid; the page's other items are read, and the error is placed in
// the page. A page whose own structure is broken is refused whole.
func TestPageWithABrokenItem(t *testing.T) {
	good := func(id string) string { return `{"_id":"` + id + `","date":1,"kind":"flag","accesses":[]}` }
	for _, tc := range []struct {
		name, page string
		ids        []string
		invalid    []string // errors of Page.Invalid, with their index
		err        string   // DecodePage's error instead
	}{
		{name: "bytes that are not UTF-8",
			page: `{"_links":{"self":{"href":"/x"}},"items":[` + good("a") + ",\n" + `{"_id":"b","date":1,"name":"` + "\xff" + `","kind":"flag","accesses":[]},` + good("c") + `],"totalCount":3}`,
			ids:  []string{"a", "c"}, invalid: []string{`1 2:29: "name": invalid UTF-8: byte 0xFF in a string (JSON text must be UTF-8)`}},
		{name: "a trailing comma in an item",
			page: "{\"items\": [\n  " + good("a") + ",\n  {\"_id\":\"b\",}]}",
			ids:  []string{"a"}, invalid: []string{`1 3:14: trailing comma before '}': expected another member name`}},
		{name: "broken around the items",
			page: `{"items":[` + good("a") + `,{"_id":"` + "\xff" + `"}] "totalCount":1}`,
			err:  `1:68: "items[1]._id": invalid UTF-8: byte 0xFF in a string (JSON text must be UTF-8)`},
		{name: "unterminated item",
			page: `{"items":[` + good("a") + `,{"_id":"b}]}`,
			err:  `1:67: "items[1]._id": unterminated string: expected a closing '"'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(tc.page))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %v, want error %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids, invalid []string
			for _, e := range p.Entries {
				ids = append(ids, e.ID)
				if !strings.Contains(tc.page, string(e.Raw)) || e.Raw[0] != '{' {
					t.Errorf("Raw %q is not the item", e.Raw)
				}
			}
			for _, de := range p.Invalid {
				invalid = append(invalid, fmt.Sprintf("%d %v", de.Index, de))
				if de.Offset < 0 || de.Offset >= len(tc.page) {
					t.Errorf("offset %d outside the page", de.Offset)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.ids) || fmt.Sprint(invalid) != fmt.Sprint(tc.invalid) {
				t.Errorf("entries %v invalid %q, want %v %q", ids, invalid, tc.ids, tc.invalid)
			}
		})
	}
	p, err := DecodePage([]byte(`{"_links":{"self":{"href":"/x"}},"items":[{"_id":"` + "\xff" + `"}],"totalCount":3}`))
	if err != nil || p.TotalCount != 3 || p.Links.Path("self", "href").Text() != "/x" || len(p.Invalid) != 1 {
		t.Errorf("links and total of a page read item by item: %+v, %v", p, err)
	}
}

// TestDecodeEntryAtPlacesErrors: an entry cut out of a file reports its
// problems where they are in the file, as the whole file would.
func TestDecodeEntryAtPlacesErrors(t *testing.T) {
	elem := "{\"_id\":\"a\",\"date\":\"x\",\n \"kind\":\"flag\",\"accesses\":[]}"
	file := "[\n   " + elem + "\n]"
	for _, tc := range []struct {
		name      string
		elem      string
		line, col int
		want      string
	}{
		{"first line shifts the column", elem, 2, 4, `2:22: "date": expected a number (milliseconds since epoch), found string`},
		{"later lines keep theirs", "{\"_id\":\"a\",\"date\":1,\n \"kind\":3,\"accesses\":[]}", 2, 4, `3:9: "kind": expected a string (the resource kind, e.g. "flag"), found number`},
		{"syntax", strings.Replace(elem, `"x"`, `x`, 1), 2, 4, `2:22: "date": expected a JSON value (object, array, string, number, true, false or null), found "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEntryAt([]byte(tc.elem), tc.line, tc.col)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
	// The same problem found by decoding the whole file is at the same place.
	_, err := DecodeEntries([]byte(file))
	if err == nil || err.Error() != `2:22: "date": expected a number (milliseconds since epoch), found string` {
		t.Errorf("whole file: %v", err)
	}
	// Warnings are placed too.
	e, err := DecodeEntryAt([]byte(`{"_id":"a","date":1,"kind":"f","accesses":[],"name":1}`), 7, 3)
	if err != nil || len(e.Warnings) != 1 || e.Warnings[0].Line != 7 || e.Warnings[0].Col != 55 {
		t.Errorf("warning %v, %v", e, err)
	}
}

func TestListDocumentErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decode func([]byte) error
		in     string
		want   string
	}{
		{"array syntax", func(b []byte) error { _, err := DecodeEntries(b); return err }, "[\n{\"_id\":1,}\n]", `2:10: "[0]": trailing comma before '}': expected another member name`},
		{"page not an object", func(b []byte) error { _, err := DecodePage(b); return err }, `[]`, `1:1: expected an audit-log list page {"items": [...]}, found array`},
		{"page syntax", func(b []byte) error { _, err := DecodePage(b); return err }, `{"items":[],}`, `1:13: trailing comma before '}': expected another member name`},
		{"page no items", func(b []byte) error { _, err := DecodePage(b); return err }, `{"_links":{}}`, `1:1: "items": required field is missing (the array of entries)`},
		{"page items object", func(b []byte) error { _, err := DecodePage(b); return err }, `{"items":{}}`, `1:10: "items": expected an array of audit-log entries, found object`},
		{"entries scalar", func(b []byte) error { _, err := DecodeEntries(b); return err }, `42`, `1:1: expected an audit-log entry (a JSON object), found number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode([]byte(tc.in))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestNDJSONReaderStream(t *testing.T) {
	pr, pw := io.Pipe()
	r := NewNDJSONReader(pr)
	go func() {
		// Entries arrive one by one, as from a tailed file.
		for i := range 3 {
			_, _ = io.WriteString(pw, `{"_id":"s`+string(rune('0'+i))+`","date":1,"kind":"flag","accesses":[]}`+"\n")
		}
		_ = pw.Close()
	}()
	var ids []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "s0,s1,s2" {
		t.Errorf("ids %v", ids)
	}
}

func TestNDJSONReaderLineTooLong(t *testing.T) {
	long := bytes.Repeat([]byte("x"), MaxLineBytes+10)
	r := NewNDJSONReader(bytes.NewReader(long))
	_, err := r.Next()
	if err == nil || !strings.Contains(err.Error(), "line 1: longer than") {
		t.Errorf("got %v", err)
	}
}

func TestValueEnd(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want int
	}{
		{`"a\"b" x`, 6},
		{`{"a":"}","b":[1,{"c":"]"}]} ,`, 27},
		{`123 ,`, 3},
		{`true]`, 4},
		{`[1,2`, -1},
		{`"abc`, -1},
	} {
		if got := valueEndChecked(tc.src, 0); got != tc.want {
			t.Errorf("valueEndChecked(%q) = %d, want %d", tc.src, got, tc.want)
		}
	}
}
