package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"roster/internal/workflow"
)

// RunningSteps lists the workflow step jobs River has as running, with
// when their current attempt started. A process killed after fetching a
// job leaves it running (until River's rescue, hours later); the workflow
// engine re-dispatches a run whose job has run longer than a lease
// without leasing it. Running jobs are few: at most the workers of the
// processes.
func (r *Runner) RunningSteps(ctx context.Context) (map[workflow.StepJob]time.Time, error) {
	out := map[workflow.StepJob]time.Time{}
	params := river.NewJobListParams().Kinds(StepArgs{}.Kind()).States(rivertype.JobStateRunning).First(10000)
	res, err := r.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobs: list running workflow steps: %w", err)
	}
	for _, j := range res.Jobs {
		var a StepArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			return nil, fmt.Errorf("jobs: workflow step job %d: %w", j.ID, err)
		}
		var since time.Time
		if j.AttemptedAt != nil {
			since = *j.AttemptedAt
		}
		out[workflow.StepJob{RunID: a.RunID, Position: a.Position, Generation: a.Generation}] = since
	}
	return out, nil
}
