package action

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"roster"
	"roster/internal/miro"
	"roster/internal/store"
)

// Deactivate deactivates the person (Request.Email or MiroUserID) in the
// organization through SCIM with the connection's SCIM token: the only way
// to free a paid license. Guests, external users, connections without a
// SCIM token and team-level connections are refused.
func (r *Runner) Deactivate(ctx context.Context, req Request) (roster.Action, error) {
	return r.observe(roster.ActionDeactivate)(r.orgAction(ctx, roster.ActionDeactivate, req))
}

// Reactivate reactivates a deactivated person through SCIM, as Deactivate.
func (r *Runner) Reactivate(ctx context.Context, req Request) (roster.Action, error) {
	return r.observe(roster.ActionReactivate)(r.orgAction(ctx, roster.ActionReactivate, req))
}

// SignOut signs the person out of every session (POST
// /v2/sessions/reset_all, scope sessions:delete). A retry of a key whose
// outcome is unknown resets again, which is harmless.
func (r *Runner) SignOut(ctx context.Context, req Request) (roster.Action, error) {
	return r.observe(roster.ActionSignOut)(r.orgAction(ctx, roster.ActionSignOut, req))
}

// orgTarget is a validated organization-wide request.
type orgTarget struct {
	kind       roster.ActionKind
	key, actor string
	conn       roster.Connection
	acc        roster.Account
}

func (r *Runner) orgAction(ctx context.Context, kind roster.ActionKind, req Request) (roster.Action, error) {
	if r.Store == nil {
		return roster.Action{}, errors.New("action: no store configured")
	}
	t, err := r.validateOrg(ctx, kind, req)
	if errors.Is(err, ErrInvalid) {
		return roster.Action{}, err
	}
	if err != nil {
		return roster.Action{}, fmt.Errorf("%s: %w", kind, err)
	}
	j := r.orgJob(t)
	j.grace = req.PendingGrace
	return r.execute(ctx, j)
}

// validateOrg checks an organization-wide request, reading only. The
// person must be known to the store (a sync saw them).
func (r *Runner) validateOrg(ctx context.Context, kind roster.ActionKind, req Request) (orgTarget, error) {
	t := orgTarget{kind: kind, key: strings.TrimSpace(req.Key), actor: strings.TrimSpace(req.Actor)}
	if err := roster.CheckActionKey(t.key); err != nil {
		return t, invalid("key", "%v", err)
	}
	switch {
	case t.actor == "":
		return t, invalid("actor", "is required: every action records who asked for it")
	case req.ConnectionID <= 0:
		return t, invalid("connection", "is required")
	case strings.TrimSpace(req.Role) != "":
		return t, invalid("role", "%s takes no role", kind)
	case strings.TrimSpace(req.MiroTeamID) != "":
		return t, invalid("team", "%s acts on the whole organization; leave the team empty", kind)
	}
	email, userID := strings.TrimSpace(req.Email), strings.TrimSpace(req.MiroUserID)
	if email == "" && userID == "" {
		return t, invalid("email", "give the person's email or Miro user id")
	}
	if email != "" {
		var err error
		if email, err = roster.ParseEmail(email); err != nil {
			return t, invalid("email", "%v", err)
		}
	}
	conn, err := r.Store.Connection(ctx, req.ConnectionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return t, invalid("connection", "no connection %d", req.ConnectionID)
	case err != nil:
		return t, fmt.Errorf("read connection %d: %w", req.ConnectionID, err)
	case conn.Status == roster.StatusDisconnected:
		return t, invalid("connection", "connection %d is disconnected; connect it again to act through it", conn.ID)
	}
	t.conn = conn
	var ok bool
	if userID != "" {
		accs, err := r.Store.AccountsByMiroIDs(ctx, []string{userID})
		if err != nil {
			return t, fmt.Errorf("look up Miro user %s: %w", userID, err)
		}
		if t.acc, ok = accs[userID]; !ok {
			return t, invalid("user", "roster knows no Miro user %s; sync first", userID)
		}
	} else {
		accs, err := r.Store.AccountsByEmails(ctx, []string{email})
		if err != nil {
			return t, fmt.Errorf("look up %s: %w", email, err)
		}
		if t.acc, ok = accs[email]; !ok {
			return t, invalid("email", "roster knows no one with email %s; sync first", email)
		}
	}
	if t.acc.Email == "" {
		return t, invalid("email", "roster knows no email for Miro user %s; SCIM and sign-out go by email", t.acc.MiroUserID)
	}
	return t, nil
}

