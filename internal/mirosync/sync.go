// Package sync reads what one Miro connection sees (organization, members,
// teams, team memberships, usage), diffs it against the store and writes
// the difference in one transaction. A sync that fails changes nothing but
// its own failed run record; a resync that finds nothing new writes no
// account, membership or change rows.
//
// Scheduling (River jobs) lives elsewhere; this package runs one sync.
package mirosync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"roster"
	"roster/internal/connect"
	"roster/internal/miro"
	"roster/internal/store"
)

// Syncer syncs connections. Store and Clients are required; the other
// fields have defaults.
type Syncer struct {
	Store store.Store
	// Clients owns the connections' Miro clients: a sync shares its
	// token's client, and so its credit pacer, with the actions running
	// through the same connection.
	Clients *connect.Clients
	Logger  *slog.Logger
	// Now stamps runs, accounts and changes; time.Now when nil. Network
	// pacing and token expiry always use the real clock.
	Now func() time.Time
	// Concurrency bounds the team-member (and v2 member lookup) pages in
	// flight; 4 when zero.
	Concurrency int
	// Progress, when set, is called after each page and as each wait for
	// Miro's limits starts (never concurrently).
	Progress func(Progress)
	// ProgressEvery is how often a running sync records its progress in
	// the store, for the dashboard in any process; DefaultProgressEvery
	// when zero.
	ProgressEvery time.Duration
	// Actor names who runs the syncs in the audit log: "system" (the
	// scheduler) when empty, "cli:<user>" from the command line.
	Actor string
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Syncer) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Sync syncs one connection and returns its run. On failure the run is
// recorded as failed, with the error, pages done and calls made, and
// the store is otherwise unchanged.
func (s *Syncer) Sync(ctx context.Context, connectionID int64) (roster.SyncRun, error) {
	if s.Store == nil || s.Clients == nil {
		return roster.SyncRun{}, errors.New("sync: no store or clients configured")
	}
	conn, err := s.Store.Connection(ctx, connectionID)
	if err != nil {
		return roster.SyncRun{}, fmt.Errorf("sync connection %d: %w", connectionID, err)
	}
	if conn.Status == roster.StatusDisconnected {
		return roster.SyncRun{}, fmt.Errorf("sync connection %d: the connection is disconnected (reconnect it)", connectionID)
	}
	p := conn.SyncPlan()
	run := roster.SyncRun{
		ConnectionID: conn.ID, Source: p.Source, Status: roster.SyncRunning,
		StartedAt: store.Stamp(s.now()), UsageNote: p.Note,
	}
	if err := s.Store.StartSyncRun(ctx, &run); err != nil {
		return run, fmt.Errorf("sync connection %d: start run: %w", connectionID, err)
	}
	w := &walk{s: s, conn: conn, started: time.Now(), saver: s.startSaver(ctx, run.ID)}
	// The client is shared; the meter counts this sync's calls alone,
	// and the pacer tells this sync's long waits to the walk.
	fctx := miro.WithWaitNotice(miro.WithMeter(ctx, &w.meter), w.waiting)
	d, err := s.fetchAndDiff(fctx, w, p, &run)
	w.saver.finish(ctx)
	w.record(&run)
	if err != nil {
		return s.fail(ctx, run, err)
	}
	run.Status = roster.SyncSucceeded
	run.EndedAt = store.Stamp(s.now())
	// ApplySync counts the leavers into run.Removed.
	if err := s.Store.ApplySync(ctx, &run, d); err != nil {
		return s.fail(ctx, run, fmt.Errorf("apply: %w", err))
	}
	s.logger().InfoContext(ctx, "sync done", "connection", conn.ID, "run", run.ID, "source", run.Source,
		"pages", run.Pages, "api_calls", run.APICalls, "credits", run.Credits,
		"added", run.Added, "changed", run.Changed, "removed", run.Removed)
	s.audit(ctx, run, "ok", fmt.Sprintf("run %d from %s: %d added, %d changed, %d removed; %s",
		run.ID, run.Source, run.Added, run.Changed, run.Removed, CallsToMiro(run.APICalls)))
	return run, nil
}

// audit appends the run to the audit log. The run itself is already
// recorded, so a failure here is logged rather than failing the sync.
func (s *Syncer) audit(ctx context.Context, run roster.SyncRun, result, detail string) {
	e := roster.AuditEntry{
		Actor: cmp.Or(s.Actor, "system"), Kind: "sync", Action: "sync",
		Target: fmt.Sprintf("connection %d", run.ConnectionID), ConnectionID: run.ConnectionID,
		Result: result, Detail: detail, At: run.EndedAt,
	}
	if err := s.Store.AppendAudit(context.WithoutCancel(ctx), &e); err != nil {
		s.logger().WarnContext(ctx, "audit the sync", "connection", run.ConnectionID, "run", run.ID, "error", err)
	}
}

