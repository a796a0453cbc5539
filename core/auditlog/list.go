package auditlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Page is one page of GET /api/v2/auditlog:
// {"items": [...], "_links": {...}, "totalCount": N}.
type Page struct {
	// Entries are the valid items, in page order.
	Entries []*Entry
	// Invalid holds one error per item that is not a valid entry, in page
	// order; Index is the item's position in items. The items are not in
	// Entries; the page's other items are.
	Invalid []*DecodeError
	// Links is the page's _links (next/prev/self), undefined when absent.
	Links jsonv.Value
	// TotalCount is totalCount, or -1 when the page does not carry one.
	TotalCount int
}

// The functions below that decode several entries keep going past a bad
// element: they return every good entry, in input order, together with an
// error joining one *DecodeError per bad element (errors.Join), so that no
// entry is dropped without a word. A document that is not JSON at all
// yields no entries. DecodePage keeps the bad elements apart instead
// (Page.Invalid), as a poller handles them one by one.

// DecodePage decodes a page of the list API. Its error says the data is
// not such a page at all (not JSON, no "items" array); items that are not
// valid entries are in Page.Invalid. Each entry's Raw is its own slice of
// data, which must not be modified afterwards.
//
// The page is decoded at once, so decoding holds what jsonv.Decode takes
// for the whole of data (about 5 bytes per byte of entries); a caller
// bounds data first.
//
// An item that is not JSON (bytes that are not UTF-8 in one entry's name,
// say) does not make the page unreadable: when the only problem is inside
// items, the page is read item by item, and that item alone is invalid.
func DecodePage(data []byte) (*Page, error) {
	src := string(data)
	v, err := jsonv.DecodeString(src)
	if err != nil {
		if page := pageByItem(data, src, err); page != nil {
			return page, nil
		}
		return nil, syntaxError(err, positioner{src: src, index: -1})
	}
	return pageFromValue(v, data, src)
}

func pageFromValue(v jsonv.Value, data []byte, src string) (*Page, error) {
	p := positioner{src: src, index: -1}
	if v.Kind() != jsonv.Object {
		return nil, p.errorAt(v.Offset(), "", "expected an audit-log list page {\"items\": [...]}, found %s", v.Kind())
	}
	items := v.Get("items")
	switch {
	case items.IsUndefined():
		return nil, p.errorAt(v.Offset(), "items", "required field is missing (the array of entries)")
	case items.Kind() != jsonv.Array:
		return nil, p.errorAt(items.Offset(), "items", "expected an array of audit-log entries, found %s", items.Kind())
	}
	page := &Page{Links: v.Get("_links"), TotalCount: -1}
	if tc := v.Get("totalCount"); tc.Kind() == jsonv.Number && tc.Float() >= 0 && tc.Float() <= 1<<53 {
		page.TotalCount = int(tc.Float())
	}
	page.Entries, page.Invalid = elements(items, data, src)
	return page, nil
}

// elements decodes the entries of an already decoded array, giving each
// its own slice of data.
func elements(arr jsonv.Value, data []byte, src string) ([]*Entry, []*DecodeError) {
	out := make([]*Entry, 0, arr.Len())
	var bad []*DecodeError
	for i, ev := range arr.Elems() {
		start := ev.Offset()
		end := valueEnd(src, start)
		e, err := entryFromValue(ev, data[start:end:end], start, positioner{src: src, index: i})
		if err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, e)
	}
	return out, bad
}

// inElement reports whether a syntax error lies inside an element of the
// array at path ("items" for a page, "" for an array of entries): then the
// document around it may be sound, and its other elements readable.
func inElement(err error, path string) bool {
	se, ok := err.(*jsonv.SyntaxError)
	return ok && strings.HasPrefix(se.Path, path+"[")
}

