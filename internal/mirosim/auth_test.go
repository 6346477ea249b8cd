package mirosim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// srvClock is a settable clock for Config.Now.
type srvClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *srvClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *srvClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// srvBundle is a simulator served over HTTP, for the tests of the server
// half (auth, rate limit, faults, admin).
type srvBundle struct {
	sim   *Sim
	srv   *httptest.Server
	info  Info
	clock *srvClock
}

// srvSetup starts a small simulator on a fake clock that sits at the start
// of a rate window.
func srvSetup(t *testing.T, cfg Config) *srvBundle {
	t.Helper()
	clock := &srvClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Members == 0 {
		cfg.Members = 50
	}
	if cfg.Teams == 0 {
		cfg.Teams = 4
	}
	sim, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &srvBundle{sim: sim, srv: srv, info: sim.Info(srv.URL), clock: clock}
}

// call makes a request with an optional bearer token and JSON body, and
// returns the response with its body read.
func (b *srvBundle) call(t *testing.T, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		require.NoError(t, err)
		rd = strings.NewReader(string(js))
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, data
}

// srvMiroErr decodes Miro's error shape.
func srvMiroErr(t *testing.T, data []byte) (status int, code, message string) {
	t.Helper()
	var e struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Type    string `json:"type"`
	}
	require.NoError(t, json.Unmarshal(data, &e), string(data))
	require.Equal(t, "error", e.Type, string(data))
	return e.Status, e.Code, e.Message
}

func srvNoRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

const srvRedirect = "http://127.0.0.1:1/callback"

func srvAuthorizeQuery(b *srvBundle, extra url.Values) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {b.info.ClientID}, "redirect_uri": {srvRedirect}}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

