package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/jsonv"
)

// MaxEntryBytes bounds one entry (or one NDJSON line) in a replay file. A
// larger entry is reported as rejected and skipped; the reader never holds
// more than this plus its buffer in memory.
const MaxEntryBytes = 16 << 20

// readBuffer is the reader's buffer size: how far it reads ahead.
const readBuffer = 64 << 10

// PositionError is a problem at a place in a replay file. Line and Col are
// 1-based; Col counts characters.
type PositionError struct {
	Line, Col int
	Msg       string
}

func (e *PositionError) Error() string {
	return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg)
}

// ReadEntries streams the audit-log entries of a replay file to fn, in
// file order. The file is one of:
//
//   - NDJSON: one entry per line (blank lines are skipped). A line may also
//     hold a list page or an array of entries;
//   - a JSON array of entries, read element by element (a file of any size
//     is read in bounded memory);
//   - a list page of the REST API, {"items": [...], "_links": ...}, with
//     the items streamed the same way;
//   - pretty-printed entries (or pages, or arrays) one after the other.
//
// The format is told by the first value: an object that starts and ends on
// the first line makes the file NDJSON, read line by line; anything else
// is read as a sequence of JSON values.
//
// The reader only finds where each entry begins and ends, resynchronising
// after a broken one; whether an element is an entry is auditlog's to say.
// Each element is handed to auditlog.DecodeEntryAt, so the file is held
// to exactly what the webhook receiver and the poller accept, and errors
// name the line and column in the file in the same words.
//
// Each Item has Source "replay", Ref "line N" (the line the entry starts
// on), Line and Col, Raw (the entry's exact bytes) and Entry, the decoded
// entry. An element auditlog refuses is passed to fn with Err set to its
// *auditlog.DecodeError, one larger than MaxEntryBytes with a
// *PositionError; reading goes on. ReadEntries returns an error only
// when the file's own structure is broken (an unterminated array, a
// missing comma between entries, content that is not JSON at all), when
// reading fails, or when fn returns one; items before the problem have
// been passed to fn by then.
//
// Limitation: a broken first line of an NDJSON file cannot be told from
// the start of a multi-line document, so it may end the read with a
// structure error.
func ReadEntries(r io.Reader, fn func(Item) error) error {
	rd := &entryReader{br: bufio.NewReaderSize(r, readBuffer), line: 1, col: 1, fn: fn, limit: MaxEntryBytes}
	return rd.run()
}

type entryReader struct {
	br        *bufio.Reader
	line, col int // position of the next byte
	fn        func(Item) error
	limit     int // MaxEntryBytes, smaller in tests

	capOn   bool   // append bytes read to buf
	capOver bool   // buf would have exceeded MaxEntryBytes
	buf     []byte // the value being captured
	lineBuf []byte
}

// errStop carries fn's error out of the scanner untouched.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

func (r *entryReader) run() error {
	err := r.document()
	var stop errStop
	if errors.As(err, &stop) {
		return stop.err
	}
	return err
}

func (r *entryReader) readByte() (byte, error) {
	b, err := r.br.ReadByte()
	if err != nil {
		return 0, err
	}
	r.account([]byte{b})
	return b, nil
}

// window returns the buffered input, reading more when none is buffered.
// It is valid until the next read.
func (r *entryReader) window() ([]byte, error) {
	if r.br.Buffered() == 0 {
		if _, err := r.br.Peek(1); err != nil {
			return nil, err
		}
	}
	return r.br.Peek(r.br.Buffered())
}

// consume moves past the next n buffered bytes.
func (r *entryReader) consume(n int) {
	if n == 0 {
		return
	}
	b, _ := r.br.Peek(n)
	r.account(b)
	_, _ = r.br.Discard(n)
}

// account advances the position over b and captures it.
func (r *entryReader) account(b []byte) {
	if nl := bytes.LastIndexByte(b, '\n'); nl >= 0 {
		r.line += bytes.Count(b[:nl+1], []byte{'\n'})
		r.col = 1
		b2 := b[nl+1:]
		r.col += chars(b2)
	} else {
		r.col += chars(b)
	}
	if r.capOn {
		if room := r.limit - len(r.buf); room >= len(b) {
			r.buf = append(r.buf, b...)
		} else {
			r.buf = append(r.buf, b[:max(room, 0)]...)
			r.capOver = true
		}
	}
}

