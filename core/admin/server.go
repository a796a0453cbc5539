package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/core/source"
)

// Prefix is the path every admin endpoint starts with.
const Prefix = "/admin/v1"

// PprofPrefix is where Go's profiling handlers answer (index, profile,
// heap, goroutine, trace…), behind the admin token like the rest.
const PprofPrefix = "/debug/pprof/"

// maxIngestBody bounds one POST /ingest batch.
const maxIngestBody = 64 << 20

// Engine is what the admin API serves: the engine's views and retries,
// and ingestion for replay.
type Engine interface {
	Subscriptions() []api.SubscriptionInfo
	Deliveries(ctx context.Context, q api.DeliveryQuery) ([]api.DeliveryView, error)
	Delivery(ctx context.Context, id string) (api.DeliveryDetail, error)
	Retry(ctx context.Context, actor, deliveryID string) error
	RetryAll(ctx context.Context, actor, subscription string) (int, error)
	Actions(ctx context.Context, since time.Time, limit int) ([]api.Action, error)
	Test(ctx context.Context, actor string, p api.TestParams) (api.TestResult, error)
	SetPaused(ctx context.Context, actor, subscription string, paused bool) error
	Resend(ctx context.Context, actor string, p api.ResendParams) (api.ResendResult, error)
	source.Ingester
}

// resendRequest is the body of POST /subscriptions/{name}/resend.
type resendRequest struct {
	Since  time.Time `json:"since"`
	Kind   string    `json:"kind,omitempty"`
	Failed bool      `json:"failed,omitempty"`
	DryRun bool      `json:"dry_run,omitempty"`
}

// maxTestEntry bounds the entry a connection test is asked to send.
const maxTestEntry = 1 << 20

// testRequest is the body of POST /subscriptions/{name}/test.
type testRequest struct {
	EntryID string          `json:"entry_id,omitempty"`
	Entry   json.RawMessage `json:"entry,omitempty"`
}