func (r *Runner) orgJob(t orgTarget) job {
	a := roster.Action{Key: t.key, Kind: t.kind, ConnectionID: t.conn.ID,
		MiroUserID: t.acc.MiroUserID, Email: t.acc.Email, Actor: t.actor}
	j := job{action: a, conn: t.conn, target: t.acc.Email}
	switch t.kind {
	case roster.ActionDeactivate, roster.ActionReactivate:
		s := scimSteps{r: r, t: t, active: t.kind == roster.ActionReactivate}
		j.capability, j.act = roster.CapDeactivate, s.act
		j.check = func(ctx context.Context, _ roster.Action) (outcome, bool) { return s.check(ctx) }
	case roster.ActionSignOut:
		j.capability = roster.CapSignOut
		j.check = func(ctx context.Context, prev roster.Action) (outcome, bool) { return r.checkSignOut(ctx, t, prev) }
		j.act = func(ctx context.Context, _ bool) outcome { return r.signOut(ctx, t) }
	}
	return j
}

// checkSignOut looks in the organization's audit log for the reset an
// earlier run of the action may have made (it crashed, or the answer was
// lost). Sessions hold no state to read back, so without the audit
// scope, or when the log does not show it yet, the reset is sent again:
// a second reset is harmless.
func (r *Runner) checkSignOut(ctx context.Context, t orgTarget, prev roster.Action) (outcome, bool) {
	if !t.conn.HasScope(roster.ScopeAuditLogsRead) || prev.CreatedAt.IsZero() {
		return outcome{}, false
	}
	c, err := r.client(t.conn)
	if err != nil {
		return outcome{}, false
	}
	// A minute's margin either side covers clocks that disagree.
	q := miro.AuditQuery{CreatedAfter: prev.CreatedAt.Add(-time.Minute), CreatedBefore: r.now().Add(time.Minute)}
	for ev, err := range c.AuditLogs(ctx, q) {
		if err != nil {
			return outcome{}, false
		}
		if ev.Event == "user_sessions_reset" && ev.Object != nil &&
			(ev.Object.ID == t.acc.MiroUserID || strings.EqualFold(ev.Object.Name, t.acc.Email)) {
			return outcome{status: roster.ActionSucceeded,
				result: "signed " + t.acc.Email + " out of all sessions (found in the audit log before retrying)",
				answer: "audit event user_sessions_reset at " + ev.CreatedAt.Time.UTC().Format(time.RFC3339)}, true
		}
	}
	return outcome{}, false
}

func (r *Runner) signOut(ctx context.Context, t orgTarget) outcome {
	doing := "sign " + t.acc.Email + " out of all sessions"
	c, err := r.client(t.conn)
	if err != nil {
		return failure(err, doing)
	}
	if err := c.ResetAllSessions(ctx, t.acc.Email); err != nil {
		return failure(err, doing)
	}
	return outcome{status: roster.ActionSucceeded, result: "signed " + t.acc.Email + " out of all sessions",
		answer: "204 sessions reset"}
}

// scimSteps deactivate or reactivate through SCIM.
type scimSteps struct {
	r      *Runner
	t      orgTarget
	active bool // the state asked for
}

func (s scimSteps) verb() string {
	if s.active {
		return "reactivate"
	}
	return "deactivate"
}

// refuseRole refuses guests and external users before any SCIM call.
func (s scimSteps) refuseRole() (outcome, bool) {
	switch s.t.acc.OrgRole {
	case roster.OrgRoleTeamGuest:
		return outcome{status: roster.ActionRefused,
			result: fmt.Sprintf("%s is a guest; Miro deactivates only internal users of the organization", s.t.acc.Email)}, true
	case roster.OrgRoleExternalUser:
		return outcome{status: roster.ActionRefused,
			result: fmt.Sprintf("%s is an external user; Miro deactivates only internal users of the organization", s.t.acc.Email)}, true
	}
	return outcome{}, false
}

// scim builds the SCIM client; retries > 0 lets it resend lookups, a
// PATCH is sent once (a lost answer is settled by the next run's check).
func (s scimSteps) scim(retries int) (*miro.SCIMClient, error) {
	return s.r.scimClient(s.t.conn, retries)
}

