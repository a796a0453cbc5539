package source

import (
	"fmt"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/auditlog"
)

// BenchmarkPollerPage is what one full page of the list API costs the
// relay up to the store: the poller reading it, then the engine decoding
// each entry it is handed.
func BenchmarkPollerPage(b *testing.B) {
	items := make([]string, DefaultPollLimit)
	for i := range items {
		items[i] = fmt.Sprintf(`{"_links":{"self":{"href":"/api/v2/auditlog/e%[1]d","type":"application/json"}},"_id":"e%[1]d","_accountId":"acc","date":%[2]d,`+
			`"accesses":[{"action":"updateOn","resource":"proj/default:env/production:flag/f-%[1]d"}],"kind":"flag","name":"Flag %[1]d",`+
			`"description":"* Turned on the flag\n* Changed the default variation","member":{"_id":"m1","email":"a@example.com","firstName":"Ada","lastName":"L"},`+
			`"title":"turned on the flag","titleVerb":"turned on the flag","target":{"name":"Flag %[1]d","resources":["proj/default:env/production:flag/f-%[1]d"]}}`, i, 1700000000000+int64(i))
	}
	body := []byte(`{"_links":{"next":{"href":"/api/v2/auditlog?before=1","type":"application/json"}},"items":[` + strings.Join(items, ",") + `],"totalCount":1000}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		page, err := parsePage(body)
		if err != nil || len(page) != DefaultPollLimit {
			b.Fatal(err)
		}
		for _, e := range page {
			if e.raw == nil {
				continue
			}
			if _, err := auditlog.DecodeEntry(e.raw); err != nil {
				b.Fatal(err)
			}
		}
	}
}
