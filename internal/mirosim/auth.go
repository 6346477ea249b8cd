package mirosim

// This file is long because it is the whole of Miro's OAuth as the simulator
// plays it (consent page, PKCE, code exchange, rotation, revoke, token
// context), which reads best in one place.

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Lifetimes Miro documents: refresh tokens last 60 days, codes 10 minutes.
const (
	refreshTokenTTL = 60 * 24 * time.Hour
	authCodeTTL     = 10 * time.Minute
)

// authState holds every issued token and authorization code. It has its
// own lock so that token checks never wait on the world's write lock; it
// never takes Sim.mu while holding mu.
type authState struct {
	mu      sync.Mutex
	access  map[string]*grant // access token -> grant, expired ones included
	refresh map[string]*grant // refresh token -> grant
	codes   map[string]*authCode
	// ready maps an install kind of Info.Installs to its current grant, so
	// that Info follows a ready token through refresh rotation.
	ready map[string]*grant

	scimToken string // the Enterprise org's static SCIM token
	scimOrgID string
}

// authCode is an unexchanged authorization code, bound to its redirect
// URI and PKCE challenge.
type authCode struct {
	clientID, redirectURI string
	challenge, method     string
	userID, teamID, orgID string
	scopes                []string
	expiry                time.Time
}

func newAuthState() *authState {
	return &authState{
		access:  map[string]*grant{},
		refresh: map[string]*grant{},
		codes:   map[string]*authCode{},
		ready:   map[string]*grant{},
	}
}

// randomToken returns an unguessable token with a readable prefix.
func (a *authState) randomToken(prefix string) string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + "_" + hex.EncodeToString(b)
}

// issue creates and stores a new token pair.
func (a *authState) issue(clientID, userID, teamID, orgID string, scopes []string, now time.Time, ttl time.Duration) *grant {
	g := &grant{
		AccessToken:  a.randomToken("sim_at"),
		RefreshToken: a.randomToken("sim_rt"),
		ClientID:     clientID,
		UserID:       userID,
		TeamID:       teamID,
		OrgID:        orgID,
		Scopes:       slices.Clone(scopes),
		IssuedAt:     now,
		Expiry:       now.Add(ttl),
	}
	a.mu.Lock()
	a.access[g.AccessToken] = g
	a.refresh[g.RefreshToken] = g
	a.mu.Unlock()
	return g
}

func (a *authState) setInstall(kind string, g *grant) {
	a.mu.Lock()
	a.ready[kind] = g
	a.mu.Unlock()
}

// installs returns the current ready installs.
func (a *authState) installs(now time.Time) map[string]Install {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]Install, len(a.ready))
	for kind, g := range a.ready {
		out[kind] = installOf(kind, g, now)
	}
	return out
}

func installOf(kind string, g *grant, now time.Time) Install {
	return Install{
		Kind:         kind,
		AccessToken:  g.AccessToken,
		RefreshToken: g.RefreshToken,
		ExpiresIn:    max(0, int(g.Expiry.Sub(now)/time.Second)),
		UserID:       g.UserID,
		TeamID:       g.TeamID,
		OrgID:        g.OrgID,
		Scopes:       slices.Clone(g.Scopes),
	}
}

// tokenState is the outcome of looking up an access token.
type tokenState int

const (
	tokenValid tokenState = iota
	tokenUnknown
	tokenExpired
)

func (a *authState) lookup(token string, now time.Time) (*grant, tokenState) {
	a.mu.Lock()
	g := a.access[token]
	a.mu.Unlock()
	switch {
	case g == nil:
		return nil, tokenUnknown
	case !now.Before(g.Expiry):
		return g, tokenExpired
	}
	return g, tokenValid
}

// rotate exchanges a refresh token for a new pair and invalidates the old
// pair, as Miro does on every refresh.
func (a *authState) rotate(refreshToken, clientID string, now time.Time, ttl time.Duration) (*grant, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.refresh[refreshToken]
	switch {
	case old == nil:
		return nil, fmt.Errorf("refresh token is invalid, revoked or already used")
	case old.ClientID != clientID:
		return nil, fmt.Errorf("refresh token was issued to another client")
	case !now.Before(old.IssuedAt.Add(refreshTokenTTL)):
		return nil, fmt.Errorf("refresh token expired")
	}
	delete(a.refresh, old.RefreshToken)
	delete(a.access, old.AccessToken)
	g := *old
	g.AccessToken = a.randomToken("sim_at")
	g.RefreshToken = a.randomToken("sim_rt")
	g.IssuedAt = now
	g.Expiry = now.Add(ttl)
	a.access[g.AccessToken] = &g
	a.refresh[g.RefreshToken] = &g
	for kind, rg := range a.ready {
		if rg == old {
			a.ready[kind] = &g
		}
	}
	return &g, nil
}

