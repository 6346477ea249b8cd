package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store/storetest"
)

// TestE2EMetrics runs roster serve, lets it sync, runs an action through
// the JSON API with an API key, and reads /metrics.
func TestE2EMetrics(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		e := newE2E(t)
		r := e.roster(t, "connect", "--database", dsn, "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallOrgAdmin))
		require.NoError(t, r.err, r.stdout+r.stderr)
		r = e.roster(t, "admin", "create", "--database", dsn, "--email", "ann@example.com")
		require.NoError(t, r.err, r.stderr)

		// An API key, made as the settings page makes them.
		db := storetest.Open(t, dsn)
		ann, err := db.OperatorByEmail(context.Background(), "ann@example.com")
		require.NoError(t, err)
		key := "rk_e2e-metrics-key-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		sum := sha256.Sum256([]byte(key))
		require.NoError(t, db.CreateAPIKey(context.Background(), &roster.APIKey{Name: "ci", Prefix: key[:11], Hash: sum[:],
			Scopes: []string{roster.ScopeRead, roster.ScopeAct}, CreatedBy: ann.ID}))

		url, stop := e.serve(t, "--database", dsn)
		call := func(method, path string, body any) (int, []byte) {
			t.Helper()
			var rd io.Reader
			if body != nil {
				js, err := json.Marshal(body)
				require.NoError(t, err)
				rd = bytes.NewReader(js)
			}
			req, err := http.NewRequest(method, url+path, rd)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp.StatusCode, raw
		}

		// "Sync now" through the API; serve's worker runs it.
		code, body := call("POST", "/api/v1/connections/1/sync", nil)
		require.Equal(t, http.StatusAccepted, code, string(body))
		require.Eventually(t, func() bool {
			code, body := call("GET", "/api/v1/connections/1/sync-runs", nil)
			return code == http.StatusOK && strings.Contains(string(body), `"status":"succeeded"`)
		}, 30*time.Second, 100*time.Millisecond, "serve never synced the connection")

		// An action: remove someone from one of their teams.
		code, body = call("GET", "/api/v1/users?limit=20&role=organization_internal_user", nil)
		require.Equal(t, http.StatusOK, code, string(body))
		var users struct {
			Data []struct {
				ID         int64  `json:"id"`
				MiroUserID string `json:"miro_user_id"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(body, &users))
		var userID, teamID string
		for _, u := range users.Data {
			code, body = call("GET", "/api/v1/users/"+strconv.FormatInt(u.ID, 10), nil)
			require.Equal(t, http.StatusOK, code, string(body))
			var detail struct {
				Data struct {
					Memberships []struct {
						TeamID string `json:"team_id"`
						Role   string `json:"role"`
					} `json:"memberships"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal(body, &detail))
			for _, m := range detail.Data.Memberships {
				if m.Role == "member" {
					userID, teamID = u.MiroUserID, m.TeamID
				}
			}
			if userID != "" {
				break
			}
		}
		require.NotEmpty(t, userID, "no team member to remove")
		code, body = call("POST", "/api/v1/actions", map[string]any{"kind": "remove_from_team", "connection_id": 1,
			"team_id": teamID, "user_id": userID, "idempotency_key": "metrics-1"})
		require.Equal(t, http.StatusOK, code, string(body))

		// An action from the command line, another process: serve's
		// counter cannot see it, the recorded count can.
		r = e.roster(t, "signout", "--database", dsn, "--connection", "1", "--user", userID)
		require.NoError(t, r.err, r.stdout+r.stderr)

		// /metrics needs no key, and shows all of it.
		code, metrics := get(t, url+"/metrics")
		require.Equal(t, http.StatusOK, code)
		// The scheduler may have synced the new connection too, before or
		// after the API asked; either way at least one sync succeeded.
		require.Regexp(t, `roster_sync_duration_seconds_count\{outcome="succeeded",source="v2-organization"\} [1-9]`, metrics)
		for _, want := range []string{
			`roster_sync_api_calls_total{source="v2-organization"}`,
			`roster_sync_credits_total{source="v2-organization"}`,
			`roster_miro_requests_total{code="200"}`,
			`roster_miro_rate_limited_total 0`,
			`roster_actions_total{kind="remove_from_team",status="succeeded"} 1`,
			`roster_actions_recorded{kind="remove_from_team",status="succeeded"} 1`,
			`roster_actions_recorded{kind="sign_out_all_sessions",status="succeeded"} 1`,
			`roster_http_request_duration_seconds_count{code="200",method="POST",route="POST /api/v1/actions"} 1`,
			`roster_http_request_duration_seconds_count{code="202",method="POST",route="POST /api/v1/connections/{id}/sync"} 1`,
		} {
			require.True(t, strings.Contains(metrics, want), "/metrics lacks %s", want)
		}
		require.NotContains(t, metrics, `roster_actions_total{kind="sign_out_all_sessions"`, "the CLI's action is not serve's")
		require.NotContains(t, metrics, key)
		require.NoError(t, stop())
	})
}
