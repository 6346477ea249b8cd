package roster

import (
	"fmt"
	"time"
)

// BulkAction is what a bulk run does to each person it selected.
type BulkAction string

// Bulk actions. Each built-in action runs, per person, as a one-step
// workflow; BulkWorkflow runs a saved workflow.
const (
	BulkDeactivate         BulkAction = "deactivate"
	BulkRemoveFromTeam     BulkAction = "remove_from_team"
	BulkRemoveFromAllTeams BulkAction = "remove_from_all_teams"
	BulkWorkflow           BulkAction = "workflow"
)

// BulkActions are the bulk actions, in the order forms offer them.
var BulkActions = []BulkAction{BulkDeactivate, BulkRemoveFromTeam, BulkRemoveFromAllTeams, BulkWorkflow}

// Valid reports whether a is a bulk action.
func (a BulkAction) Valid() bool {
	for _, k := range BulkActions {
		if a == k {
			return true
		}
	}
	return false
}

// BulkRun is one action, or one saved workflow, started for many people
// at once under an idempotency key. Its work is workflow runs, one per
// person, each with the trigger key TriggerKey gives: the engine's jobs,
// leases, retries, audit and the runs page serve bulk runs as they serve
// any other.
type BulkRun struct {
	ID int64
	// Key is the idempotency key: a second start with it starts nothing.
	Key        string
	Action     BulkAction
	TeamID     string // remove_from_team: the Miro team
	WorkflowID int64  // workflow: the saved workflow
	// Selection is the people chosen, as the engine wrote it (JSON of ids
	// or of the users filter), so that an interrupted start resumes with
	// the same selection; Description says it in plain words.
	Selection   string
	Description string
	// Selected counts the people selected; Runs the runs started for
	// them and Excluded those left out, once the start is done.
	Selected int
	Runs     int
	Excluded int
	Actor    string // who started it, as in AuditEntry
	// StartedAt is when every run had been started; zero while starting
	// (or when a start was interrupted: a retry with the key resumes it).
	StartedAt time.Time
	CreatedAt time.Time
}

// RunsWorkflowID is the workflow id the bulk run's runs carry: the saved
// workflow's, or, for a built-in action, the bulk run's own id negated.
// A built-in action belongs to no saved workflow, and a negative id never
// meets a saved one, so that the runs' trigger keys (unique per workflow
// id) stay apart from every other run's.
func (b BulkRun) RunsWorkflowID() int64 {
	if b.Action == BulkWorkflow {
		return b.WorkflowID
	}
	return -b.ID
}

// TriggerKey is the trigger key of the bulk run's run for one account:
// with RunsWorkflowID, what makes that run start once however often the
// start is retried.
func (b BulkRun) TriggerKey(accountID int64) string {
	return fmt.Sprintf("%s%d", b.TriggerKeyPrefix(), accountID)
}

// TriggerKeyPrefix begins the trigger key of every run of the bulk run.
func (b BulkRun) TriggerKeyPrefix() string { return fmt.Sprintf("bulk:%d:", b.ID) }
