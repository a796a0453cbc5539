package manifest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// maxSyntaxErrors bounds how many JSON syntax errors one file reports.
const maxSyntaxErrors = 20

// decodeJSON decodes a JSON document. A JSON parser stops at the first
// error; to report more than one, decodeJSON repairs the two most common
// hand-editing mistakes (a missing comma, a trailing comma) in a scratch
// copy and decodes again, reporting each error at its position in the
// original text. It stops at the first error it cannot repair, so every
// reported error is real, and the first is always exact.
func decodeJSON(file, src string) (jsonv.Value, Problems) {
	var probs Problems
	cur := src
	var edits []edit
	for range maxSyntaxErrors {
		v, err := jsonv.DecodeString(cur)
		if err == nil {
			if probs == nil {
				return v, nil
			}
			return jsonv.Value{}, probs
		}
		var se *jsonv.SyntaxError
		if !errors.As(err, &se) {
			probs = append(probs, Problem{File: file, Severity: SeverityError, Msg: "invalid JSON: " + err.Error()})
			return jsonv.Value{}, probs
		}
		at := func(off int) (int, int) { return jsonv.LineCol(src, originalOffset(edits, off)) }
		report := func(off int, msg string) {
			line, col := at(off)
			probs = append(probs, Problem{File: file, Line: line, Col: col, Severity: SeverityError, Msg: "invalid JSON: " + msg})
		}
		switch {
		case strings.HasSuffix(se.Msg, "(missing comma?)"):
			// Point just past the value that lacks its comma, which is
			// where the comma belongs, and say where the next one starts.
			end := len(strings.TrimRight(cur[:se.Offset], " \t\r\n"))
			nl, nc := at(se.Offset)
			what := "array element"
			if _, rest, ok := strings.Cut(se.Msg, "after object member "); ok {
				name, _, _ := strings.Cut(rest, ", found")
				what = "object member " + name
			}
			report(end, fmt.Sprintf("missing ',' after %s (the next value starts at %d:%d)", what, nl, nc))
			cur = cur[:se.Offset] + "," + cur[se.Offset:]
			edits = append(edits, edit{at: se.Offset, insert: true})
		case strings.HasPrefix(se.Msg, "trailing comma"):
			k := strings.LastIndexByte(cur[:se.Offset], ',')
			if k < 0 || strings.TrimSpace(cur[k+1:se.Offset]) != "" {
				report(se.Offset, se.Msg)
				return jsonv.Value{}, probs
			}
			closer := cur[se.Offset : se.Offset+1]
			report(k, fmt.Sprintf("trailing comma before '%s' (JSON allows no comma after the last %s)", closer, map[string]string{"]": "array element", "}": "object member"}[closer]))
			cur = cur[:k] + cur[k+1:]
			edits = append(edits, edit{at: k})
		default:
			report(se.Offset, se.Msg)
			return jsonv.Value{}, probs
		}
	}
	return jsonv.Value{}, probs
}

// edit is one repair made to the scratch copy: a byte inserted or deleted
// at offset at of the text as it was before the edit.
type edit struct {
	at     int
	insert bool
}

// originalOffset maps an offset in the repaired text back to the original.
func originalOffset(edits []edit, off int) int {
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		if e.insert {
			if off > e.at {
				off--
			}
		} else if off >= e.at {
			off++
		}
	}
	return off
}
