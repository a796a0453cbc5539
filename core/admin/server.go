package admin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/core/source"
)

// The admin API lets `auditrelay deliveries` and `auditrelay replay` work
// against a running instance. It listens on loopback by default and every
// request needs the bearer token (admin.token, or the one generated into
// the data directory).

const adminPrefix = "/admin/v1"

func adminHandler(api *engine.Engine, token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+adminPrefix+"/deliveries", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit <= 0 || limit > 1000 {
			limit = 50
		}
		var states []engine.State
		for _, s := range q["state"] {
			states = append(states, engine.State(s))
		}
		ds, err := api.Deliveries(r.Context(), engine.DeliveryQuery{Subscription: q.Get("subscription"), EntryID: q.Get("entry"), States: states, Limit: limit})
		writeAdmin(w, ds, err)
	})
	mux.HandleFunc("GET "+adminPrefix+"/deliveries/{id}", func(w http.ResponseWriter, r *http.Request) {
		d, err := api.Delivery(r.Context(), r.PathValue("id"))
		writeAdmin(w, d, err)
	})
	mux.HandleFunc("POST "+adminPrefix+"/deliveries/{id}/retry", func(w http.ResponseWriter, r *http.Request) {
		err := api.Retry(r.Context(), actor(r), r.PathValue("id"))
		writeAdmin(w, map[string]any{"retried": 1}, err)
	})
	mux.HandleFunc("POST "+adminPrefix+"/subscriptions/{name}/retry-failed", func(w http.ResponseWriter, r *http.Request) {
		n, err := api.RetryAll(r.Context(), actor(r), r.PathValue("name"))
		writeAdmin(w, map[string]any{"retried": n}, err)
	})
	mux.HandleFunc("GET "+adminPrefix+"/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		writeAdmin(w, api.Subscriptions(), nil)
	})
	mux.HandleFunc("POST "+adminPrefix+"/ingest", func(w http.ResponseWriter, r *http.Request) {
		// A batch of entries from `auditrelay replay`, one JSON array.
		var raws []json.RawMessage
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20))
		if err := dec.Decode(&raws); err != nil {
			http.Error(w, `{"error":"expected a JSON array of entries"}`, http.StatusBadRequest)
			return
		}
		items := make([]source.Item, len(raws))
		for i, raw := range raws {
			items[i] = source.Item{Raw: raw, Source: "replay", Ref: r.Header.Get("X-Auditrelay-Ref-" + strconv.Itoa(i))}
		}
		res, err := api.Ingest(r.Context(), items, nil)
		out := make([]ingestResult, len(res))
		for i, x := range res {
			out[i] = ingestResult{ID: x.ID, Duplicate: x.Duplicate}
			if x.Err != nil {
				out[i].Error = x.Err.Error()
			}
		}
		writeAdmin(w, out, err)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !bearerOK(r.Header.Get("Authorization"), token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="auditrelay admin"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"missing or wrong admin token: send Authorization: Bearer <token>"}`+"\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		mux.ServeHTTP(w, r)
	})
}

// bearerOK reports whether an Authorization header is "Bearer <token>"
// (the scheme in any case, RFC 9110) with exactly the admin token, compared
// in constant time. A bare token, another scheme or an empty configured
// token never pass.
func bearerOK(header, token string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

type ingestResult struct {
	ID        string `json:"id,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Error     string `json:"error,omitempty"`
}

func actor(r *http.Request) string {
	if a := r.Header.Get("X-Auditrelay-Actor"); a != "" {
		return "api:" + a
	}
	return "api"
}

func writeAdmin(w http.ResponseWriter, v any, err error) {
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case errors.Is(err, engine.ErrNotFound), errors.Is(err, engine.ErrUnknownSub):
			status = http.StatusNotFound
		case errors.Is(err, engine.ErrNotRetryable):
			status = http.StatusConflict
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}

// adminClient talks to a running instance's admin API.
type adminClient struct {
	base  string
	token string
	http  *http.Client
}

// newAdminClient finds the running instance: base (--admin-url), else the
// address the instance recorded in its data directory; the token from
// admin.token or the data directory.
func newAdminClient(base, dataDir, token string) (*adminClient, error) {
	if base == "" {
		b, err := os.ReadFile(filepath.Join(dataDir, "admin.addr"))
		addr := strings.TrimSpace(string(b))
		if err != nil || addr == "" {
			return nil, errors.New("no admin address: pass --admin-url or run serve with admin.listen set")
		}
		base = "http://" + addr
	}
	if token == "" {
		b, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
		if err != nil {
			return nil, fmt.Errorf("no admin token: set admin.token (or AUDITRELAY_ADMIN_TOKEN) or run where %s is readable", filepath.Join(dataDir, "admin.token"))
		}
		token = strings.TrimSpace(string(b))
	}
	return &adminClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (c *adminClient) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+adminPrefix+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u := os.Getenv("USER"); u != "" {
		req.Header.Set("X-Auditrelay-Actor", u)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("admin API: %s", resp.Status)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (c *adminClient) deliveries(ctx context.Context, sub string, states []string, limit int) ([]engine.DeliveryView, error) {
	q := url.Values{}
	if sub != "" {
		q.Set("subscription", sub)
	}
	for _, s := range states {
		q.Add("state", s)
	}
	q.Set("limit", strconv.Itoa(limit))
	var out []engine.DeliveryView
	return out, c.do(ctx, http.MethodGet, "/deliveries?"+q.Encode(), nil, &out)
}
