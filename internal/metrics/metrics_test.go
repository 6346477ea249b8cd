package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
)

// scrape returns what /metrics serves.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

type fakeSyncer struct {
	run roster.SyncRun
	err error
}

func (f fakeSyncer) Sync(context.Context, int64) (roster.SyncRun, error) { return f.run, f.err }

func TestMetrics(t *testing.T) {
	t.Parallel()
	m := New()
	start := time.Now().Add(-3 * time.Second)

	// Syncs: one succeeded, one failed, one that never started.
	ok := roster.SyncRun{Source: roster.SourceOrganization, Status: roster.SyncSucceeded, StartedAt: start, EndedAt: start.Add(2 * time.Second), APICalls: 12, Credits: 600}
	_, err := Syncer{Next: fakeSyncer{run: ok}, Metrics: m}.Sync(t.Context(), 1)
	require.NoError(t, err)
	bad := roster.SyncRun{Source: roster.SourceLegacyTeam, Status: roster.SyncFailed, StartedAt: start, EndedAt: start.Add(time.Second), APICalls: 3}
	_, err = Syncer{Next: fakeSyncer{run: bad, err: errors.New("boom")}, Metrics: m}.Sync(t.Context(), 2)
	require.Error(t, err)
	_, err = Syncer{Next: fakeSyncer{err: errors.New("no such connection")}, Metrics: m}.Sync(t.Context(), 3)
	require.Error(t, err)

	// Actions.
	m.Action(roster.ActionInvite, roster.Action{Key: "k", Status: roster.ActionSucceeded}, nil)
	m.Action(roster.ActionRemove, roster.Action{Key: "k2", Status: roster.ActionRefused}, errors.New("refused"))
	m.Action(roster.ActionRemove, roster.Action{}, errors.New("email: bad"))

	// Miro answers through the transport, a 429 among them.
	n := 0
	miro := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "{}")
	}))
	defer miro.Close()
	c := &http.Client{Transport: m.Transport(nil)}
	for range 3 {
		resp, err := c.Get(miro.URL)
		require.NoError(t, err)
		resp.Body.Close()
	}

	// HTTP latency by route pattern, nested muxes included.
	inner := http.NewServeMux()
	inner.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	outer := http.NewServeMux()
	outer.Handle("/", inner)
	h := m.Instrument(outer)
	for _, p := range []string{"/users/7", "/users/8", "/nope/" + strings.Repeat("x", 10)} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}

	out := scrape(t, m)
	for _, want := range []string{
		`roster_sync_duration_seconds_count{outcome="succeeded",source="v2-organization"} 1`,
		`roster_sync_duration_seconds_count{outcome="failed",source="v1-legacy-team"} 1`,
		`roster_sync_api_calls_total{source="v2-organization"} 12`,
		`roster_sync_credits_total{source="v2-organization"} 600`,
		`roster_actions_total{kind="invite_to_team",status="succeeded"} 1`,
		`roster_actions_total{kind="remove_from_team",status="refused"} 1`,
		`roster_actions_total{kind="remove_from_team",status="not_run"} 1`,
		`roster_miro_requests_total{code="429"} 1`,
		`roster_miro_requests_total{code="200"} 2`,
		`roster_miro_rate_limited_total 1`,
		`roster_http_request_duration_seconds_count{code="418",method="GET",route="GET /users/{id}"} 2`,
		`roster_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1`,
		`go_goroutines`,
	} {
		require.Contains(t, out, want)
	}
	// Two servers in one process do not share series.
	require.NotContains(t, scrape(t, New()), "roster_actions_total{")
}
