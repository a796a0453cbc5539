// Package delivery sends one rendered webhook request over HTTP and decides
// what happens next: delivered, retry at a given time, fail, or disable the
// subscription.
//
// The engine owns the queue and the store; this package owns the wire:
//
//   - Client: one tuned http.Transport shared by every endpoint. Redirects
//     are never followed (a 3xx is an answer), compression is off (so a
//     gzip bomb cannot expand past the response cap), response bodies are
//     capped and drained within a bound so keep-alive connections survive
//     ordinary answers while a huge answer costs one dropped connection,
//     not memory.
//   - Send: adds X-Auditrelay-Delivery-Id (stable across retries and
//     restarts, for receiver-side dedupe), X-Auditrelay-Attempt and,
//     optionally, Standard Webhooks headers; returns a Result with a coarse
//     ErrorClass, the parsed Retry-After, a selection of response headers,
//     the capped body and a digest of the exact request.
//   - Schedule.Decide: turns a Result into a Verdict with a one-line reason
//     an operator can act on.
//   - Targets: where deliveries may connect. The client's dialer checks the
//     address it is about to connect to (net.Dialer.ControlContext sees
//     the IP actually dialled, after DNS, on every new connection), so a
//     name that resolves into a refused range, or re-resolves there later,
//     cannot pass; redirects are not followed at all. Refused by default:
//     the relay's own listeners and the link-local and cloud metadata
//     ranges (DefaultDeniedTargets); the operator's allowed and denied
//     lists refine that, most specific range first. The engine calls the
//     same Targets.CheckURL on URLs known before any delivery (config load,
//     a form save), so one function decides everywhere.
//   - ProxyFromEnv: HTTP_PROXY, HTTPS_PROXY and NO_PROXY for every target,
//     loopback included (net/http's ProxyFromEnvironment never proxies
//     loopback). Through a proxy the target's name is resolved by the
//     proxy; a target written as an address is checked before the request
//     is handed over, and the proxy's own address when dialled.
//
// # Classification
//
//	2xx                          Delivered
//	410 Gone                     Disable (Standard Webhooks: the receiver asks to stop)
//	408, 429, 5xx                Retry (Retry-After honoured on 429 and 503)
//	timeout, connect, dns, tls,
//	protocol                     Retry
//	other 4xx, 3xx, 1xx, >599    Fail at once (retrying the same bytes cannot help)
//	invalid-request,
//	body-too-large,
//	target-refused               Fail at once (nothing was sent)
//	canceled                     Retry now, without consuming a step
//
// A canceled Send means the relay itself is stopping (the caller's context
// ended). The attempt may or may not have reached the receiver, so it is
// re-sent on the next start and does not count against the schedule: a
// restart must not burn an endpoint's retries. Delivery is at-least-once in
// every case; receivers dedupe on X-Auditrelay-Delivery-Id (or webhook-id).
//
// # Default schedule
//
// A Schedule is only what it is given; the default operators get is
// configuration's (delivery.retry in core/config), chosen as follows. Ten
// retries after the first attempt: 5s, 30s, 2m, 10m, 30m, 1h, 2h, 4h, 8h,
// 12h, each with ±20% jitter; about 27h42m of backoff, 11 attempts in all.
//
//   - LaunchDarkly retries a webhook once; that loses events to any outage
//     longer than a deploy, which is what a durable relay exists to prevent.
//   - Svix spreads 8 attempts over about 27.6h; Standard Webhooks' example
//     spans about 3 days.
//
// The dense start (5s, 30s, 2m, 10m) rides out restarts, deploys and load
// balancer flaps, which is where most failures live. The long tail covers
// an overnight outage and the following working day. Beyond that a human is
// needed anyway: failed deliveries stay in the store and are one key away
// from a retry (single or bulk) in the console, so three days of silent
// retries would only hide the problem. Jitter (±20%, as Svix) keeps a
// recovering endpoint from being hit by every queued delivery at once.
package delivery
