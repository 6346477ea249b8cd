package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/store/storetest"
)

// editorForm is the workflow editor's form as a browser holds it: every
// field's value, to change and post like a person would.
type editorForm struct {
	t      *testing.T
	br     *browser
	action string
	page   page
	values url.Values
}

// openEditor reads the editor's form from a page.
func openEditor(t *testing.T, br *browser, p page) *editorForm {
	t.Helper()
	f := &editorForm{t: t, br: br}
	f.read(p)
	return f
}

// read takes the form's fields from p, as a browser would post them: the
// inputs but buttons, the checked boxes, each select's chosen option,
// the textareas.
func (f *editorForm) read(p page) {
	f.t.Helper()
	f.page = p
	doc := parseHTML(f.t, p.Body)
	var form *html.Node
	for _, n := range findAll(doc, "form", "workflow-editor") {
		form = n
	}
	require.NotNil(f.t, form, p.Body)
	f.action = attr(form, "action")
	f.values = url.Values{}
	for _, n := range findAll(form, "", "") {
		name := attr(n, "name")
		if name == "" {
			continue
		}
		switch n.Data {
		case "input":
			typ := attr(n, "type")
			if typ == "checkbox" && !hasAttr(n, "checked") {
				continue
			}
			f.values.Add(name, attr(n, "value"))
		case "textarea":
			f.values.Add(name, rawText(n))
		case "select":
			opts := findAll(n, "option", "")
			require.NotEmpty(f.t, opts, name)
			v := attr(opts[0], "value")
			for _, o := range opts {
				if hasAttr(o, "selected") {
					v = attr(o, "value")
				}
			}
			f.values.Add(name, v)
		}
	}
}

// set changes the value of the field with the element id.
func (f *editorForm) set(id, value string) {
	f.t.Helper()
	n := f.byID(id)
	f.values.Set(attr(n, "name"), value)
}

// byID is the page's element with id.
func (f *editorForm) byID(id string) *html.Node {
	f.t.Helper()
	for _, n := range findAll(parseHTML(f.t, f.page.Body), "", "") {
		if attr(n, "id") == id {
			return n
		}
	}
	f.t.Fatalf("no element #%s on the page", id)
	return nil
}

// has reports whether the page has an element with id.
func (f *editorForm) has(id string) bool {
	for _, n := range findAll(parseHTML(f.t, f.page.Body), "", "") {
		if attr(n, "id") == id {
			return true
		}
	}
	return false
}

// press posts the form with the button of the id, and reads the answer.
func (f *editorForm) press(id string, want int) page {
	f.t.Helper()
	b := f.byID(id)
	require.Equal(f.t, "button", b.Data, id)
	form := url.Values{}
	for k, v := range f.values {
		form[k] = append([]string(nil), v...)
	}
	form.Set(attr(b, "name"), attr(b, "value"))
	p := f.br.post(f.action, form)
	require.Equal(f.t, want, p.StatusCode, p.Body)
	if p.StatusCode != http.StatusSeeOther {
		f.read(p)
	}
	return p
}

// value is the posted value of the field with the element id.
func (f *editorForm) value(id string) string {
	f.t.Helper()
	return f.values.Get(attr(f.byID(id), "name"))
}

// visibleValues are every field's value but the hidden ones: what the
// person sees in the form.
func (f *editorForm) visibleValues() string {
	var b strings.Builder
	for _, n := range findAll(parseHTML(f.t, f.page.Body), "", "") {
		switch {
		case n.Data == "input" && attr(n, "type") != "hidden":
			b.WriteString(attr(n, "value") + "\n")
		case n.Data == "textarea":
			b.WriteString(rawText(n) + "\n")
		}
	}
	return b.String()
}

