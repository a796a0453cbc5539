package engine

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's Prometheus series. Each engine registers its own
// collectors (no global registry), labelled with the instance so that
// several instances behind one Prometheus stay apart.
type metrics struct {
	received   *prometheus.CounterVec // by source
	rejected   *prometheus.CounterVec // by source
	duplicates *prometheus.CounterVec // by source
	filtered   *prometheus.CounterVec // by subscription
	delivered  *prometheus.CounterVec // by subscription
	failed     *prometheus.CounterVec // by subscription: gave up
	retried    *prometheus.CounterVec // by subscription: attempts that will be retried
	skipped    *prometheus.CounterVec // by subscription
	queue      *prometheus.GaugeVec   // by subscription: pending + in flight
	latency    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, instance string) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	labels := prometheus.Labels{"instance": instance}
	counter := func(name, help, label string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "auditrelay", Name: name, Help: help, ConstLabels: labels}, []string{label})
		reg.MustRegister(c)
		return c
	}
	m := &metrics{
		received:   counter("entries_received_total", "Audit-log entries accepted and stored.", "source"),
		rejected:   counter("entries_rejected_total", "Items rejected as invalid audit-log entries.", "source"),
		duplicates: counter("entries_duplicate_total", "Entries already stored (deduplicated by _id).", "source"),
		filtered:   counter("deliveries_filtered_total", "Entries a subscription's policy did not allow.", "subscription"),
		delivered:  counter("deliveries_delivered_total", "Deliveries the endpoint accepted (2xx).", "subscription"),
		failed:     counter("deliveries_failed_total", "Deliveries given up on (non-retryable answer, retries exhausted, 410).", "subscription"),
		retried:    counter("deliveries_retried_total", "Attempts that failed and were scheduled for a retry.", "subscription"),
		skipped:    counter("deliveries_skipped_total", "Deliveries with nothing to send (no template, empty body, custom sink).", "subscription"),
		queue:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "auditrelay", Name: "queue_depth", Help: "Deliveries pending or in flight.", ConstLabels: labels}, []string{"subscription"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "auditrelay", Name: "delivery_latency_seconds", Help: "Duration of delivery attempts that got an answer.",
			ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"subscription"}),
	}
	reg.MustRegister(m.queue, m.latency)
	return m
}
