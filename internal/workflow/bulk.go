package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/store"
)

// Bulk runs: one action (deactivate, remove from a team, remove from every
// team) or one saved workflow, for many people at once. A bulk run is a
// record (roster.BulkRun, started once per idempotency key) whose work is
// workflow runs, one per person, started through the same path as every
// other run; a built-in action runs as a one-step definition snapshot. So
// the step jobs, leases, retries, the action layer's keys, the credit
// pacer, the audit log and the runs page all serve bulk runs unchanged.
//
// The selection is read, judged and started a page at a time (bulkPage
// people, one StartRuns transaction per page): a bulk run of thousands
// builds no giant transaction and holds no list of everyone in memory.

// MaxBulkSelection is the most people one bulk run may select; a bigger
// selection is refused, saying so, and nothing starts.
const MaxBulkSelection = 10000

// bulkPage is how many people a bulk run or a preview reads, judges and
// starts at a time.
const bulkPage = 500

// BulkSelection is whom a bulk run acts on: the accounts with AccountIDs,
// or every account Filter matches (its Cursor and Limit are ignored).
type BulkSelection struct {
	AccountIDs []int64             `json:"account_ids,omitempty"`
	Filter     *store.AccountQuery `json:"filter,omitempty"`
}

// BulkRequest asks for a bulk run, or its preview.
type BulkRequest struct {
	Action     roster.BulkAction
	TeamID     string // remove_from_team: the Miro team to remove people from
	WorkflowID int64  // workflow: the saved workflow to run
	Selection  BulkSelection
	// Description is the selection in plain words, after a count ("people
	// matching license full, inactive"), kept with the bulk run.
	Description string
	// Key is the idempotency key (start only): a second start with it
	// starts nothing.
	Key   string
	Actor string // who asks, as in roster.AuditEntry (start only)
}

// BulkError is a bulk request refused before anything started: Field
// names what is at fault as the API's body does (action, team_id,
// workflow_id, account_ids, filter, key), Message says why and what to
// do. It is store.ErrInvalid, or store.ErrConflict for a key already used
// for another bulk run.
type BulkError struct {
	Field    string
	Message  string
	Conflict bool
}

func (e *BulkError) Error() string { return e.Message }

func (e *BulkError) Is(target error) bool {
	if e.Conflict {
		return target == store.ErrConflict
	}
	return target == store.ErrInvalid
}

