// Package action runs roster's actions on Miro: invite to a team, change a
// team role, remove from a team (and, later, the organization-wide actions
// that workflows need). Every action
//   - is validated before anything is written: a bad request gets an error
//     naming the field, and nothing is recorded;
//   - carries an idempotency key: running a key again returns the first
//     outcome without calling Miro, and a key whose run failed or crashed
//     is retried only after asking Miro whether it already took effect;
//   - is refused, in plain words, when the connection cannot do it;
//   - is recorded with its outcome and Miro's answer, audited, and written
//     to the store at once (the next sync confirms it), in one transaction.
//
// The package calls Miro through internal/miro and serves no HTTP.
package action

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"roster"
	"roster/internal/connect"
	"roster/internal/miro"
	"roster/internal/store"
)

// Runner runs actions. Store and Clients are required; the other fields
// have defaults.
type Runner struct {
	Store store.Store
	// Clients owns the connections' Miro and SCIM clients: actions through
	// one connection share its token's client, and so spend one credit
	// budget through one pacer, with the syncs of that connection.
	Clients *connect.Clients
	Logger  *slog.Logger
	// Now stamps actions and audit entries; time.Now when nil.
	Now func() time.Time
	// PendingGrace is how long a pending action is taken to be still
	// running somewhere (a double submit, another process) rather than
	// crashed; a retry inside it is turned away. 5 minutes when zero.
	PendingGrace time.Duration
	// Observe, when set, is told every action's outcome: the action as
	// recorded (zero when none was, for a bad request), and the error.
	// Metrics hang on it, so that actions from the dashboard, the API, the
	// CLI and workflows are counted in one place.
	Observe func(kind roster.ActionKind, a roster.Action, err error)

	mu   sync.Mutex
	keys map[string]*keyLock // serialises runs of one key in this process
}

// Request asks for one action.
type Request struct {
	// Key is the idempotency key (required): the same key never acts twice.
	Key          string
	ConnectionID int64
	// MiroTeamID is the team acted on. A team-level connection acts only
	// on its own team, which is also the default when this is empty.
	MiroTeamID string
	// Email is whom to invite. Remove and change role take MiroUserID, or
	// Email of a person roster already knows.
	Email      string
	MiroUserID string
	// Role is the team role: "member" or "admin". An invite without one
	// invites a member; change role needs one; remove takes none.
	Role string
	// Actor is who asked, as in roster.AuditEntry ("operator:<email>",
	// "apikey:<name>", "workflow:<name>", "cli:<user>").
	Actor string
	// ServiceAccountEmail is, for RemoveFromAllTeams, who is made admin of
	// a team before its last admin is removed; empty skips such teams.
	ServiceAccountEmail string
	// PendingGrace, when positive, replaces Runner.PendingGrace for this
	// request. A caller that holds the key alone (a workflow run's lease,
	// taken over only after its holder stopped renewing it) knows sooner
	// than the default that a pending run of the key died with its process.
	PendingGrace time.Duration
}

// Errors callers tell apart with errors.Is.
var (
	// ErrInvalid marks a bad request (a *FieldError); nothing was written.
	ErrInvalid = errors.New("invalid request")
	// ErrRefused marks an action roster or Miro refused (a *RefusedError):
	// it is recorded and final for its key.
	ErrRefused = errors.New("refused")
	// ErrFailed marks an action that could not be done (network, Miro
	// 5xx after the client's retries, an expired grant): it is recorded,
	// and running the same key again retries it, checking Miro first.
	ErrFailed = errors.New("failed")
	// ErrInProgress marks a key whose run started moments ago and has not
	// finished; nothing was done. Retry later with the same key.
	ErrInProgress = errors.New("in progress")
)

// FieldError is a bad request: which field, and why.
type FieldError struct {
	Field  string // "key", "connection", "team", "email", "user", "role", "actor"
	Reason string
}

func (e *FieldError) Error() string        { return e.Field + ": " + e.Reason }
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// RefusedError is a recorded refusal; Action.Result says why in plain
// words and Action.MiroAnswer holds Miro's answer when Miro refused.
type RefusedError struct{ Action roster.Action }

func (e *RefusedError) Error() string        { return "refused: " + e.Action.Result }
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// FailedError is a recorded failure; Err is the cause.
type FailedError struct {
	Action roster.Action
	Err    error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("failed: %v (retry with key %s; roster checks Miro before acting again)", e.Err, e.Action.Key)
}
func (e *FailedError) Unwrap() error        { return e.Err }
func (e *FailedError) Is(target error) bool { return target == ErrFailed }

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return store.Stamp(r.Now())
	}
	return store.Stamp(time.Now())
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// client is the Miro client of the connection's current token.
func (r *Runner) client(conn roster.Connection) (*miro.Client, error) { return r.Clients.REST(conn) }