// A workflow built from nothing through the form alone: a trigger and
// its setting, a condition, steps of three kinds, an approval's branches;
// to YAML and back; checked, saved, stored as built.
func TestWorkflowFormBuild(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newWFFixture(t, db)
		ctx := context.Background()
		br := f.loggedIn(t, roster.RoleAdmin)

		ed := openEditor(t, br, br.mustGet("/workflows/new"))
		require.Equal(t, "form", ed.values.Get("view"), "the form is the default view")
		require.Contains(t, text(ed.byID("wf-trigger-kind")), "Inactive for N days")
		require.False(t, ed.has("wf-trigger-days"), "a manual trigger has no setting")

		ed.set("wf-name", "reclaim-by-form")
		ed.set("wf-description", "Free licenses no one uses.")
		ed.set("wf-trigger-kind", "inactive")
		ed.press("op-refresh", http.StatusOK)
		ed.set("wf-trigger-days", "30")

		ed.press("op-add-condition", http.StatusOK)
		require.Contains(t, text(ed.byID("wf-conditions-0-op")), "is one of")
		ed.set("wf-conditions-0-field", "license")
		ed.set("wf-conditions-0-op", "is")
		ed.set("wf-conditions-0-value", "full")

		// The blank workflow's one step goes; three are added.
		ed.set("wf-add-step-kind", "approval")
		ed.press("op-add-step", http.StatusOK)
		ed.press("op-remove-step-0", http.StatusOK)
		require.Equal(t, "approval", ed.value("wf-steps-0-id"), "an id from its kind")
		ed.set("wf-add-step-kind", "notify")
		ed.press("op-add-step", http.StatusOK)
		ed.set("wf-add-step-kind", "remove_all_teams")
		ed.press("op-add-step", http.StatusOK)
		require.Equal(t, "remove-all-teams", ed.value("wf-steps-2-id"))
		ed.press("op-step-up-2", http.StatusOK) // before the notice
		require.Equal(t, "remove-all-teams", ed.value("wf-steps-1-id"))
		ed.set("wf-steps-1-id", "remove")

		ed.set("wf-steps-0-id", "ask")
		ed.set("wf-steps-0-approver", "manager")
		ed.set("wf-steps-0-via", "email")
		ed.set("wf-steps-0-timeout", "5d")
		ed.set("wf-steps-0-text", "Free the license of {email}?")
		ed.set("wf-steps-0-on_approve", "remove-all-teams")
		ed.set("wf-steps-0-on_deny", "notify")
		ed.set("wf-steps-1-next", "end")
		ed.set("wf-steps-2-id", "tell-it")
		ed.set("wf-steps-2-channel", "email")
		ed.press("op-refresh", http.StatusOK)
		require.True(t, ed.has("wf-steps-2-to"), "email has recipients")
		require.Equal(t, "tell-it", ed.value("wf-steps-0-on_deny"), "the branch follows the renamed step")
		ed.set("wf-steps-2-to", "it@example.com")
		ed.set("wf-steps-2-subject", "License kept: {email}")
		ed.set("wf-steps-2-text", "{name}'s manager kept their license.\r\n{steps}")

		// The step reads as a sentence; the message as it would be sent.
		ed.press("op-refresh", http.StatusOK)
		require.Equal(t, "Step 1: Ask manager for approval by email, waiting up to 5 days; approved → remove, denied → tell-it", text(ed.byID("wf-steps-0-sentence")))
		require.Equal(t, "Step 2: Remove from every team, then end", text(ed.byID("wf-steps-1-sentence")))
		require.Equal(t, "Step 3: Send by email to it@example.com: “License kept: {email}”", text(ed.byID("wf-steps-2-sentence")))
		preview := text(ed.byID("wf-steps-2-preview"))
		require.Contains(t, preview, "License kept: alex@example.com")
		require.Contains(t, preview, "Alex Example's manager kept their license. - ask: succeeded - remove: succeeded")
		require.NotContains(t, ed.visibleValues(), "{{", "no template syntax in the form")
		require.Contains(t, text(ed.byID("wf-steps-2-text").Parent), "{department}", "the placeholders are listed")

		// To YAML: Go template syntax; and back to the form.
		ed.press("op-view-yaml", http.StatusOK)
		yaml := ed.value("f-yaml")
		require.Contains(t, yaml, "subject: 'License kept: {{.Email}}'")
		require.Contains(t, yaml, "on_approve: remove")
		require.Contains(t, yaml, "{{range .Steps}}- {{.}}\n      {{end}}")
		ed.set("f-yaml", strings.Replace(yaml, "description: Free licenses no one uses.", "description: Free unused licenses.", 1))
		ed.press("op-view-form", http.StatusOK)
		require.Equal(t, "Free unused licenses.", ed.value("wf-description"))
		require.Equal(t, "License kept: {email}", ed.value("wf-steps-2-subject"))

		p := ed.press("op-dry-run", http.StatusOK)
		require.NotEmpty(t, findAll(parseHTML(t, p.Body), "section", "dry-run"), "the dry run of the unsaved form")
		require.Equal(t, "form", ed.values.Get("view"))
		p = ed.press("op-check", http.StatusOK)
		require.Contains(t, p.Body, "The workflow validates")
		ed.press("op-save", http.StatusSeeOther)
		saved, err := f.db.WorkflowByName(ctx, "reclaim-by-form")
		require.NoError(t, err)
		require.Equal(t, "Free unused licenses.", saved.Description)
		require.False(t, saved.Enabled)
		require.EqualValues(t, f.org.ID, saved.ConnectionID)
		require.Equal(t, roster.Trigger{Kind: roster.TriggerInactive, Days: 30}, saved.Trigger)
		require.Equal(t, []roster.Condition{{Field: "license", Op: "is", Value: "full"}}, saved.Conditions)
		require.Equal(t, []roster.Step{
			{ID: "ask", Kind: roster.StepApproval, Approver: "manager", Via: "email", Timeout: roster.Duration(5 * 24 * time.Hour),
				Text: "Free the license of {{.Email}}?", OnApprove: "remove", OnDeny: "tell-it"},
			{ID: "remove", Kind: roster.StepRemoveAllTeams, Next: "end"},
			{ID: "tell-it", Kind: roster.StepNotify, Channel: "email", To: []string{"it@example.com"}, Subject: "License kept: {{.Email}}",
				Text: "{{.Name}}'s manager kept their license.\n{{range .Steps}}- {{.}}\n{{end}}"},
		}, saved.Steps)

		// The workflow's page says the steps in sentences, no template syntax.
		page := br.mustGet(fmt.Sprintf("/workflows/%d", saved.ID))
		steps := text(findAll(parseHTML(t, page.Body), "ol", "steps")[0])
		require.Contains(t, steps, "Send by email to it@example.com: “License kept: {email}”")
		require.Contains(t, text(findAll(parseHTML(t, page.Body), "dl", "workflow-definition")[0]), "License is Full")
		require.NotContains(t, page.Body, "{{")

		// Editing it opens the form on the stored definition.
		ed = openEditor(t, br, br.mustGet(fmt.Sprintf("/workflows/edit/%d", saved.ID)))
		require.Equal(t, "tell-it", ed.value("wf-steps-0-on_deny"))
		ed.set("wf-enabled", "true")
		ed.values["enabled"] = []string{"false", "true"} // the hidden false, then the ticked box
		ed.press("op-save", http.StatusSeeOther)
		again, err := f.db.Workflow(ctx, saved.ID)
		require.NoError(t, err)
		require.True(t, again.Enabled)
		require.Equal(t, saved.Steps, again.Steps)
	})
}

