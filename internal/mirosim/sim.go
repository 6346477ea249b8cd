// Package mirosim is a Miro simulator: it serves the same HTTP API as Miro
// (OAuth, v2 organization/team/board/audit endpoints, the legacy v1 team
// API and SCIM) over a seeded, deterministic organization, with Miro's
// credit-based rate limits, scopes, Company Admin checks, fault injection
// and per-endpoint call accounting. Tests run it in-process behind an
// httptest.Server; users and benchmarks run it as `roster mirosim`.
package mirosim

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Level is Miro's rate-limit level of an endpoint.
type Level int

// Credits each level costs per call, per Miro's rate-limiting docs.
const (
	L1 Level = 1 // 50 credits
	L2 Level = 2 // 100 credits
	L3 Level = 3 // 500 credits
	L4 Level = 4 // 2000 credits
)

// Credits is what one call at this level costs.
func (l Level) Credits() int {
	switch l {
	case L1:
		return 50
	case L2:
		return 100
	case L3:
		return 500
	case L4:
		return 2000
	}
	return 0
}

// Config shapes a simulator. The zero value is usable; see withDefaults.
type Config struct {
	// Seed makes generation deterministic: the same Config gives the same org.
	Seed int64
	// Members and Teams size the Enterprise organization.
	Members int
	Teams   int
	// TeamsPerMember is the mean number of teams a member belongs to (the
	// membership spread). 3 gives ~300,000 memberships for 100,000 members.
	TeamsPerMember float64
	// LicenseMix weights each license enum value, e.g. {"full": 0.6, "free": 0.3}.
	LicenseMix map[string]float64
	// ActiveShare, StaleShare and NeverShare split members into active in
	// the last 30 days, inactive for 30 to 365 days, and never logged in.
	ActiveShare, StaleShare, NeverShare float64
	// FullLicensesPurchased defaults to the number of full licenses assigned
	// plus 10% headroom.
	FullLicensesPurchased int
	// NonEnterpriseTeams adds that many teams in separate non-Enterprise
	// (Business plan) orgs, reachable only through the legacy v1 team API.
	NonEnterpriseTeams int

	// RateWindow is the length of a credit window (Miro: one minute). Tests
	// compress it; it must be a whole number of seconds so that the
	// X-RateLimit-Reset epoch second is exact.
	RateWindow time.Duration
	// RateBudget is the credits per window per token (Miro: read it from
	// X-RateLimit-Limit; we default to 100,000).
	RateBudget int

	// AccessTokenTTL is the lifetime of issued access tokens (expires_in).
	AccessTokenTTL time.Duration
	// ClientID and ClientSecret identify the one registered OAuth app.
	ClientID     string
	ClientSecret string
	// AutoApprove makes GET /oauth/authorize approve at once as the
	// Company Admin (or the user named by the sim_user query parameter)
	// instead of showing the consent page.
	AutoApprove bool
	// TeamIDAsNumber makes the token endpoint return team_id as a JSON
	// number, as one of Miro's older examples does.
	TeamIDAsNumber bool

	// Now is the simulator's clock. Defaults to time.Now.
	Now func() time.Time
}

// Sim is a running simulator. Create it with New and serve Handler().
type Sim struct {
	cfg Config
	mu  sync.RWMutex // guards world and everything reachable from it
	w   *World

	// Fields below are owned by the OAuth, rate-limit, fault and accounting
	// layer (auth.go, ratelimit.go, faults.go, accounting.go).
	auth   *authState
	limits *rateLimiter
	faults *faultSet
	stats  *accounting

	handler http.Handler
}

// route is one endpoint of the simulated API. The table in routes.go is the
// single list of what the simulator serves; the middleware reads the
// level, scope and access rules from it.
type route struct {
	Pattern     string // ServeMux pattern, e.g. "GET /v2/orgs/{org_id}/members"
	OperationID string // the spec's operationId, or a stable name for non-spec endpoints
	Level       Level  // 0 for endpoints not charged credits (OAuth pages, SCIM, admin)
	Scope       string // required OAuth scope, empty for none
	Access      access
	Handle      http.HandlerFunc
}

// access says which credential and which org rules an endpoint needs.
type access int

const (
	accessPublic     access = iota // no credential (OAuth pages, token endpoint)
	accessToken                    // any valid OAuth access token
	accessEnterprise               // token + Enterprise org + Company Admin + {org_id} must be the token's org
	accessSCIM                     // the SCIM token
	accessAdmin                    // the simulator's own admin endpoints (/_sim/...)
)

// grant is what an access token stands for. The auth middleware puts it in
// the request context; handlers read it with grantFrom.
type grant struct {
	AccessToken  string
	RefreshToken string
	ClientID     string
	UserID       string // installing user, the user the token acts as
	TeamID       string // team the app is installed on
	OrgID        string // org of that team
	Scopes       []string
	Expiry       time.Time
	IssuedAt     time.Time
}

func (g *grant) hasScope(scope string) bool {
	for _, s := range g.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// apiError is a Miro error answer: {"status","code","message","type":"error"}.
// World methods return it for semantic refusals (409 last admin, 404 not
// in org, ...) so that handlers can write it unchanged.
type apiError struct {
	Status  int
	Code    string // e.g. invalidParameters, tokenNotProvided, forbiddenAccess, notFound, conflict, tooManyRequests
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errBadRequest(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalidParameters", Message: msg}
}
func errNotFound(msg string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "notFound", Message: msg}
}
func errConflict(msg string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: "conflict", Message: msg}
}
func errForbidden(msg string) *apiError {
	return &apiError{Status: http.StatusForbidden, Code: "forbiddenAccess", Message: msg}
}

// writeJSON writes v as the JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes err in Miro's error shape. Errors that are not
// *apiError become 500 internalError.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{Status: http.StatusInternalServerError, Code: "internalError", Message: err.Error()}
	}
	writeJSON(w, ae.Status, map[string]any{
		"status":  ae.Status,
		"code":    ae.Code,
		"message": ae.Message,
		"context": nil,
		"type":    "error",
	})
}

// now is the simulator's clock.
func (s *Sim) now() time.Time { return s.cfg.Now() }
