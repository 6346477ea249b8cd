package workflow

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
)

// templateTexts are every ready template as the editor opens it, with
// comments an admin added: one on top, one on a key, one inside a step.
func templateTexts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range Templates {
		for _, o := range []TemplateOptions{
			{ConnectionID: 3, Team: "3458764512345"},
			{ConnectionID: 3, NotifyTo: []string{"it@example.com", "manager"}, Approval: roster.ChannelSlack},
		} {
			w, err := Template(name, o)
			require.NoError(t, err)
			b, err := MarshalYAML([]roster.Workflow{w})
			require.NoError(t, err)
			text := "# Owned by IT.\n" + strings.Replace(string(b), "trigger:\n", "trigger: # when it starts\n", 1)
			text = strings.Replace(text, "    kind: ", "    # the first step\n    kind: ", 1)
			out[name+"/"+strings.Join(o.NotifyTo, ",")] = text
		}
	}
	return out
}

func parseOneYAML(t *testing.T, text string) roster.Workflow {
	t.Helper()
	ws, err := ParseYAML(strings.NewReader(text))
	require.NoError(t, err, text)
	require.Len(t, ws, 1)
	return ws[0]
}

// The form posts every input as it showed it: the text comes back as it
// was, byte for byte, so comments and all survive, and it means the same.
func TestFormRoundTripsEveryTemplate(t *testing.T) {
	t.Parallel()
	for name, text := range templateTexts(t) {
		w := parseOneYAML(t, text)
		out, errs, err := EditYAML(text, FormOf(w).Values(), FormOp{})
		require.NoError(t, err, name)
		require.Empty(t, errs, name)
		require.Equal(t, text, out, name)
		require.Equal(t, w, parseOneYAML(t, out), name)
		// The form showed no template syntax: every text was readable.
		for _, s := range FormOf(w).Steps {
			require.False(t, s.SubjectKept || s.TextKept, name)
			require.NotContains(t, s.Subject+s.Text, "{{", name)
		}
	}
}

// changedLines are the lines of b that differ from a's, the two being of
// the same length.
func changedLines(t *testing.T, a, b string) []string {
	t.Helper()
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	require.Len(t, bl, len(al), b)
	var out []string
	for i := range al {
		if al[i] != bl[i] {
			out = append(out, bl[i])
		}
	}
	return out
}

// Editing one input changes that one line of the YAML and nothing else.
func TestFormEditChangesOnlyThatField(t *testing.T) {
	t.Parallel()
	text := templateTexts(t)["offboarding/"]
	w := parseOneYAML(t, text)
	for _, tc := range []struct {
		input, value string
		line         string
		check        func(roster.Workflow)
	}{
		{"description", "Take leavers out of Miro.", "description: Take leavers out of Miro.",
			func(g roster.Workflow) { require.Equal(t, "Take leavers out of Miro.", g.Description) }},
		{"enabled", "true", "enabled: true", func(g roster.Workflow) { require.True(t, g.Enabled) }},
		{"connection", "9", "connection: 9", func(g roster.Workflow) { require.EqualValues(t, 9, g.ConnectionID) }},
		{"steps[3].subject", "Gone from Miro: {email} ({department})", `    subject: 'Gone from Miro: {{.Email}} ({{.Department}})'`,
			func(g roster.Workflow) {
				require.Equal(t, "Gone from Miro: {{.Email}} ({{.Department}})", g.Steps[3].Subject)
			}},
		{"steps[1].id", "free-license", "  - id: free-license",
			func(g roster.Workflow) { require.Equal(t, "free-license", g.Steps[1].ID) }},
		{"steps[3].channel", "slack", "    channel: slack", func(g roster.Workflow) { require.Equal(t, "slack", g.Steps[3].Channel) }},
	} {
		v := FormOf(w).Values()
		require.Contains(t, v, tc.input)
		v[tc.input] = tc.value
		out, errs, err := EditYAML(text, v, FormOp{})
		require.NoError(t, err, tc.input)
		require.Empty(t, errs, tc.input)
		require.Equal(t, []string{tc.line}, changedLines(t, text, out), tc.input)
		tc.check(parseOneYAML(t, out))
	}
}