func bulkErr(field, format string, args ...any) error {
	return &BulkError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// BulkActionWords says what a bulk action does, as a button would.
func BulkActionWords(a roster.BulkAction) string {
	switch a {
	case roster.BulkDeactivate:
		return "Deactivate in Miro"
	case roster.BulkRemoveFromTeam:
		return "Remove from a team"
	case roster.BulkRemoveFromAllTeams:
		return "Remove from every team"
	case roster.BulkWorkflow:
		return "Run a workflow"
	}
	return string(a)
}

// BulkPreview is what a bulk run would do, first in sum, then person by
// person: the page of People its View asks for. It changes nothing.
type BulkPreview struct {
	Action roster.BulkAction
	// Words says what would be done: "Deactivate in Miro", "Remove from
	// team Design (3458764)", "Run the workflow offboarding".
	Words    string
	Team     roster.Team     // remove_from_team
	Workflow roster.Workflow // workflow
	Summary  Summary
	People   []PlannedRun
	View     PeopleView
}

// PreviewBulk checks req as StartBulk does (but for its key) and says what
// it would do now, reading only.
func (e *Engine) PreviewBulk(ctx context.Context, req BulkRequest, view PeopleView) (BulkPreview, error) {
	p, err := e.planBulk(ctx, req)
	if err != nil {
		return BulkPreview{}, err
	}
	sel, _, err := e.checkSelection(ctx, req.Selection)
	if err != nil {
		return BulkPreview{}, err
	}
	out := BulkPreview{Action: req.Action, Words: p.words(), Team: p.team, Workflow: p.wf, View: view}
	sum := newSummary(p.prices)
	page := &pageOf{view: view}
	err = e.eachSelected(ctx, sel, p.limit, func(accs []roster.Account) error {
		js, err := p.judgePage(ctx, accs)
		if err != nil {
			return err
		}
		for _, j := range js {
			p.count(sum, j)
			page.add(j.PlannedRun)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	out.Summary, out.People = sum.done(), page.rows
	return out, nil
}

// BulkStart is what StartBulk did.
type BulkStart struct {
	Run roster.BulkRun
	// Existed says the key had started this bulk run before: this call
	// started nothing new, but the runs an interrupted start had not
	// started yet.
	Existed bool
	Started int // runs this call started
}

// StartBulk starts a bulk run: it checks req (the action, its team or
// workflow, the selection: none empty, unknown or over the limit), records
// the bulk run under req.Key, then reads the selection a page at a time,
// judges each person as PreviewBulk does and starts a workflow run for
// each who would run. A refused request starts nothing. A key already
// used returns its bulk run and starts nothing twice: a start that was
// interrupted goes on with the selection it recorded, and the runs'
// trigger keys keep anyone from starting again.
func (e *Engine) StartBulk(ctx context.Context, req BulkRequest) (BulkStart, error) {
	var out BulkStart
	req.Key, req.Actor = strings.TrimSpace(req.Key), strings.TrimSpace(req.Actor)
	if err := roster.CheckActionKey(req.Key); err != nil {
		return out, bulkErr("key", "key %v: a bulk run starts once per key, so that a double submit or a retry starts nothing twice. Nothing was started.", err)
	}
	if req.Actor == "" {
		return out, bulkErr("actor", "actor is required: every bulk run records who started it")
	}
	if e.Jobs == nil {
		return out, errors.New("workflow: no job queue to run steps on")
	}
	p, err := e.planBulk(ctx, req)
	if err != nil {
		return out, err
	}
	sel, n, err := e.checkSelection(ctx, req.Selection)
	if err != nil {
		return out, err
	}
	raw, err := json.Marshal(sel)
	if err != nil {
		return out, fmt.Errorf("record the selection: %w", err)
	}
	b := roster.BulkRun{Key: req.Key, Action: req.Action, TeamID: req.TeamID, WorkflowID: req.WorkflowID,
		Selection: string(raw), Description: req.Description, Selected: n, Actor: req.Actor, CreatedAt: e.now()}
	audit := roster.AuditEntry{At: b.CreatedAt, Actor: req.Actor, Kind: "workflow", Action: "bulk_run_started", Result: "ok",
		Detail: fmt.Sprintf("%s for %d %s, key %s", p.words(), n, cmp.Or(req.Description, "people"), req.Key)}
	existed, err := e.Store.CreateBulkRun(ctx, &b, audit)
	if err != nil {
		return out, fmt.Errorf("record the bulk run: %w", err)
	}
	out.Run, out.Existed = b, existed
	if existed {
		if b.Action != req.Action || b.TeamID != req.TeamID || b.WorkflowID != req.WorkflowID {
			return out, &BulkError{Field: "key", Conflict: true, Message: fmt.Sprintf(
				"key %q already started bulk run %d (%s); use a new key for another bulk run. Nothing was started.",
				req.Key, b.ID, BulkActionWords(b.Action))}
		}
		if !b.StartedAt.IsZero() {
			return out, nil
		}
		// Its start was interrupted: go on with what it recorded.
		if err := json.Unmarshal([]byte(b.Selection), &sel); err != nil {
			return out, fmt.Errorf("read the selection of bulk run %d: %w", b.ID, err)
		}
	}
	// The start goes on if the caller goes away: what it records is the
	// bulk run's, and a half-started bulk run waits for a retry.
	ctx = context.WithoutCancel(ctx)
	selected, excluded := 0, 0
	err = e.eachSelected(ctx, sel, p.limit, func(accs []roster.Account) error {
		js, err := p.judgePage(ctx, accs)
		if err != nil {
			return err
		}
		var runs []roster.WorkflowRun
		for _, j := range js {
			selected++
			if j.Reason != "" {
				excluded++
				continue
			}
			runs = append(runs, p.newRun(b, j))
		}
		started, err := e.start(ctx, runs, req.Actor)
		out.Started += len(started)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("start the runs of bulk run %d (start it again with key %s to go on; nothing starts twice): %w", b.ID, req.Key, err)
	}
	if out.Run, err = e.Store.FinishBulkStart(ctx, b.ID, selected, excluded, e.now()); err != nil {
		return out, fmt.Errorf("record the start of bulk run %d: %w", b.ID, err)
	}
	e.logger().InfoContext(ctx, "bulk run started", "bulk_run", b.ID, "action", b.Action, "selected", selected,
		"runs", out.Run.Runs, "excluded", excluded, "actor", req.Actor)
	return out, nil
}

// BulkProgress is where a bulk run stands: its runs by status.
type BulkProgress struct {
	Run    roster.BulkRun
	Counts map[roster.RunStatus]int
	// Total is its runs (those started so far, while starting); Done
	// succeeded, Failed failed or were cancelled, Remaining are live.
	Total, Done, Failed, Remaining int
	// Status is "starting" (runs are being started), "running" (some are
	// live) or "finished".
	Status string
}

// Bulk run statuses (BulkProgress.Status).
const (
	BulkStarting = "starting"
	BulkRunning  = "running"
	BulkFinished = "finished"
)

// Progress is b's progress now.
func (e *Engine) Progress(ctx context.Context, b roster.BulkRun) (BulkProgress, error) {
	counts, err := e.Store.BulkRunCounts(ctx, b)
	if err != nil {
		return BulkProgress{}, err
	}
	return progressOf(b, counts), nil
}

func progressOf(b roster.BulkRun, counts map[roster.RunStatus]int) BulkProgress {
	p := BulkProgress{Run: b, Counts: counts}
	for st, n := range counts {
		p.Total += n
		switch {
		case st == roster.RunSucceeded:
			p.Done += n
		case st.Live():
			p.Remaining += n
		default:
			p.Failed += n
		}
	}
	switch {
	case b.StartedAt.IsZero():
		p.Status = BulkStarting
	case p.Remaining > 0:
		p.Status = BulkRunning
	default:
		p.Status = BulkFinished
	}
	return p
}

// BulkRunProgress reads bulk run id and its progress (store.ErrNotFound).
func (e *Engine) BulkRunProgress(ctx context.Context, id int64) (BulkProgress, error) {
	b, err := e.Store.BulkRun(ctx, id)
	if err != nil {
		return BulkProgress{}, fmt.Errorf("bulk run %d: %w", id, err)
	}
	return e.Progress(ctx, b)
}

// checkSelection refuses an empty selection, one over the limit, one
// naming accounts roster does not know, or one whose filter is not
// valid; it returns the selection as it is to be read (ids once each)
// and how many people it holds.
func (e *Engine) checkSelection(ctx context.Context, sel BulkSelection) (BulkSelection, int, error) {
	limit := e.bulkLimit()
	switch {
	case sel.Filter != nil && len(sel.AccountIDs) > 0:
		return sel, 0, bulkErr("account_ids", "give account_ids or filter, not both. Nothing was started.")
	case sel.Filter != nil:
		if err := sel.Filter.Check(); err != nil {
			return sel, 0, bulkErr("filter", "the filter is not valid: %v. Nothing was started.", err)
		}
		q := *sel.Filter
		q.Cursor, q.Limit = "", 1
		page, err := e.Store.ListAccounts(ctx, q)
		if errors.Is(err, store.ErrInvalid) {
			return sel, 0, bulkErr("filter", "the filter is not valid: %v. Nothing was started.", err)
		}
		if err != nil {
			return sel, 0, fmt.Errorf("count the people the filter selects: %w", err)
		}
		if page.Total == 0 {
			return sel, 0, bulkErr("filter", "the selection is empty: no one matches the filter. Nothing was started.")
		}
		if page.Total > limit {
			return sel, 0, overLimit("filter", page.Total, limit)
		}
		return sel, page.Total, nil
	}
	ids := make([]int64, 0, len(sel.AccountIDs))
	seen := make(map[int64]bool, len(sel.AccountIDs))
	for _, id := range sel.AccountIDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return sel, 0, bulkErr("account_ids", "the selection is empty: choose at least one person. Nothing was started.")
	}
	if len(ids) > limit {
		return sel, 0, overLimit("account_ids", len(ids), limit)
	}
	var unknown []string
	for chunk := range slices.Chunk(ids, bulkPage) {
		accs, err := e.Store.AccountsByIDs(ctx, chunk)
		if err != nil {
			return sel, 0, fmt.Errorf("look up the people selected: %w", err)
		}
		for _, id := range chunk {
			if _, ok := accs[id]; !ok {
				unknown = append(unknown, strconv.FormatInt(id, 10))
			}
		}
	}
	if len(unknown) > 0 {
		more := ""
		if len(unknown) > 10 {
			more = fmt.Sprintf(" and %d more", len(unknown)-10)
			unknown = unknown[:10]
		}
		return sel, 0, bulkErr("account_ids", "roster knows no account with id %s%s: sync, or choose people from the users list. Nothing was started.",
			strings.Join(unknown, ", "), more)
	}
	return BulkSelection{AccountIDs: ids}, len(ids), nil
}

func overLimit(field string, n, limit int) error {
	return bulkErr(field, "%s people are selected, and one bulk run takes at most %s: narrow the filter or split the selection. Nothing was started.",
		thousands(n), thousands(limit))
}

// thousands writes n with commas: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (e *Engine) bulkLimit() int { return cmp.Or(e.BulkLimit, MaxBulkSelection) }

// eachSelected calls fn with the selected accounts, a page at a time, in
// the filter's order (or the ids'), at most limit in all.
func (e *Engine) eachSelected(ctx context.Context, sel BulkSelection, limit int, fn func([]roster.Account) error) error {
	seen := 0
	if sel.Filter != nil {
		q := *sel.Filter
		q.Cursor, q.Limit = "", bulkPage
		for seen < limit {
			page, err := e.Store.ListAccounts(ctx, q)
			if err != nil {
				return fmt.Errorf("read the people the filter selects: %w", err)
			}
			accs := page.Accounts[:min(len(page.Accounts), limit-seen)]
			seen += len(accs)
			if err := fn(accs); err != nil {
				return err
			}
			if page.NextCursor == "" {
				return nil
			}
			q.Cursor = page.NextCursor
		}
		return nil
	}
	for chunk := range slices.Chunk(sel.AccountIDs[:min(len(sel.AccountIDs), limit)], bulkPage) {
		byID, err := e.Store.AccountsByIDs(ctx, chunk)
		if err != nil {
			return fmt.Errorf("read the people selected: %w", err)
		}
		accs := make([]roster.Account, 0, len(chunk))
		for _, id := range chunk {
			if a, ok := byID[id]; ok {
				accs = append(accs, a)
			}
		}
		if err := fn(accs); err != nil {
			return err
		}
	}
	return nil
}