// pageByItem reads a page whose JSON is broken inside an item (err is
// what decoding it whole said): the page's own members are scanned
// without checking the items, and each item is decoded on its own. It
// returns nil when the problem is elsewhere or the page's structure
// itself is broken, which only decoding the whole can describe.
func pageByItem(data []byte, src string, err error) *Page {
	if !inElement(err, "items") {
		return nil
	}
	i := skipSpace(src, 0)
	if i >= len(src) || src[i] != '{' {
		return nil
	}
	page := &Page{TotalCount: -1}
	found := false
	for i = skipSpace(src, i+1); ; {
		if i >= len(src) || src[i] != '"' {
			return nil
		}
		keyEnd := stringEnd(src, i)
		if keyEnd < 0 {
			return nil
		}
		key := src[i:keyEnd]
		if i = skipSpace(src, keyEnd); i >= len(src) || src[i] != ':' {
			return nil
		}
		i = skipSpace(src, i+1)
		end := valueEndChecked(src, i)
		if end < 0 {
			return nil
		}
		switch key {
		case `"items"`:
			if src[i] != '[' {
				return nil
			}
			var ok bool
			if page.Entries, page.Invalid, ok = elementsByOne(data, src, i); !ok {
				return nil
			}
			found = true
		case `"_links"`, `"totalCount"`:
			// Read on their own; their offsets are relative to themselves.
			v, err := jsonv.DecodeString(src[i:end])
			switch {
			case err != nil:
				return nil
			case key == `"_links"`:
				page.Links = v
			case v.Kind() == jsonv.Number && v.Float() >= 0 && v.Float() <= 1<<53:
				page.TotalCount = int(v.Float())
			}
		}
		switch i = skipSpace(src, end); {
		case i < len(src) && src[i] == ',':
			i = skipSpace(src, i+1)
		case i < len(src) && src[i] == '}' && skipSpace(src, i+1) == len(src) && found:
			return page
		default:
			return nil
		}
	}
}

// elementsByOne decodes the elements of the array that starts at
// src[start] one at a time, each placed where it is in src; ok is false
// when the array's own structure is broken.
func elementsByOne(data []byte, src string, start int) (entries []*Entry, bad []*DecodeError, ok bool) {
	i := skipSpace(src, start+1)
	if i < len(src) && src[i] == ']' {
		return nil, nil, true
	}
	for index := 0; ; index++ {
		end := valueEndChecked(src, i)
		if end < 0 {
			return nil, nil, false
		}
		line, col := jsonv.LineCol(src, i)
		elem := src[i:end]
		p := positioner{src: elem, index: index, lineBase: line - 1, colBase: col - 1, offBase: i}
		if v, err := jsonv.DecodeString(elem); err != nil {
			bad = append(bad, syntaxError(err, p))
		} else if e, de := entryFromValue(v, data[i:end:end], 0, p); de != nil {
			bad = append(bad, de)
		} else {
			entries = append(entries, e)
		}
		switch i = skipSpace(src, end); {
		case i < len(src) && src[i] == ',':
			i = skipSpace(src, i+1)
		case i < len(src) && src[i] == ']':
			return entries, bad, true
		default:
			return nil, nil, false
		}
	}
}

// joinErrors is errors.Join of the *DecodeErrors of bad elements.
func joinErrors(bad []*DecodeError) error {
	if len(bad) == 0 {
		return nil
	}
	errs := make([]error, len(bad))
	for i, de := range bad {
		errs[i] = de
	}
	return errors.Join(errs...)
}

// DecodeNDJSON decodes newline-delimited entries, one JSON object a line;
// blank lines are skipped.
func DecodeNDJSON(data []byte) ([]*Entry, error) {
	var out []*Entry
	var errs []error
	r := NewNDJSONReader(bytes.NewReader(data))
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				return out, errors.Join(append(errs, err)...)
			}
			errs = append(errs, err)
			continue
		}
		out = append(out, e)
	}
	return out, errors.Join(errs...)
}

// MaxLineBytes bounds one NDJSON line, so that a stream without newlines
// cannot grow memory without limit.
const MaxLineBytes = 16 << 20

// NDJSONReader reads entries from a stream of newline-delimited JSON, for
// tailing a file or a pipe. It is not safe for concurrent use.
type NDJSONReader struct {
	sc    *bufio.Scanner
	line  int // lines read so far
	index int // entries seen so far, good or bad
}

