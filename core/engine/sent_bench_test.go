package engine

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/auditrelay/auditrelay/core/demo"
	"github.com/auditrelay/auditrelay/core/source"
)

// BenchmarkSentRequestStorage measures what keeping each attempt's
// request costs in the store, per delivery: demo entries delivered
// through the webhook integration (the raw entry, as the bench sends) and
// through Slack (a rendered template), once with every first attempt
// answered 200 and once with two 503s before the 200 (three attempts,
// one stored body). It reports the bytes of the request columns (body as
// stored, headers, hashes) per delivery, and the bodies' own size.
//
//	go test ./core/engine -run '^$' -bench SentRequestStorage -benchtime 1x
func BenchmarkSentRequestStorage(b *testing.B) {
	for _, c := range []struct {
		name  string
		fails int
	}{{"first-try", 0}, {"two-retries", 2}} {
		for _, integ := range []string{"webhook", "slack"} {
			b.Run(integ+"/"+c.name, func(b *testing.B) {
				for range b.N {
					measureSentStorage(b, integ, c.fails)
				}
			})
		}
	}
}

func measureSentStorage(b *testing.B, integ string, fails int) {
	const entries = 500
	seen := map[string]int{}
	var mu = make(chan struct{}, 1)
	sink := newSink(b, func(n int, r *http.Request) int {
		mu <- struct{}{}
		id := r.Header.Get("X-Auditrelay-Delivery-Id")
		seen[id]++
		k := seen[id]
		<-mu
		if k <= fails {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	sub := webhookSub("s", sink.URL, "")
	if integ == "slack" {
		sub = "  - name: s\n    integration: slack\n    vars:\n      webhookUrl: " + sink.URL + "/slack\n    policy:\n      - effect: allow\n        resources: [\"*\"]\n        actions: [\"*\"]\n"
	}
	cfg := testConfig(b, sub)
	cfg.Delivery.Schedule = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	h := startEngineWith(b, cfg, nil)
	defer h.stop()
	gen := demo.NewGenerator(demo.Options{Seed: 15})
	var ids []string
	for range entries {
		ev := gen.Next()
		if _, err := h.eng.Ingest(context.Background(), []source.Item{{Raw: ev.Raw, Source: "bench"}}, nil); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, DeliveryID("s", ev.ID))
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, id := range ids {
		for {
			d, err := h.eng.Delivery(context.Background(), id)
			if err == nil && (d.State == Delivered || d.State == Failed) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("delivery %s not finished: %+v %v", id, d.DeliveryView, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	db, err := sql.Open("sqlite", filepath.Join(cfg.DataDir, "auditrelay.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var deliveries, attempts, stored int64
	var storedBytes, bodyBytes, otherBytes sql.NullInt64
	err = db.QueryRow(`SELECT
		(SELECT count(*) FROM deliveries WHERE state = 'delivered'),
		count(*), count(request_body),
		sum(length(request_body)),
		(SELECT sum(body_size) FROM attempts WHERE request_body IS NOT NULL),
		sum(length(request_method) + length(request_headers) + length(vars_hash) + length(body_digest) + length(body_encoding) + 8)
		FROM attempts WHERE request_method <> ''`).Scan(&deliveries, &attempts, &stored, &storedBytes, &bodyBytes, &otherBytes)
	if err != nil {
		b.Fatal(err)
	}
	if deliveries == 0 {
		b.Fatalf("nothing delivered")
	}
	per := func(v sql.NullInt64) float64 { return float64(v.Int64) / float64(deliveries) }
	b.ReportMetric(float64(attempts)/float64(deliveries), "attempts/delivery")
	b.ReportMetric(float64(stored)/float64(deliveries), "bodies-stored/delivery")
	b.ReportMetric(per(bodyBytes), "body-B/delivery")
	b.ReportMetric(per(storedBytes), "stored-body-B/delivery")
	b.ReportMetric(per(storedBytes)+per(otherBytes), "request-B/delivery")
}
