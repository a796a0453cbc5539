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

func TestListItemsLackTheDetailedFields(t *testing.T) {
	s, err := ldfake.Start(ldfake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	full := `{"_id":"a1","date":5,"kind":"flag","delta":{"op":"x"},"name":"N","currentVersion":{"tags":["t"]},"previousVersion":{"tags":[]},"comment":"c"}`
	if err := s.Add([]byte(full), []byte(`{"_id":"a2","date":6,"kind":"flag"}`)); err != nil {
		t.Fatal(err)
	}
	_, _, body := get(t, s, "/api/v2/auditlog?limit=1&before=6", "")
	var p struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &p); err != nil || len(p.Items) != 1 {
		t.Fatalf("page %s: %v", body, err)
	}
	if got, want := string(p.Items[0]), `{"_id":"a1","date":5,"kind":"flag","name":"N","comment":"c"}`; got != want {
		t.Errorf("list item\n got %s\nwant %s", got, want)
	}
	if status, _, body := get(t, s, "/api/v2/auditlog/a1", ""); status != 200 || string(body) != full {
		t.Errorf("detail: %d %s, want the entry as added", status, body)
	}
	s.ForgetDetails("a1")
	if status, _, _ := get(t, s, "/api/v2/auditlog/a1", ""); status != 404 {
		t.Errorf("forgotten detail: %d, want 404", status)
	}
	if _, _, body := get(t, s, "/api/v2/auditlog", ""); !json.Valid(body) || len(body) == 0 {
		t.Errorf("list after forgetting: %s", body)
	}
}

func TestFollowingNextWalksEveryEntry(t *testing.T) {
	s, err := ldfake.Start(ldfake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i := range 45 {
		if err := s.Add(fmt.Appendf(nil, `{"_id":"n%02d","date":%d,"kind":"flag"}`, i, 100+i)); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	path, pages := "/api/v2/auditlog?limit=20", 0
	for path != "" {
		pages++
		_, _, body := get(t, s, path, "")
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids(p) {
			if seen[id] {
				t.Errorf("%s listed twice", id)
			}
			seen[id] = true
		}
		path = p.Links["next"].Href
	}
	if len(seen) != 45 || pages != 3 {
		t.Errorf("%d entries in %d pages, want 45 in 3", len(seen), pages)
	}
}

func TestLimitReportsBudgetAndRefusesBeyondIt(t *testing.T) {
	s := start(t)
	s.SetLimit(ldfake.Limit{Requests: 3, Window: time.Hour})
	var remaining []string
	for range 3 {
		status, h, _ := get(t, s, "/api/v2/auditlog/e1", "tok")
		if status != 200 || h.Get("X-Ratelimit-Reset") == "" {
			t.Fatalf("within budget: %d %v", status, h)
		}
		remaining = append(remaining, h.Get("X-Ratelimit-Global-Remaining"))
	}
	if fmt.Sprint(remaining) != "[2 1 0]" {
		t.Errorf("remaining %v, want [2 1 0]", remaining)
	}
	status, h, _ := get(t, s, "/api/v2/auditlog", "tok")
	if status != 429 || h.Get("Retry-After") != "3600" {
		t.Errorf("beyond budget: %d Retry-After %q, want 429 3600", status, h.Get("Retry-After"))
	}
	if n := s.Throttled(); n != 1 {
		t.Errorf("Throttled %d, want 1", n)
	}
	s.SetLimit(ldfake.Limit{})
	if status, _, _ := get(t, s, "/api/v2/auditlog", "tok"); status != 200 {
		t.Errorf("limit cleared: %d", status)
	}
}
