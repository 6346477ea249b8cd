package mirosim

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter counts Miro credits per user and app in fixed windows
// aligned to multiples of the window length since the Unix epoch, so that
// X-RateLimit-Reset (a Unix second) is exactly when the budget comes back.
// SCIM has its own request limits per SCIM token and method, per Miro's
// per-30-second figures, scaled by the same compression as the window.
type rateLimiter struct {
	mu     sync.Mutex
	window time.Duration
	budget int
	used   map[string]*windowUse // rateKey -> credits used in its window

	scimWindow time.Duration
	scimUsed   map[string]*windowUse // token + method class -> requests
}

// windowUse is a counter that belongs to one window.
type windowUse struct {
	idx  int64 // window number since the epoch
	used int
}

func newRateLimiter(window time.Duration, budget int) *rateLimiter {
	// Miro's SCIM limits are per 30 s against a 60 s credit window; keep
	// the ratio, but never below one second.
	scim := max(time.Second, 30*time.Second*window/time.Minute)
	return &rateLimiter{
		window: window, budget: budget, used: map[string]*windowUse{},
		scimWindow: scim, scimUsed: map[string]*windowUse{},
	}
}

// rateKey is the identity credits are counted for: user and app. A nil
// grant (bad token) gets the empty key, which is never charged.
func rateKey(g *grant) string {
	if g == nil {
		return ""
	}
	return g.UserID + "|" + g.ClientID
}

// counter returns key's counter for the window holding now, starting a
// fresh one when the window has moved on. The caller holds l.mu.
func windowCounter(m map[string]*windowUse, key string, window time.Duration, now time.Time) (*windowUse, time.Time) {
	idx := now.UnixNano() / int64(window)
	reset := time.Unix(0, (idx+1)*int64(window))
	c := m[key]
	if c == nil || c.idx != idx {
		c = &windowUse{idx: idx}
		m[key] = c
	}
	return c, reset
}

// charge spends cost credits for key if that many remain. A refused call
// is not charged.
func (l *rateLimiter) charge(key string, cost int, now time.Time) (ok bool, remaining int, reset time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, reset := windowCounter(l.used, key, l.window, now)
	if c.used+cost > l.budget {
		return false, l.budget - c.used, reset
	}
	c.used += cost
	return true, l.budget - c.used, reset
}

// setHeaders writes key's current X-RateLimit-* headers without charging.
func (l *rateLimiter) setHeaders(h http.Header, key string, now time.Time) {
	l.mu.Lock()
	remaining := l.budget
	idx := now.UnixNano() / int64(l.window)
	reset := time.Unix(0, (idx+1)*int64(l.window))
	if c := l.used[key]; key != "" && c != nil && c.idx == idx {
		remaining -= c.used
	}
	l.mu.Unlock()
	writeRateHeaders(h, l.budget, remaining, reset)
}

func writeRateHeaders(h http.Header, limit, remaining int, reset time.Time) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, remaining)))
	// Round up so that a client sleeping until Reset never wakes early.
	sec := reset.Unix()
	if reset.Nanosecond() != 0 {
		sec++
	}
	h.Set("X-RateLimit-Reset", strconv.FormatInt(sec, 10))
}

// write429 is Miro's rate-limit answer, body exactly as Miro sends it.
func write429(w http.ResponseWriter) {
	writeError(w, &apiError{Status: http.StatusTooManyRequests, Code: "tooManyRequests", Message: "Request rate limit exceed"})
}

// rateLimit charges the route's level in credits. Every answer of a
// charged route carries the X-RateLimit-* headers; over budget is 429.
func (s *Sim) rateLimit(rt route, next http.Handler) http.Handler {
	if rt.Access == accessSCIM {
		return s.scimRateLimit(next)
	}
	if rt.Level == 0 {
		return next
	}
	cost := rt.Level.Credits()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, remaining, reset := s.limits.charge(rateKey(grantFrom(r)), cost, s.now())
		writeRateHeaders(w.Header(), s.limits.budget, remaining, reset)
		if !ok {
			write429(w)
			return
		}
		if c := callFrom(r); c != nil {
			c.credits = cost
		}
		next.ServeHTTP(w, r)
	})
}

// scimLimit is Miro's SCIM Users limit per 30 s for a method.
func scimLimit(method string) (class string, limit int) {
	switch method {
	case http.MethodGet, http.MethodHead:
		return "GET", 200
	case http.MethodPost:
		return "POST", 200
	case http.MethodPut, http.MethodPatch:
		return "PUT", 100
	case http.MethodDelete:
		return "DELETE", 20
	}
	return method, 100
}

func (s *Sim) scimRateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		class, limit := scimLimit(r.Method)
		l := s.limits
		l.mu.Lock()
		c, reset := windowCounter(l.scimUsed, bearerToken(r)+"|"+class, l.scimWindow, s.now())
		ok := c.used < limit
		if ok {
			c.used++
		}
		remaining := limit - c.used
		l.mu.Unlock()
		writeRateHeaders(w.Header(), limit, remaining, reset)
		if !ok {
			writeSCIMError(w, http.StatusTooManyRequests, "Too many requests: SCIM rate limit exceeded")
			return
		}
		next.ServeHTTP(w, r)
	})
}