// NewNDJSONReader returns a reader of entries from r.
func NewNDJSONReader(r io.Reader) *NDJSONReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	return &NDJSONReader{sc: sc}
}

// Next returns the next entry. A malformed line yields a *DecodeError and
// the reader moves on to the next line; io.EOF marks the end. Each entry's
// Raw is its line without the line break.
func (r *NDJSONReader) Next() (*Entry, error) {
	for r.sc.Scan() {
		r.line++
		line := bytes.TrimSuffix(r.sc.Bytes(), []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		src := string(line) // a copy: the scanner reuses its buffer
		p := positioner{src: src, index: r.index, lineBase: r.line - 1}
		r.index++
		v, err := jsonv.DecodeString(src)
		if err != nil {
			return nil, syntaxError(err, p)
		}
		start := v.Offset()
		end := valueEnd(src, start)
		return entry(entryFromValue(v, []byte(src[start:end]), start, p))
	}
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("entries: line %d: longer than %d bytes", r.line+1, MaxLineBytes)
		}
		return nil, fmt.Errorf("entries: reading line %d: %w", r.line+1, err)
	}
	return nil, io.EOF
}

// DecodeEntries decodes whatever holds entries: a single entry, a JSON
// array of entries, a list-API page or NDJSON. It tells them apart by the
// first value: an array, an object with "items" and no "_id" (a page), an
// object followed by more values (NDJSON), or a lone object (one entry).
func DecodeEntries(data []byte) ([]*Entry, error) {
	src := string(data)
	start := skipSpace(src, 0)
	if start < len(src) && src[start] == '{' {
		if end := valueEndChecked(src, start); end > 0 && skipSpace(src, end) < len(src) {
			return DecodeNDJSON(data)
		}
	}
	v, err := jsonv.DecodeString(src)
	if err != nil {
		return nil, syntaxError(err, positioner{src: src, index: -1})
	}
	switch {
	case v.Kind() == jsonv.Array:
		entries, bad := elements(v, data, src)
		return entries, joinErrors(bad)
	case v.Kind() == jsonv.Object && v.Has("items") && !v.Has("_id"):
		page, err := pageFromValue(v, data, src)
		if err != nil {
			return nil, err
		}
		return page.Entries, joinErrors(page.Invalid)
	}
	e, err := entry(entryFromValue(v, data, 0, positioner{src: src, index: -1}))
	if err != nil {
		return nil, err
	}
	return []*Entry{e}, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the offset just past the JSON value starting at start in
// src, which must already have decoded without error.
func valueEnd(src string, start int) int {
	if end := valueEndChecked(src, start); end > 0 {
		return end
	}
	return len(src)
}

// valueEndChecked scans the value at start without validating it, and
// returns -1 when it does not end (an unterminated string or container).
func valueEndChecked(src string, start int) int {
	i := start
	if i >= len(src) {
		return -1
	}
	switch src[i] {
	case '"':
		return stringEnd(src, i)
	case '{', '[':
		depth := 0
		for i < len(src) {
			switch src[i] {
			case '"':
				i = stringEnd(src, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(src) {
		switch src[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// stringEnd returns the offset past the string whose opening quote is at i,
// or -1 when it is unterminated.
func stringEnd(src string, i int) int {
	for i++; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// SplitArray returns the exact bytes of each element of a JSON array of
// entries, without deciding whether each is a valid entry: that is
// DecodeEntry's job, per element, so that one bad element does not refuse
// the others. It fails when data is not a JSON array.
func SplitArray(data []byte) ([][]byte, error) {
	src := string(data)
	v, err := jsonv.DecodeString(src)
	if err != nil {
		return nil, syntaxError(err, positioner{src: src, index: -1})
	}
	if v.Kind() != jsonv.Array {
		return nil, errors.New("expected a JSON array of entries")
	}
	out := make([][]byte, 0, v.Len())
	for _, ev := range v.Elems() {
		start := ev.Offset()
		end := valueEnd(src, start)
		out = append(out, data[start:end:end])
	}
	return out, nil
}