// fail records run as failed and returns the error.
func (s *Syncer) fail(ctx context.Context, run roster.SyncRun, cause error) (roster.SyncRun, error) {
	run.Status = roster.SyncFailed
	run.Error = cause.Error()
	run.EndedAt = store.Stamp(s.now())
	run.Added, run.Changed, run.Removed = 0, 0, 0
	err := fmt.Errorf("sync connection %d: %w", run.ConnectionID, cause)
	// Record the failure even when ctx was cancelled: that is why it failed.
	if ferr := s.Store.FailSyncRun(context.WithoutCancel(ctx), run); ferr != nil {
		err = errors.Join(err, fmt.Errorf("record failed run: %w", ferr))
	}
	s.logger().WarnContext(ctx, "sync failed", "connection", run.ConnectionID, "run", run.ID, "error", cause)
	if run.ID != 0 {
		s.audit(ctx, run, "failed", fmt.Sprintf("run %d: %s", run.ID, run.Error))
	}
	return run, err
}

// fetchAndDiff reads Miro along p and diffs the result against the store.
func (s *Syncer) fetchAndDiff(ctx context.Context, w *walk, p roster.SyncPlan, run *roster.SyncRun) (store.Diff, error) {
	if p.Err != nil {
		return store.Diff{}, p.Err
	}
	if err := w.connect(ctx); err != nil {
		return store.Diff{}, err
	}
	obs := newObserved()
	var err error
	switch p.Source {
	case roster.SourceOrganization:
		err = w.fetchOrganization(ctx, obs, p.Audit)
	case roster.SourceTeamV2:
		err = w.fetchTeamV2(ctx, obs)
	case roster.SourceLegacyTeam:
		err = w.fetchTeamLegacy(ctx, obs)
	}
	if err != nil {
		return store.Diff{}, err
	}
	// Read the stored state only now: it is then as fresh as it can be
	// (other connections may have synced meanwhile), and a long fetch does
	// not hold it in memory.
	snap, err := s.Store.Snapshot(ctx, w.conn.ID)
	if err != nil {
		return store.Diff{}, fmt.Errorf("load snapshot: %w", err)
	}
	known, err := s.lookup(ctx, obs, snap)
	if err != nil {
		return store.Diff{}, err
	}
	if err := s.adoptMemberships(ctx, obs, snap, known); err != nil {
		return store.Diff{}, err
	}
	d, counts := buildDiff(diffInput{
		now: store.Stamp(s.now()), runID: run.ID, orgID: w.conn.OrgID, obs: obs, snap: snap, known: known,
	})
	run.Added, run.Changed = counts.added, counts.changed
	return d, nil
}

// lookupBatch bounds the ids or emails asked of the store at once.
const lookupBatch = 1000

// lookup finds the stored accounts of people this connection did not see
// before: by Miro user id, then by email. The result is keyed by the
// observed Miro user id.
func (s *Syncer) lookup(ctx context.Context, obs *observed, snap *store.Snapshot) (map[string]roster.Account, error) {
	var ids []string
	for id := range obs.people {
		if _, ok := snap.Accounts[id]; !ok {
			ids = append(ids, id)
		}
	}
	known := map[string]roster.Account{}
	for start := 0; start < len(ids); start += lookupBatch {
		got, err := s.Store.AccountsByMiroIDs(ctx, ids[start:min(start+lookupBatch, len(ids))])
		if err != nil {
			return nil, fmt.Errorf("look up accounts by Miro id: %w", err)
		}
		for id, a := range got {
			known[id] = a
		}
	}
	byEmail := map[string]string{} // email -> observed id
	var emails []string
	for _, id := range ids {
		if _, ok := known[id]; ok {
			continue
		}
		if e := obs.people[id].email; e != "" {
			if _, dup := byEmail[e]; !dup {
				byEmail[e] = id
				emails = append(emails, e)
			}
		}
	}
	used := map[int64]bool{}
	for _, a := range known {
		used[a.ID] = true
	}
	for start := 0; start < len(emails); start += lookupBatch {
		got, err := s.Store.AccountsByEmails(ctx, emails[start:min(start+lookupBatch, len(emails))])
		if err != nil {
			return nil, fmt.Errorf("look up accounts by email: %w", err)
		}
		for e, a := range got {
			// An account this sync already matches by id (or by another
			// email) stays that person's.
			if id, ok := byEmail[e]; ok && !used[a.ID] {
				known[id] = a
				used[a.ID] = true
			}
		}
	}
	return known, nil
}

// adoptMemberships adds to the snapshot the stored memberships, in teams
// this sync covers for the first time, of people other connections know:
// when a team-level connection already synced a team, an org-level
// connection's first sync then sees those memberships as unchanged
// instead of writing them and their team_joined rows again.
func (s *Syncer) adoptMemberships(ctx context.Context, obs *observed, snap *store.Snapshot, known map[string]roster.Account) error {
	for id, a := range known {
		if a.ID == 0 || !a.LeftAt.IsZero() {
			continue
		}
		ms, err := s.Store.AccountMemberships(ctx, a.ID)
		if err != nil {
			return fmt.Errorf("load memberships of account %d: %w", a.ID, err)
		}
		for _, m := range ms {
			_, covered := snap.Teams[m.MiroTeamID]
			if _, seen := obs.teams[m.MiroTeamID]; seen && !covered {
				snap.Memberships[store.MembershipKey{MiroTeamID: m.MiroTeamID, MiroUserID: id}] = m.Role
			}
		}
	}
	return nil
}
