package workflow_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
)

// TestTemplatesMakeValidDrafts: "New from template" gives a draft the
// editor can save as it is: every template, with a team or without one,
// validates against the store, names itself and every step, reports to
// the outbox by default, and takes a name no workflow has yet.
func TestTemplatesMakeValidDrafts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), smallOrg())
	ctx := context.Background()
	teams, err := h.DB.Teams(ctx, h.conn.ID)
	require.NoError(t, err)
	require.Greater(t, len(teams), 1)

	for _, name := range workflow.Templates {
		for _, team := range []string{"", teams[1].MiroTeamID} {
			w, err := h.engine.NewFromTemplate(ctx, name, workflow.TemplateOptions{ConnectionID: h.conn.ID, Team: team})
			require.NoError(t, err, name)
			require.Equal(t, name, w.Name, "no workflow has its name yet")
			checked := w
			require.NoError(t, h.engine.Check(ctx, &checked), "%s with team %q", name, team)
			for _, st := range w.Steps {
				require.NotEmpty(t, st.ID, name)
				if st.Kind == roster.StepNotify {
					require.Equal(t, roster.ChannelOutbox, st.Channel, "%s: %s", name, st.ID)
				}
				if st.Kind == roster.StepInvite {
					want := team
					if want == "" {
						want = teams[0].MiroTeamID // the first, for the admin to change
					}
					require.Equal(t, want, st.Team)
				}
			}
			if f := w.OnFailure; f != nil {
				require.Equal(t, roster.OnFailureID, f.ID, name)
				require.Equal(t, roster.ChannelOutbox, f.Channel, name)
			}
			y, err := workflow.MarshalYAML([]roster.Workflow{w})
			require.NoError(t, err)
			require.NotContains(t, string(y), `id: ""`, name)
		}
	}

	// A name taken gets a suffix, the next one free.
	w, err := h.engine.NewFromTemplate(ctx, "offboarding", workflow.TemplateOptions{ConnectionID: h.conn.ID})
	require.NoError(t, err)
	h.save(t, w)
	w, err = h.engine.NewFromTemplate(ctx, "offboarding", workflow.TemplateOptions{ConnectionID: h.conn.ID})
	require.NoError(t, err)
	require.Equal(t, "offboarding-2", w.Name)
	h.save(t, w)
	w, err = h.engine.NewFromTemplate(ctx, "offboarding", workflow.TemplateOptions{ConnectionID: h.conn.ID})
	require.NoError(t, err)
	require.Equal(t, "offboarding-3", w.Name)
	// The dashboard's blank draft takes a free name the same way.
	free, err := h.engine.FreeName(ctx, "offboarding")
	require.NoError(t, err)
	require.Equal(t, "offboarding-3", free)
	free, err = h.engine.FreeName(ctx, "my-workflow")
	require.NoError(t, err)
	require.Equal(t, "my-workflow", free)

	// Reclaim asks the manager by email where email can send, else in the
	// dashboard.
	w, err = h.engine.NewFromTemplate(ctx, "license-reclaim", workflow.TemplateOptions{ConnectionID: h.conn.ID})
	require.NoError(t, err)
	require.Equal(t, roster.ChannelEmail, w.Steps[0].Via)
	silent := &workflow.Engine{Store: h.DB}
	w, err = silent.NewFromTemplate(ctx, "license-reclaim", workflow.TemplateOptions{ConnectionID: h.conn.ID})
	require.NoError(t, err)
	require.Equal(t, roster.ChannelUI, w.Steps[0].Via)

	// Onboarding needs a team to invite to: a connection with none says so.
	_, err = h.engine.NewFromTemplate(ctx, "onboarding", workflow.TemplateOptions{ConnectionID: h.conn.ID + 100})
	require.ErrorContains(t, err, "has no teams yet: sync it first")
	_, err = h.engine.NewFromTemplate(ctx, "nope", workflow.TemplateOptions{ConnectionID: h.conn.ID})
	require.ErrorContains(t, err, `no template "nope"`)
}
