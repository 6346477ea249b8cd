package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"roster/internal/licenses"
)

// Renewals sends the renewal reminders that are due through a sender;
// *licenses.Service implements it.
type Renewals interface {
	RemindRenewals(ctx context.Context, sender licenses.Sender) (int, error)
}

// DefaultRemindEvery is how often the leader looks for renewal reminders
// that are due: they are due by the day, and a failed one is tried again
// at the next look.
const DefaultRemindEvery = time.Hour

// queueReminders has one worker: looks never overlap in a process, and
// neither they nor syncs hold up the other.
const queueReminders = "renewal_reminders"

// RemindArgs is the periodic job that sends the renewal reminders that
// are due. River inserts it on the leader only; each reminder is claimed
// in the store before it is sent, so a second process or a second run
// never sends it twice.
type RemindArgs struct{}

// Kind is stored with every job; it never changes.
func (RemindArgs) Kind() string { return "renewal_reminders" }

// InsertOpts keeps at most one live and does not retry: the next tick is
// the retry.
func (RemindArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueReminders, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: liveStates}}
}

type remindWorker struct {
	river.WorkerDefaults[RemindArgs]
	r *Runner
}

func (w *remindWorker) Timeout(*river.Job[RemindArgs]) time.Duration { return 5 * time.Minute }

func (w *remindWorker) Work(ctx context.Context, job *river.Job[RemindArgs]) error {
	if stale(job.CreatedAt, w.r.remindEvery) {
		return nil
	}
	_, err := w.r.RemindRenewals(ctx)
	return err
}

// RemindRenewals sends the renewal reminders that are due now and returns
// how many were sent; the periodic job calls it. A reminder that could
// not be sent (no Slack or webhook channel, a delivery that failed) is
// left due, so the next run tries it again.
func (r *Runner) RemindRenewals(ctx context.Context) (int, error) {
	if r.renewals == nil {
		return 0, errors.New("jobs: renewal reminders: no Renewals configured")
	}
	n, err := r.renewals.RemindRenewals(ctx, r.notifier)
	if n > 0 {
		r.logger.InfoContext(ctx, "renewal reminders sent", "reminders", n)
	}
	if err != nil {
		r.logger.ErrorContext(ctx, "renewal reminders", "error", err)
		return n, fmt.Errorf("jobs: renewal reminders: %w", err)
	}
	return n, nil
}
