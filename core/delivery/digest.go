package delivery

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
)

// Digest returns the hex SHA-256 of a request, the value Send puts in
// Result.RequestDigest. It lets an attempt record prove which bytes went
// out without storing them.
//
// Input, each item framed as an 8-byte big-endian length then the bytes:
// "auditrelay-request-v1", method, url, the number of headers (as decimal
// text), then for every header its lower-cased name and its value, and
// finally the body. Headers are ordered by lower-cased name; values of one
// name keep their order. Content-Length is not a header here (it follows
// from the body); a Host override is.
func Digest(method, url string, headers []Header, body []byte) string {
	hs := slices.Clone(headers)
	slices.SortStableFunc(hs, func(a, b Header) int { return compareFold(a.Name, b.Name) })
	size := 64 + len(method) + len(url)
	for _, h := range hs {
		size += 16 + len(h.Name) + len(h.Value)
	}
	buf := make([]byte, 0, size)
	buf = frame(buf, "auditrelay-request-v1", false)
	buf = frame(buf, method, false)
	buf = frame(buf, url, false)
	buf = frame(buf, strconv.Itoa(len(hs)), false)
	for _, h := range hs {
		buf = frame(buf, h.Name, true)
		buf = frame(buf, h.Value, false)
	}
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(body)))
	d := sha256.New()
	d.Write(buf)
	d.Write(body)
	return hex.EncodeToString(d.Sum(nil))
}

// digestHTTP digests the header map Send hands to net/http.
func digestHTTP(method, url, host string, hdr http.Header, body []byte) string {
	hs := make([]Header, 0, len(hdr)+1)
	for name, vals := range hdr {
		for _, v := range vals {
			hs = append(hs, Header{Name: name, Value: v})
		}
	}
	if host != "" {
		hs = append(hs, Header{Name: "Host", Value: host})
	}
	return Digest(method, url, hs, body)
}

// frame appends len(s) and s, lower-casing ASCII when asked.
func frame(buf []byte, s string, lowerCase bool) []byte {
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
	if !lowerCase {
		return append(buf, s...)
	}
	for i := 0; i < len(s); i++ {
		buf = append(buf, lower(s[i]))
	}
	return buf
}

// compareFold orders strings by their ASCII lower-case form.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if ca, cb := lower(a[i]), lower(b[i]); ca != cb {
			return int(ca) - int(cb)
		}
	}
	return len(a) - len(b)
}