// scimClient is the connection's SCIM client for a retry policy.
func (r *Runner) scimClient(conn roster.Connection, retries int) (*miro.SCIMClient, error) {
	return r.Clients.SCIM(conn, retries)
}

// observe returns a function that tells Observe about an action of kind
// and passes its outcome on, so that each public method observes its
// outcome on its way out.
func (r *Runner) observe(kind roster.ActionKind) func(roster.Action, error) (roster.Action, error) {
	return func(a roster.Action, err error) (roster.Action, error) {
		if r.Observe != nil {
			r.Observe(kind, a, err)
		}
		return a, err
	}
}

// job is one validated action, ready to run: the record it makes, the
// capability it needs, and how it checks Miro and acts. Every kind of
// action, team-level or organization-wide, runs through execute.
type job struct {
	action     roster.Action // Key, Kind, ConnectionID, target fields, Actor
	conn       roster.Connection
	capability string // a roster.Cap* name the connection must have
	target     string // the audit entry's Target
	// grace is Request.PendingGrace: 0 takes Runner.PendingGrace.
	grace time.Duration
	// check runs before a retry: it asks Miro whether the action already
	// took effect (a crash or a lost answer) since prev, the stored
	// action, started, and returns the outcome when it can decide,
	// decided false when the action must still be done.
	check func(ctx context.Context, prev roster.Action) (out outcome, decided bool)
	// act calls Miro once. retry says an earlier run of the key may have
	// acted, which changes how a conflict reads.
	act func(ctx context.Context, retry bool) outcome
}

// outcome is what running a job came to.
type outcome struct {
	status roster.ActionStatus // succeeded, refused or failed
	result string              // plain words
	answer string              // Miro's answer, when Miro answered
	effect store.ActionEffect  // applied only on success
	err    error               // the cause of a failure
}

// execute runs j once per key: it records the action, returns a finished
// key's outcome as it was, refuses what the connection cannot do, checks
// Miro before retrying, acts, and records the outcome with its effect and
// audit entry.
func (r *Runner) execute(ctx context.Context, j job) (roster.Action, error) {
	unlock := r.lockKey(j.action.Key)
	defer unlock()

	a := j.action
	a.Status = roster.ActionPending
	a.CreatedAt = r.now()
	existed, err := r.Store.StartAction(ctx, &a)
	if err != nil {
		return roster.Action{}, fmt.Errorf("%s: record the action: %w", j.action.Kind, err)
	}
	if existed {
		if err := sameRequest(a, j.action); err != nil {
			return roster.Action{}, err
		}
		switch a.Status {
		case roster.ActionSucceeded:
			return a, nil
		case roster.ActionRefused:
			return a, &RefusedError{Action: a}
		case roster.ActionPending:
			grace := j.grace
			if grace <= 0 {
				grace = r.PendingGrace
			}
			if grace <= 0 {
				grace = 5 * time.Minute
			}
			if since := r.now().Sub(a.CreatedAt); since < grace {
				return a, fmt.Errorf("%w: action %s started %s ago and has not finished; retry with the same key after %s",
					ErrInProgress, a.Key, since.Round(time.Second), a.CreatedAt.Add(grace).Format(time.RFC3339))
			}
		}
		// Failed, or pending past the grace (its run crashed): retry.
	}

	if ok, why := capable(j.conn, j.capability); !ok {
		return r.finish(ctx, a, j, outcome{status: roster.ActionRefused, result: why})
	}
	var out outcome
	decided := false
	if existed {
		out, decided = j.check(ctx, a)
	}
	if !decided {
		out = j.act(ctx, existed)
	}
	return r.finish(ctx, a, j, out)
}

