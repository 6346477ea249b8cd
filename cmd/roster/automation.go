package main

import (
	"fmt"
	"time"

	"roster/internal/action"
	"roster/internal/jobs"
	"roster/internal/licenses"
	"roster/internal/notify"
	"roster/internal/workflow"
)

// automationFlags are the flags of notifications and workflow runs that
// serve and demo share. Their variables are ROSTER_<FLAG>, the same for
// both commands.
type automationFlags struct {
	notify    notify.Config
	workers   int
	lease     time.Duration
	tick      time.Duration
	retryBase time.Duration
	attempts  int
}

func addAutomationFlags(fs *flagSet) *automationFlags {
	f := &automationFlags{}
	addNotifyFlags(fs, &f.notify)
	fs.IntVar(&f.workers, "workflow-workers", jobs.DefaultWorkflowWorkers, "workflow steps this process works at once")
	fs.envName("workflow-workers", "ROSTER_WORKFLOW_WORKERS")
	fs.DurationVar(&f.lease, "workflow-lease", workflow.DefaultLease, "how long a step's job holds its run; a run whose job died is taken over after it")
	fs.envName("workflow-lease", "ROSTER_WORKFLOW_LEASE")
	fs.DurationVar(&f.tick, "workflow-tick", jobs.DefaultTriggerEvery, "how often triggers are evaluated and orphaned runs taken over")
	fs.envName("workflow-tick", "ROSTER_WORKFLOW_TICK")
	fs.DurationVar(&f.retryBase, "step-retry", jobs.DefaultStepRetryBase, "first wait before a failed step is retried; it doubles each time, up to 10m")
	fs.envName("step-retry", "ROSTER_STEP_RETRY")
	fs.IntVar(&f.attempts, "step-attempts", jobs.DefaultStepAttempts, "attempts of a step before its run fails")
	fs.envName("step-attempts", "ROSTER_STEP_ATTEMPTS")
	return f
}

// addNotifyFlags adds the notification channels' flags, which fill c:
// serve and demo send with them, and the workflow commands that preview
// or start runs judge with them whether a notify step can send (the same
// variables, so a shell set up like serve's sees what serve would).
func addNotifyFlags(fs *flagSet, c *notify.Config) {
	str := func(p *string, name, usage string) {
		fs.StringVar(p, name, "", usage)
		fs.envName(name, envOfFlag(name))
	}
	str(&c.SMTPAddr, "smtp-addr", "SMTP server host:port for email notifications and approval requests")
	str(&c.SMTPUsername, "smtp-username", "SMTP user (PLAIN auth); empty sends without auth")
	str(&c.SMTPPassword, "smtp-password", "SMTP password; prefer the environment variable to the flag")
	str(&c.SMTPFrom, "smtp-from", "the From address of roster's emails")
	str(&c.SMTPTLS, "smtp-tls", "starttls (default), tls (implicit, port 465) or none (a local relay)")
	str(&c.SlackWebhookURL, "slack-webhook-url", "Slack incoming-webhook URL for Slack notifications and approval requests (a secret)")
	str(&c.WebhookURL, "webhook-url", "URL that receives webhook notifications as signed JSON")
	str(&c.WebhookSecret, "webhook-secret", "key of the webhook's HMAC-SHA256 signature (X-Roster-Signature)")
	fs.notify = c
}

func envOfFlag(name string) string {
	out := []byte("ROSTER_")
	for _, c := range []byte(name) {
		switch {
		case c == '-':
			c = '_'
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// check refuses impossible values, naming the flag.
func (f *automationFlags) check(cmd string) error {
	switch {
	case f.workers < 1:
		return usageError{fmt.Sprintf("%s: --workflow-workers must be at least 1, got %d", cmd, f.workers)}
	case f.lease < 5*time.Second:
		return usageError{fmt.Sprintf("%s: --workflow-lease must be at least 5s, got %s", cmd, f.lease)}
	case f.tick < time.Second:
		return usageError{fmt.Sprintf("%s: --workflow-tick must be at least 1s, got %s", cmd, f.tick)}
	case f.retryBase <= 0:
		return usageError{fmt.Sprintf("%s: --step-retry must be positive, got %s", cmd, f.retryBase)}
	case f.attempts < 1:
		return usageError{fmt.Sprintf("%s: --step-attempts must be at least 1, got %d", cmd, f.attempts)}
	}
	if err := f.notify.Validate(); err != nil {
		return usageError{fmt.Sprintf("%s: %v", cmd, err)}
	}
	return nil
}

// defaultAutomation is what runs without flags (demo's tests, and
// commands that only enqueue).
func defaultAutomation() *automationFlags {
	return &automationFlags{workers: jobs.DefaultWorkflowWorkers, lease: workflow.DefaultLease,
		tick: jobs.DefaultTriggerEvery, retryBase: jobs.DefaultStepRetryBase, attempts: jobs.DefaultStepAttempts}
}

// newEngine builds the workflow engine on a's store; its Jobs and
// PublicURL are set by the caller once known. Its notifier sends by the
// channels as configured now: for each, the flags and environment when
// any of its flags is set, else the settings saved in the dashboard
// (read again within seconds of a change, in every process). The
// workflow commands build theirs here too, so a dry run judges the
// channels as serve would.
func newEngine(a *app, actions *action.Runner, f *automationFlags) (*workflow.Engine, error) {
	cfg := f.notify
	cfg.Logger = a.logger
	channels, err := notify.NewChannels(cfg, a.store, a.sealer)
	if err != nil {
		return nil, err
	}
	// Every message is recorded, and the outbox channel needs nothing set.
	outbox := &notify.Outbox{Log: a.store, Next: channels, Logger: a.logger}
	return &workflow.Engine{Store: a.store, Actions: actions, Notifier: outbox,
		LinkKey: a.sealer.MACKey("approval links"), Logger: a.logger, Lease: f.lease}, nil
}

// channelsOf is the channels newEngine gave e, for the dashboard's
// Settings → Notifications: the same ones, so a save there is in effect
// at once in this process.
func channelsOf(e *workflow.Engine) *notify.Channels {
	if o, ok := e.Notifier.(*notify.Outbox); ok {
		if c, ok := o.Next.(*notify.Channels); ok {
			return c
		}
	}
	return nil
}

// jobsConfig adds the workflow settings to a jobs configuration, and the
// contracts' renewal reminders, sent through the engine's notifier.
func (f *automationFlags) jobsConfig(c jobs.Config, e *workflow.Engine) jobs.Config {
	c.Workflows, c.WorkflowWorkers, c.StepAttempts, c.StepRetryBase, c.TriggerEvery = e, f.workers, f.attempts, f.retryBase, f.tick
	if e.Notifier != nil {
		c.Renewals, c.Notifier = &licenses.Service{Store: e.Store}, e.Notifier
	}
	return c
}
