package mirosim

import (
	"context"
	"maps"
	"net/http"
	"sync"
)

// Stats is what the simulator has served since start or the last reset.
// Benchmarks read it to count requests and credits.
type Stats struct {
	Calls   int `json:"calls"`
	Credits int `json:"credits"` // credits charged; refused (429) calls cost nothing
	// RateLimited counts 429 answers, real and injected.
	RateLimited int                `json:"rateLimited"`
	ByOperation map[string]OpStats `json:"byOperation"`
}

// OpStats is one operation's share of Stats. Statuses counts answers by
// HTTP status; 0 counts connections reset without an answer.
type OpStats struct {
	Calls    int         `json:"calls"`
	Credits  int         `json:"credits"`
	Statuses map[int]int `json:"statuses"`
}

// accounting is the thread-safe counter behind Stats.
type accounting struct {
	mu    sync.Mutex
	stats Stats
}

func newAccounting() *accounting {
	return &accounting{stats: Stats{ByOperation: map[string]OpStats{}}}
}

func (a *accounting) record(op string, status, credits int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.Calls++
	a.stats.Credits += credits
	if status == http.StatusTooManyRequests {
		a.stats.RateLimited++
	}
	o := a.stats.ByOperation[op]
	if o.Statuses == nil {
		o.Statuses = map[int]int{}
	}
	o.Calls++
	o.Credits += credits
	o.Statuses[status]++
	a.stats.ByOperation[op] = o
}

func (a *accounting) snapshot() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.stats
	out.ByOperation = make(map[string]OpStats, len(a.stats.ByOperation))
	for op, o := range a.stats.ByOperation {
		o.Statuses = maps.Clone(o.Statuses)
		out.ByOperation[op] = o
	}
	return out
}

func (a *accounting) reset() {
	a.mu.Lock()
	a.stats = Stats{ByOperation: map[string]OpStats{}}
	a.mu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the counters.
func (s *Sim) ResetStats() { s.stats.reset() }

// callRecord collects what one request did: its status, and the credits
// the rate limiter charged.
type callRecord struct {
	status  int
	credits int
	aborted bool // the reset fault closed the connection
	// finish records the call once; the reset fault calls it before it
	// closes the connection, so that a client that sees the reset also
	// sees the call counted.
	finish func()
}

func callFrom(r *http.Request) *callRecord {
	c, _ := r.Context().Value(callKey).(*callRecord)
	return c
}

// statusRecorder notes the status written through it. Unwrap lets
// http.ResponseController reach the connection for the reset fault.
type statusRecorder struct {
	http.ResponseWriter
	rec *callRecord
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.rec.status == 0 {
		sr.rec.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

func (sr *statusRecorder) Write(b []byte) (int, error) {
	if sr.rec.status == 0 {
		sr.rec.status = http.StatusOK
	}
	return sr.ResponseWriter.Write(b)
}

func (sr *statusRecorder) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

// account counts every call of the route, whatever happens inside,
// including a connection reset (status 0).
func (s *Sim) account(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &callRecord{}
		rec.finish = sync.OnceFunc(func() {
			if rec.status == 0 && !rec.aborted {
				rec.status = http.StatusOK // a handler that wrote nothing sent 200
			}
			s.stats.record(rt.OperationID, rec.status, rec.credits)
		})
		r = r.WithContext(context.WithValue(r.Context(), callKey, rec))
		defer rec.finish()
		next.ServeHTTP(&statusRecorder{ResponseWriter: w, rec: rec}, r)
	})
}
