package workflow_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/workflow"
)

// FuzzWorkflowYAML reads any text as workflow definitions, as `roster
// workflow apply`, the editor and Apply do. It never panics or runs away;
// a bad text is field errors (ErrInvalid, naming the document or field);
// Validate answers field errors or nil; and a valid definition written
// out and read back is the same definition, still valid.
func FuzzWorkflowYAML(f *testing.F) {
	for _, name := range workflow.Templates {
		w, err := workflow.Template(name, workflow.TemplateOptions{ConnectionID: 1, Team: "t1", NotifyTo: []string{"it@example.com"}})
		require.NoError(f, err)
		out, err := workflow.MarshalYAML([]roster.Workflow{w})
		require.NoError(f, err)
		f.Add(out)
	}
	for _, seed := range []string{
		// The documentation's example.
		`name: license-reclaim
description: Ask the manager before freeing a full license unused for 90 days.
enabled: false
connection: 1
trigger:
  kind: inactive
  days: 90
conditions:
  - field: license
    op: is
    value: full
steps:
  - id: ask-manager
    kind: approval
    approver: manager
    via: email
    timeout: 7d
    text: '{{.Email}} has not used their full Miro license for 90 days or more. Free it by deactivating them?'
    on_approve: deactivate
    on_deny: tell-denied
    on_timeout: end
  - id: deactivate
    kind: deactivate
    next: end
  - id: tell-denied
    kind: notify
    channel: webhook
    subject: 'License kept: {{.Email}}'
    text: The manager of {{.Email}} chose to keep their full Miro license (run {{.RunID}}).
`,
		// Two documents, a schedule, conditions with values, on_failure.
		"name: a\nconnection: 1\ntrigger: {kind: schedule, cron: \"0 9 * * 1\"}\nconditions: [{field: email_domain, op: in, values: [Example.COM, b.org]}]\nsteps: [{kind: sign_out}]\n" +
			"on_failure: {channel: email, to: [manager], text: '{{.Error}}'}\n---\nname: b\nconnection: 2\ntrigger: {kind: manual}\nsteps: [{kind: wait, duration: 90m}, {kind: remove, team: t1}]\n",
		// Bad texts.
		"name: g\nconnection: 1\ntrigger: {kind: manual}\nstepz: []",
		"name: h\nconnection: 1\ntrigger: {kind: manual}\nsteps: [{kind: wait, duration: soon}]",
		"steps: [{kind: approval, timeout: -1h}]",
		"name: [1, 2]",
		"---\n---\n",
		"a: &a [*a, *a]",
		"",
		// A template that ran away before the check walked it.
		"name: t\nconnection: 1\ntrigger: {kind: manual}\nsteps: [{kind: notify, channel: webhook, text: '{{define \"a\"}}x{{end}}{{template \"a\"}}'}]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		ctx := context.Background()
		ws, err := workflow.ParseYAML(bytes.NewReader(text))
		if err != nil {
			requireFieldErrors(t, err)
			return
		}
		require.NotEmpty(t, ws)
		for _, w := range ws {
			w.Normalize()
			if err := w.Validate(ctx); err != nil {
				var fe roster.WorkflowErrors
				require.True(t, errors.As(err, &fe), "Validate: %v", err)
				require.NotEmpty(t, fe)
				continue
			}
			out, err := workflow.MarshalYAML([]roster.Workflow{w})
			require.NoError(t, err)
			back, err := workflow.ParseYAML(bytes.NewReader(out))
			require.NoError(t, err, "%s", out)
			require.Len(t, back, 1)
			back[0].Normalize()
			require.NoError(t, back[0].Validate(ctx), "%s", out)
			again, err := workflow.MarshalYAML(back)
			require.NoError(t, err)
			require.Equal(t, string(out), string(again))
		}
	})
}

func requireFieldErrors(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, workflow.ErrInvalid)
	var fe roster.WorkflowErrors
	require.True(t, errors.As(err, &fe), "%v", err)
	require.NotEmpty(t, fe)
	for _, e := range fe {
		require.NotEmpty(t, e.Path, "%v", err)
		require.NotEmpty(t, e.Message, "%v", err)
	}
}