// chars counts the characters in b: the bytes that do not continue a
// UTF-8 sequence (so a sequence split between reads counts once).
func chars(b []byte) int {
	n := 0
	for _, c := range b {
		if c&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

func (r *entryReader) peek() (byte, error) {
	b, err := r.br.Peek(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace skips whitespace; it returns io.EOF at the end of input.
func (r *entryReader) skipSpace() error {
	for {
		w, err := r.window()
		if err != nil {
			return err
		}
		i := 0
		for i < len(w) && isSpace(w[i]) {
			i++
		}
		r.consume(i)
		if i < len(w) {
			return nil
		}
	}
}

func (r *entryReader) errorf(line, col int, format string, args ...any) error {
	return &PositionError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// readErr turns a read error into the error ReadEntries returns; io.EOF
// means the input ended where more was expected.
func (r *entryReader) readErr(err error, what string) error {
	if err == io.EOF {
		return r.errorf(r.line, r.col, "unexpected end of input: %s", what)
	}
	return fmt.Errorf("line %d: reading: %w", r.line, err)
}

func (r *entryReader) describeNext() string {
	c, err := r.peek()
	if err != nil {
		return "end of input"
	}
	return describeByte(c)
}

func describeByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("byte 0x%02x", c)
	}
	return strconv.Quote(string(c))
}

// document reads a sequence of top-level values, switching to line mode
// when the first one is an entry on a line of its own.
func (r *entryReader) document() error {
	if b, err := r.br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = r.br.Discard(3) // a UTF-8 byte-order mark
	}
	for first := true; ; first = false {
		if err := r.skipSpace(); err != nil {
			if err == io.EOF {
				return nil
			}
			return r.readErr(err, "")
		}
		line, col := r.line, r.col
		c, _ := r.peek()
		switch c {
		case '[':
			_, _ = r.readByte()
			if err := r.array(line, col); err != nil {
				return err
			}
		case '{':
			entry, err := r.object(line, col)
			if err != nil {
				return err
			}
			if first && entry && r.line == line {
				ndjson, err := r.endOfLine()
				if err != nil {
					return err
				}
				if ndjson {
					return r.lines()
				}
			}
		default:
			return r.errorf(line, col, "expected an audit-log entry '{', an array of entries '[' or a list page {\"items\": [...]}, found %s", r.describeNext())
		}
	}
}

// endOfLine consumes blanks up to and including the end of the current
// line; false when something else follows on the line.
func (r *entryReader) endOfLine() (bool, error) {
	for {
		c, err := r.peek()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, r.readErr(err, "")
		}
		switch c {
		case ' ', '\t', '\r':
			_, _ = r.readByte()
		case '\n':
			_, _ = r.readByte()
			return true, nil
		default:
			return false, nil
		}
	}
}

// array streams the elements of an array whose '[' was read at line:col.
func (r *entryReader) array(line, col int) error {
	unterminated := func(err error) error {
		if err == io.EOF {
			return r.errorf(r.line, r.col, "unterminated array opened at %d:%d: expected ',' or ']'", line, col)
		}
		return r.readErr(err, "")
	}
	if err := r.skipSpace(); err != nil {
		return unterminated(err)
	}
	if c, _ := r.peek(); c == ']' {
		_, _ = r.readByte()
		return nil
	}
	for {
		el, ec := r.line, r.col
		r.startCapture()
		err := r.scanValue()
		r.capOn = false
		if err != nil {
			return err
		}
		if err := r.emit(r.buf, el, ec); err != nil {
			return err
		}
		if err := r.skipSpace(); err != nil {
			return unterminated(err)
		}
		pl, pc := r.line, r.col
		c, _ := r.readByte()
		switch c {
		case ']':
			return nil
		case ',':
			if err := r.skipSpace(); err != nil {
				return unterminated(err)
			}
			if c, _ := r.peek(); c == ']' {
				return r.errorf(r.line, r.col, "trailing comma before ']': expected another entry")
			}
		default:
			return r.errorf(pl, pc, "expected ',' or ']' after the entry at %d:%d, found %s (missing comma?)", el, ec, describeByte(c))
		}
	}
}

func (r *entryReader) startCapture() {
	r.capOn, r.capOver = true, false
	r.buf = r.buf[:0]
}

// object reads a top-level object starting at line:col: a list page, whose
// items are streamed, or an entry, which is captured and emitted. It
// reports whether the object was an entry.
func (r *entryReader) object(line, col int) (bool, error) {
	r.startCapture()
	_, _ = r.readByte() // '{'
	seenID, page := false, false
	unterminated := func(err error) error {
		r.capOn = false
		if err == io.EOF {
			return r.errorf(r.line, r.col, "unterminated object opened at %d:%d", line, col)
		}
		return r.readErr(err, "")
	}
	// salvage skips a malformed entry to its closing brace, so that the
	// entry is reported with the exact problem and reading goes on. A
	// malformed page cannot be recovered: its items are already out.
	salvage := func(what string) (bool, error) {
		if page {
			r.capOn = false
			return false, r.errorf(r.line, r.col, "in the list page opened at %d:%d: expected %s, found %s", line, col, what, r.describeNext())
		}
		if err := r.skipToClose(1); err != nil {
			return false, unterminated(err)
		}
		r.capOn = false
		return true, r.emit(r.buf, line, col)
	}
	for first := true; ; first = false {
		if err := r.skipSpace(); err != nil {
			return false, unterminated(err)
		}
		c, _ := r.peek()
		if c == '}' {
			_, _ = r.readByte()
			break
		}
		if !first {
			if c != ',' {
				return salvage("',' or '}'")
			}
			_, _ = r.readByte()
			if err := r.skipSpace(); err != nil {
				return false, unterminated(err)
			}
			c, _ = r.peek()
		}
		if c != '"' {
			return salvage("a member name in double quotes")
		}
		key, err := r.scanKey()
		if err != nil {
			return false, unterminated(err)
		}
		if err := r.skipSpace(); err != nil {
			return false, unterminated(err)
		}
		if c, _ := r.peek(); c != ':' {
			return salvage("':' after the member name")
		}
		_, _ = r.readByte()
		if err := r.skipSpace(); err != nil {
			return false, unterminated(err)
		}
		if c, _ := r.peek(); key == "items" && !seenID && !page && c == '[' {
			page = true
			r.capOn = false
			al, ac := r.line, r.col
			_, _ = r.readByte()
			if err := r.array(al, ac); err != nil {
				return false, err
			}
			continue
		}
		if key == "_id" {
			seenID = true
		}
		if c, _ := r.peek(); c == ',' || c == '}' || c == ']' || c == ':' {
			return salvage("a value")
		}
		if err := r.scanValue(); err != nil {
			r.capOn = false
			return false, err
		}
	}
	r.capOn = false
	if page {
		return false, nil
	}
	return true, r.emit(r.buf, line, col)
}

// scanKey reads a member name and returns it decoded (as written when it
// cannot be decoded).
func (r *entryReader) scanKey() (string, error) {
	var key []byte
	if err := r.scanString(&key); err != nil {
		return "", err
	}
	v, err := jsonv.Decode(key)
	if err != nil || v.Kind() != jsonv.String {
		return string(key), nil
	}
	return v.Text(), nil
}

// scanString reads a string, appending at most 1 KiB of it (quotes
// included) to into when not nil. A raw line break ends the string: it
// is invalid JSON anyway, and ending there keeps one broken string from
// swallowing the rest of the file.
func (r *entryReader) scanString(into *[]byte) error {
	keep := func(b []byte) {
		if into != nil && len(*into) < 1024 {
			*into = append(*into, b[:min(len(b), 1024-len(*into))]...)
		}
	}
	if _, err := r.readByte(); err != nil { // the opening quote
		return err
	}
	keep([]byte{'"'})
	esc := false
	for {
		w, err := r.window()
		if err != nil {
			return err
		}
		for i := 0; i < len(w); i++ {
			if esc {
				esc = false
				continue
			}
			j := bytes.IndexAny(w[i:], "\"\\\n")
			if j < 0 {
				break
			}
			i += j
			if w[i] == '\\' {
				esc = true
				continue
			}
			keep(w[:i+1])
			r.consume(i + 1)
			return nil
		}
		keep(w)
		r.consume(len(w))
	}
}

// scanValue reads one value without validating it: strings are skipped
// whole and brackets counted, so that the value's end is found; the
// value's own syntax is checked when it is emitted.
func (r *entryReader) scanValue() error {
	line, col := r.line, r.col
	c, err := r.peek()
	if err != nil {
		return r.readErr(err, "expected a value")
	}
	switch c {
	case '"':
		if err := r.scanString(nil); err != nil {
			return r.unterminatedValue(err, line, col)
		}
		return nil
	case '{', '[':
		_, _ = r.readByte()
		if err := r.skipToClose(1); err != nil {
			return r.unterminatedValue(err, line, col)
		}
		return nil
	case ',', ']', '}', ':':
		return r.errorf(line, col, "expected a value, found %s", describeByte(c))
	}
	for {
		w, err := r.window()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return r.readErr(err, "")
		}
		for i, c := range w {
			if isSpace(c) || c == ',' || c == ']' || c == '}' || c == ':' {
				r.consume(i)
				return nil
			}
		}
		r.consume(len(w))
	}
}

