package render

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/jsonv"
)

// uriKeep reports whether encodeURIComponent (component) or encodeURI
// (!component) leaves the ASCII byte c as it is.
func uriKeep(c byte, component bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', '!', '~', '*', '\'', '(', ')':
		return true
	case ';', ',', '/', '?', ':', '@', '&', '=', '+', '$', '#':
		return !component
	}
	return false
}

const upperHex = "0123456789ABCDEF"

// appendURIEncoded appends s percent-encoded like encodeURI or
// encodeURIComponent: UTF-8 bytes, upper-case hex. A lone surrogate makes
// JavaScript throw URIError; ok is false then.
func appendURIEncoded(buf []byte, s string, component bool) (out []byte, ok bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if uriKeep(c, component) {
				buf = append(buf, c)
			} else {
				buf = append(buf, '%', upperHex[c>>4], upperHex[c&0xF])
			}
			i++
			continue
		}
		if _, lone := surrogateAt(s, i); lone {
			return buf, false
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		enc := s[i : i+size]
		if r == utf8.RuneError && size == 1 {
			enc = "\uFFFD" // not valid UTF-8: JavaScript would hold U+FFFD
		}
		for j := 0; j < len(enc); j++ {
			buf = append(buf, '%', upperHex[enc[j]>>4], upperHex[enc[j]&0xF])
		}
		i += size
	}
	return buf, true
}

// toUTF8 converts a string with WTF-8 lone surrogates into the UTF-8 bytes
// Node's Buffer.from produces: each lone surrogate becomes U+FFFD.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if _, lone := surrogateAt(s, i); lone {
			out = append(out, "\uFFFD"...)
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		out = utf8.AppendRune(out, r)
		i += size
	}
	return string(out)
}

// basicAuth is the framework's basicAuthHeaderValue.
func basicAuth(user, pass jsonv.Value) string {
	raw := toUTF8(jsString(user) + ":" + jsString(pass))
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

// timeClip is JavaScript's TimeClip: the time value new Date(x) keeps.
func timeClip(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 8.64e15 {
		return math.NaN()
	}
	return math.Trunc(x) + 0
}

// jsRound is Math.round: halves round towards +Infinity.
func jsRound(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	f := math.Floor(x)
	if x-f >= 0.5 {
		f++
	}
	return f
}

// formatWithOffset is the framework helper: the instant ms + 1000·offset
// printed as "milliseconds" (the default), "seconds" (Math.round),
// "rfc3339" (Date.toISOString, with milliseconds) or "simple" (dateformat
// "yyyy-mm-dd h:MM:ss" in UTC, or "2006-01-02 15:04:05" with simple24).
// errMsg is set where JavaScript throws.
func formatWithOffset(ms, offset, format jsonv.Value, simple24 bool) (v jsonv.Value, errMsg string) {
	t := math.NaN()
	// ms + 1000*offset concatenates when ms is not a primitive number-like
	// value; new Date of that string is not a time this helper can use.
	switch ms.Kind() {
	case jsonv.String, jsonv.Array, jsonv.Object:
	default:
		t = timeClip(toNumber(ms) + 1000*toNumber(offset))
	}
	f := ""
	if format.Kind() == jsonv.String {
		f = format.Text()
	}
	switch f {
	case "seconds":
		return jsonv.Num(jsRound(t / 1000)), ""
	case "rfc3339":
		if math.IsNaN(t) {
			return jsonv.Value{}, "formatWithOffset: Invalid time value"
		}
		return jsonv.Str(isoString(t)), ""
	case "simple":
		if math.IsNaN(t) {
			return jsonv.Value{}, "formatWithOffset: Invalid date"
		}
		tm := time.UnixMilli(int64(t)).UTC()
		if simple24 {
			return jsonv.Str(tm.Format("2006-01-02 15:04:05")), ""
		}
		return jsonv.Str(dateformatSimple(tm)), ""
	}
	return jsonv.Num(t), ""
}

// isoString is Date.prototype.toISOString for a valid time value.
func isoString(ms float64) string {
	tm := time.UnixMilli(int64(ms)).UTC()
	b := make([]byte, 0, 27)
	y := tm.Year()
	if y >= 0 && y <= 9999 {
		b = appendPadded(b, y, 4)
	} else {
		if y < 0 {
			b = append(b, '-')
			y = -y
		} else {
			b = append(b, '+')
		}
		b = appendPadded(b, y, 6)
	}
	b = append(b, '-')
	b = appendPadded(b, int(tm.Month()), 2)
	b = append(b, '-')
	b = appendPadded(b, tm.Day(), 2)
	b = append(b, 'T')
	b = appendPadded(b, tm.Hour(), 2)
	b = append(b, ':')
	b = appendPadded(b, tm.Minute(), 2)
	b = append(b, ':')
	b = appendPadded(b, tm.Second(), 2)
	b = append(b, '.')
	b = appendPadded(b, tm.Nanosecond()/1e6, 3)
	return string(append(b, 'Z'))
}

// dateformatSimple is dateformat's mask "yyyy-mm-dd h:MM:ss": a 12-hour
// clock without AM/PM and without padding the hour.
func dateformatSimple(tm time.Time) string {
	b := make([]byte, 0, 19)
	b = padString(b, strconv.Itoa(tm.Year()), 4)
	b = append(b, '-')
	b = appendPadded(b, int(tm.Month()), 2)
	b = append(b, '-')
	b = appendPadded(b, tm.Day(), 2)
	b = append(b, ' ')
	h := tm.Hour() % 12
	if h == 0 {
		h = 12
	}
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, ':')
	b = appendPadded(b, tm.Minute(), 2)
	b = append(b, ':')
	b = appendPadded(b, tm.Second(), 2)
	return string(b)
}

func appendPadded(b []byte, n, width int) []byte {
	return padString(b, strconv.Itoa(n), width)
}

// padString left-pads s with zeros to width, as String.prototype.padStart.
func padString(b []byte, s string, width int) []byte {
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
