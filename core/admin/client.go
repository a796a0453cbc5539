package admin

import (
	"bytes"
	"context"
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

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
)

// maxResponse bounds what the client reads of one answer.
const maxResponse = 64 << 20

// Client talks to a running instance's admin API. Its methods have the
// engine's signatures, so that a command works alike on a running
// instance and on an engine of its own.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient finds the running instance: base (--admin-url), else the
// address the instance recorded in dataDir; the token is token
// (admin.token), else the one in dataDir. It does not connect: the first
// call does.
func NewClient(base, dataDir, token string) (*Client, error) {
	if base == "" {
		b, err := os.ReadFile(filepath.Join(dataDir, addrFile))
		addr := strings.TrimSpace(string(b))
		if err != nil || addr == "" {
			return nil, errors.New("no admin address: pass --admin-url or run serve with admin.listen set")
		}
		base = "http://" + addr
	}
	if token == "" {
		path := filepath.Join(dataDir, tokenFile)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("no admin token: set admin.token (or AUDITRELAY_ADMIN_TOKEN) or run where %s is readable", path)
		}
		token = strings.TrimSpace(string(b))
	}
	return &Client{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// Base is the URL the client talks to.
func (c *Client) Base() string { return c.base }

// Subscriptions lists the instance's subscriptions; it doubles as the
// check that an instance answers.
func (c *Client) Subscriptions(ctx context.Context) ([]api.SubscriptionInfo, error) {
	var out []api.SubscriptionInfo
	return out, c.do(ctx, http.MethodGet, "/subscriptions", "", nil, &out)
}

// Deliveries lists deliveries, as engine.Deliveries does (q.Before is not
// sent: the API has no paging).
func (c *Client) Deliveries(ctx context.Context, q api.DeliveryQuery) ([]api.DeliveryView, error) {
	v := url.Values{}
	if q.Subscription != "" {
		v.Set("subscription", q.Subscription)
	}
	if q.EntryID != "" {
		v.Set("entry", q.EntryID)
	}
	for _, s := range q.States {
		v.Add("state", string(s))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out []api.DeliveryView
	return out, c.do(ctx, http.MethodGet, "/deliveries?"+v.Encode(), "", nil, &out)
}

// Actions lists operator actions at or after since, newest first.
func (c *Client) Actions(ctx context.Context, since time.Time, limit int) ([]api.Action, error) {
	v := url.Values{}
	if !since.IsZero() {
		v.Set("since", strconv.FormatInt(since.UnixMilli(), 10))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out []api.Action
	return out, c.do(ctx, http.MethodGet, "/actions?"+v.Encode(), "", nil, &out)
}

// Delivery returns one delivery with its attempts.
func (c *Client) Delivery(ctx context.Context, id string) (api.DeliveryDetail, error) {
	var d api.DeliveryDetail
	return d, c.do(ctx, http.MethodGet, "/deliveries/"+url.PathEscape(id), "", nil, &d)
}

// Retry makes a failed delivery due again; the instance records it as
// done by "api:" + actor.
func (c *Client) Retry(ctx context.Context, actor, id string) error {
	return c.do(ctx, http.MethodPost, "/deliveries/"+url.PathEscape(id)+"/retry", actor, nil, nil)
}

// RetryAll makes every failed delivery of subscription due again.
func (c *Client) RetryAll(ctx context.Context, actor, subscription string) (int, error) {
	var out retried
	return out.Retried, c.do(ctx, http.MethodPost, "/subscriptions/"+url.PathEscape(subscription)+"/retry-failed", actor, nil, &out)
}

// SetPaused pauses or resumes a subscription on the instance.
func (c *Client) SetPaused(ctx context.Context, actor, subscription string, paused bool) error {
	action := "/resume"
	if paused {
		action = "/pause"
	}
	return c.do(ctx, http.MethodPost, "/subscriptions/"+url.PathEscape(subscription)+action, actor, nil, nil)
}

// Resend sends stored entries again from the instance (see api.API).
func (c *Client) Resend(ctx context.Context, actor string, p api.ResendParams) (api.ResendResult, error) {
	var out api.ResendResult
	body := resendRequest{Since: p.Since, Kind: p.Kind, Failed: p.Failed, DryRun: p.DryRun}
	return out, c.do(ctx, http.MethodPost, "/subscriptions/"+url.PathEscape(p.Subscription)+"/resend", actor, body, &out)
}

// Test sends a connection test from the instance.
func (c *Client) Test(ctx context.Context, actor string, p api.TestParams) (api.TestResult, error) {
	var out api.TestResult
	body := testRequest{EntryID: p.EntryID, Entry: p.Raw}
	return out, c.do(ctx, http.MethodPost, "/subscriptions/"+url.PathEscape(p.Subscription)+"/test", actor, body, &out)
}

// Ingest sends entries to the instance, which stores them as its receiver
// does; it implements source.Ingester for replay. Items that already
// carry an error are not sent; cursor is not supported (nil).
func (c *Client) Ingest(ctx context.Context, items []source.Item, _ *store.Cursor) ([]source.Result, error) {
	out := make([]source.Result, len(items))
	var raws []json.RawMessage
	var idx []int
	for i, it := range items {
		if it.Err != nil {
			out[i].Err = it.Err
			continue
		}
		raws = append(raws, json.RawMessage(it.Raw))
		idx = append(idx, i)
	}
	if len(raws) == 0 {
		return out, nil
	}
	var res []ingestResult
	if err := c.do(ctx, http.MethodPost, "/ingest", "", raws, &res); err != nil {
		return nil, err
	}
	if len(res) != len(idx) {
		return nil, fmt.Errorf("admin API answered %d results for %d entries", len(res), len(idx))
	}
	for j, x := range res {
		i := idx[j]
		out[i] = source.Result{ID: x.ID, Duplicate: x.Duplicate}
		if x.Error != "" {
			out[i].Err = errors.New(x.Error)
		}
	}
	return out, nil
}

// Pprof writes what the instance's Go profiler answers for name (as
// "profile?seconds=3", "heap?gc=1&debug=1", "allocs") to w. A CPU profile
// takes its seconds to answer: ctx, not the client's timeout, bounds it.
func (c *Client) Pprof(ctx context.Context, name string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+PprofPrefix+name, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := (&http.Client{Transport: c.http.Transport}).Do(req)
	if err != nil {
		return fmt.Errorf("profiler at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("profiler at %s: %s: %s", c.base, resp.Status, bytes.TrimSpace(msg))
	}
	if _, err := io.Copy(w, io.LimitReader(resp.Body, maxResponse)); err != nil {
		return fmt.Errorf("profiler at %s: %w", c.base, err)
	}
	return nil
}

// do sends one request and decodes the answer into out. An answer that
// is an error becomes an error with the instance's message.
func (c *Client) do(ctx context.Context, method, path, actor string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+Prefix+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if actor != "" {
		req.Header.Set("X-Auditrelay-Actor", actor)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("admin API at %s: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			// Errors callers act on keep their identity across the API.
			for _, known := range []error{api.ErrHeld, api.ErrNotRetryable} {
				if msg, ok := strings.CutSuffix(e.Error, known.Error()); ok {
					return fmt.Errorf("%s%w", msg, known)
				}
			}
			return errors.New(e.Error)
		}
		return fmt.Errorf("admin API: %s", resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("admin API at %s: answer to %s %s: %w", c.base, method, path, err)
		}
	}
	return nil
}
