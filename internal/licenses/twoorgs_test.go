package licenses_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/insights"
	"roster/internal/licenses"
	"roster/internal/mirosim"
	"roster/internal/notify"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/testkit"
	"roster/internal/workflow"
)

// TestTwoOrganizations builds two organizations in the simulator, syncs
// them as roster does (Example Corp at organization level, Small Co 1's
// team at team level only), and checks every overview and Licenses
// number against values worked out by hand below.
//
// Example Corp (Miro says 10 full seats bought; contract: full 16 and
// occasional 12 a month):
//
//	admin, user1  full, used Miro an hour ago                    active
//	m1            full, used Miro yesterday, team 1              active
//	m2            full, last used 90 days ago, assigned 300 days ago, team 1  inactive
//	m3            full, like m2; the directory says left          inactive leaver
//	m4            full, used Miro 2 days ago; left per the directory (by alias)  active leaver
//	m5            full, assigned today, never logged in           active: a new hire
//	m6            free, never logged in                           never active
//	m7            occasional, used Miro 5 days ago                used this month
//	m8            full, deactivated                               deactivated only
//	m9            free, external user, used Miro yesterday        external
//
// Small Co 1: one team of 20, seen only at team level: usage unknown,
// licenses inferred full; priced by the default 10 a month.
func TestTwoOrganizations(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		k := testkit.New(t, db, mirosim.Config{Seed: 11, Members: 2, Teams: 2, NonEnterpriseTeams: 1, FullLicensesPurchased: 10})
		now := time.Now().UTC()
		day := 24 * time.Hour
		adminInstall, userInstall := k.Info.Installs[mirosim.InstallOrgAdmin], k.Info.Installs[mirosim.InstallOrgNonAdmin]
		teams := []string{adminInstall.TeamID, userInstall.TeamID}
		require.NotEqual(t, teams[0], teams[1])
		ptr := func(t time.Time) *time.Time { return &t }
		str := func(s string) *string { return &s }
		patch := func(id string, p mirosim.UserPatch) {
			t.Helper()
			_, err := k.Sim.UpdateMember(id, p)
			require.NoError(t, err)
		}
		for _, id := range []string{adminInstall.UserID, userInstall.UserID} {
			patch(id, mirosim.UserPatch{License: str("full"), LicenseAssignedAt: ptr(now.Add(-300 * day)), LastActivityAt: ptr(now.Add(-time.Hour))})
		}
		add := func(name, license, role string, inTeams []string, p mirosim.UserPatch) string {
			t.Helper()
			u, err := k.Sim.AddMember(mirosim.NewUser{Email: name + "@example.com", GivenName: name, FamilyName: "Test",
				Role: role, License: license, TeamIDs: inTeams})
			require.NoError(t, err)
			patch(u.ID, p)
			return u.Email
		}
		const internal = roster.OrgRoleInternalUser
		long := ptr(now.Add(-300 * day))
		m1 := add("m1", "full", internal, teams[:1], mirosim.UserPatch{LicenseAssignedAt: long, LastActivityAt: ptr(now.Add(-day))})
		add("m2", "full", internal, teams[:1], mirosim.UserPatch{LicenseAssignedAt: long, LastActivityAt: ptr(now.Add(-90 * day))})
		m3 := add("m3", "full", internal, nil, mirosim.UserPatch{LicenseAssignedAt: long, LastActivityAt: ptr(now.Add(-90 * day))})
		m4 := add("m4", "full", internal, teams[1:], mirosim.UserPatch{LicenseAssignedAt: long, LastActivityAt: ptr(now.Add(-2 * day))})
		m5 := add("m5", "full", internal, nil, mirosim.UserPatch{})
		add("m6", "free", internal, nil, mirosim.UserPatch{})
		add("m7", "occasional", internal, teams[1:], mirosim.UserPatch{LicenseAssignedAt: long, LastActivityAt: ptr(now.Add(-5 * day))})
		add("m8", "full", internal, nil, mirosim.UserPatch{LicenseAssignedAt: long, LastActivityAt: ptr(now.Add(-day)), Active: new(bool)})
		add("m9", "free", roster.OrgRoleExternalUser, nil, mirosim.UserPatch{LastActivityAt: ptr(now.Add(-day))})

		org, team := k.OrgAndTeam(t)
		require.NotEqual(t, org.OrgID, team.OrgID)

		admin, err := k.Admin.OrgMember(ctx, k.Info.OrgID, adminInstall.UserID)
		require.NoError(t, err)
		for _, p := range []roster.Person{
			{Email: m3, Status: roster.PersonLeft},
			{Email: "m4.old@example.com", Status: roster.PersonLeft, Aliases: []string{m4}},
			{Email: m1, Status: roster.PersonActive, Department: "Design"},
			{Email: admin.Email, Status: roster.PersonActive, Department: "IT"},
		} {
			require.NoError(t, db.UpsertPerson(ctx, &p))
		}
		settings := roster.DefaultSettings()
		settings.LicensePrices = map[string]float64{"full": 10}
		require.NoError(t, db.SaveSettings(ctx, settings))

		svc := &licenses.Service{Store: db}
		require.NoError(t, svc.SaveContract(ctx, roster.Contract{OrgID: org.OrgID, Currency: "USD", Billing: roster.BillingMonthly,
			Licenses: map[string]roster.LicenseTerms{"full": {Seats: 8, Price: 16}, "occasional": {Price: 12}}}, "operator:test"))

		report, err := svc.Report(ctx)
		require.NoError(t, err)
		require.Len(t, report.Summary.Orgs, 2)

		big, ok := report.Org(org.OrgID)
		require.True(t, ok)
		require.Equal(t, "Example Corp", big.Org.Name)
		require.True(t, big.Org.Exact)
		require.Equal(t, 11, big.Org.Accounts)
		require.Equal(t, 1, big.Org.Deactivated)
		require.Equal(t, 2, big.Org.NeverActive, "m5 and m6")
		require.Equal(t, 1, big.Org.External)
		require.Zero(t, big.Org.UsageUnknown)

		line := func(s insights.OrgSummary, license string) insights.LicenseLine {
			t.Helper()
			for _, l := range s.Licenses {
				if l.License == license {
					return l
				}
			}
			t.Fatalf("no %s line", license)
			return insights.LicenseLine{}
		}
		full := line(big, "full")
		// Miro's 10 seats win over the contract's 8.
		require.Equal(t, insights.LicenseLine{License: "full", Name: "Full", Purchased: 10, FromMiro: true,
			Assigned: 7, Active: 5, Inactive: 2, Leavers: 2, Unassigned: 3, UsedThisMonth: 4,
			MonthlyPrice: 16, MonthlyCost: 160, Utilisation: 0.5}, full)
		occ := line(big, "occasional")
		require.Equal(t, insights.LicenseLine{License: "occasional", Name: "Occasional", Assigned: 1, Active: 1,
			UsageBilled: true, UsedThisMonth: 1, MonthlyPrice: 12, MonthlyCost: 12, Utilisation: 1}, occ)
		free := line(big, "free")
		// m6's free license was assigned today: not inactive either.
		require.Equal(t, 2, free.Assigned)
		require.Equal(t, 2, free.Active)
		require.Zero(t, free.MonthlyCost)

		require.InDelta(t, 172, big.MonthlyCost, 1e-9)
		require.InDelta(t, 0.5, big.Utilisation, 1e-9)
		// The three kinds do not overlap: m3 is a leaver, not inactive.
		require.Equal(t, insights.Savings{UnassignedSeats: 3, Unassigned: 48, InactiveSeats: 1, Inactive: 16,
			LeaverSeats: 2, Leavers: 32}, big.Savings)
		var kinds []string
		for _, r := range big.Recommendations {
			kinds = append(kinds, r.Kind)
		}
		// Unassigned 48, leavers (m3, m4) 32, reclaim (m2: m3 left) 16, then
		// the external user m9.
		require.Equal(t, []string{insights.RecommendCutUnassigned, insights.RecommendRemoveLeavers,
			insights.RecommendReclaimInactive, insights.RecommendReviewGuests}, kinds)
		require.Equal(t, 2, big.Recommendations[1].Count, "m3 and m4")
		require.Equal(t, 1, big.Recommendations[2].Count, "m2; never the new hire m5")
		require.InDelta(t, 16, big.Recommendations[2].Monthly, 1e-9)

		small, ok := report.Org(team.OrgID)
		require.True(t, ok)
		require.False(t, small.Org.Exact)
		require.Equal(t, 20, small.Org.Accounts)
		require.Equal(t, 20, small.Org.UsageUnknown)
		require.Equal(t, 20, small.Org.Inferred)
		require.Zero(t, small.Org.NeverActive, "usage unknown is never 'never logged in'")
		sfull := line(small, "full")
		require.Equal(t, insights.LicenseLine{License: "full", Name: "Full", Assigned: 20, UsageUnknown: 20,
			MonthlyPrice: 10, MonthlyCost: 200}, sfull)
		require.Equal(t, insights.Savings{}, small.Savings, "usage unknown is never counted in savings")
		require.Zero(t, small.Utilisation)
		require.Empty(t, small.Recommendations)

		// Totals: people and money add up; both are in dollars.
		require.Equal(t, 31, report.Overview.Accounts)
		require.Equal(t, 2, report.Overview.FullInactive)
		require.Equal(t, 20, report.Overview.UsageUnknown)
		require.False(t, report.Summary.Mixed)
		require.InDelta(t, 372, report.Summary.MonthlyCost, 1e-9)
		require.InDelta(t, 96, report.Summary.Savings.Total(), 1e-9)

		// Chargeback by department adds up to the monthly cost.
		cb, err := svc.Chargeback(ctx, big, store.ChargebackByDepartment)
		require.NoError(t, err)
		got := map[string]float64{}
		for _, l := range cb.Lines {
			got[l.Label] = l.Cost
		}
		require.Equal(t, map[string]float64{"Design": 16, "IT": 16, "Not in the directory": 5*16 + 12, "Seats held by nobody": 48}, got)
		require.InDelta(t, big.MonthlyCost, cb.Total, 1e-9)
		require.Equal(t, 10, cb.People)

		// Today's trend point.
		trend, err := svc.Trend(ctx, org.OrgID, 30)
		require.NoError(t, err)
		require.Len(t, trend.Days, 1)
		require.Equal(t, roster.LicenseDay{Day: trend.Days[0].Day, OrgID: org.OrgID, License: "full", Purchased: 10,
			Assigned: 7, Active: 5, Inactive: 2}, trend.Days[0].Licenses["full"])

		// The same rule picks who a reclaim would run for: m2 and m3, never
		// the new hire m5 (assigned today, never logged in).
		engine := &workflow.Engine{Store: db, Notifier: &notify.Outbox{Log: db}}
		dry, err := engine.Preview(ctx, roster.Workflow{Name: "reclaim", ConnectionID: org.ID,
			Trigger:    roster.Trigger{Kind: roster.TriggerInactive, Days: 60},
			Conditions: []roster.Condition{{Field: roster.CondLicense, Op: "is", Value: roster.LicenseFull}},
			Steps:      []roster.Step{{ID: "tell", Kind: roster.StepNotify, Channel: roster.ChannelOutbox, Text: "{{.Email}}"}},
		}, nil)
		require.NoError(t, err)
		var would []string
		for _, r := range dry.Runs {
			would = append(would, r.Email)
		}
		require.ElementsMatch(t, []string{"m2@example.com", m3}, would)
		require.NotContains(t, would, m5)
	})
}