// YAML someone wrote by hand, comments and all, goes to the form and
// back with one change: the comments, the key order and the quoting stay.
func TestFormKeepsHandWrittenYAML(t *testing.T) {
	t.Parallel()
	text := `# Reclaim unused licenses.
name: reclaim # short and lower-case
connection: 3
trigger:
  kind: inactive
  days: 90 # three months
conditions:
  - field: license
    op: in
    values: [full, advanced]
steps:
  # Always ask first.
  - kind: approval
    id: ask
    approver: manager
    timeout: 72h
    on_deny: end
    text: "{{if .Manager}}Hi {{.Manager}}, {{end}}free the license of {{.Email}}?"
  - id: deactivate
    kind: deactivate
`
	w := parseOneYAML(t, text)
	f := FormOf(w)
	require.True(t, f.Steps[0].TextKept, "a condition in the text: kept for the YAML view")
	require.Equal(t, "full, advanced", f.Conditions[0].Value)
	require.Empty(t, f.Steps[0].OnApprove)
	v := f.Values()
	require.NotContains(t, v, "steps[0].text", "a text the form cannot show is not posted")
	require.Equal(t, "3d", v["steps[0].timeout"])

	out, errs, err := EditYAML(text, v, FormOp{})
	require.NoError(t, err)
	require.Empty(t, errs)
	require.Equal(t, text, out, "72h and 3d are the same: left as written")

	v["trigger.days"] = "60"
	v["steps[0].approver"] = "boss@example.com"
	v["conditions[0].value"] = "full, advanced, standard"
	out, errs, err = EditYAML(text, v, FormOp{})
	require.NoError(t, err)
	require.Empty(t, errs)
	for _, kept := range []string{"# Reclaim unused licenses.", "name: reclaim # short and lower-case", "days: 60 # three months",
		"# Always ask first.", "  - kind: approval\n    id: ask\n", `{{if .Manager}}Hi {{.Manager}}, {{end}}`, "timeout: 72h"} {
		require.Contains(t, out, kept)
	}
	got := parseOneYAML(t, out)
	require.Equal(t, 60, got.Trigger.Days)
	require.Equal(t, "boss@example.com", got.Steps[0].Approver)
	require.Equal(t, []string{"full", "advanced", "standard"}, got.Conditions[0].Values)
	require.Equal(t, w.Steps[0].Text, got.Steps[0].Text)
}

// The form's rows: add, remove and move conditions and steps; new steps
// get ids from their kind; a renamed or removed step's references follow.
func TestFormRowOperations(t *testing.T) {
	t.Parallel()
	text := templateTexts(t)["license-reclaim/"]
	edit := func(text string, v map[string]string, op FormOp) string {
		t.Helper()
		out, errs, err := EditYAML(text, v, op)
		require.NoError(t, err)
		require.Empty(t, errs)
		return out
	}
	w := parseOneYAML(t, text)

	// Add a condition and two steps of one kind.
	out := edit(text, nil, FormOp{Do: OpAddCondition})
	out = edit(out, map[string]string{"conditions[1].field": "department", "conditions[1].op": "is", "conditions[1].value": "Sales Ops"}, FormOp{Do: OpAddStep, Kind: roster.StepSignOut})
	out = edit(out, nil, FormOp{Do: OpAddStep, Kind: roster.StepSignOut})
	out = edit(out, nil, FormOp{Do: OpAddStep, Kind: roster.StepWait})
	g := parseOneYAML(t, out)
	require.Equal(t, roster.Condition{Field: "department", Op: "is", Value: "Sales Ops"}, g.Conditions[1])
	require.Len(t, g.Steps, 6)
	require.Equal(t, []string{"sign-out", "sign-out-2", "wait"}, []string{g.Steps[3].ID, g.Steps[4].ID, g.Steps[5].ID})
	require.Equal(t, roster.Duration(24*time.Hour), g.Steps[5].Duration, "a new step starts with its defaults")
	require.Contains(t, out, "# the first step", "comments survive row changes")

	// Move the wait up twice; remove a sign-out.
	out = edit(out, nil, FormOp{Do: OpStepUp, Index: 5})
	out = edit(out, nil, FormOp{Do: OpStepUp, Index: 4})
	out = edit(out, nil, FormOp{Do: OpRemoveStep, Index: 5})
	g = parseOneYAML(t, out)
	require.Equal(t, []string{"ask-manager", "deactivate", "tell-denied", "wait", "sign-out"}, ids(g))
	out = edit(out, nil, FormOp{Do: OpStepDown, Index: 4}) // the last cannot go down
	require.Equal(t, ids(g), ids(parseOneYAML(t, out)))

	// Rename a step: the approval's branch follows. Remove a step: the
	// branch to it goes back to its default.
	v := FormOf(g).Values()
	v["steps[1].id"] = "free-it"
	out = edit(out, v, FormOp{})
	g = parseOneYAML(t, out)
	require.Equal(t, "free-it", g.Steps[0].OnApprove)
	out = edit(out, nil, FormOp{Do: OpRemoveStep, Index: 2})
	g = parseOneYAML(t, out)
	require.Empty(t, g.Steps[0].OnDeny)
	require.NotContains(t, out, "tell-denied")

	// A cleared id is made from the kind.
	v = FormOf(g).Values()
	v["steps[3].id"] = ""
	g = parseOneYAML(t, edit(out, v, FormOp{}))
	require.Equal(t, "sign-out", g.Steps[3].ID)

	// A step of another kind drops what the old kind took.
	v = FormOf(g).Values()
	v["steps[0].kind"] = "notify"
	g = parseOneYAML(t, edit(out, v, FormOp{}))
	require.Equal(t, roster.StepNotify, g.Steps[0].Kind)
	require.Empty(t, g.Steps[0].Approver)
	require.Zero(t, g.Steps[0].Timeout)
	require.Empty(t, g.Steps[0].OnApprove)
	require.Equal(t, roster.ChannelOutbox, g.Steps[0].Channel, "the new kind's defaults")
	require.Equal(t, w.Steps[0].Text, g.Steps[0].Text, "the message stays: both kinds have one")

	// Remove the condition and the failure notice; add the notice back.
	out = edit(out, nil, FormOp{Do: OpRemoveCondition, Index: 1})
	out = edit(out, nil, FormOp{Do: OpRemoveCondition, Index: 0})
	out = edit(out, nil, FormOp{Do: OpRemoveOnFailure})
	g = parseOneYAML(t, out)
	require.Empty(t, g.Conditions)
	require.NotContains(t, out, "conditions")
	require.Nil(t, g.OnFailure)
	g = parseOneYAML(t, edit(out, nil, FormOp{Do: OpAddOnFailure}))
	require.NotNil(t, g.OnFailure)
	require.Contains(t, g.OnFailure.Text, "{{.Error}}")

	_, _, err := EditYAML(out, nil, FormOp{Do: "explode"})
	require.ErrorIs(t, err, ErrFormOp)
}

