package jobs

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/licenses"
	"roster/internal/mirosim"
	"roster/internal/notify"
	"roster/internal/notify/notifytest"
	"roster/internal/store/storetest"
)

const webhookSecret = "renewal-test-secret"

// today is the UTC date now, as renewal dates are kept.
func today() time.Time {
	n := time.Now().UTC()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// renewalOrg connects and syncs the simulated organization and saves its
// contract: renewing in 10 days, a reminder 30 days before.
func renewalOrg(t *testing.T, b *testBundle, svc *licenses.Service) roster.Contract {
	t.Helper()
	c := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	b.Sync(t, c.ID) // synced just now: the scheduler leaves it alone
	contract := roster.Contract{OrgID: c.OrgID, Currency: "EUR", Billing: roster.BillingMonthly,
		RenewalOn: today().AddDate(0, 0, 10), RemindDays: 30,
		Licenses: map[string]roster.LicenseTerms{roster.LicenseFull: {Price: 16}}}
	require.NoError(t, svc.SaveContract(context.Background(), contract, "test"))
	return contract
}

// webhookNotifier sends to a local signed-webhook receiver only.
func webhookNotifier(t *testing.T) (*notify.Notifier, *notifytest.WebhookServer) {
	t.Helper()
	hook := notifytest.NewWebhook(t, webhookSecret)
	n, err := notify.New(notify.Config{WebhookURL: hook.URL(), WebhookSecret: webhookSecret})
	require.NoError(t, err)
	return n, hook
}

// reminderRuns counts the reminder jobs that ran to an end.
func reminderRuns(t *testing.T, r *Runner) int {
	t.Helper()
	res, err := r.client.JobList(context.Background(), river.NewJobListParams().Kinds(RemindArgs{}.Kind()).
		States(rivertype.JobStateCompleted, rivertype.JobStateDiscarded).First(10000))
	require.NoError(t, err)
	return len(res.Jobs)
}

// waitFor waits until done holds. It fails when nothing advanced (no
// reminder job ended, no request reached the receiver) for 30 s: a slow
// machine is slow, a stall is stuck.
func waitFor(t *testing.T, r *Runner, hook *notifytest.WebhookServer, what string, done func() bool) {
	t.Helper()
	last, lastAt := -1, time.Now()
	for !done() {
		if p := reminderRuns(t, r) + hook.Attempts(); p > last {
			last, lastAt = p, time.Now()
		}
		require.Less(t, time.Since(lastAt), 30*time.Second, "waiting for %s: nothing advanced for 30 s", what)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRenewalReminders runs the periodic reminder job: a delivery that
// fails is tried again at the next run; once delivered, later runs send
// nothing more; a new renewal date is a new reminder.
func TestRenewalReminders(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		b := setup(t, dsn)
		ctx := context.Background()
		svc := &licenses.Service{Store: b.DB}
		contract := renewalOrg(t, b, svc)
		n, hook := webhookNotifier(t)
		hook.FailNext(1, http.StatusServiceUnavailable)

		r := b.runner(t, b.DB, Config{Renewals: svc, Notifier: n, RemindEvery: time.Second, ScheduleEvery: time.Hour})
		start(t, r)

		// The first run's delivery fails; the reminder stays due and the
		// next run delivers it.
		waitFor(t, r, hook, "the reminder", func() bool { return len(hook.Deliveries()) >= 1 })
		require.Equal(t, 2, hook.Attempts(), "one failed delivery, then the one that went through")
		d := hook.Deliveries()[0]
		require.Equal(t, "licenses.renewal", d.JSON["event"])
		require.Contains(t, d.JSON["subject"], "Miro renews in 10 days")
		require.Contains(t, d.JSON["text"], "It costs EUR ")
		require.Equal(t, "renewal:"+contract.OrgID+":"+contract.RenewalOn.Format(time.DateOnly), d.Header.Get("Idempotency-Key"))
		data, _ := d.JSON["data"].(map[string]any)
		require.Equal(t, contract.OrgID, data["org_id"])
		require.Equal(t, contract.RenewalOn.Format(time.DateOnly), data["renewal_on"])
		stored, err := b.DB.Contract(ctx, contract.OrgID)
		require.NoError(t, err)
		require.True(t, stored.RemindedFor.Equal(contract.RenewalOn), "the reminder is recorded as sent")

		// The job runs on: nothing more is sent for this renewal date.
		runs := reminderRuns(t, r)
		waitFor(t, r, hook, "two more runs", func() bool { return reminderRuns(t, r) >= runs+2 })
		require.Len(t, hook.Deliveries(), 1, "one reminder per renewal date, however often the job runs")

		// A new renewal date makes the reminder due again, once.
		contract.RenewalOn = today().AddDate(0, 0, 20)
		require.NoError(t, svc.SaveContract(ctx, contract, "test"))
		waitFor(t, r, hook, "the new date's reminder", func() bool { return len(hook.Deliveries()) >= 2 })
		d = hook.Deliveries()[1]
		require.Contains(t, d.JSON["subject"], "Miro renews in 20 days")
		runs = reminderRuns(t, r)
		waitFor(t, r, hook, "two more runs", func() bool { return reminderRuns(t, r) >= runs+2 })
		require.Len(t, hook.Deliveries(), 2)
		require.Empty(t, hook.Rejected(), "every delivery was signed")
	})
}

// TestRenewalReminderTwoProcesses: two processes, each with its own store
// and notifier, run the reminders at the same moment, again and again;
// Slack and the webhook each get exactly one.
func TestRenewalReminderTwoProcesses(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	contract := renewalOrg(t, b, &licenses.Service{Store: b.DB})
	hook, slack := notifytest.NewWebhook(t, webhookSecret), notifytest.NewSlack(t)

	runners := make([]*Runner, 2)
	for i := range runners {
		db := storetest.Open(t, b.dsn)
		n, err := notify.New(notify.Config{WebhookURL: hook.URL(), WebhookSecret: webhookSecret, SlackWebhookURL: slack.URL()})
		require.NoError(t, err)
		runners[i] = b.runner(t, db, Config{Renewals: &licenses.Service{Store: db}, Notifier: n})
	}
	sent := make([]int, len(runners))
	for range 5 {
		var wg sync.WaitGroup
		ready := make(chan struct{})
		for i, r := range runners {
			wg.Go(func() {
				<-ready
				n, err := r.RemindRenewals(ctx)
				if err != nil {
					t.Errorf("process %d: %v", i, err)
				}
				sent[i] += n
			})
		}
		close(ready)
		wg.Wait()
	}
	require.Equal(t, 1, sent[0]+sent[1], "one process sent it, once")
	require.Len(t, hook.Deliveries(), 1)
	require.Len(t, slack.Deliveries(), 1)
	text := slack.Deliveries()[0].Text
	require.Contains(t, text, "Miro renews in 10 days for Example Corp ("+contract.RenewalOn.Format("Jan 2, 2006")+")\nIt costs EUR ")
	require.Equal(t, 1, strings.Count(text, "Miro renews"), "the subject once: %s", text)
}

// TestRenewalReminderNoChannel: without a Slack or webhook channel the
// error says so, and the reminder stays due for when one is configured.
func TestRenewalReminderNoChannel(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	svc := &licenses.Service{Store: b.DB}
	contract := renewalOrg(t, b, svc)
	none, err := notify.New(notify.Config{})
	require.NoError(t, err)
	r := b.runner(t, b.DB, Config{Renewals: svc, Notifier: none})
	for range 2 {
		n, err := r.RemindRenewals(ctx)
		require.Zero(t, n)
		require.ErrorContains(t, err, "no Slack or webhook channel is configured")
		stored, err := b.DB.Contract(ctx, contract.OrgID)
		require.NoError(t, err)
		require.True(t, stored.RemindedFor.IsZero(), "not sent: still due")
	}

	// Once a channel is there, the next run sends it.
	n, hook := webhookNotifier(t)
	r = b.runner(t, b.DB, Config{Renewals: svc, Notifier: n})
	sent, err := r.RemindRenewals(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	require.Len(t, hook.Deliveries(), 1)

	_, err = New(ctx, Config{DB: b.DB, Syncer: b.syncer(b.DB), Renewals: svc})
	require.ErrorContains(t, err, "Renewals needs a Notifier")
}
