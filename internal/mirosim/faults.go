package mirosim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// FaultKind is a kind of injected failure.
type FaultKind string

// The fault kinds. Every kind but latency, truncate and lost answers
// instead of the handler, so such a request never changes state. Lost is
// the opposite case: Miro acted, but its answer never arrived.
const (
	Fault429      FaultKind = "429"      // Miro's 429 body with rate-limit headers
	Fault500      FaultKind = "500"      // Miro error body
	Fault502      FaultKind = "502"      // Miro error body
	Fault503      FaultKind = "503"      // Miro error body
	FaultLatency  FaultKind = "latency"  // sleep Latency, then serve normally
	FaultReset    FaultKind = "reset"    // close the connection without an answer
	FaultTruncate FaultKind = "truncate" // the real answer, body cut in half (GET only)
	FaultLost     FaultKind = "lost"     // the handler runs (state changes), then the connection is reset
)

var faultKinds = []FaultKind{Fault429, Fault500, Fault502, Fault503, FaultLatency, FaultReset, FaultTruncate, FaultLost}

// Fault injects Kind into a share Rate (0..1) of the calls to OperationID,
// or to every endpoint when OperationID is empty.
type Fault struct {
	OperationID string        `json:"operationId"`
	Kind        FaultKind     `json:"kind"`
	Rate        float64       `json:"rate"`
	Latency     time.Duration `json:"-"` // for FaultLatency; JSON "latency": "200ms"
	// Times caps how many calls the fault hits; 0 means no cap. "The
	// first attempt fails, the resend succeeds" is {Rate: 1, Times: 1}.
	Times int `json:"times,omitempty"`
}

// faultJSON is Fault on the wire, with Latency as a duration string.
type faultJSON struct {
	OperationID string    `json:"operationId"`
	Kind        FaultKind `json:"kind"`
	Rate        float64   `json:"rate"`
	Latency     string    `json:"latency,omitempty"`
	Times       int       `json:"times,omitempty"`
}

// MarshalJSON writes Latency as a duration string such as "200ms".
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{OperationID: f.OperationID, Kind: f.Kind, Rate: f.Rate, Times: f.Times}
	if f.Latency != 0 {
		j.Latency = f.Latency.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads Latency as a duration string such as "200ms".
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = Fault{OperationID: j.OperationID, Kind: j.Kind, Rate: j.Rate, Times: j.Times}
	if j.Latency != "" {
		d, err := time.ParseDuration(j.Latency)
		if err != nil {
			return fmt.Errorf("latency: %q is not a duration like \"200ms\"", j.Latency)
		}
		f.Latency = d
	}
	return nil
}

// validate checks a fault against the known kinds and operations.
func (f Fault) validate(ops map[string]bool) error {
	known := false
	for _, k := range faultKinds {
		known = known || f.Kind == k
	}
	switch {
	case !known:
		return fmt.Errorf("kind: %q is not one of %v", f.Kind, faultKinds)
	case f.Rate < 0 || f.Rate > 1:
		return fmt.Errorf("rate: %g is not between 0 and 1", f.Rate)
	case f.OperationID != "" && !ops[f.OperationID]:
		return fmt.Errorf("operationId: %q is not an operation the simulator serves", f.OperationID)
	case f.Times < 0:
		return fmt.Errorf("times: %d is negative (0 means no cap)", f.Times)
	case f.Kind == FaultLatency && f.Latency <= 0:
		return fmt.Errorf("latency: a latency fault needs a positive latency such as \"200ms\"")
	}
	return nil
}

// faultSet is the active faults and the seeded source that decides which
// calls they hit, so a run is repeatable given the seed and call order.
type faultSet struct {
	mu     sync.Mutex
	faults []Fault
	hits   []int // calls each fault has hit, for Fault.Times
	rng    *rand.Rand
}

func newFaultSet(seed int64) *faultSet {
	return &faultSet{rng: rand.New(rand.NewPCG(uint64(seed), 0x6d69726f73696d))}
}

