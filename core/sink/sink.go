// Package sink is the endpoint behind `auditrelay sink`: a local HTTP
// server that answers every request and prints what it received, so that
// a copied config.example.yaml has somewhere to deliver before real
// endpoints are set up, and an integration author can see the exact bytes
// a subscription sends.
package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

// Defaults of Options.
const (
	DefaultAddr    = "127.0.0.1:9000"
	DefaultMaxBody = 1 << 20 // larger requests are answered 413
	DefaultShow    = 4 << 10 // bytes of each body printed in text mode
)

// Options configure a Sink. Zero values take the defaults.
type Options struct {
	// Out receives one record per request; required.
	Out io.Writer
	// JSON prints each request as one JSON line instead of text.
	JSON bool
	// Status is the answer to every request, default 200.
	Status int
	// MaxBody bounds what is read of a body; a larger one is answered
	// 413 and recorded without its body. Default DefaultMaxBody.
	MaxBody int64
	// Show is how many bytes of a body text mode prints. Default
	// DefaultShow; JSON lines carry the whole body read.
	Show int
}

// Request is what the sink records of one request.
type Request struct {
	At      time.Time         `json:"at"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query,omitempty"`
	Headers map[string]string `json:"headers"` // credentials masked
	Bytes   int64             `json:"bytes"`
	Body    string            `json:"body"`
	Status  int               `json:"status"`
}

// Sink is a running sink.
type Sink struct {
	o      Options
	ln     net.Listener
	srv    *http.Server
	masker *mask.Masker
	mu     sync.Mutex // serialises writes to Out
	count  int64
}

// Listen binds addr ("" for DefaultAddr); Serve then answers requests.
func Listen(addr string, o Options) (*Sink, error) {
	if o.Out == nil {
		return nil, errors.New("sink: no output")
	}
	if addr == "" {
		addr = DefaultAddr
	}
	if o.Status == 0 {
		o.Status = http.StatusOK
	}
	if o.Status < 100 || o.Status > 599 {
		return nil, fmt.Errorf("sink: status %d is not an HTTP status (100-599)", o.Status)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Show <= 0 {
		o.Show = DefaultShow
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	s := &Sink{o: o, ln: ln, masker: mask.New()}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// Addr is the address the sink listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until ctx ends, then shuts down.
func (s *Sink) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	<-errc
	return err
}

// ServeHTTP records the request and answers it.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{At: time.Now().UTC(), Method: r.Method, Path: r.URL.Path, Headers: map[string]string{}, Status: s.o.Status}
	if r.URL.RawQuery != "" {
		rec.Query = strings.TrimPrefix(s.masker.URL("?"+r.URL.RawQuery, false), "?")
	}
	for name, vals := range r.Header {
		rec.Headers[name] = s.masker.Header(name, strings.Join(vals, ", "), false)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.o.MaxBody+1))
	rec.Bytes = int64(len(body))
	switch {
	case err != nil:
		rec.Status = http.StatusBadRequest
		rec.Body = "(reading the body: " + err.Error() + ")"
	case int64(len(body)) > s.o.MaxBody:
		rec.Status = http.StatusRequestEntityTooLarge
		rec.Body = fmt.Sprintf("(body over %d bytes, not kept)", s.o.MaxBody)
	default:
		rec.Body = string(body)
	}
	s.write(rec)
	w.WriteHeader(rec.Status)
}

func (s *Sink) write(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	if s.o.JSON {
		line, _ := json.Marshal(rec)
		s.o.Out.Write(append(line, '\n'))
		return
	}
	var b strings.Builder
	target := rec.Path
	if rec.Query != "" {
		target += "?" + rec.Query
	}
	fmt.Fprintf(&b, "#%d %s %s %s → %d (%d bytes)\n", s.count, rec.At.Format(time.RFC3339), rec.Method, target, rec.Status, rec.Bytes)
	names := make([]string, 0, len(rec.Headers))
	for n := range rec.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %s: %s\n", n, rec.Headers[n])
	}
	body := rec.Body
	more := ""
	if len(body) > s.o.Show {
		more = fmt.Sprintf("\n  … %d more bytes", len(body)-s.o.Show)
		body = body[:s.o.Show]
	}
	if body != "" {
		b.WriteString("\n  " + strings.ReplaceAll(strings.TrimRight(body, "\n"), "\n", "\n  ") + more + "\n")
	}
	b.WriteString("\n")
	io.WriteString(s.o.Out, b.String())
}
