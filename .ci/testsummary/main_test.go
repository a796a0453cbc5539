package main

import (
	"strings"
	"testing"
)

// TestSummarize: go test's usual lines pass through, failing tests show
// their output, and skips end as one line grouped by reason.
func TestSummarize(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestPG"}`,
		`{"Action":"output","Package":"p","Test":"TestPG","Output":"=== RUN   TestPG\n"}`,
		`{"Action":"output","Package":"p","Test":"TestPG","Output":"    pg_test.go:12: AUDITRELAY_TEST_POSTGRES is not set\n"}`,
		`{"Action":"output","Package":"p","Test":"TestPG","Output":"--- SKIP: TestPG (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestPG"}`,
		`{"Action":"output","Package":"p","Test":"TestPG2","Output":"    pg_test.go:40: AUDITRELAY_TEST_POSTGRES is not set\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestPG2"}`,
		`{"Action":"output","Package":"q","Test":"TestShared","Output":"    c_test.go:9: ../shared not found\n"}`,
		`{"Action":"skip","Package":"q","Test":"TestShared"}`,
		`{"Action":"output","Package":"q","Test":"TestBad","Output":"    bad_test.go:3: boom\n"}`,
		`{"Action":"fail","Package":"q","Test":"TestBad"}`,
		`{"Action":"output","Package":"q","Output":"FAIL\tq\t0.1s\n"}`,
		`{"Action":"fail","Package":"q"}`,
		`{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}`,
	}, "\n")
	var out strings.Builder
	if code := summarize(strings.NewReader(in), &out); code != 1 {
		t.Errorf("exit %d, want 1 (a test failed)", code)
	}
	want := "    bad_test.go:3: boom\nFAIL\tq\t0.1s\nok  \tp\t0.1s\n" +
		"skipped 3 tests: AUDITRELAY_TEST_POSTGRES is not set (2); ../shared not found (1)\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
