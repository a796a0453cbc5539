package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// LoopbackCeiling measures this machine's raw HTTP/1.1 ceiling over
// loopback: an in-process server on 127.0.0.1 answers 204 to 1 KiB POSTs
// while concurrency workers with keep-alive send as fast as they can for
// duration. Client and server share the CPUs, as the relay and a local sink
// would, so the figure is an upper bound for one HTTP hop on this machine.
// It returns completed requests per second.
func LoopbackCeiling(ctx context.Context, duration time.Duration, concurrency int) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("loopback ceiling: listen: %w", err)
	}
	srv := &http.Server{Handler: CeilingHandler(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		<-served
	}()

	return PostCeiling(ctx, "http://"+ln.Addr().String()+"/", duration, concurrency)
}

// CeilingHandler is the server half of LoopbackCeiling: it reads the body
// and answers 204.
func CeilingHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
}

// PostCeiling is LoopbackCeiling's client half on its own: concurrency
// workers with keep-alive post 1 KiB bodies to url, which must answer 204,
// as fast as they can for duration. With a server in another process it
// measures what one hop between two processes costs on this machine
// (LoopbackCeiling's server shares the client's process and runtime).
// It returns completed requests per second.
func PostCeiling(ctx context.Context, url string, duration time.Duration, concurrency int) (float64, error) {
	if duration <= 0 {
		return 0, fmt.Errorf("loopback ceiling: duration is %s, want > 0", duration)
	}
	if concurrency < 1 {
		return 0, fmt.Errorf("loopback ceiling: concurrency is %d, want >= 1", concurrency)
	}
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := bytes.Repeat([]byte("x"), 1024)

	runCtx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var (
		done     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				req, err := http.NewRequestWithContext(runCtx, http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				resp, err := client.Do(req)
				if err != nil {
					if runCtx.Err() == nil {
						errOnce.Do(func() { firstErr = err })
						cancel()
					}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					errOnce.Do(func() { firstErr = fmt.Errorf("status %d", resp.StatusCode) })
					cancel()
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("loopback ceiling: %w", err)
	}
	if firstErr != nil {
		return 0, fmt.Errorf("loopback ceiling: %w", firstErr)
	}
	if done.Load() == 0 {
		return 0, errors.New("loopback ceiling: no request completed")
	}
	return float64(done.Load()) / elapsed.Seconds(), nil
}