// A bad value is shown beside its input, as typed, with 422; nothing is
// saved.
func TestWorkflowFormErrorsBesideFields(t *testing.T) {
	t.Parallel()
	f := newWFFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleAdmin)
	ed := openEditor(t, br, br.mustGet("/workflows/new?template=license-reclaim"))

	// A duration that is none cannot be written: beside its input.
	ed.set("wf-steps-0-timeout", "a week")
	ed.set("wf-description", "Changed.")
	p := ed.press("op-save", http.StatusUnprocessableEntity)
	require.Equal(t, "\"a week\" is not a duration such as 30m, 72h or 7d", text(ed.byID("wf-steps-0-timeout-error")))
	require.Equal(t, "a week", ed.value("wf-steps-0-timeout"), "kept as typed")
	require.Equal(t, "true", attr(ed.byID("wf-steps-0-timeout"), "aria-invalid"))
	require.Equal(t, "Changed.", ed.value("wf-description"), "the other inputs are kept")
	summary := text(findAll(parseHTML(t, p.Body), "ul", "workflow-errors")[0])
	require.Contains(t, summary, "Step 1: wait for an answer up to")

	// What only the check finds is beside its input too.
	ed.set("wf-steps-0-timeout", "5d")
	ed.set("wf-steps-0-approver", "not-an-email")
	ed.set("wf-name", "Bad Name")
	ed.press("op-save", http.StatusUnprocessableEntity)
	require.Contains(t, text(ed.byID("wf-steps-0-approver-error")), "is not an email address")
	require.Contains(t, text(ed.byID("wf-name-error")), "must be lower-case letters")
	require.Equal(t, "5d", ed.value("wf-steps-0-timeout"))
	require.False(t, ed.has("wf-steps-0-timeout-error"))

	// A team left unchosen.
	ed.set("wf-steps-0-approver", "manager")
	ed.set("wf-name", "reclaim")
	ed.set("wf-add-step-kind", "remove")
	ed.press("op-add-step", http.StatusOK)
	ed.press("op-dry-run", http.StatusUnprocessableEntity)
	require.Contains(t, text(ed.byID("wf-steps-3-team-error")), "is required")
	require.Equal(t, "form", ed.values.Get("view"), "errors keep the view")

	ws, err := f.db.Workflows(context.Background())
	require.NoError(t, err)
	require.Empty(t, ws, "nothing saved")

	// Invalid YAML stays in the YAML view, with its error.
	ed.press("op-view-yaml", http.StatusOK)
	ed.set("f-yaml", "name: [\n")
	p = ed.press("op-view-form", http.StatusUnprocessableEntity)
	require.Equal(t, "yaml", ed.values.Get("view"))
	require.Equal(t, "name: [\n", ed.value("f-yaml"))
	require.Contains(t, text(findAll(parseHTML(t, p.Body), "ul", "workflow-errors")[0]), "document 1")
	ed.press("op-save", http.StatusUnprocessableEntity)
	require.Equal(t, "yaml", ed.values.Get("view"))
}