func ids(w roster.Workflow) []string {
	var out []string
	for _, s := range w.Steps {
		out = append(out, s.ID)
	}
	return out
}

// A value the YAML cannot hold is an error at its path; the rest is
// written, and the row operation waits.
func TestFormBadValues(t *testing.T) {
	t.Parallel()
	text := templateTexts(t)["license-reclaim/"]
	v := FormOf(parseOneYAML(t, text)).Values()
	v["trigger.days"] = "ninety"
	v["steps[0].timeout"] = "a week"
	v["description"] = "Changed."
	out, errs, err := EditYAML(text, v, FormOp{Do: OpAddCondition})
	require.NoError(t, err)
	paths := map[string]bool{}
	for _, e := range errs {
		paths[e.Path] = true
	}
	require.Equal(t, map[string]bool{"trigger.days": true, "steps[0].timeout": true}, paths)
	g := parseOneYAML(t, out)
	require.Equal(t, "Changed.", g.Description)
	require.Equal(t, 90, g.Trigger.Days, "kept as it was")
	require.Len(t, g.Conditions, 1, "no row added")

	// A text that is not one workflow is named, and left alone.
	for _, bad := range []string{"name: [", "- a\n", "name: a\n---\nname: b\n"} {
		out, errs, err := EditYAML(bad, map[string]string{"name": "x"}, FormOp{})
		require.NoError(t, err)
		require.Len(t, errs, 1, bad)
		require.Equal(t, bad, out)
	}
	// An empty text is an empty workflow to fill.
	out, errs, err = EditYAML("", map[string]string{"name": "new", "trigger.kind": "manual"}, FormOp{Do: OpAddStep, Kind: roster.StepSignOut})
	require.NoError(t, err)
	require.Empty(t, errs)
	g = parseOneYAML(t, out)
	require.Equal(t, "new", g.Name)
	require.Equal(t, roster.TriggerManual, g.Trigger.Kind)
	require.Equal(t, "sign-out", g.Steps[0].ID)
}

// A trigger of another kind drops the old kind's setting.
func TestFormTriggerKindChange(t *testing.T) {
	t.Parallel()
	text := templateTexts(t)["license-reclaim/"]
	v := FormOf(parseOneYAML(t, text)).Values()
	v["trigger.kind"] = "license_changed"
	out, errs, err := EditYAML(text, v, FormOp{})
	require.NoError(t, err)
	require.Empty(t, errs)
	g := parseOneYAML(t, out)
	require.Equal(t, roster.Trigger{Kind: roster.TriggerLicenseChanged}, g.Trigger)
	v = FormOf(g).Values()
	v["trigger.license"] = "full"
	out, _, err = EditYAML(out, v, FormOp{})
	require.NoError(t, err)
	require.Equal(t, "full", parseOneYAML(t, out).Trigger.License)
}