// revoke invalidates an access token and its refresh token.
func (a *authState) revoke(accessToken string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.access[accessToken]
	if g == nil {
		return false
	}
	delete(a.access, g.AccessToken)
	delete(a.refresh, g.RefreshToken)
	return true
}

// revokeUser invalidates every token acting as userID.
func (a *authState) revokeUser(userID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for tok, g := range a.access {
		if g.UserID == userID {
			delete(a.access, tok)
			delete(a.refresh, g.RefreshToken)
		}
	}
}

func (a *authState) saveCode(c *authCode) string {
	code := a.randomToken("sim_code")
	a.mu.Lock()
	a.codes[code] = c
	a.mu.Unlock()
	return code
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate enforces the route's access rule. For accessEnterprise the
// checks run in this order, each answering 403 forbiddenAccess: the
// token's org is Enterprise, the route's scope was granted, the user is a
// Company Admin, and a path {org_id} is the token's own org. Checking the
// plan first tells a non-Enterprise install the real reason rather than a
// missing scope it can never get.
func (s *Sim) authenticate(rt route, next http.Handler) http.Handler {
	switch rt.Access {
	case accessToken, accessEnterprise:
	case accessSCIM:
		return s.authenticateSCIM(next)
	default:
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, err := s.checkToken(r, rt)
		if err != nil {
			// token-info answers 400 for any bad token, per the spec.
			if rt.OperationID == "token-info" && err.Status == http.StatusUnauthorized {
				err = &apiError{Status: http.StatusBadRequest, Code: err.Code, Message: err.Message}
			}
			if rt.Level > 0 {
				s.limits.setHeaders(w.Header(), rateKey(g), s.now())
			}
			writeError(w, err)
			return
		}
		next.ServeHTTP(w, withGrant(r, g))
	})
}

// checkToken returns the request's grant, or the error to answer with. The
// grant is also returned with a 403 so that the answer can carry the
// caller's rate-limit headers.
func (s *Sim) checkToken(r *http.Request, rt route) (*grant, *apiError) {
	tok := bearerToken(r)
	if tok == "" {
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "tokenNotProvided", Message: "No authorization token was provided"}
	}
	g, state := s.auth.lookup(tok, s.now())
	switch state {
	case tokenUnknown:
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "tokenNotFound", Message: "Token is invalid or revoked"}
	case tokenExpired:
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "tokenExpired", Message: "Token has expired"}
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	user := s.w.Users[g.UserID]
	org := s.w.Orgs[g.OrgID]
	if user == nil || org == nil {
		return nil, &apiError{Status: http.StatusUnauthorized, Code: "tokenNotFound", Message: "Token is invalid or revoked"}
	}
	if rt.Access == accessEnterprise && !org.Enterprise {
		return g, errForbidden("This API is available only for Enterprise plan")
	}
	if rt.Scope != "" && !g.hasScope(rt.Scope) {
		return g, errForbidden(fmt.Sprintf("Insufficient permissions: the token lacks the required scope %s", rt.Scope))
	}
	if rt.Access != accessEnterprise {
		return g, nil
	}
	if !user.IsCompanyAdmin() {
		return g, errForbidden("Access denied: this API is available only to a Company Admin of the organization")
	}
	if id := r.PathValue("org_id"); id != "" && id != g.OrgID {
		return g, errForbidden(fmt.Sprintf("Access denied: the token is not authorized for organization %s", id))
	}
	return g, nil
}

// writeSCIMError writes RFC 7644's error shape.
func writeSCIMError(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status":  fmt.Sprint(status),
		"detail":  detail,
	})
}

