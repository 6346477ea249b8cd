package mirosim

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFaultKinds(t *testing.T) {
	t.Parallel()
	for _, kind := range []FaultKind{Fault429, Fault500, Fault502, Fault503} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := srvSetup(t, Config{})
			b.sim.SetFaults(Fault{OperationID: "token-info", Kind: kind, Rate: 1})
			resp, data := b.call(t, "GET", "/v1/oauth-token", b.info.Installs[InstallTeam].AccessToken, nil)
			want, _ := strconv.Atoi(string(kind))
			require.Equal(t, want, resp.StatusCode)
			status, code, _ := srvMiroErr(t, data)
			require.Equal(t, want, status)
			require.NotEmpty(t, code)
			require.NotEmpty(t, resp.Header.Get("X-RateLimit-Reset"))
			if kind == Fault429 {
				require.Equal(t, "tooManyRequests", code)
				require.Equal(t, 1, b.sim.Stats().RateLimited)
			}
			// Nothing was charged.
			require.Equal(t, 0, b.sim.Stats().Credits)
		})
	}

	t.Run("latency", func(t *testing.T) {
		t.Parallel()
		b := srvSetup(t, Config{})
		b.sim.SetFaults(Fault{Kind: FaultLatency, Rate: 1, Latency: 150 * time.Millisecond})
		start := time.Now()
		resp, _ := b.call(t, "GET", "/v1/oauth-token", b.info.Installs[InstallTeam].AccessToken, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	})

	t.Run("reset", func(t *testing.T) {
		t.Parallel()
		b := srvSetup(t, Config{})
		b.sim.SetFaults(Fault{OperationID: "token-info", Kind: FaultReset, Rate: 1})
		req, _ := http.NewRequest("GET", b.srv.URL+"/v1/oauth-token", nil)
		req.Header.Set("Authorization", "Bearer "+b.info.Installs[InstallTeam].AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		require.Error(t, err)
		require.Equal(t, 1, b.sim.Stats().ByOperation["token-info"].Statuses[0])
	})

	t.Run("truncate", func(t *testing.T) {
		t.Parallel()
		b := srvSetup(t, Config{})
		b.sim.SetFaults(Fault{OperationID: "token-info", Kind: FaultTruncate, Rate: 1})
		resp, data := b.call(t, "GET", "/v1/oauth-token", b.info.Installs[InstallTeam].AccessToken, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, strconv.Itoa(len(data)), resp.Header.Get("Content-Length"))
		require.NotEmpty(t, data)
		var v any
		require.Error(t, json.Unmarshal(data, &v), "a truncated body must not parse")
		require.True(t, strings.HasPrefix(string(data), `{"`))
	})
}

// TestFaultTimesAndLost: a capped fault hits only its first calls, and a
// lost answer hides a change that did happen.
func TestFaultTimesAndLost(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	inst := b.info.Installs[InstallTeam]
	body := map[string]string{"accessToken": inst.AccessToken, "clientId": b.info.ClientID, "clientSecret": b.info.ClientSecret}
	b.sim.SetFaults(Fault{OperationID: "revoke-token-v2", Kind: FaultLost, Rate: 1, Times: 1})

	data, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(b.srv.URL+"/v2/oauth/revoke", "application/json", strings.NewReader(string(data)))
	if resp != nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the answer must be lost")
	resp, _ = b.call(t, "GET", "/v1/oauth-token", inst.AccessToken, nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "the revoke took effect although its answer was lost")

	// The cap is spent: the second revoke is answered (404: already revoked).
	resp, _ = b.call(t, "POST", "/v2/oauth/revoke", "", body)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Equal(t, []Fault{{OperationID: "revoke-token-v2", Kind: FaultLost, Rate: 1, Times: 1}}, b.sim.Faults())
}

func TestFaultsDoNotChangeState(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	b.sim.SetFaults(Fault{OperationID: "revoke-token-v2", Kind: Fault503, Rate: 1},
		// Truncate never applies to a POST.
		Fault{OperationID: "revoke-token-v2", Kind: FaultTruncate, Rate: 1})
	inst := b.info.Installs[InstallTeam]
	body := map[string]string{"accessToken": inst.AccessToken, "clientId": b.info.ClientID, "clientSecret": b.info.ClientSecret}
	resp, _ := b.call(t, "POST", "/v2/oauth/revoke", "", body)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	resp, _ = b.call(t, "GET", "/v1/oauth-token", inst.AccessToken, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the faulted revoke must not have revoked")

	b.sim.SetFaults()
	resp, _ = b.call(t, "POST", "/v2/oauth/revoke", "", body)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
}

func TestFaultRateAndTargeting(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	b.sim.SetFaults(Fault{OperationID: "token-info", Kind: Fault500, Rate: 0.3})
	tok := b.info.Installs[InstallTeam].AccessToken
	failed := 0
	for range 200 {
		resp, _ := b.call(t, "GET", "/v1/oauth-token", tok, nil)
		if resp.StatusCode == http.StatusInternalServerError {
			failed++
		}
	}
	require.InDelta(t, 60, failed, 25)
	// Other operations are untouched.
	for range 20 {
		resp, _ := b.call(t, "GET", "/v2/nope", tok, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	}
}

func TestAdminFaults(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	resp, data := b.call(t, "PUT", "/_sim/faults", "", []map[string]any{
		{"operationId": "token-info", "kind": "latency", "rate": 1, "latency": "20ms"},
		{"operationId": "", "kind": "502", "rate": 0.5},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	require.Equal(t, []Fault{{OperationID: "token-info", Kind: FaultLatency, Rate: 1, Latency: 20 * time.Millisecond},
		{Kind: Fault502, Rate: 0.5}}, b.sim.Faults())

	for _, tc := range []struct{ name, body, want string }{
		{"ErrKind", `[{"kind":"boom","rate":1}]`, "kind"},
		{"ErrRate", `[{"kind":"500","rate":2}]`, "rate"},
		{"ErrOperation", `[{"operationId":"nope","kind":"500","rate":1}]`, "operationId"},
		{"ErrLatency", `[{"kind":"latency","rate":1,"latency":"soon"}]`, "latency"},
		{"ErrType", `[{"kind":"500","rate":"high"}]`, "rate"},
		{"ErrUnknownField", `[{"kind":"500","rate":1,"probability":1}]`, "probability"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("PUT", b.srv.URL+"/_sim/faults", strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(data))
			require.Contains(t, string(data), tc.want)
		})
	}

	resp, _ = b.call(t, "DELETE", "/_sim/faults", "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Empty(t, b.sim.Faults())
}