func (s scimSteps) find(ctx context.Context, c *miro.SCIMClient) (miro.SCIMUser, *outcome) {
	u, err := c.FindUserByEmail(ctx, s.t.acc.Email)
	if err != nil {
		var se *miro.SCIMError
		if errors.As(err, &se) && se.NotFound() {
			out := outcome{status: roster.ActionRefused,
				result: fmt.Sprintf("SCIM has no user %s (guests are not SCIM users)", s.t.acc.Email), answer: scimAnswer(err)}
			return u, &out
		}
		out := scimFailure(err, "find "+s.t.acc.Email+" in SCIM")
		return u, &out
	}
	return u, nil
}

func (s scimSteps) check(ctx context.Context) (outcome, bool) {
	if out, refused := s.refuseRole(); refused {
		return out, true
	}
	c, err := s.scim(s.r.Clients.MaxRetries)
	if err != nil {
		return scimFailure(err, s.verb()+" "+s.t.acc.Email), true
	}
	u, fail := s.find(ctx, c)
	if fail != nil {
		return *fail, true
	}
	if u.Active != s.active {
		return outcome{}, false
	}
	return outcome{status: roster.ActionSucceeded,
		result: fmt.Sprintf("%s is %s, license %s (found in SCIM before retrying)", s.t.acc.Email, activeWord(u.Active), licenseOf(u.UserType)),
		answer: scimUserAnswer(u), effect: s.effect(u)}, true
}

func (s scimSteps) act(ctx context.Context, _ bool) outcome {
	if out, refused := s.refuseRole(); refused {
		return out
	}
	doing := s.verb() + " " + s.t.acc.Email
	c, err := s.scim(s.r.Clients.MaxRetries)
	if err != nil {
		return scimFailure(err, doing)
	}
	u, fail := s.find(ctx, c)
	if fail != nil {
		return *fail
	}
	once, err := s.scim(-1)
	if err != nil {
		return scimFailure(err, doing)
	}
	u, err = once.SetActive(ctx, u.ID, s.active)
	if err != nil {
		return scimFailure(err, doing)
	}
	return outcome{status: roster.ActionSucceeded,
		result: fmt.Sprintf("%sd %s; license now %s", s.verb(), s.t.acc.Email, licenseOf(u.UserType)),
		answer: scimUserAnswer(u), effect: s.effect(u)}
}

func (s scimSteps) effect(u miro.SCIMUser) store.ActionEffect {
	return store.ActionEffect{AccountUpdate: &roster.Account{MiroUserID: s.t.acc.MiroUserID, Active: u.Active, License: licenseOf(u.UserType)}}
}

func activeWord(active bool) string {
	if active {
		return "active"
	}
	return "deactivated"
}

// licenseOf is roster's license value for a SCIM userType: "Free
// Restricted" → "free_restricted", "Full (Trial)" → "full_trial".
func licenseOf(userType string) string {
	l := strings.ToLower(strings.TrimSpace(userType))
	l = strings.NewReplacer("(", "", ")", "").Replace(l)
	return strings.Join(strings.Fields(l), "_")
}

func scimUserAnswer(u miro.SCIMUser) string {
	return fmt.Sprintf("200 SCIM user %s active=%t userType=%q", u.ID, u.Active, u.UserType)
}

func scimAnswer(err error) string {
	var se *miro.SCIMError
	if errors.As(err, &se) {
		s := fmt.Sprintf("%d", se.Status)
		if se.SCIMType != "" {
			s += " " + se.SCIMType
		}
		if se.Detail != "" {
			s += ": " + se.Detail
		}
		return s
	}
	return answerOf(err)
}

// scimFailure is failure for SCIM's errors: a 4xx other than 401 and
// 429 is SCIM saying no (a guest, an external user), final for the key.
func scimFailure(err error, doing string) outcome {
	var se *miro.SCIMError
	if errors.As(err, &se) && se.Refusal() {
		return outcome{status: roster.ActionRefused, result: "SCIM refused to " + doing + ": " + se.Reason(), answer: scimAnswer(err)}
	}
	if errors.As(err, &se) {
		return outcome{status: roster.ActionFailed, result: "could not " + doing + ": " + err.Error(),
			answer: scimAnswer(err), err: fmt.Errorf("%s: %w", doing, err)}
	}
	return failure(err, doing)
}