// Handler serves the admin API on e to requests bearing token. Actions
// are recorded as "api:<X-Auditrelay-Actor>", or "api" without that
// header.
func Handler(e Engine, token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"/deliveries", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit <= 0 || limit > 1000 {
			limit = 50
		}
		var states []api.State
		for _, s := range q["state"] {
			states = append(states, api.State(s))
		}
		ds, err := e.Deliveries(r.Context(), api.DeliveryQuery{Subscription: q.Get("subscription"), EntryID: q.Get("entry"), States: states, Limit: limit})
		write(w, ds, err)
	})
	mux.HandleFunc("GET "+Prefix+"/deliveries/{id}", func(w http.ResponseWriter, r *http.Request) {
		d, err := e.Delivery(r.Context(), r.PathValue("id"))
		write(w, d, err)
	})
	mux.HandleFunc("POST "+Prefix+"/deliveries/{id}/retry", func(w http.ResponseWriter, r *http.Request) {
		err := e.Retry(r.Context(), actor(r), r.PathValue("id"))
		write(w, retried{1}, err)
	})
	mux.HandleFunc("POST "+Prefix+"/subscriptions/{name}/retry-failed", func(w http.ResponseWriter, r *http.Request) {
		n, err := e.RetryAll(r.Context(), actor(r), r.PathValue("name"))
		write(w, retried{n}, err)
	})
	mux.HandleFunc("GET "+Prefix+"/actions", func(w http.ResponseWriter, r *http.Request) {
		// Operator actions, newest first: `auditrelay config history`.
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit <= 0 || limit > 1000 {
			limit = 100
		}
		var since time.Time
		if ms, err := strconv.ParseInt(q.Get("since"), 10, 64); err == nil {
			since = time.UnixMilli(ms)
		}
		acts, err := e.Actions(r.Context(), since, limit)
		write(w, acts, err)
	})
	for action, paused := range map[string]bool{"pause": true, "resume": false} {
		mux.HandleFunc("POST "+Prefix+"/subscriptions/{name}/"+action, func(w http.ResponseWriter, r *http.Request) {
			write(w, struct{}{}, e.SetPaused(r.Context(), actor(r), r.PathValue("name"), paused))
		})
	}
	mux.HandleFunc("POST "+Prefix+"/subscriptions/{name}/resend", func(w http.ResponseWriter, r *http.Request) {
		var req resendRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.Since.IsZero() {
			http.Error(w, `{"error":"expected {\"since\": RFC 3339 time, \"kind\", \"failed\", \"dry_run\"}"}`, http.StatusBadRequest)
			return
		}
		res, err := e.Resend(r.Context(), actor(r), api.ResendParams{Subscription: r.PathValue("name"), Since: req.Since, Kind: req.Kind, Failed: req.Failed, DryRun: req.DryRun})
		write(w, res, err)
	})
	mux.HandleFunc("POST "+Prefix+"/subscriptions/{name}/test", func(w http.ResponseWriter, r *http.Request) {
		var req testRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxTestEntry)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			http.Error(w, `{"error":"expected {\"entry_id\": ID} or {\"entry\": ENTRY} of at most 1 MiB"}`, http.StatusBadRequest)
			return
		}
		res, err := e.Test(r.Context(), actor(r), api.TestParams{Subscription: r.PathValue("name"), EntryID: req.EntryID, Raw: req.Entry})
		write(w, res, err)
	})
	mux.HandleFunc("GET "+Prefix+"/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		write(w, e.Subscriptions(), nil)
	})
	mux.HandleFunc("POST "+Prefix+"/ingest", func(w http.ResponseWriter, r *http.Request) {
		// A batch of entries from `auditrelay replay`, one JSON array.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxIngestBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, `{"error":"a batch is at most 64 MiB"}`, http.StatusRequestEntityTooLarge)
			} else {
				http.Error(w, `{"error":"reading the body: `+strings.ReplaceAll(err.Error(), `"`, `'`)+`"}`, http.StatusBadRequest)
			}
			return
		}
		raws, err := auditlog.SplitArray(body)
		if err != nil {
			http.Error(w, `{"error":"expected a JSON array of entries"}`, http.StatusBadRequest)
			return
		}
		items := make([]source.Item, len(raws))
		for i, raw := range raws {
			items[i] = source.Item{Raw: raw, Source: "replay", Ref: r.Header.Get("X-Auditrelay-Ref-" + strconv.Itoa(i))}
			// Decoded here rather than by the engine, to mark list items
			// as a local replay does (the note itself is not sent).
			ent, err := auditlog.DecodeEntry(raw)
			items[i].Entry, items[i].Err = ent, err
			if err == nil && ent.IsListItem() {
				items[i].ListItem = source.ReplayedListItemNote
			}
		}
		res, err := e.Ingest(r.Context(), items, nil)
		out := make([]ingestResult, len(res))
		for i, x := range res {
			out[i] = ingestResult{ID: x.ID, Duplicate: x.Duplicate}
			if x.Err != nil {
				out[i].Error = x.Err.Error()
			}
		}
		write(w, out, err)
	})
	// Go's profiler, so the real path can be measured where it runs (the
	// same token guards it: a profile shows what the process does).
	mux.HandleFunc("GET "+PprofPrefix, pprof.Index)
	mux.HandleFunc("GET "+PprofPrefix+"cmdline", pprof.Cmdline)
	mux.HandleFunc("GET "+PprofPrefix+"profile", pprof.Profile)
	mux.HandleFunc("GET "+PprofPrefix+"symbol", pprof.Symbol)
	mux.HandleFunc("GET "+PprofPrefix+"trace", pprof.Trace)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !bearerOK(r.Header.Get("Authorization"), token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="auditrelay admin"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"missing or wrong admin token: send Authorization: Bearer <token>"}`+"\n")
			return
		}
		if strings.HasPrefix(r.URL.Path, Prefix+"/") {
			w.Header().Set("Content-Type", "application/json")
		}
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

// ingestResult is one entry's outcome in the answer to POST /ingest.
type ingestResult struct {
	ID        string `json:"id,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Error     string `json:"error,omitempty"`
}

// retried answers the retry endpoints.
type retried struct {
	Retried int `json:"retried"`
}

func actor(r *http.Request) string {
	if a := r.Header.Get("X-Auditrelay-Actor"); a != "" {
		return "api:" + a
	}
	return "api"
}

// write answers v as JSON, or err with the status that says what kind of
// error it is.
func write(w http.ResponseWriter, v any, err error) {
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case errors.Is(err, api.ErrNotFound), errors.Is(err, api.ErrUnknownSub):
			status = http.StatusNotFound
		case errors.Is(err, api.ErrNotRetryable), errors.Is(err, api.ErrHeld):
			status = http.StatusConflict
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}
