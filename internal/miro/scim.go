package miro

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// SCIMConfig configures a SCIMClient. SCIM has its own base URL
// (https://miro.com/api/v1/scim for Miro) and its own static token from
// Company settings, not the OAuth token.
type SCIMConfig struct {
	BaseURL    string // required, e.g. https://miro.com/api/v1/scim
	Token      string // required: the SCIM token
	HTTPClient *http.Client
	Logger     *slog.Logger
	// MaxRetries bounds transient retries of idempotent calls; 0 means 5,
	// negative means none.
	MaxRetries int
	// RetryBackoff is the first transient backoff; 0 means 250ms.
	RetryBackoff time.Duration
	// Limits overrides Miro's per-30-second SCIM limits (for tests).
	Limits *SCIMLimits
	Now    func() time.Time
}

// SCIMLimits are calls allowed per Window (Miro: 30 seconds, the
// default when Window is zero) per method class.
type SCIMLimits struct {
	Get, Post, PutPatch, Delete int
	Window                      time.Duration
}

// DefaultSCIMLimits are Miro's documented SCIM User limits per 30 s.
var defaultSCIMLimits = SCIMLimits{Get: 200, Post: 200, PutPatch: 100, Delete: 20}

// SCIMClient calls Miro's SCIM 2.0 API: the only API that deactivates a
// user, which is what frees a paid license. Safe for concurrent use.
type SCIMClient struct {
	eng *engine
}

// NewSCIM builds a SCIMClient.
func NewSCIM(cfg SCIMConfig) (*SCIMClient, error) {
	if cfg.Token == "" {
		return nil, errors.New("miro scim: config: Token is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("miro scim: config: BaseURL %q is not an absolute URL", cfg.BaseURL)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	limits := defaultSCIMLimits
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	eng := newEngine(engineConfig{base: u, hc: cfg.HTTPClient, log: cfg.Logger, now: now,
		maxRetries: cfg.MaxRetries, backoff: cfg.RetryBackoff})
	eng.errPrefix = "miro scim"
	tok := cfg.Token
	eng.token = func(context.Context) (string, error) { return tok, nil }
	eng.pace = newSCIMPacing(limits)
	eng.parseError = parseSCIMError
	return &SCIMClient{eng: eng}, nil
}

// Stats reports what the SCIM client has spent.
func (s *SCIMClient) Stats() Stats { return s.eng.stats() }

// scimPacing is a token bucket per method class. Each bucket's burst plus
// 30 s of refill never exceeds the documented limit, so no 30-second window
// can be overrun.
type scimPacing struct {
	get, post, putPatch, del *rate.Limiter
}

func newSCIMPacing(l SCIMLimits) scimPacing {
	window := l.Window
	if window <= 0 {
		window = 30 * time.Second
	}
	mk := func(n int) *rate.Limiter {
		if n <= 0 {
			return rate.NewLimiter(rate.Inf, 1)
		}
		burst := max(n/4, 1)
		return rate.NewLimiter(rate.Limit(float64(n-burst)/window.Seconds()), burst)
	}
	return scimPacing{get: mk(l.Get), post: mk(l.Post), putPatch: mk(l.PutPatch), del: mk(l.Delete)}
}

func (p scimPacing) wait(ctx context.Context, r *request) error {
	switch r.method {
	case http.MethodGet:
		return p.get.Wait(ctx)
	case http.MethodPost:
		return p.post.Wait(ctx)
	case http.MethodDelete:
		return p.del.Wait(ctx)
	default:
		return p.putPatch.Wait(ctx)
	}
}

func (scimPacing) done(*request, http.Header, int) {}

// rateLimitedWait honours Retry-After, else X-RateLimit-Reset when the
// answer has it, else backs off a second per consecutive 429.
func (scimPacing) rateLimitedWait(h http.Header, n int, now time.Time) time.Duration {
	if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		return d
	}
	if sec, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		if d := time.Unix(sec, 0).Sub(now); d > 0 && d <= time.Minute {
			return d + jitter()
		}
	}
	return time.Duration(n) * time.Second
}

const scimMedia = "application/scim+json"

// parseSCIMError reads SCIM's {"schemas","status":"404","scimType","detail"}.
func parseSCIMError(r *request, status int, body []byte) error {
	e := &SCIMError{Status: status, Method: r.method, Path: r.displayPath()}
	var w struct {
		Status   FlexString `json:"status"`
		SCIMType string     `json:"scimType"`
		Detail   string     `json:"detail"`
		// Some gateways answer in Miro's REST shape instead.
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &w) == nil {
		e.SCIMType, e.Detail = w.SCIMType, w.Detail
		if e.SCIMType == "" {
			e.SCIMType = w.Code
		}
		if e.Detail == "" {
			e.Detail = w.Message
		}
	}
	return e
}