func (r *entryReader) unterminatedValue(err error, line, col int) error {
	if err == io.EOF {
		return r.errorf(r.line, r.col, "unexpected end of input in the value starting at %d:%d", line, col)
	}
	return r.readErr(err, "")
}

// skipToClose reads until depth open brackets have been closed, skipping
// strings (which end at a raw line break, as in scanString).
func (r *entryReader) skipToClose(depth int) error {
	inStr, esc := false, false
	for {
		w, err := r.window()
		if err != nil {
			return err
		}
		i := 0
	scan:
		for ; i < len(w); i++ {
			if inStr {
				if esc {
					esc = false
					continue
				}
				j := bytes.IndexAny(w[i:], "\"\\\n")
				if j < 0 {
					i = len(w)
					break scan
				}
				i += j
				if w[i] == '\\' {
					esc = true
				} else {
					inStr = false
				}
				continue
			}
			switch w[i] {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					r.consume(i + 1)
					return nil
				}
			}
		}
		r.consume(i)
	}
}

// lines reads the rest of an NDJSON file line by line.
func (r *entryReader) lines() error {
	for {
		line, tooLong, err := r.readLine()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return r.readErr(err, "")
		}
		n := r.line
		r.line++
		if tooLong {
			if err := r.reject(nil, n, 1, n, 1, "line is longer than %d bytes; skipped", r.limit); err != nil {
				return err
			}
			continue
		}
		line = bytes.TrimRight(line, " \t\r\n")
		trimmed := bytes.TrimLeft(line, " \t")
		if len(trimmed) == 0 {
			continue
		}
		col := 1 + len(line) - len(trimmed)
		if err := r.lineValue(trimmed, n, col); err != nil {
			return err
		}
	}
}

