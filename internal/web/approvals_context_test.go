package web

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store/storetest"
)

// TestApprovalContextAndBadge: a pending approval shows who, why (the
// trigger, last activity, the license and its monthly price under the
// organization's contract), what approving does in the dry run's words
// and what it saves, on the approvals page and the run page; the
// navigation loads the count of approvals waiting, for admins and
// viewers, and it falls when one is answered.
func TestApprovalContextAndBadge(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newWFFixture(t, db)
		f.enableSCIM(t)
		admin := f.loggedIn(t, roster.RoleAdmin)
		viewer := f.loggedIn(t, roster.RoleViewer)
		acc := f.licensedMember(t)
		license := roster.LicenseName(acc.License)
		require.NoError(t, f.db.SaveContract(context.Background(), roster.Contract{OrgID: f.org.OrgID, Currency: "EUR",
			Billing: roster.BillingYearly, Licenses: map[string]roster.LicenseTerms{acc.License: {Price: 240}}},
			roster.AuditEntry{Actor: "test", Kind: "settings", Action: "contract_saved"}))

		// The layout asks for the badge beside the Workflows link; it links to the approvals.
		p := admin.mustGet("/users")
		require.Contains(t, p.Body, `>Workflows</a><span id="approvals-badge" hx-get="/workflows/approvals?part=badge" hx-trigger="load"`)
		badge := admin.mustGet("/workflows/approvals?part=badge")
		require.NotContains(t, badge.Body, "<html")
		require.Contains(t, badge.Body, `id="approvals-badge"`)
		require.NotContains(t, badge.Body, `class="badge"`, "none waiting: no badge")

		id := f.createWorkflow(t, admin, fmt.Sprintf(`name: ask-then-deactivate
connection: %d
trigger:
  kind: manual
steps:
  - id: ask
    kind: approval
    approver: boss@example.com
    timeout: 72h
  - id: off
    kind: deactivate
`, f.org.ID))
		run := f.startRun(t, admin, id, acc.Email)
		f.work(t)
		require.Equal(t, roster.RunWaiting, f.run(t, run).Status)

		for _, br := range []*browser{admin, viewer} {
			b := br.mustGet("/workflows/approvals?part=badge")
			require.Equal(t, http.StatusOK, b.StatusCode)
			require.Contains(t, b.Body, `<a class="badge" href="/workflows/approvals" aria-label="1 approval waiting" title="1 approval waiting">1</a>`)
		}

		wantContext := func(t *testing.T, html string) {
			t.Helper()
			ctx := text(findAll(parseHTML(t, html), "dl", "approval-context")[0])
			for _, want := range []string{
				acc.Email,
				"ask-then-deactivate: manual, by operator:admin@example.com",
				"Last activity",
				license + ", 20.00 EUR a month",
				"off (deactivate): deactivate in the organization, freeing the " + license + " license",
				"Approving frees the " + license + " license: it saves 20.00 EUR a month.",
			} {
				require.Contains(t, ctx, want)
			}
		}
		p = admin.mustGet("/workflows/approvals")
		wantContext(t, p.Body)
		a := f.pendingApproval(t, run)
		require.Contains(t, p.Body, fmt.Sprintf(`action="/workflows/approvals/%d/approve"`, a.ID))
		p = viewer.mustGet("/workflows/approvals")
		wantContext(t, p.Body)
		require.NotContains(t, p.Body, "/approve\"", "a viewer reads the context but cannot answer")
		p = admin.mustGet(fmt.Sprintf("/workflows/runs/%d", run))
		wantContext(t, p.Body)
		require.Contains(t, p.Body, "Waiting for <strong>boss@example.com</strong>")

		p = admin.post(fmt.Sprintf("/workflows/approvals/%d/deny", a.ID), nil)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.NotContains(t, admin.mustGet("/workflows/approvals?part=badge").Body, `class="badge"`, "answered: none waiting")
	})
}
