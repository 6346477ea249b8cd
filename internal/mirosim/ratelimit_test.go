package mirosim

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRateLimit(t *testing.T) {
	t.Parallel()
	// A one-second window with room for four Level 1 calls (50 credits).
	b := srvSetup(t, Config{RateWindow: time.Second, RateBudget: 200})
	tok := b.info.Installs[InstallOrgAdmin].AccessToken
	windowEnd := b.clock.Now().Add(time.Second).Unix()

	for i := 1; i <= 4; i++ {
		resp, _ := b.call(t, "GET", "/v1/oauth-token", tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "200", resp.Header.Get("X-RateLimit-Limit"))
		require.Equal(t, strconv.Itoa(200-50*i), resp.Header.Get("X-RateLimit-Remaining"))
		require.Equal(t, strconv.FormatInt(windowEnd, 10), resp.Header.Get("X-RateLimit-Reset"))
	}

	// Over budget: 429 in Miro's exact shape, with headers, and not charged.
	resp, data := b.call(t, "GET", "/v1/oauth-token", tok, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.JSONEq(t, `{"status":429,"code":"tooManyRequests","message":"Request rate limit exceed","context":null,"type":"error"}`, string(data))
	require.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))
	require.Equal(t, strconv.FormatInt(windowEnd, 10), resp.Header.Get("X-RateLimit-Reset"))

	st := b.sim.Stats()
	require.Equal(t, 5, st.Calls)
	require.Equal(t, 200, st.Credits)
	require.Equal(t, 1, st.RateLimited)
	require.Equal(t, 1, st.ByOperation["token-info"].Statuses[429])

	// Another user has its own budget.
	resp, _ = b.call(t, "GET", "/v1/oauth-token", b.info.Installs[InstallNonEnterpriseTeam].AccessToken, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The next window restores the budget.
	b.clock.Add(time.Second)
	resp, _ = b.call(t, "GET", "/v1/oauth-token", tok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "150", resp.Header.Get("X-RateLimit-Remaining"))
	require.Equal(t, strconv.FormatInt(windowEnd+1, 10), resp.Header.Get("X-RateLimit-Reset"))
}

func TestRateLimitErrorsCarryHeaders(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{RateWindow: time.Second, RateBudget: 1000})
	// An auth failure on a charged route still says where the budget stands.
	resp, _ := b.call(t, "GET", "/v2/orgs/"+b.info.OrgID, b.info.Installs[InstallOrgNonAdmin].AccessToken, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, "1000", resp.Header.Get("X-RateLimit-Limit"))
	require.Equal(t, "1000", resp.Header.Get("X-RateLimit-Remaining"))
	require.NotEmpty(t, resp.Header.Get("X-RateLimit-Reset"))
}

func TestRateLimitRealClock(t *testing.T) {
	t.Parallel()
	// With the real clock, sleeping until X-RateLimit-Reset must be enough.
	b := srvSetup(t, Config{RateWindow: time.Second, RateBudget: 100, Now: time.Now})
	tok := b.info.Installs[InstallTeam].AccessToken
	var reset int64
	for {
		resp, _ := b.call(t, "GET", "/v1/oauth-token", tok, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			reset, _ = strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
			break
		}
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	time.Sleep(time.Until(time.Unix(reset, 0)))
	resp, _ := b.call(t, "GET", "/v1/oauth-token", tok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestSCIMRateLimit(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{RateWindow: time.Second})
	// 20 DELETEs per (compressed) window; the 21st is refused in SCIM's shape.
	for range 20 {
		resp, _ := b.call(t, "DELETE", "/api/v1/scim/Users/none", b.info.SCIMToken, nil)
		require.NotEqual(t, http.StatusTooManyRequests, resp.StatusCode)
	}
	resp, data := b.call(t, "DELETE", "/api/v1/scim/Users/none", b.info.SCIMToken, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Contains(t, string(data), `"status":"429"`)
	// GETs have their own count.
	resp, _ = b.call(t, "GET", "/api/v1/scim/Users/none", b.info.SCIMToken, nil)
	require.NotEqual(t, http.StatusTooManyRequests, resp.StatusCode)
	b.clock.Add(time.Second)
	resp, _ = b.call(t, "DELETE", "/api/v1/scim/Users/none", b.info.SCIMToken, nil)
	require.NotEqual(t, http.StatusTooManyRequests, resp.StatusCode)
}