// SCIMUser is a SCIM User. UserType is the license as SCIM names it
// ("Full", "Free", "Free Restricted", "Full (Trial)", ...).
type SCIMUser struct {
	Schemas     []string        `json:"schemas,omitempty"`
	ID          string          `json:"id"`
	UserName    string          `json:"userName"`
	Name        *SCIMName       `json:"name,omitempty"`
	DisplayName string          `json:"displayName,omitempty"`
	UserType    string          `json:"userType,omitempty"`
	Active      bool            `json:"active"`
	Emails      []SCIMEmail     `json:"emails,omitempty"`
	Groups      []SCIMGroupRef  `json:"groups,omitempty"`
	Roles       []SCIMRole      `json:"roles,omitempty"`
	Enterprise  *SCIMEnterprise `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	Meta        *SCIMMeta       `json:"meta,omitempty"`
}

// SCIMName is a SCIM user's name.
type SCIMName struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
}

// SCIMEmail is one of a SCIM user's emails.
type SCIMEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// SCIMGroupRef is a group (team) the user is in.
type SCIMGroupRef struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
}

// SCIMRole is an organization role or admin role.
type SCIMRole struct {
	Type    string `json:"type,omitempty"`
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// SCIMEnterprise is the enterprise extension.
type SCIMEnterprise struct {
	EmployeeNumber string `json:"employeeNumber,omitempty"`
	CostCenter     string `json:"costCenter,omitempty"`
	Organization   string `json:"organization,omitempty"`
	Division       string `json:"division,omitempty"`
	Department     string `json:"department,omitempty"`
	Manager        *struct {
		DisplayName string `json:"displayName,omitempty"`
		Value       string `json:"value,omitempty"`
	} `json:"manager,omitempty"`
}

// SCIMMeta is a resource's metadata.
type SCIMMeta struct {
	ResourceType string `json:"resourceType,omitempty"`
	Location     string `json:"location,omitempty"`
}

// PrimaryEmail is the primary email, else the first, else the userName.
func (u SCIMUser) PrimaryEmail() string {
	for _, e := range u.Emails {
		if e.Primary {
			return e.Value
		}
	}
	if len(u.Emails) > 0 {
		return u.Emails[0].Value
	}
	return u.UserName
}

// scimList is a SCIM ListResponse. The numbers are "number" in the spec.
type scimList struct {
	TotalResults json.Number `json:"totalResults"`
	StartIndex   json.Number `json:"startIndex"`
	ItemsPerPage json.Number `json:"itemsPerPage"`
	Resources    []SCIMUser  `json:"Resources"`
}

const scimPageCount = 100

func (s *SCIMClient) get(ctx context.Context, op, path string, q url.Values, out any) error {
	return s.eng.do(ctx, &request{op: op, method: http.MethodGet, path: path, query: q, idempotent: true, accept: scimMedia}, out)
}

// User returns one SCIM user by id.
func (s *SCIMClient) User(ctx context.Context, id string) (SCIMUser, error) {
	var u SCIMUser
	err := s.get(ctx, "getUser", "/Users/"+seg(id), nil, &u)
	return u, err
}

// Users walks SCIM users matching filter (SCIM filter syntax, e.g.
// `userType ne "Full"`; empty for all), 100 per call. SCIM never lists
// guests.
func (s *SCIMClient) Users(ctx context.Context, filter string) iter.Seq2[SCIMUser, error] {
	return paginate(ctx, func(ctx context.Context, next string) (page[SCIMUser], error) {
		start := 1
		if next != "" {
			start, _ = strconv.Atoi(next)
		}
		q := url.Values{"startIndex": {strconv.Itoa(start)}, "count": {strconv.Itoa(scimPageCount)}}
		if filter != "" {
			q.Set("filter", filter)
		}
		var list scimList
		if err := s.get(ctx, "listUsers", "/Users", q, &list); err != nil {
			return page[SCIMUser]{}, err
		}
		p := page[SCIMUser]{items: list.Resources}
		end := start + len(list.Resources)
		if total, err := list.TotalResults.Int64(); err == nil {
			if len(list.Resources) > 0 && int64(end-1) < total {
				p.next = strconv.Itoa(end)
			}
		} else if len(list.Resources) >= scimPageCount {
			// No usable totalResults: keep going while pages are full.
			p.next = strconv.Itoa(end)
		}
		return p, nil
	})
}

// FindUserByEmail returns the SCIM user whose userName is email. No match
// is a 404 SCIMError (IsNotFound).
func (s *SCIMClient) FindUserByEmail(ctx context.Context, email string) (SCIMUser, error) {
	filter := `userName eq "` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(email) + `"`
	for u, err := range s.Users(ctx, filter) {
		if err != nil {
			return SCIMUser{}, err
		}
		if strings.EqualFold(u.UserName, email) || strings.EqualFold(u.PrimaryEmail(), email) {
			return u, nil
		}
	}
	return SCIMUser{}, &SCIMError{Status: http.StatusNotFound, SCIMType: "noTarget", Detail: "no SCIM user with userName " + email, Method: http.MethodGet, Path: "/Users"}
}

// SetActive deactivates (false) or reactivates (true) a user. Deactivating
// frees the user's paid license; guests and external users cannot be
// deactivated (Miro refuses). Setting an absolute value is safe to retry.
func (s *SCIMClient) SetActive(ctx context.Context, id string, active bool) (SCIMUser, error) {
	body := map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "path": "active", "value": active}},
	}
	var u SCIMUser
	err := s.eng.do(ctx, &request{op: "patchUser", method: http.MethodPatch, path: "/Users/" + seg(id),
		body: body, idempotent: true, accept: scimMedia}, &u)
	return u, err
}

// DeleteUser removes a user from the organization. Their boards pass to
// the oldest admin of each team; the last admin and guests cannot be
// deleted.
func (s *SCIMClient) DeleteUser(ctx context.Context, id string) error {
	return s.eng.do(ctx, &request{op: "deleteUser", method: http.MethodDelete, path: "/Users/" + seg(id),
		idempotent: true, goneOK: true, accept: scimMedia}, nil)
}
