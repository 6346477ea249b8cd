package roster

import (
	"slices"
	"time"
)

// This file holds what a workflow does when it runs: runs, their steps,
// approvals, and the directory's person events that triggers read.

// RunStatus is where a workflow run is.
type RunStatus string

// Run statuses. Running and waiting runs are live; the others ended.
const (
	RunRunning   RunStatus = "running"
	RunWaiting   RunStatus = "waiting" // on an approval or a wait step
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunCancelled RunStatus = "cancelled"
)

// Live reports whether a run with status s has not ended.
func (s RunStatus) Live() bool { return s == RunRunning || s == RunWaiting }

// RunStatuses are the run statuses, in the order lists and filters show
// them.
var RunStatuses = []RunStatus{RunSucceeded, RunFailed, RunCancelled, RunRunning, RunWaiting}

// Valid reports whether s is a run status.
func (s RunStatus) Valid() bool { return slices.Contains(RunStatuses, s) }

// WorkflowRun is one run of a workflow for one subject.
type WorkflowRun struct {
	ID           int64
	WorkflowID   int64
	WorkflowName string
	// Definition is the workflow as it was when the run started: editing
	// the workflow does not change runs already going.
	Definition Workflow
	// TriggerKey makes a run start once per event: unique per workflow
	// (e.g. "person_left:42:7", "manual:<request>:<email>").
	TriggerKey string
	Trigger    string // plain words: "directory: person left", "manual by operator:ann@x"
	Email      string // the subject
	AccountID  int64  // 0 when no Miro account matches
	PersonID   int64  // 0 when no directory person matches
	Status     RunStatus
	// Position is the index of the step to run next; Generation counts
	// dispatches of the run's jobs, so a job of an older generation (a
	// timeout overtaken by an answer, a job of a crashed process) does
	// nothing. LeaseUntil is when the job working the step, if any, is
	// taken to have died.
	Position   int
	Generation int
	LeaseUntil time.Time
	Error      string // why it failed or was cancelled
	CreatedAt  time.Time
	UpdatedAt  time.Time
	EndedAt    time.Time
}

// StepStatus is where one step of a run is.
type StepStatus string

// Step statuses.
const (
	StepRunning   StepStatus = "running"
	StepWaiting   StepStatus = "waiting"
	StepSucceeded StepStatus = "succeeded"
	StepRefused   StepStatus = "refused"
	StepFailed    StepStatus = "failed"
	StepSkipped   StepStatus = "skipped"
	StepCancelled StepStatus = "cancelled"
)

// RunStep is one line of a run's timeline: one step, through its attempts.
type RunStep struct {
	RunID    int64
	StepID   string
	Kind     StepKind
	Status   StepStatus
	Attempts int
	Detail   string // plain words: what was done, or why not
	// Branch is where the run went next ("end" or a step id), with the
	// approval's answer for an approval: "approved → deactivate".
	Branch    string
	DueAt     time.Time // a wait's end or an approval's deadline
	StartedAt time.Time
	EndedAt   time.Time
}

// ApprovalStatus is an approval's answer.
type ApprovalStatus string

// Approval statuses.
const (
	ApprovalPending  ApprovalStatus = "pending"
	ApprovalApproved ApprovalStatus = "approved"
	ApprovalDenied   ApprovalStatus = "denied"
	ApprovalTimedOut ApprovalStatus = "timed_out"
)

// Approval is a question a run's approval step asked.
type Approval struct {
	ID        int64
	RunID     int64
	StepID    string
	Approver  string // email
	Status    ApprovalStatus
	DecidedBy string // "link:<email>" or "operator:<email>"; empty while pending
	ExpiresAt time.Time
	CreatedAt time.Time
	DecidedAt time.Time
}

// PersonEventKind is what happened to a directory person.
type PersonEventKind string

// Person events, written by the directory as statuses change.
const (
	PersonEventJoined PersonEventKind = "joined"
	PersonEventLeft   PersonEventKind = "left"
)

// PersonEvent is one joined or left event of the directory; the person
// and left triggers read them in id order.
type PersonEvent struct {
	ID       int64
	PersonID int64
	Email    string
	Kind     PersonEventKind
	At       time.Time
}