// readLine returns the next line, or tooLong when it exceeds MaxEntryBytes
// (the rest of it is skipped).
func (r *entryReader) readLine() (line []byte, tooLong bool, err error) {
	r.lineBuf = r.lineBuf[:0]
	for {
		frag, err := r.br.ReadSlice('\n')
		if len(r.lineBuf)+len(frag) > r.limit+2 { // + "\r\n"
			tooLong = true
			r.lineBuf = r.lineBuf[:0]
		} else if !tooLong {
			r.lineBuf = append(r.lineBuf, frag...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			if len(r.lineBuf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			return r.lineBuf, tooLong, nil
		case err != nil:
			return nil, false, err
		}
		return r.lineBuf, tooLong, nil
	}
}

// lineValue emits what one NDJSON line holds: an entry, or the entries of
// a list page or an array written on the line.
func (r *entryReader) lineValue(b []byte, line, col int) error {
	isPage := b[0] == '{' && bytes.Contains(b, []byte(`"items"`))
	if !isPage && b[0] != '[' {
		return r.emit(b, line, col)
	}
	v, err := jsonv.Decode(b)
	if err != nil {
		return r.emit(b, line, col) // reports the syntax error
	}
	items := v
	if v.Kind() == jsonv.Object {
		items = v.Get("items")
		if items.Kind() != jsonv.Array || v.Has("_id") {
			return r.emit(b, line, col) // an entry that happens to mention "items"
		}
	}
	for _, el := range items.Elems() {
		off := el.Offset()
		end := valueEnd(b, off)
		if err := r.emit(b[off:end], line, col+utf8.RuneCount(b[:off])); err != nil {
			return err
		}
	}
	return nil
}

// valueEnd returns the offset just past the well-formed value at start.
func valueEnd(b []byte, start int) int {
	depth := 0
	for i := start; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return min(i+1, len(b))
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth <= 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i
			}
		}
	}
	return len(b)
}

// emit hands fn the element raw, which starts at line:col, decoded by
// auditlog: as an entry, or rejected with auditlog's reason.
func (r *entryReader) emit(raw []byte, line, col int) error {
	if r.capOver {
		r.capOver = false
		return r.reject(nil, line, col, line, col, "entry is larger than %d bytes; skipped", r.limit)
	}
	cp := bytes.Clone(bytes.TrimRight(raw, " \t\r\n"))
	it := Item{Raw: cp, Source: "replay", Ref: "line " + strconv.Itoa(line), Line: line, Col: col}
	it.Entry, it.Err = auditlog.DecodeEntryAt(cp, line, col)
	return r.call(it)
}

// reject hands fn an item that could not be read. The item's Ref, Line
// and Col name where the entry starts; its Err, where the problem is.
func (r *entryReader) reject(raw []byte, line, col, errLine, errCol int, format string, args ...any) error {
	return r.call(Item{Raw: raw, Source: "replay", Ref: "line " + strconv.Itoa(line), Line: line, Col: col,
		Err: &PositionError{Line: errLine, Col: errCol, Msg: fmt.Sprintf(format, args...)}})
}

func (r *entryReader) call(it Item) error {
	if err := r.fn(it); err != nil {
		return errStop{err}
	}
	return nil
}