// SetFaults replaces the active faults; SetFaults() clears them.
func (s *Sim) SetFaults(faults ...Fault) {
	s.faults.mu.Lock()
	s.faults.faults = append([]Fault(nil), faults...)
	s.faults.hits = make([]int, len(faults))
	s.faults.mu.Unlock()
}

// Faults returns the active faults.
func (s *Sim) Faults() []Fault {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return append([]Fault(nil), s.faults.faults...)
}

// roll decides the faults of one call: the summed latency of the latency
// faults that hit, and the first other fault that hits. Truncate applies
// to GET only, where running the handler into a buffer changes nothing.
func (fs *faultSet) roll(op, method string) (latency time.Duration, hit *Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i := range fs.faults {
		f := &fs.faults[i]
		if f.OperationID != "" && f.OperationID != op {
			continue
		}
		if f.Times > 0 && fs.hits[i] >= f.Times {
			continue // spent
		}
		if f.Kind == FaultTruncate && method != http.MethodGet {
			continue
		}
		if fs.rng.Float64() >= f.Rate {
			continue
		}
		if f.Kind == FaultLatency {
			latency += f.Latency
		} else if hit == nil {
			c := *f
			hit = &c
		} else {
			continue // another fault answers this call; this one did not hit
		}
		fs.hits[i]++
	}
	return latency, hit
}

// injectFaults answers in place of the route when a fault hits.
func (s *Sim) injectFaults(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		latency, hit := s.faults.roll(rt.OperationID, r.Method)
		if latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				if c := callFrom(r); c != nil {
					c.aborted = true // the client gave up; nothing was sent
				}
				return
			}
		}
		if hit == nil {
			next.ServeHTTP(w, r)
			return
		}
		switch hit.Kind {
		case Fault429, Fault500, Fault502, Fault503:
			status, _ := strconv.Atoi(string(hit.Kind))
			s.faultAnswer(w, r, rt, status)
		case FaultReset:
			resetConnection(w, r)
		case FaultTruncate:
			serveTruncated(w, r, next)
		case FaultLost:
			// Serve into a buffer that nobody reads, then drop the connection.
			next.ServeHTTP(&bufferedResponse{header: http.Header{}}, r)
			resetConnection(w, r)
		}
	})
}

// faultAnswer writes an injected error in the route's own error shape.
func (s *Sim) faultAnswer(w http.ResponseWriter, r *http.Request, rt route, status int) {
	if rt.Access == accessSCIM {
		writeSCIMError(w, status, fmt.Sprintf("%s (injected by mirosim)", http.StatusText(status)))
		return
	}
	if rt.Level > 0 {
		// The caller's real budget, uncharged: a bad token gets a full one.
		g, _ := s.auth.lookup(bearerToken(r), s.now())
		s.limits.setHeaders(w.Header(), rateKey(g), s.now())
	}
	if status == http.StatusTooManyRequests {
		write429(w)
		return
	}
	code := map[int]string{500: "internalError", 502: "badGateway", 503: "serviceUnavailable"}[status]
	writeError(w, &apiError{Status: status, Code: code, Message: http.StatusText(status) + " (injected by mirosim)"})
}

// resetConnection closes the connection without an answer. With TCP it
// sets linger 0 so that the client sees a reset rather than a clean EOF.
func resetConnection(w http.ResponseWriter, r *http.Request) {
	if c := callFrom(r); c != nil {
		c.aborted = true
		c.finish()
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 and recorders cannot hijack; aborting the handler makes
		// the server drop the stream or connection instead.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// bufferedResponse captures a handler's whole answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// truncated serves the real answer with its body cut in half and a
// Content-Length that matches the cut, so the JSON is broken but the HTTP
// framing is not.
func serveTruncated(w http.ResponseWriter, r *http.Request, next http.Handler) {
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, r)
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	cut := buf.body.Bytes()[:buf.body.Len()/2]
	w.Header().Set("Content-Length", strconv.Itoa(len(cut)))
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(cut)
}
