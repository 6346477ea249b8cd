// Package metrics is roster's Prometheus instrumentation: one registry per
// server (never the global default, so tests in one process do not
// collide), and small hooks that record where events happen:
//   - Syncer wraps a mirosync.Syncer (or any Syncer) and records each run's
//     duration, outcome, API calls and credits;
//   - Transport wraps the Miro client's HTTP transport and counts its calls
//     by status, 429s included;
//   - Action records an action's outcome (action.Runner's Observe hook);
//   - CountRecordedActions counts the actions every process recorded, the
//     CLI's included, from the store at each scrape;
//   - Instrument wraps the HTTP server and records latency by route pattern.
//
// The package knows roster's domain types and the store's counts, but
// nothing of the packages it observes, which keep no reference to it.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"roster"
)

// Metrics holds roster's series on its own registry.
type Metrics struct {
	reg *prometheus.Registry

	syncDuration *prometheus.HistogramVec
	syncCalls    *prometheus.CounterVec
	syncCredits  *prometheus.CounterVec
	miroRequests *prometheus.CounterVec
	miroLimited  prometheus.Counter
	actions      *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
}

// New builds the series and registers them, with the Go and process
// collectors, on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "roster_sync_duration_seconds",
			Help: "Duration of one sync of one connection, by source (Miro API path) and outcome (succeeded, failed).",
			// Syncs range from a second (a small team) to an hour or more
			// (a 100,000-member organization paced by its credit budget).
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
		}, []string{"source", "outcome"}),
		syncCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_sync_api_calls_total",
			Help: "Miro API calls made by syncs, by source.",
		}, []string{"source"}),
		syncCredits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_sync_credits_total",
			Help: "Miro rate-limit credits spent by syncs, by source.",
		}, []string{"source"}),
		miroRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_miro_requests_total",
			Help: "HTTP requests roster sent to Miro (syncs and actions), by answer status code; code \"error\" when no answer came.",
		}, []string{"code"}),
		miroLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roster_miro_rate_limited_total",
			Help: "Miro answers 429 Too Many Requests (the client waits and retries them).",
		}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_actions_total",
			Help: "Actions on Miro by kind and status (succeeded, refused, failed, pending; not_run when turned away before being recorded).",
		}, []string{"kind", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roster_http_request_duration_seconds",
			Help:    "Latency of roster's HTTP answers by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
	}
	m.reg.MustRegister(m.syncDuration, m.syncCalls, m.syncCredits, m.miroRequests, m.miroLimited, m.actions, m.httpDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry the series live on, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Sync records one finished sync run. A run that never started (an
// unknown or disconnected connection) has no source and is not a sync.
func (m *Metrics) Sync(run roster.SyncRun, err error) {
	if run.Source == "" || run.StartedAt.IsZero() {
		return
	}
	outcome := string(run.Status)
	if err != nil || outcome == "" || run.Status == roster.SyncRunning {
		outcome = string(roster.SyncFailed)
	}
	end := run.EndedAt
	if end.IsZero() {
		end = time.Now()
	}
	src := string(run.Source)
	m.syncDuration.WithLabelValues(src, outcome).Observe(max(0, end.Sub(run.StartedAt).Seconds()))
	m.syncCalls.WithLabelValues(src).Add(float64(run.APICalls))
	m.syncCredits.WithLabelValues(src).Add(float64(run.Credits))
}

// Action records an action's outcome. A request turned away before it was
// recorded (a bad field, mostly) counts as status "not_run".
func (m *Metrics) Action(kind roster.ActionKind, a roster.Action, err error) {
	status := string(a.Status)
	if status == "" {
		if err == nil {
			return
		}
		status = "not_run"
	}
	m.actions.WithLabelValues(string(kind), status).Inc()
}

// Syncer records every run of next; it satisfies jobs.Syncer.
type Syncer struct {
	Next interface {
		Sync(context.Context, int64) (roster.SyncRun, error)
	}
	Metrics *Metrics
}

// Sync runs the sync and records it.
func (s Syncer) Sync(ctx context.Context, connectionID int64) (roster.SyncRun, error) {
	run, err := s.Next.Sync(ctx, connectionID)
	s.Metrics.Sync(run, err)
	return run, err
}

// Transport counts every answer from Miro, 429s included, on the way
// through next (http.DefaultTransport when nil).
func (m *Metrics) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		if err != nil {
			code := "error"
			if errors.Is(err, context.Canceled) {
				code = "canceled"
			}
			m.miroRequests.WithLabelValues(code).Inc()
			return resp, err
		}
		m.miroRequests.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
		if resp.StatusCode == http.StatusTooManyRequests {
			m.miroLimited.Inc()
		}
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Instrument records the latency of every answer of h by the route
// pattern that served it. http.ServeMux sets Request.Pattern on the
// request it is given, so nested muxes leave the innermost pattern; a
// request no route matched is labelled "unmatched", which keeps the
// label's values few whatever paths clients try.
func (m *Metrics) Instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" || route == "/" {
			// No route, or the dashboard's catch-all: one label for every
			// unknown path, so that probing cannot grow the series.
			route = "unmatched"
		}
		m.httpDuration.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

// methodLabel is a request's method as a label: any method outside RFC
// 9110's and PATCH is "other", since a client may send any token.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushing).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