func (s *Sim) authenticateSCIM(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearerToken(r)
		switch {
		case tok == "":
			writeSCIMError(w, http.StatusUnauthorized, "No SCIM token was provided")
		case subtle.ConstantTimeCompare([]byte(tok), []byte(s.auth.scimToken)) != 1:
			writeSCIMError(w, http.StatusUnauthorized, "SCIM token is invalid")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// ---- OAuth: authorize page ----

//go:embed authorize.html
var authorizeHTML string

var authorizeTmpl = template.Must(template.New("authorize").Parse(authorizeHTML))

// authorizeRequest is the query of GET /oauth/authorize, carried through
// the consent form as hidden fields.
type authorizeRequest struct {
	ClientID, RedirectURI, State, TeamID string
	CodeChallenge, Method, Scope         string
	scopes                               []string // parsed Scope, nil for all
}

// parseAuthorize validates an authorize request. Errors are shown on an
// error page, never redirected, since the redirect URI is not trusted yet.
func (s *Sim) parseAuthorize(v url.Values, needResponseType bool) (authorizeRequest, error) {
	ar := authorizeRequest{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		State: v.Get("state"), TeamID: v.Get("team_id"),
		CodeChallenge: v.Get("code_challenge"), Method: v.Get("code_challenge_method"),
		Scope: v.Get("scope"),
	}
	if needResponseType && v.Get("response_type") != "code" {
		return ar, fmt.Errorf("response_type must be \"code\", got %q", v.Get("response_type"))
	}
	if ar.ClientID == "" {
		return ar, fmt.Errorf("client_id is required")
	}
	if ar.ClientID != s.cfg.ClientID {
		return ar, fmt.Errorf("client_id %q is not a registered app", ar.ClientID)
	}
	u, err := url.Parse(ar.RedirectURI)
	if ar.RedirectURI == "" || err != nil || !u.IsAbs() {
		return ar, fmt.Errorf("redirect_uri is required and must be an absolute URL")
	}
	if ar.CodeChallenge != "" && ar.Method != "S256" && ar.Method != "" && ar.Method != "plain" {
		return ar, fmt.Errorf("code_challenge_method must be S256, got %q", ar.Method)
	}
	if ar.Scope != "" {
		ar.scopes = strings.Fields(strings.ReplaceAll(ar.Scope, ",", " "))
		if _, err := grantableScopes(ar.scopes, true); err != nil {
			return ar, fmt.Errorf("scope: %w", err)
		}
	}
	return ar, nil
}

// consentUser is a "Sign in as" choice and its teams.
type consentUser struct {
	ID, Label string
	Selected  bool
	Teams     []consentTeam
}

type consentTeam struct {
	ID, Name string
	Selected bool
}

type consentPage struct {
	Req    authorizeRequest
	Users  []consentUser
	Scopes []string
	Error  string
}

func (s *Sim) handleAuthorizePage(w http.ResponseWriter, r *http.Request) {
	ar, err := s.parseAuthorize(r.URL.Query(), true)
	if err != nil {
		authorizeError(w, err)
		return
	}
	if s.cfg.AutoApprove {
		userID := r.URL.Query().Get("sim_user")
		if userID == "" {
			userID = s.w.Known.CompanyAdminID // Known is fixed after generate
		}
		teamID := ar.TeamID
		if teamID == "" {
			if teams := s.userTeams(userID); len(teams) > 0 {
				teamID = teams[0].ID
			}
		}
		s.approve(w, r, ar, userID, teamID)
		return
	}
	s.renderConsent(w, ar, r.URL.Query().Get("sim_user"), "")
}

func (s *Sim) renderConsent(w http.ResponseWriter, ar authorizeRequest, extraUser, msg string) {
	k := s.w.Known
	choices := []struct{ id, label string }{
		{k.CompanyAdminID, "Company Admin (Enterprise org)"},
		{k.NonAdminID, "Member who is not a Company Admin (Enterprise org)"},
		{k.NonEnterpriseAdminID, "Team admin on a non-Enterprise (Business plan) team"},
	}
	if extraUser != "" && !slices.ContainsFunc(choices, func(c struct{ id, label string }) bool { return c.id == extraUser }) {
		choices = append(choices, struct{ id, label string }{extraUser, "User " + extraUser})
	}
	page := consentPage{Req: ar, Scopes: ar.scopes, Error: msg}
	if page.Scopes == nil {
		page.Scopes = fullScopes
	}
	for i, c := range choices {
		s.mu.RLock()
		u := s.w.Users[c.id]
		s.mu.RUnlock()
		if u == nil {
			continue
		}
		cu := consentUser{ID: c.id, Label: c.label + ": " + u.Name() + " <" + u.Email + ">",
			Selected: (extraUser == "" && i == 0) || extraUser == c.id}
		for _, t := range s.userTeams(c.id) {
			cu.Teams = append(cu.Teams, consentTeam{ID: t.ID, Name: t.Name, Selected: t.ID == ar.TeamID})
		}
		page.Users = append(page.Users, cu)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if msg != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	_ = authorizeTmpl.Execute(w, page)
}

// userTeams lists the teams userID belongs to, in team id order.
func (s *Sim) userTeams(userID string) []*Team {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.w.Users[userID]
	if u == nil {
		return nil
	}
	org := s.w.Orgs[u.OrgID]
	if org == nil {
		return nil
	}
	var out []*Team
	for _, id := range org.teamIDs {
		if t := s.w.Teams[id]; t != nil {
			if _, ok := t.members[userID]; ok {
				out = append(out, t)
			}
		}
	}
	return out
}

func authorizeError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = authorizeTmpl.Execute(w, consentPage{Error: err.Error()})
}

func (s *Sim) handleAuthorizeApprove(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		authorizeError(w, fmt.Errorf("bad form: %w", err))
		return
	}
	ar, err := s.parseAuthorize(r.PostForm, false)
	if err != nil {
		authorizeError(w, err)
		return
	}
	if r.PostForm.Get("decision") != "approve" {
		q := url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request"}}
		if ar.State != "" {
			q.Set("state", ar.State)
		}
		http.Redirect(w, r, addQuery(ar.RedirectURI, q), http.StatusFound)
		return
	}
	s.approve(w, r, ar, r.PostForm.Get("user_id"), r.PostForm.Get("team_id"))
}

// approve issues a code for userID on teamID and redirects back to the app.
func (s *Sim) approve(w http.ResponseWriter, r *http.Request, ar authorizeRequest, userID, teamID string) {
	s.mu.RLock()
	t := s.w.Teams[teamID]
	var org *Org
	member := false
	if t != nil {
		org = s.w.Orgs[t.OrgID]
		_, member = t.members[userID]
	}
	_, userOK := s.w.Users[userID]
	s.mu.RUnlock()
	var msg string
	switch {
	case !userOK:
		msg = fmt.Sprintf("user %q does not exist", userID)
	case t == nil || org == nil:
		msg = fmt.Sprintf("team %q does not exist", teamID)
	case !member:
		msg = fmt.Sprintf("the chosen user is not a member of team %q; pick one of their teams", teamID)
	}
	if msg != "" {
		s.renderConsent(w, ar, userID, msg)
		return
	}
	scopes, err := grantableScopes(ar.scopes, org.Enterprise)
	if err != nil {
		authorizeError(w, err)
		return
	}
	method := ar.Method
	if ar.CodeChallenge != "" && method == "" {
		method = "plain" // RFC 7636's default
	}
	code := s.auth.saveCode(&authCode{
		clientID: ar.ClientID, redirectURI: ar.RedirectURI,
		challenge: ar.CodeChallenge, method: method,
		userID: userID, teamID: teamID, orgID: org.ID, scopes: scopes,
		expiry: s.now().Add(authCodeTTL),
	})
	q := url.Values{"code": {code}, "team_id": {teamID}, "client_id": {ar.ClientID}}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	http.Redirect(w, r, addQuery(ar.RedirectURI, q), http.StatusFound)
}

// addQuery adds q to rawURL's existing query.
func addQuery(rawURL string, q url.Values) string {
	u, _ := url.Parse(rawURL) // validated by parseAuthorize
	old := u.Query()
	for k, vs := range q {
		old[k] = vs
	}
	u.RawQuery = old.Encode()
	return u.String()
}

// ---- OAuth: token, revoke, token info ----

// oauthError writes both the OAuth 2.0 error fields and Miro's own.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{
		"error": code, "error_description": desc,
		"status": status, "code": code, "message": desc, "type": "error",
	})
}