// srvToken posts a form to the token endpoint.
func srvToken(t *testing.T, b *srvBundle, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(b.info.TokenURL, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func TestAuthorizePage(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	k := b.sim.w.Known

	t.Run("OK", func(t *testing.T) {
		q := srvAuthorizeQuery(b, url.Values{"state": {"s1"}, "team_id": {k.EnterpriseTeamID}})
		resp, err := http.Get(b.info.AuthorizeURL + "?" + q.Encode())
		require.NoError(t, err)
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		html := string(page)
		require.Contains(t, html, "Sign in as")
		require.Contains(t, html, "Company Admin")
		require.Contains(t, html, "not a Company Admin")
		require.Contains(t, html, "non-Enterprise")
		require.Contains(t, html, `value="`+k.EnterpriseTeamID+`" selected`)
		require.Contains(t, html, "organizations:teams:write")
		require.Contains(t, html, `value="approve"`)
		require.Contains(t, html, `value="deny"`)
	})
	t.Run("ErrUnknownClient", func(t *testing.T) {
		q := srvAuthorizeQuery(b, url.Values{"client_id": {"nope"}})
		resp, err := http.Get(b.info.AuthorizeURL + "?" + q.Encode())
		require.NoError(t, err)
		defer resp.Body.Close()
		page, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Contains(t, string(page), "not a registered app")
	})
	t.Run("ErrRedirectURIRequired", func(t *testing.T) {
		q := srvAuthorizeQuery(b, nil)
		q.Del("redirect_uri")
		resp, err := http.Get(b.info.AuthorizeURL + "?" + q.Encode())
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}

func TestCodeFlowPKCE(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	k := b.sim.w.Known
	verifier := "a-verifier-that-is-long-enough-for-rfc-7636-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])

	// Approve on the consent form as the Company Admin.
	form := url.Values{"client_id": {b.info.ClientID}, "redirect_uri": {srvRedirect}, "state": {"st-1"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
		"user_id": {k.CompanyAdminID}, "team_id": {k.EnterpriseTeamID}, "decision": {"approve"}}
	resp, err := srvNoRedirects().PostForm(b.info.AuthorizeURL, form)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:1", loc.Host)
	require.Equal(t, "st-1", loc.Query().Get("state"))
	require.Equal(t, k.EnterpriseTeamID, loc.Query().Get("team_id"))
	require.Equal(t, b.info.ClientID, loc.Query().Get("client_id"))
	code := loc.Query().Get("code")
	require.NotEmpty(t, code)

	exchange := url.Values{"grant_type": {"authorization_code"}, "client_id": {b.info.ClientID},
		"client_secret": {b.info.ClientSecret}, "code": {code}, "redirect_uri": {srvRedirect}}

	t.Run("ErrWrongVerifier", func(t *testing.T) {
		f := srvCloneValues(exchange)
		f.Set("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier-000")
		status, out := srvToken(t, b, f)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", out["error"])
		require.Equal(t, "invalid_grant", out["code"])
		require.Equal(t, "error", out["type"])
	})
	t.Run("ErrMissingVerifier", func(t *testing.T) {
		status, out := srvToken(t, b, exchange)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", out["error"])
	})
	t.Run("ErrWrongRedirect", func(t *testing.T) {
		f := srvCloneValues(exchange)
		f.Set("code_verifier", verifier)
		f.Set("redirect_uri", "http://127.0.0.1:1/other")
		status, _ := srvToken(t, b, f)
		require.Equal(t, http.StatusBadRequest, status)
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		f := srvCloneValues(exchange)
		f.Set("client_secret", "nope")
		status, out := srvToken(t, b, f)
		require.Equal(t, http.StatusUnauthorized, status)
		require.Equal(t, "invalid_client", out["error"])
	})

	f := srvCloneValues(exchange)
	f.Set("code_verifier", verifier)
	status, out := srvToken(t, b, f)
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, k.CompanyAdminID, out["user_id"])
	require.Equal(t, k.EnterpriseTeamID, out["team_id"])
	require.Equal(t, "bearer", out["token_type"])
	require.EqualValues(t, 3600, out["expires_in"])
	require.Contains(t, out["scope"], "organizations:teams:write")
	access := out["access_token"].(string)

	t.Run("ErrCodeReuse", func(t *testing.T) {
		status, out := srvToken(t, b, f)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", out["error"])
	})

	resp2, body := b.call(t, "GET", "/v1/oauth-token", access, nil)
	require.Equal(t, http.StatusOK, resp2.StatusCode, string(body))
	var ti struct {
		Type         string
		Organization struct{ ID, Name, Type string }
		Team         struct{ ID, Type string }
		User         struct{ ID string }
		CreatedBy    struct{ ID string }
		Scopes       []string
	}
	require.NoError(t, json.Unmarshal(body, &ti))
	require.Equal(t, "token", ti.Type)
	require.Equal(t, b.info.OrgID, ti.Organization.ID)
	require.Equal(t, k.EnterpriseTeamID, ti.Team.ID)
	require.Equal(t, k.CompanyAdminID, ti.User.ID)
	require.Contains(t, ti.Scopes, "auditlogs:read")
}

func srvCloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestAuthorizeDenyAndNarrowScopes(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	k := b.sim.w.Known

	t.Run("Deny", func(t *testing.T) {
		form := url.Values{"client_id": {b.info.ClientID}, "redirect_uri": {srvRedirect}, "state": {"st-2"},
			"user_id": {k.CompanyAdminID}, "team_id": {k.EnterpriseTeamID}, "decision": {"deny"}}
		resp, err := srvNoRedirects().PostForm(b.info.AuthorizeURL, form)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		require.Equal(t, "access_denied", loc.Query().Get("error"))
		require.Equal(t, "st-2", loc.Query().Get("state"))
		require.Empty(t, loc.Query().Get("code"))
	})
	t.Run("ErrNotAMemberOfTeam", func(t *testing.T) {
		form := url.Values{"client_id": {b.info.ClientID}, "redirect_uri": {srvRedirect},
			"user_id": {k.NonEnterpriseAdminID}, "team_id": {k.EnterpriseTeamID}, "decision": {"approve"}}
		resp, err := srvNoRedirects().PostForm(b.info.AuthorizeURL, form)
		require.NoError(t, err)
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Contains(t, string(page), "not a member of team")
	})
	t.Run("NonEnterpriseNeverGetsOrgScopes", func(t *testing.T) {
		form := url.Values{"client_id": {b.info.ClientID}, "redirect_uri": {srvRedirect},
			"user_id": {k.NonEnterpriseAdminID}, "team_id": {k.NonEnterpriseTeamID}, "decision": {"approve"}}
		resp, err := srvNoRedirects().PostForm(b.info.AuthorizeURL, form)
		require.NoError(t, err)
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		status, out := srvToken(t, b, url.Values{"grant_type": {"authorization_code"}, "client_id": {b.info.ClientID},
			"client_secret": {b.info.ClientSecret}, "code": {loc.Query().Get("code")}, "redirect_uri": {srvRedirect}})
		require.Equal(t, http.StatusOK, status, out)
		require.Equal(t, "boards:read boards:write team:read team:write", out["scope"])
	})
	t.Run("ScopeParameterNarrows", func(t *testing.T) {
		form := url.Values{"client_id": {b.info.ClientID}, "redirect_uri": {srvRedirect}, "scope": {"organizations:read boards:read"},
			"user_id": {k.CompanyAdminID}, "team_id": {k.EnterpriseTeamID}, "decision": {"approve"}}
		resp, err := srvNoRedirects().PostForm(b.info.AuthorizeURL, form)
		require.NoError(t, err)
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		_, out := srvToken(t, b, url.Values{"grant_type": {"authorization_code"}, "client_id": {b.info.ClientID},
			"client_secret": {b.info.ClientSecret}, "code": {loc.Query().Get("code")}, "redirect_uri": {srvRedirect}})
		require.Equal(t, "organizations:read boards:read", out["scope"])
	})
}

func TestAutoApprove(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{AutoApprove: true, TeamIDAsNumber: true})
	k := b.sim.w.Known
	q := srvAuthorizeQuery(b, url.Values{"state": {"auto"}, "sim_user": {k.NonAdminID}})
	resp, err := srvNoRedirects().Get(b.info.AuthorizeURL + "?" + q.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	require.Equal(t, "auto", loc.Query().Get("state"))
	teams := b.sim.userTeams(k.NonAdminID)
	require.Equal(t, teams[0].ID, loc.Query().Get("team_id"))

	// The numeric team_id option: the token answer's team_id is a JSON number.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {srvRedirect}}
	req, _ := http.NewRequest("POST", b.info.TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(b.info.ClientID, b.info.ClientSecret)
	tr, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer tr.Body.Close()
	var raw map[string]json.RawMessage
	require.NoError(t, json.NewDecoder(tr.Body).Decode(&raw))
	require.Equal(t, http.StatusOK, tr.StatusCode)
	require.Equal(t, teams[0].ID, string(raw["team_id"]), "team_id must be a bare JSON number")
}

func TestTokenQueryParameters(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	// Miro's docs show the token endpoint parameters in the query.
	q := url.Values{"grant_type": {"refresh_token"}, "client_id": {b.info.ClientID}, "client_secret": {b.info.ClientSecret},
		"refresh_token": {b.info.Installs[InstallTeam].RefreshToken}}
	resp, err := http.Post(b.info.TokenURL+"?"+q.Encode(), "application/x-www-form-urlencoded", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	old := b.info.Installs[InstallOrgAdmin]
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {b.info.ClientID},
		"client_secret": {b.info.ClientSecret}, "refresh_token": {old.RefreshToken}}

	status, out := srvToken(t, b, refresh)
	require.Equal(t, http.StatusOK, status, out)
	newAccess, newRefresh := out["access_token"].(string), out["refresh_token"].(string)
	require.NotEqual(t, old.AccessToken, newAccess)
	require.NotEqual(t, old.RefreshToken, newRefresh)

	// The old pair stops working; the new one works.
	resp, body := b.call(t, "GET", "/v2/orgs/"+b.info.OrgID+"/teams", old.AccessToken, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	_, code, msg := srvMiroErr(t, body)
	require.Equal(t, "tokenNotFound", code)
	require.Equal(t, "Token is invalid or revoked", msg)
	resp, _ = b.call(t, "GET", "/v1/oauth-token", newAccess, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	status, out = srvToken(t, b, refresh)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_grant", out["error"])
	require.EqualValues(t, 400, out["status"])

	// Info follows the ready install through the rotation.
	require.Equal(t, newAccess, b.sim.Info(b.srv.URL).Installs[InstallOrgAdmin].AccessToken)
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	inst := b.info.Installs[InstallTeam]
	body := map[string]string{"accessToken": inst.AccessToken, "clientId": b.info.ClientID, "clientSecret": b.info.ClientSecret}

	resp, _ := b.call(t, "POST", "/v2/oauth/revoke", "", body)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	resp, data := b.call(t, "GET", "/v2/boards", inst.AccessToken, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	_, code, _ := srvMiroErr(t, data)
	require.Equal(t, "tokenNotFound", code)

	// The refresh token went with it.
	status, _ := srvToken(t, b, url.Values{"grant_type": {"refresh_token"}, "client_id": {b.info.ClientID},
		"client_secret": {b.info.ClientSecret}, "refresh_token": {inst.RefreshToken}})
	require.Equal(t, http.StatusBadRequest, status)

	resp, data = b.call(t, "POST", "/v2/oauth/revoke", "", body)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	_, code, _ = srvMiroErr(t, data)
	require.Equal(t, "notFound", code)
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{AccessTokenTTL: time.Minute})
	inst := b.info.Installs[InstallOrgAdmin]

	t.Run("ErrNotProvided", func(t *testing.T) {
		resp, data := b.call(t, "GET", "/v2/boards", "", nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		_, code, _ := srvMiroErr(t, data)
		require.Equal(t, "tokenNotProvided", code)
	})
	t.Run("ErrTokenInfoAnswers400", func(t *testing.T) {
		resp, _ := b.call(t, "GET", "/v1/oauth-token", "garbage", nil)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	t.Run("ErrExpired", func(t *testing.T) {
		b.clock.Add(2 * time.Minute)
		resp, data := b.call(t, "GET", "/v2/orgs/"+inst.OrgID, inst.AccessToken, nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		_, code, _ := srvMiroErr(t, data)
		require.Equal(t, "tokenExpired", code)
		require.NotEmpty(t, resp.Header.Get("X-RateLimit-Limit"))
	})
}

func TestEnterpriseAccess(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	k := b.sim.w.Known
	org := b.info.OrgID

	t.Run("ErrScopeMissing", func(t *testing.T) {
		inst, err := b.sim.MintToken(k.CompanyAdminID, k.EnterpriseTeamID, []string{"organizations:read"})
		require.NoError(t, err)
		resp, data := b.call(t, "GET", "/v2/orgs/"+org+"/teams", inst.AccessToken, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		_, code, msg := srvMiroErr(t, data)
		require.Equal(t, "forbiddenAccess", code)
		require.Contains(t, msg, "organizations:teams:read")
		require.NotEmpty(t, resp.Header.Get("X-RateLimit-Remaining"))
	})
	t.Run("ErrBoardsScopeMissing", func(t *testing.T) {
		inst, err := b.sim.MintToken(k.CompanyAdminID, k.EnterpriseTeamID, []string{"organizations:read"})
		require.NoError(t, err)
		resp, data := b.call(t, "GET", "/v2/boards", inst.AccessToken, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		_, _, msg := srvMiroErr(t, data)
		require.Contains(t, msg, "boards:read")
	})
	t.Run("ErrNotCompanyAdmin", func(t *testing.T) {
		resp, data := b.call(t, "GET", "/v2/orgs/"+org, b.info.Installs[InstallOrgNonAdmin].AccessToken, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		status, code, msg := srvMiroErr(t, data)
		require.Equal(t, 403, status)
		require.Equal(t, "forbiddenAccess", code)
		require.Contains(t, msg, "Company Admin")
	})
	t.Run("ErrNotEnterprise", func(t *testing.T) {
		inst := b.info.Installs[InstallNonEnterpriseTeam]
		resp, data := b.call(t, "GET", "/v2/orgs/"+inst.OrgID, inst.AccessToken, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		_, code, msg := srvMiroErr(t, data)
		require.Equal(t, "forbiddenAccess", code)
		require.Contains(t, msg, "Enterprise plan")
	})
	t.Run("ErrOtherOrg", func(t *testing.T) {
		resp, data := b.call(t, "GET", "/v2/orgs/"+k.NonEnterpriseOrgID+"/teams", b.info.Installs[InstallOrgAdmin].AccessToken, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		_, code, _ := srvMiroErr(t, data)
		require.Equal(t, "forbiddenAccess", code)
	})
	t.Run("ErrSCIMToken", func(t *testing.T) {
		resp, data := b.call(t, "GET", "/api/v1/scim/Users", "wrong", nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		var e struct {
			Schemas []string
			Status  string
			Detail  string
		}
		require.NoError(t, json.Unmarshal(data, &e))
		require.Equal(t, []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, e.Schemas)
		require.Equal(t, "401", e.Status)
	})
	t.Run("ErrUnknownPath", func(t *testing.T) {
		resp, data := b.call(t, "GET", "/v2/nope", "", nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		_, code, _ := srvMiroErr(t, data)
		require.Equal(t, "notFound", code)
	})
	t.Run("ErrMintUnknownScope", func(t *testing.T) {
		_, err := b.sim.MintToken(k.CompanyAdminID, k.EnterpriseTeamID, []string{"boards:nope"})
		require.ErrorContains(t, err, "unknown scope")
	})
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := New(Config{RateWindow: 1500 * time.Millisecond})
	require.ErrorContains(t, err, "whole number of seconds")
	_, err = New(Config{Members: -1})
	require.ErrorContains(t, err, "members")
}
