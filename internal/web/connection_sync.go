package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/insights"
	"roster/internal/store"
)

// syncQueue is what the jobs may also tell: which connections have a sync
// queued or running. jobs.Runner does; without it a sync shows once its
// run has started.
type syncQueue interface {
	QueuedSyncs(ctx context.Context) (map[int64]bool, error)
}

// queuedSyncs lists the connections whose sync is queued, when the jobs
// can tell (none otherwise).
func (s *Server) queuedSyncs(r *http.Request) map[int64]bool {
	q, ok := s.jobs.(syncQueue)
	if !ok {
		return nil
	}
	queued, err := q.QueuedSyncs(r.Context())
	if err != nil {
		// The page still shows every run; only "queued" is missing.
		s.logger.WarnContext(r.Context(), "connections: list queued syncs", "error", err)
		return nil
	}
	return queued
}

// syncView is a connection's sync as its "Last sync" part shows it: a
// sync queued, the one running with its progress, or the last one
// finished. While a sync is queued or running the part fetches itself
// again every 2 s (?part=sync), and stops once none is.
type syncView struct {
	ConnectionID int64
	// Queued is true when a sync is asked for and its run has not started.
	Queued bool
	// Run is the latest run; nil when the connection never synced.
	Run *roster.SyncRun
	// Doing is a running sync's progress in words ("Syncing: team
	// members, 1,240 of 3,000 teams, about 3 min left"), Waiting its wait
	// for Miro's limits ("waiting 42 s for Miro's rate limit"), Quiet how
	// long it has recorded nothing, when that is long.
	Doing, Waiting, Quiet string
	// Done is the finished run in words ("Last sync finished 2 minutes
	// ago: 50,000 people, 3,000 teams, 31,020 calls to Miro"), Took how
	// long it ran.
	Done template.HTML
	Took string
	// LastSuccess is the connection's last successful sync.
	LastSuccess time.Time
}

// Running is whether the latest run is running.
func (v syncView) Running() bool { return v.Run != nil && v.Run.Status == roster.SyncRunning }

// Succeeded is whether the latest run succeeded (it then says when).
func (v syncView) Succeeded() bool { return v.Run != nil && v.Run.Status == roster.SyncSucceeded }

// Live is whether the part keeps fetching itself.
func (v syncView) Live() bool { return v.Queued || v.Running() }

// Poll is the part's own address.
func (v syncView) Poll() string {
	return "/connections?part=sync&connection=" + strconv.FormatInt(v.ConnectionID, 10)
}

// quietAfter is how long a running sync may record no progress (it
// records some at least every page and every wait) before the page says so.
const quietAfter = 30 * time.Second

// connectionSyncPart is GET /connections?part=sync&connection={id}: one
// connection's sync part alone, for htmx to swap in.
func (s *Server) connectionSyncPart(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.URL.Query().Get("connection"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound("No such connection.")
	}
	c, err := s.store.Connection(r.Context(), id)
	if err != nil {
		return fmt.Errorf("load connection %d: %w", id, err)
	}
	v, err := s.syncState(r.Context(), c, s.queuedSyncs(r)[c.ID])
	if err != nil {
		return err
	}
	s.renderFragment(w, r, "connections", "sync", v)
	return nil
}

// syncState reads c's latest run and its progress.
func (s *Server) syncState(ctx context.Context, c roster.Connection, queued bool) (syncView, error) {
	v := syncView{ConnectionID: c.ID, Queued: queued, LastSuccess: c.LastSyncAt}
	runs, err := s.store.SyncRuns(ctx, c.ID, 1)
	if err != nil {
		return v, fmt.Errorf("load connection %d's last sync: %w", c.ID, err)
	}
	if len(runs) == 0 {
		return v, nil
	}
	run := runs[0]
	v.Run = &run
	p, err := s.store.SyncProgress(ctx, run.ID)
	if err != nil {
		return v, fmt.Errorf("load the progress of connection %d's sync: %w", c.ID, err)
	}
	now := s.now()
	if run.Status == roster.SyncRunning {
		// The run shows itself; its job is no news.
		v.Queued = false
		v.Doing = doingWords(p)
		if p.WaitingUntil.After(now) {
			v.Waiting = "waiting " + shortDuration(p.WaitingUntil.Sub(now)) + " for " + p.WaitReason
		}
		last := run.StartedAt
		if p.At.After(last) {
			last = p.At
		}
		if now.Sub(last) > quietAfter {
			v.Quiet = "nothing new since " + ago(now, last)
		}
		return v, nil
	}
	v.Done = doneWords(run, p, now)
	v.Took = shortDuration(run.EndedAt.Sub(run.StartedAt))
	return v, nil
}

// doingWords is a running sync's progress as a sentence.
func doingWords(p store.SyncProgress) string {
	var what string
	switch p.Phase {
	case "":
		what = "starting"
	case "organization":
		what = "the organization"
	case "members":
		what = "people, " + insights.Count(p.Members) + " so far"
	case "teams":
		what = "teams, " + insights.Count(p.Teams) + " so far"
	case "team members":
		what = "team members, " + plural(p.Members, "person")
		if p.Teams > 1 {
			what = "team members, " + insights.Count(p.TeamsDone) + " of " + plural(p.Teams, "team")
		}
	case "audit":
		what = "usage, from Miro's audit log"
	default:
		what = strings.ReplaceAll(p.Phase, "_", " ")
	}
	if p.EstimatedLeft > 0 {
		what += ", " + timeLeft(p.EstimatedLeft)
	}
	return "Syncing: " + what
}

// timeLeft is an estimate as people say it: "about 3 min left".
func timeLeft(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case d < 45*time.Second:
		return "less than a minute left"
	case m < 60:
		return fmt.Sprintf("about %d min left", max(m, 1))
	case m%60 == 0:
		return fmt.Sprintf("about %d h left", m/60)
	}
	return fmt.Sprintf("about %d h %d min left", m/60, m%60)
}

// shortDuration is a short time exactly enough: "42 s", "4 min 5 s",
// "1 h 20 min"; a part of a second counts as a second.
func shortDuration(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", max(s, 1))
	case s < 3600 && s%60 == 0:
		return fmt.Sprintf("%d min", s/60)
	case s < 3600:
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	case s%3600/60 == 0:
		return fmt.Sprintf("%d h", s/3600)
	}
	return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
}

// doneWords is a finished run as a sentence, its time as a <time>.
func doneWords(run roster.SyncRun, p store.SyncProgress, now time.Time) template.HTML {
	e := template.HTMLEscapeString
	when := whenHTML(run.EndedAt, ago(now, run.EndedAt))
	calls := plural(run.APICalls, "call") + " to Miro"
	if run.Status == roster.SyncFailed {
		return template.HTML("Last sync failed " + string(when) + ", after " + e(calls))
	}
	var counts []string
	if !p.At.IsZero() && p.Members > 0 {
		counts = append(counts, plural(p.Members, "person"))
	}
	if !p.At.IsZero() && p.Teams > 0 {
		counts = append(counts, plural(p.Teams, "team"))
	}
	counts = append(counts, calls)
	return template.HTML("Last sync finished " + string(when) + ": " + e(strings.Join(counts, ", ")))
}