func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request) {
	// ParseForm merges the form body and the query, which Miro's docs use.
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form body: "+err.Error())
		return
	}
	clientID, secret, ok := r.BasicAuth()
	if !ok {
		clientID, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	}
	if clientID == "" || secret == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "client_id and client_secret are required")
		return
	}
	if clientID != s.cfg.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.ClientSecret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client_id or client_secret is wrong")
		return
	}
	var (
		g   *grant
		err error
	)
	switch gt := r.Form.Get("grant_type"); gt {
	case "authorization_code":
		g, err = s.exchangeCode(clientID, r.Form)
	case "refresh_token":
		rt := r.Form.Get("refresh_token")
		if rt == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "refresh_token is required")
			return
		}
		g, err = s.auth.rotate(rt, clientID, s.now(), s.cfg.AccessTokenTTL)
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported", gt))
		return
	}
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	var teamID any = g.TeamID
	if s.cfg.TeamIDAsNumber && isDigits(g.TeamID) {
		teamID = json.RawMessage(g.TeamID)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"user_id":       g.UserID,
		"team_id":       teamID,
		"access_token":  g.AccessToken,
		"refresh_token": g.RefreshToken,
		"expires_in":    int(g.Expiry.Sub(s.now()) / time.Second),
		"scope":         strings.Join(g.Scopes, " "),
		"token_type":    "bearer",
	})
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// exchangeCode redeems a code once, checking its client, redirect URI,
// expiry and PKCE verifier.
func (s *Sim) exchangeCode(clientID string, form url.Values) (*grant, error) {
	code := form.Get("code")
	if code == "" {
		return nil, fmt.Errorf("code is required")
	}
	now := s.now()
	s.auth.mu.Lock()
	c := s.auth.codes[code]
	var err error
	switch {
	case c == nil:
		err = fmt.Errorf("code is invalid or already used")
	case !now.Before(c.expiry):
		delete(s.auth.codes, code)
		err = fmt.Errorf("code expired")
	case c.clientID != clientID:
		err = fmt.Errorf("code was issued to another client")
	case c.redirectURI != form.Get("redirect_uri"):
		err = fmt.Errorf("redirect_uri does not match the one the code was issued for")
	case c.challenge != "" && !pkceMatches(c.challenge, c.method, form.Get("code_verifier")):
		err = fmt.Errorf("code_verifier does not match the code_challenge")
	default:
		delete(s.auth.codes, code) // single use
	}
	s.auth.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.auth.issue(clientID, c.userID, c.teamID, c.orgID, c.scopes, now, s.cfg.AccessTokenTTL), nil
}

