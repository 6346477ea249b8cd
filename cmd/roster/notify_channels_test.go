package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"roster/internal/notify"
	"roster/internal/notify/notifytest"
	"roster/internal/secret"
)

// TestWorkflowDryRunSavedChannels: the workflow commands judge the
// channels as serve sends: a channel saved under Settings → Notifications
// counts, and one set nowhere says where to set it.
func TestWorkflowDryRunSavedChannels(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, "")
	acc, _ := b.leaver(t)
	def := b.file(t, "hook.yaml", `name: tell-hook
connection: 1
trigger:
  kind: manual
steps:
  - id: tell
    kind: notify
    channel: webhook
    text: "{{.Email}} left."
`)
	r := b.roster(t, "workflow", "apply", "-f", def)
	require.NoError(t, r.err, r.stdout+r.stderr)

	r = b.roster(t, "workflow", "dry-run", "tell-hook", "--email", acc.Email)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "webhook: not set; set it under Settings → Notifications or with --webhook-url")
	// The warning comes first, before any person's plan.
	require.Regexp(t, `(?s)^Dry run of tell-hook .*\nWarning: Step tell cannot send its message by webhook: [^\n]*not set[^\n]*\nWould run for`, r.stdout)
	r = b.roster(t, "workflow", "dry-run", "tell-hook", "--email", acc.Email, "--json")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Regexp(t, `"warnings": \[\s*"Step tell cannot send its message by webhook: not set`, r.stdout)

	// Saved in the dashboard, sealed with the data directory's key.
	key, err := secret.LoadKey(b.e.dataDir)
	require.NoError(t, err)
	ch, err := notify.NewChannels(notify.Config{}, b.db, secret.NewSealer(key))
	require.NoError(t, err)
	hook := notifytest.NewWebhook(t, "s3cret-s3cret")
	require.NoError(t, ch.Save(context.Background(), notify.ChannelWebhook,
		notify.Config{WebhookURL: hook.URL(), WebhookSecret: "s3cret-s3cret"}, "operator:admin@example.com"))

	r = b.roster(t, "workflow", "dry-run", "tell-hook", "--email", acc.Email)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.NotContains(t, r.stdout, "not set")
	require.NotContains(t, r.stdout, "BLOCKED")
	require.NotContains(t, r.stdout, "Warning:")
	require.Contains(t, r.stdout, "Would run for 1 person\n")
}
