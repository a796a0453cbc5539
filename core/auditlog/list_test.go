package auditlog

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// joinFixtures returns the fixtures joined by sep, in name order, and the
// names.
func joinFixtures(t *testing.T, sep string, compact bool) ([]byte, [][]byte) {
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

func compactJSON(t *testing.T, b []byte) []byte {
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
	entries, err := DecodeArray(data)
	if err != nil {
		t.Fatal(err)
	}
	checkRaw(t, entries, parts)
	for _, e := range entries {
		if !bytes.Equal(data[e.RawOffset:e.RawOffset+len(e.Raw)], e.Raw) {
			t.Errorf("%s: RawOffset does not locate Raw", e.ID)
		}
	}
	// The same via DecodeEntries.
	auto, err := DecodeEntries(data)
	if err != nil {
		t.Fatal(err)
	}
	checkRaw(t, auto, parts)
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
		{"array", DecodeArray, arr, []string{"g0", "g2"}, []string{`entry[1] (line 3): 4:9: "date": expected a number (milliseconds since epoch), found string`}},
		{"page", func(b []byte) ([]*Entry, error) {
			p, err := DecodePage(b)
			if p == nil {
				return nil, err
			}
			return p.Entries, err
		}, page, []string{"g0", "g2"}, []string{`entry[1] (line 3): 4:9: "date": expected a number (milliseconds since epoch), found string`}},
		{"ndjson", DecodeNDJSON, nd, []string{"g0", "g3"}, []string{
			`entry[1] (line 2): 2:21: "date": expected a number (milliseconds since epoch), found string`,
			`entry[2] (line 4): 4:2: expected a member name in double quotes, found "b"`,
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

func TestListDocumentErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decode func([]byte) error
		in     string
		want   string
	}{
		{"array not array", func(b []byte) error { _, err := DecodeArray(b); return err }, `{"items":[]}`, `entry: 1:1: expected a JSON array of audit-log entries, found object`},
		{"array syntax", func(b []byte) error { _, err := DecodeArray(b); return err }, "[\n{\"_id\":1,}\n]", `entry: 2:10: "[0]": trailing comma before '}': expected another member name`},
		{"page no items", func(b []byte) error { _, err := DecodePage(b); return err }, `{"_links":{}}`, `entry: 1:1: "items": required field is missing (the array of entries)`},
		{"page items object", func(b []byte) error { _, err := DecodePage(b); return err }, `{"items":{}}`, `entry: 1:10: "items": expected an array of audit-log entries, found object`},
		{"entries scalar", func(b []byte) error { _, err := DecodeEntries(b); return err }, `42`, `entry: 1:1: expected an audit-log entry (a JSON object), found number`},
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
