package mirosim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Info is everything a script or test needs to talk to a running simulator:
// its URLs, the OAuth app, the Enterprise org and a ready token per kind of
// install. GET /_sim/info serves it as JSON.
type Info struct {
	APIBaseURL   string `json:"apiBaseURL"`
	AuthorizeURL string `json:"authorizeURL"`
	TokenURL     string `json:"tokenURL"`
	SCIMBaseURL  string `json:"scimBaseURL"`
	AdminURL     string `json:"adminURL"`

	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`

	OrgID   string   `json:"orgId"`
	OrgName string   `json:"orgName"`
	TeamIDs []string `json:"teamIds"`

	// Installs holds one ready install per kind: "org-admin",
	// "org-non-admin", "team" and "non-enterprise-team".
	Installs  map[string]Install `json:"installs"`
	SCIMToken string             `json:"scimToken"`

	RateWindowSeconds int `json:"rateWindowSeconds"`
	RateBudget        int `json:"rateBudget"`
}

// Install is an installed app's tokens and what they are bound to.
type Install struct {
	Kind         string   `json:"kind,omitempty"`
	AccessToken  string   `json:"accessToken"`
	RefreshToken string   `json:"refreshToken"`
	ExpiresIn    int      `json:"expiresIn"` // seconds
	UserID       string   `json:"userId"`
	TeamID       string   `json:"teamId"`
	OrgID        string   `json:"orgId"`
	Scopes       []string `json:"scopes"`
}

// The install kinds of Info.Installs.
const (
	InstallOrgAdmin          = "org-admin"
	InstallOrgNonAdmin       = "org-non-admin"
	InstallTeam              = "team"
	InstallNonEnterpriseTeam = "non-enterprise-team"
)

// withDefaults fills the zero fields of c. The generator's own knobs
// (LicenseMix, activity shares, FullLicensesPurchased) are defaulted by
// generate, which knows their meaning.
func (c Config) withDefaults() Config {
	if c.Members == 0 {
		c.Members = 200
	}
	if c.Teams == 0 {
		c.Teams = 10
	}
	if c.TeamsPerMember == 0 {
		c.TeamsPerMember = 3
	}
	if c.NonEnterpriseTeams == 0 {
		c.NonEnterpriseTeams = 1
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.RateWindow == 0 {
		c.RateWindow = time.Minute
	}
	if c.RateBudget == 0 {
		c.RateBudget = 100000
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = time.Hour
	}
	if c.ClientID == "" {
		c.ClientID = "roster-sim-client"
	}
	if c.ClientSecret == "" {
		c.ClientSecret = "roster-sim-secret"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// validate reports the first unusable setting, naming it.
func (c Config) validate() error {
	switch {
	case c.Members < 2:
		return fmt.Errorf("members must be at least 2 (the ready installs need a Company Admin and a non-admin), got %d", c.Members)
	case c.Teams < 1:
		return fmt.Errorf("teams must be at least 1, got %d", c.Teams)
	case c.TeamsPerMember < 1:
		return fmt.Errorf("teams per member must be at least 1, got %g", c.TeamsPerMember)
	case c.NonEnterpriseTeams < 1:
		return fmt.Errorf("non-enterprise teams must be at least 1 (the non-enterprise-team install needs one), got %d", c.NonEnterpriseTeams)
	case c.RateWindow < time.Second || c.RateWindow%time.Second != 0:
		return fmt.Errorf("rate window must be a whole number of seconds, at least 1s, got %s", c.RateWindow)
	case c.RateBudget < L1.Credits():
		return fmt.Errorf("rate budget must be at least %d credits (one Level 1 call), got %d", L1.Credits(), c.RateBudget)
	case c.AccessTokenTTL < time.Second:
		return fmt.Errorf("access token TTL must be at least 1s, got %s", c.AccessTokenTTL)
	}
	return nil
}

// New builds a simulator: it checks cfg, generates the world and mints the
// ready installs and the SCIM token.
func New(cfg Config) (*Sim, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("mirosim config: %w", err)
	}
	s := &Sim{cfg: cfg}
	s.w = generate(cfg)
	s.auth = newAuthState()
	s.limits = newRateLimiter(cfg.RateWindow, cfg.RateBudget)
	s.faults = newFaultSet(cfg.Seed)
	s.stats = newAccounting()
	if err := s.mintDefaultInstalls(); err != nil {
		return nil, fmt.Errorf("mirosim ready installs: %w", err)
	}
	s.handler = s.buildHandler()
	return s, nil
}

// Handler serves the simulated Miro API, the OAuth pages and /_sim.
func (s *Sim) Handler() http.Handler { return s.handler }

// Info describes the simulator as served at baseURL (no trailing slash),
// e.g. an httptest.Server's URL.
func (s *Sim) Info(baseURL string) Info {
	s.mu.RLock()
	org := s.w.Orgs[s.w.EnterpriseOrgID]
	info := Info{
		APIBaseURL:        baseURL,
		AuthorizeURL:      baseURL + "/oauth/authorize",
		TokenURL:          baseURL + "/v1/oauth/token",
		SCIMBaseURL:       baseURL + "/api/v1/scim",
		AdminURL:          baseURL + "/_sim",
		ClientID:          s.cfg.ClientID,
		ClientSecret:      s.cfg.ClientSecret,
		RateWindowSeconds: int(s.cfg.RateWindow / time.Second),
		RateBudget:        s.cfg.RateBudget,
	}
	if org != nil {
		info.OrgID = org.ID
		info.OrgName = org.Name
		info.TeamIDs = slices.Clone(org.teamIDs)
	}
	s.mu.RUnlock()
	info.Installs = s.auth.installs(s.now())
	info.SCIMToken = s.auth.scimToken
	return info
}

// ctxKey is the type of this package's context keys.
type ctxKey int

const (
	grantKey ctxKey = iota
	callKey
)

// grantFrom returns the access token's grant that the auth middleware
// checked, or nil on routes without an OAuth token.
func grantFrom(r *http.Request) *grant {
	g, _ := r.Context().Value(grantKey).(*grant)
	return g
}

func withGrant(r *http.Request, g *grant) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), grantKey, g))
}

// buildHandler wires every route of routes.go through the middleware
// chain, outermost first: accounting, fault injection, auth, rate limit.
// Faults come before auth so that a faulted call never reaches state, and
// accounting comes first so that it sees faults and 429s too.
func (s *Sim) buildHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		var h http.Handler = rt.Handle
		h = s.rateLimit(rt, h)
		h = s.authenticate(rt, h)
		h = s.injectFaults(rt, h)
		h = s.account(rt, h)
		mux.Handle(rt.Pattern, h)
	}
	s.adminRoutes(mux)
	unknown := route{OperationID: "unknown"}
	mux.Handle("/", s.account(unknown, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFound(fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path)))
	})))
	return mux
}

// MintToken installs the app as userID on teamID with scopes (nil means
// every scope the team's plan allows), as if the OAuth flow had run.
func (s *Sim) MintToken(userID, teamID string, scopes []string) (Install, error) {
	g, err := s.newInstall(userID, teamID, scopes)
	if err != nil {
		return Install{}, err
	}
	return installOf("", g, s.now()), nil
}

// The scope sets of the ready installs.
var (
	fullScopes = []string{"boards:read", "boards:write", "team:read", "team:write",
		"organizations:read", "organizations:teams:read", "organizations:teams:write",
		"auditlogs:read", "sessions:delete"}
	teamScopes = []string{"boards:read", "boards:write", "team:read", "team:write"}
)

// enterpriseOnlyScopes are never granted on a non-Enterprise team.
var enterpriseOnlyScopes = []string{"organizations:read", "organizations:teams:read",
	"organizations:teams:write", "auditlogs:read", "sessions:delete"}

func (s *Sim) mintDefaultInstalls() error {
	k := s.w.Known
	ready := []struct {
		kind, user, team string
		scopes           []string
	}{
		{InstallOrgAdmin, k.CompanyAdminID, k.EnterpriseTeamID, fullScopes},
		{InstallOrgNonAdmin, k.NonAdminID, k.NonAdminTeamID, fullScopes},
		{InstallTeam, k.NonAdminID, k.NonAdminTeamID, teamScopes},
		{InstallNonEnterpriseTeam, k.NonEnterpriseAdminID, k.NonEnterpriseTeamID, teamScopes},
	}
	for _, r := range ready {
		g, err := s.newInstall(r.user, r.team, r.scopes)
		if err != nil {
			return fmt.Errorf("%s install: %w", r.kind, err)
		}
		s.auth.setInstall(r.kind, g)
	}
	s.auth.scimToken = s.auth.randomToken("scim")
	s.auth.scimOrgID = s.w.EnterpriseOrgID
	return nil
}

// newInstall checks that userID belongs to teamID, narrows scopes to what
// the team's plan allows and issues a token pair.
func (s *Sim) newInstall(userID, teamID string, scopes []string) (*grant, error) {
	s.mu.RLock()
	u := s.w.Users[userID]
	t := s.w.Teams[teamID]
	var org *Org
	if t != nil {
		org = s.w.Orgs[t.OrgID]
	}
	isMember := false
	if t != nil {
		_, isMember = t.members[userID]
	}
	s.mu.RUnlock()
	switch {
	case u == nil:
		return nil, fmt.Errorf("user %q: %w", userID, errUnknownUser)
	case t == nil || org == nil:
		return nil, fmt.Errorf("team %q: %w", teamID, errUnknownTeam)
	case !isMember:
		return nil, fmt.Errorf("user %q is not a member of team %q: %w", userID, teamID, errNotTeamMember)
	}
	granted, err := grantableScopes(scopes, org.Enterprise)
	if err != nil {
		return nil, err
	}
	return s.auth.issue(s.cfg.ClientID, userID, teamID, org.ID, granted, s.now(), s.cfg.AccessTokenTTL), nil
}

var (
	errUnknownUser   = errors.New("no such user")
	errUnknownTeam   = errors.New("no such team")
	errNotTeamMember = errors.New("not a team member")
)

// grantableScopes validates requested scopes and drops those a
// non-Enterprise team can never get. nil or empty means all allowed.
func grantableScopes(requested []string, enterprise bool) ([]string, error) {
	if len(requested) == 0 {
		requested = fullScopes
	}
	var out []string
	for _, sc := range requested {
		if !slices.Contains(fullScopes, sc) {
			return nil, fmt.Errorf("unknown scope %q (known: %v)", sc, fullScopes)
		}
		if !enterprise && slices.Contains(enterpriseOnlyScopes, sc) {
			continue
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// AddMember adds a user to the Enterprise org and returns a copy of it.
func (s *Sim) AddMember(u NewUser) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nu, err := s.w.addUser(s.w.EnterpriseOrgID, u, s.now())
	if err != nil {
		return nil, err
	}
	return userCopy(nu), nil
}

// RemoveMember removes a user from the organization and revokes the
// user's tokens, as Miro does for a deleted user.
func (s *Sim) RemoveMember(userID string) error {
	s.mu.Lock()
	err := s.w.removeUser(userID, s.now())
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.auth.revokeUser(userID)
	return nil
}

// UpdateMember changes a user and returns a copy of the result.
func (s *Sim) UpdateMember(userID string, p UserPatch) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.w.updateUser(userID, p, s.now())
	if err != nil {
		return nil, err
	}
	return userCopy(u), nil
}

// Trash lists copies of the boards and projects in a team's trash.
func (s *Sim) Trash(teamID string) (boards []Board, projects []Project) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	bs, ps := s.w.trash(teamID)
	for _, b := range bs {
		boards = append(boards, *b)
	}
	for _, p := range ps {
		projects = append(projects, *p)
	}
	return boards, projects
}

// RestoreFromTrash restores a trashed board or project of a team.
func (s *Sim) RestoreFromTrash(teamID, itemID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.restoreFromTrash(teamID, itemID)
}

func userCopy(u *User) *User {
	c := *u
	c.AdminRoles = slices.Clone(u.AdminRoles)
	return &c
}