// YAML written by hand, comments and all, edited in the form: the
// comments stay, in the saved definition's text too.
func TestWorkflowFormKeepsComments(t *testing.T) {
	t.Parallel()
	f := newWFFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleAdmin)
	acc := f.member(t)
	team := f.memberTeam(t, acc)
	commented := fmt.Sprintf(`# Written by hand.
name: commented # the name stays
connection: %d
trigger:
  kind: manual # run by hand
steps:
  # Ask first.
  - id: ask
    kind: approval
    approver: boss@example.com
    timeout: 1h
    text: "{{if .Manager}}Hi {{.Manager}}: {{end}}may {{.Email}} go?"
  - id: remove
    kind: remove
    team: "%s"
    role: admin # a leftover
`, f.org.ID, team)
	ed := openEditor(t, br, br.mustGet("/workflows/new?view=yaml"))
	ed.set("f-yaml", commented)
	ed.press("op-view-form", http.StatusOK)
	require.Contains(t, text(ed.byID("wf-steps-0")), "kept as written", "a text with template logic is kept")
	require.False(t, ed.has("wf-steps-0-text"))
	require.Contains(t, text(ed.byID("wf-steps-1-team")), "Platform", "teams by name")

	// An error of a key the form does not show for the step is the step's.
	ed.press("op-check", http.StatusUnprocessableEntity)
	require.Contains(t, text(ed.byID("wf-steps-1")), "role: applies only to invite and change_role")
	ed.press("op-view-yaml", http.StatusOK)
	ed.set("f-yaml", strings.Replace(ed.value("f-yaml"), "    role: admin # a leftover\n", "", 1))
	ed.press("op-view-form", http.StatusOK)

	ed.set("wf-steps-0-timeout", "2h")
	ed.set("wf-add-step-kind", "sign_out")
	ed.press("op-add-step", http.StatusOK)
	ed.press("op-view-yaml", http.StatusOK)
	y := ed.value("f-yaml")
	for _, kept := range []string{"# Written by hand.", "name: commented # the name stays", "kind: manual # run by hand", "# Ask first.",
		`{{if .Manager}}Hi {{.Manager}}: {{end}}may {{.Email}} go?`, "timeout: 2h", "- id: sign-out\n    kind: sign_out"} {
		require.Contains(t, y, kept)
	}
	ed.press("op-view-form", http.StatusOK)
	ed.press("op-save", http.StatusSeeOther)
	saved, err := f.db.WorkflowByName(context.Background(), "commented")
	require.NoError(t, err)
	require.Equal(t, roster.Duration(2*time.Hour), saved.Steps[0].Timeout)
	require.Len(t, saved.Steps, 3)
}