// finish records out on a, with its effect and audit entry, in one
// transaction, and returns a with the outcome's error.
func (r *Runner) finish(ctx context.Context, a roster.Action, j job, out outcome) (roster.Action, error) {
	a.Status, a.Result, a.MiroAnswer = out.status, out.result, out.answer
	if a.Status == roster.ActionFailed && a.Result == "" {
		a.Result = out.err.Error()
	}
	a.FinishedAt = r.now()
	var effect store.ActionEffect
	if a.Status == roster.ActionSucceeded {
		effect = out.effect
	}
	audit := roster.AuditEntry{
		At: a.FinishedAt, Actor: j.action.Actor, Kind: "action", Action: string(a.Kind),
		Target: j.target, ConnectionID: a.ConnectionID, Result: auditResult(a.Status),
		Detail: a.Result, MiroAnswer: a.MiroAnswer,
	}
	// Record even when ctx was cancelled: Miro may have acted.
	if err := r.Store.FinishAction(context.WithoutCancel(ctx), a, effect, audit); err != nil {
		r.logger().ErrorContext(ctx, "action outcome not recorded", "key", a.Key, "kind", a.Kind,
			"connection", a.ConnectionID, "status", a.Status, "error", err)
		return a, fmt.Errorf("%s: %s, but recording it failed: %w", a.Kind, a.Status, err)
	}
	r.logger().InfoContext(ctx, "action", "key", a.Key, "kind", a.Kind, "connection", a.ConnectionID,
		"team", a.MiroTeamID, "status", a.Status, "result", a.Result)
	switch a.Status {
	case roster.ActionSucceeded:
		return a, nil
	case roster.ActionRefused:
		return a, &RefusedError{Action: a}
	}
	return a, &FailedError{Action: a, Err: out.err}
}

// auditResult is the audit log's word for a status.
func auditResult(s roster.ActionStatus) string {
	switch s {
	case roster.ActionSucceeded:
		return "ok"
	case roster.ActionRefused:
		return "refused"
	}
	return "failed"
}

// capable reports whether conn has the capability, and the plain reason
// Connection.Capabilities gives when it does not.
func capable(conn roster.Connection, name string) (bool, string) {
	for _, c := range conn.Capabilities() {
		if c.Name == name {
			if c.Available {
				return true, ""
			}
			return false, fmt.Sprintf("connection %d cannot %s: %s", conn.ID, name, c.Reason)
		}
	}
	return false, fmt.Sprintf("connection %d has no capability %q", conn.ID, name)
}

// sameRequest refuses a key reused for a different action: returning the
// first action's outcome for it would be wrong.
func sameRequest(stored, asked roster.Action) error {
	same := stored.Kind == asked.Kind && stored.ConnectionID == asked.ConnectionID &&
		stored.MiroTeamID == asked.MiroTeamID && stored.Role == asked.Role
	if asked.Kind == roster.ActionInvite {
		same = same && stored.Email == asked.Email
	} else {
		same = same && stored.MiroUserID == asked.MiroUserID
	}
	if !same {
		return invalid("key", "%q was already used for another action (%s of %s in team %s on connection %d); use a new key",
			stored.Key, stored.Kind, who(stored.Email, stored.MiroUserID), stored.MiroTeamID, stored.ConnectionID)
	}
	return nil
}

// keyLock serialises runs of one key within the process, so a double
// submit waits for the first run and then sees its outcome.
type keyLock struct {
	mu    sync.Mutex
	users int
}

func (r *Runner) lockKey(key string) (unlock func()) {
	r.mu.Lock()
	if r.keys == nil {
		r.keys = map[string]*keyLock{}
	}
	l := r.keys[key]
	if l == nil {
		l = &keyLock{}
		r.keys[key] = l
	}
	l.users++
	r.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		r.mu.Lock()
		if l.users--; l.users == 0 {
			delete(r.keys, key)
		}
		r.mu.Unlock()
	}
}

// answerOf renders Miro's answer to a failed call: "409 conflict: ..." for
// an answer, "no answer: ..." when none arrived.
func answerOf(err error) string {
	var ae *miro.APIError
	if errors.As(err, &ae) {
		s := fmt.Sprintf("%d", ae.Status)
		if ae.Code != "" {
			s += " " + ae.Code
		}
		if ae.Message != "" {
			s += ": " + ae.Message
		}
		return s
	}
	return "no answer: " + err.Error()
}

// failure turns an error Miro's client returned into an outcome: a 4xx
// other than 401 and 429 is Miro saying no, which retrying will not
// change; everything else may pass, so the action stays retryable.
func failure(err error, doing string) outcome {
	var ae *miro.APIError
	if errors.As(err, &ae) && ae.Refusal() {
		result := "Miro refused to " + doing + ": " + ae.Reason()
		if ae.Forbidden() {
			result += " (check the granted scopes and that the connecting user is a Company Admin)"
		}
		return outcome{status: roster.ActionRefused, result: result, answer: answerOf(err)}
	}
	return outcome{status: roster.ActionFailed, result: "could not " + doing + ": " + err.Error(),
		answer: answerOf(err), err: fmt.Errorf("%s: %w", doing, err)}
}