func pkceMatches(challenge, method, verifier string) bool {
	if verifier == "" {
		return false
	}
	if method == "plain" {
		return subtle.ConstantTimeCompare([]byte(challenge), []byte(verifier)) == 1
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(challenge), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))) == 1
}

// handleRevoke is POST /v2/oauth/revoke: it revokes an access token and
// its refresh token; the app stays installed.
func (s *Sim) handleRevoke(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AccessToken  string `json:"accessToken"`
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, errBadRequest("request body must be JSON {accessToken, clientId, clientSecret}: "+err.Error()))
		return
	}
	switch {
	case body.AccessToken == "":
		writeError(w, errBadRequest("accessToken is required"))
		return
	case body.ClientID != s.cfg.ClientID || subtle.ConstantTimeCompare([]byte(body.ClientSecret), []byte(s.cfg.ClientSecret)) != 1:
		writeError(w, &apiError{Status: http.StatusUnauthorized, Code: "invalidClient", Message: "clientId or clientSecret is wrong"})
		return
	}
	if !s.auth.revoke(body.AccessToken) {
		writeError(w, errNotFound("Token not found"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleTokenInfo is GET /v1/oauth-token.
func (s *Sim) handleTokenInfo(w http.ResponseWriter, r *http.Request) {
	g := grantFrom(r)
	s.mu.RLock()
	u, t, o := s.w.Users[g.UserID], s.w.Teams[g.TeamID], s.w.Orgs[g.OrgID]
	s.mu.RUnlock()
	if u == nil || t == nil || o == nil {
		writeError(w, errBadRequest("Token is invalid or revoked"))
		return
	}
	user := map[string]any{"type": "user", "name": u.Name(), "id": u.ID}
	writeJSON(w, http.StatusOK, map[string]any{
		"type":         "token",
		"organization": map[string]any{"type": "organization", "name": o.Name, "id": o.ID},
		"team":         map[string]any{"type": "team", "name": t.Name, "id": t.ID},
		"createdBy":    user,
		"user":         user,
		"scopes":       g.Scopes,
	})
}