func TestReadablePlaceholders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ tmpl, readable string }{
		{"Offboarded from Miro: {{.Email}}", "Offboarded from Miro: {email}"},
		{"{{.Name}} ({{.Department}}), manager {{.Manager}}, {{.License}}", "{name} ({department}), manager {manager}, {license}"},
		{"Done:\n{{range .Steps}}- {{.}}\n{{end}}{{.RunURL}}", "Done:\n{steps}{run_link}"},
		{"Run {{.RunID}} of {{.Workflow}}: {{.Error}} ({{.Trigger}})", "Run {run} of {workflow}: {error} ({trigger})"},
		{"a { b } {c}", "a { b } {c}"},
		{"", ""},
	} {
		r, ok := ReadableText(tc.tmpl)
		require.True(t, ok, tc.tmpl)
		require.Equal(t, tc.readable, r)
		require.Equal(t, tc.tmpl, TemplateText(r))
	}
	// Syntax no placeholder stands for, and a placeholder meant literally,
	// are left to the YAML view.
	for _, tmpl := range []string{"{{if .Manager}}x{{end}}", "{{ .Email }}", "literally {email}", "{{len .Steps}}"} {
		_, ok := ReadableText(tmpl)
		require.False(t, ok, tmpl)
	}
	// Typed template syntax passes through.
	require.Equal(t, "{{.Email}} {{.Email}}", TemplateText("{{.Email}} {email}"))
}

func TestStepSentences(t *testing.T) {
	t.Parallel()
	teams := map[string]string{"t1": "Growth", "t2": "Design"}
	for _, tc := range []struct {
		step roster.Step
		c    SentenceContext
		want string
	}{
		{roster.Step{Kind: roster.StepRemoveAllTeams}, SentenceContext{}, "Remove from every team"},
		{roster.Step{Kind: roster.StepRemove, Team: "t1"}, SentenceContext{Teams: teams}, "Remove from team Growth"},
		{roster.Step{Kind: roster.StepInvite, Team: "t2", Role: "member"}, SentenceContext{Teams: teams}, "Invite to team Design as member"},
		{roster.Step{Kind: roster.StepChangeRole, Team: "t9", Role: "admin"}, SentenceContext{Teams: teams}, "Make admin of team t9"},
		{roster.Step{Kind: roster.StepDeactivate}, SentenceContext{License: "full"}, "Deactivate (frees a Full license)"},
		{roster.Step{Kind: roster.StepDeactivate, Next: "end"}, SentenceContext{}, "Deactivate in the organization, then end"},
		{roster.Step{Kind: roster.StepSignOut}, SentenceContext{}, "Sign out of every Miro session"},
		{roster.Step{Kind: roster.StepNotify, Channel: "email", To: []string{"manager"}, Subject: "Offboarded from Miro: {{.Email}}"}, SentenceContext{},
			"Send by email to manager: “Offboarded from Miro: {email}”"},
		{roster.Step{Kind: roster.StepNotify, Channel: "outbox", Text: "{{if .Manager}}Hi{{end}} {{.Name}} left.\nMore."}, SentenceContext{},
			"Send to the Sent notifications page: “…Hi… {name} left.”"},
		{roster.Step{Kind: roster.StepApproval, Approver: "manager", Via: "slack", Timeout: roster.Duration(72 * time.Hour), OnApprove: "deactivate"}, SentenceContext{},
			"Ask manager for approval by Slack, waiting up to 3 days; approved → deactivate, denied → end"},
		{roster.Step{Kind: roster.StepWait, Duration: roster.Duration(7 * 24 * time.Hour)}, SentenceContext{}, "Wait 7 days"},
		{roster.Step{Kind: roster.StepWait, Duration: roster.Duration(90 * time.Minute)}, SentenceContext{}, "Wait 90 minutes"},
	} {
		require.Equal(t, tc.want, StepSentence(tc.step, tc.c))
	}
	// A workflow's sentences resolve the branches and know the license
	// its condition requires; none shows template syntax.
	for name, text := range templateTexts(t) {
		w := parseOneYAML(t, text)
		for _, s := range StepSentences(w, nil) {
			require.NotContains(t, s, "{{", name)
			require.NotContains(t, s, "}}", name)
		}
	}
	w, err := Template("license-reclaim", TemplateOptions{ConnectionID: 1})
	require.NoError(t, err)
	require.Equal(t, []string{
		"Ask manager for approval by email, waiting up to 7 days; approved → deactivate, denied → tell-denied",
		"Deactivate (frees a Full license), then end",
		"Send to the Sent notifications page: “License kept: {email}”",
	}, StepSentences(w, nil))
	require.Equal(t, "License is one of Full, Advanced", ConditionSentence(roster.Condition{Field: "license", Op: "in", Values: []string{"full", "advanced"}}, nil))
}
