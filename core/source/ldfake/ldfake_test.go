package ldfake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/source/ldfake"
)

func start(t *testing.T) *ldfake.Server {
	t.Helper()
	s, err := ldfake.Start(ldfake.Config{Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i := range 7 {
		if err := s.Add(fmt.Appendf(nil, `{"_id":"e%d","date":%d,"kind":"flag"}`, i, 1000+i/2)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

type page struct {
	Items []struct {
		ID   string `json:"_id"`
		Date int64  `json:"date"`
	} `json:"items"`
	Links map[string]struct {
		Href string `json:"href"`
	} `json:"_links"`
	TotalCount int `json:"totalCount"`
}

func get(t *testing.T, s *ldfake.Server, path, token string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

func ids(p page) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestListPaging(t *testing.T) {
	s := start(t)
	tests := []struct {
		query string
		want  string
		next  string
	}{
		{"?limit=3", "[e6 e5 e4]", "/api/v2/auditlog?before=1002&limit=3"},
		{"?limit=3&before=1002", "[e3 e2 e1]", "/api/v2/auditlog?before=1000&limit=3"},
		{"?limit=3&before=1000", "[]", ""},
		{"?limit=20&after=1001", "[e6 e5 e4]", ""},
		{"?after=999&before=1001", "[e1 e0]", ""},
		{"", "[e6 e5 e4 e3 e2 e1 e0]", ""},
	}
	for _, tt := range tests {
		status, _, body := get(t, s, "/api/v2/auditlog"+tt.query, "tok")
		var p page
		if status != 200 || json.Unmarshal(body, &p) != nil {
			t.Fatalf("%s: %d %s", tt.query, status, body)
		}
		if got := fmt.Sprint(ids(p)); got != tt.want {
			t.Errorf("%s: items %s, want %s", tt.query, got, tt.want)
		}
		if p.Links["next"].Href != tt.next {
			t.Errorf("%s: next %q, want %q", tt.query, p.Links["next"].Href, tt.next)
		}
	}
}

func TestErrors(t *testing.T) {
	s := start(t)
	for _, tt := range []struct {
		path, token string
		status      int
	}{
		{"/api/v2/auditlog", "", 401},
		{"/api/v2/auditlog", "Bearer tok", 401},
		{"/api/v2/auditlog?limit=21", "tok", 400},
		{"/api/v2/auditlog?before=x", "tok", 400},
		{"/api/v2/auditlog/nope", "tok", 404},
		{"/api/v2/auditlog/e3", "tok", 200},
	} {
		if status, _, body := get(t, s, tt.path, tt.token); status != tt.status {
			t.Errorf("%s with %q: %d %s, want %d", tt.path, tt.token, status, body, tt.status)
		}
	}
	if err := s.Add([]byte(`{"_id":"e1","date":1}`)); err == nil {
		t.Error("a duplicate id was added")
	}
	if err := s.Add([]byte(`{"date":1}`)); err == nil {
		t.Error("an entry without _id was added")
	}
}

func TestThrottleAndFailures(t *testing.T) {
	s := start(t)
	s.SetThrottle(ldfake.Throttle{Every: 2, RetryAfter: 1500 * time.Millisecond})
	s.FailNext(1, 503)
	var statuses []int
	for range 4 {
		status, h, _ := get(t, s, "/api/v2/auditlog", "tok")
		statuses = append(statuses, status)
		if status == 429 && (h.Get("Retry-After") != "2" || h.Get("X-Ratelimit-Reset") == "") {
			t.Errorf("429 headers %v", h)
		}
	}
	if fmt.Sprint(statuses) != "[503 429 200 429]" {
		t.Errorf("statuses %v", statuses)
	}
	reqs := s.Requests()
	if len(reqs) != 4 || reqs[2].Items != 7 || reqs[1].Status != 429 {
		t.Errorf("requests %+v", reqs)
	}
}
