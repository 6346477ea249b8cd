package licenses_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/insights"
	"roster/internal/licenses"
	"roster/internal/mirosim"
	"roster/internal/notify"
	"roster/internal/notify/notifytest"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// bundle is the service over a store synced from the simulator: an
// organization-level connection (Miro says how many full seats were
// bought) and a team-level one reaching another organization.
type bundle struct {
	kit       *testkit.Kit
	db        *sqlstore.DB
	svc       *licenses.Service
	org, team roster.Connection
	now       time.Time
}

func setup(t *testing.T, db *sqlstore.DB) *bundle {
	t.Helper()
	k := testkit.New(t, db, mirosim.Config{Seed: 7, Members: 120, Teams: 6, TeamsPerMember: 2, NonEnterpriseTeams: 1})
	b := &bundle{kit: k, db: db, now: time.Now().UTC()}
	b.svc = &licenses.Service{Store: db, Now: func() time.Time { return b.now }}
	b.org, b.team = k.OrgAndTeam(t)
	require.NotEqual(t, b.org.OrgID, b.team.OrgID)
	return b
}

// day is a UTC date days from the bundle's now.
func (b *bundle) day(days int) time.Time {
	return time.Date(b.now.Year(), b.now.Month(), b.now.Day()+days, 0, 0, 0, 0, time.UTC)
}

func contractAudits(t *testing.T, db *sqlstore.DB) []roster.AuditEntry {
	t.Helper()
	entries, err := db.AuditEntries(context.Background(), store.AuditFilter{Kind: "settings"})
	require.NoError(t, err)
	return entries
}

// TestSaveContract: only an organization a connection reaches gets a
// contract, only a valid one, audited in words; a refusal changes nothing.
func TestSaveContract(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		b := setup(t, db)
		ctx := context.Background()
		good := roster.Contract{OrgID: b.org.OrgID, Currency: "EUR", Billing: roster.BillingYearly, RenewalOn: b.day(40), RemindDays: 30,
			Licenses: map[string]roster.LicenseTerms{roster.LicenseFull: {Seats: 80, Price: 192}, "basic": {Seats: 3, Price: 60}}}

		var ce *roster.ContractError
		unknown := good
		unknown.OrgID = "999"
		err := b.svc.SaveContract(ctx, unknown, "operator:ann@example.com")
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "org", ce.Field)
		require.Contains(t, ce.Message, `No connection reaches organization "999"`)

		bad := good
		bad.Licenses = map[string]roster.LicenseTerms{roster.LicenseFull: {Price: -1}}
		require.ErrorAs(t, b.svc.SaveContract(ctx, bad, "operator:ann@example.com"), &ce)
		require.Equal(t, "price_full", ce.Field)

		all, err := db.Contracts(ctx)
		require.NoError(t, err)
		require.Empty(t, all, "refused contracts are not saved")
		require.Empty(t, contractAudits(t, db), "nor audited")

		require.NoError(t, b.svc.SaveContract(ctx, good, "operator:ann@example.com"))
		got, err := b.svc.Contract(ctx, b.org.OrgID)
		require.NoError(t, err)
		require.True(t, got.Saved)
		require.Equal(t, good.Licenses, got.Licenses)
		entries := contractAudits(t, db)
		require.Len(t, entries, 1)
		require.Equal(t, "save_contract", entries[0].Action)
		require.Equal(t, "operator:ann@example.com", entries[0].Actor)
		require.Equal(t, "organization "+b.org.OrgID, entries[0].Target)
		require.Equal(t, "EUR, prices per year; Full: 80 seats at 192; Basic: 3 seats at 60; renews "+
			b.day(40).Format(time.DateOnly)+", reminder 30 days before", entries[0].Detail)

		// The team-level organization is reached too.
		require.NoError(t, b.svc.SaveContract(ctx, roster.Contract{OrgID: b.team.OrgID, Currency: "GBP", Billing: roster.BillingMonthly}, "cli:ann"))
	})
}

// TestOrganizationsAndReport: every organization a connection reaches,
// priced by its contract or the default prices; one not synced yet is
// listed with zero counts; currencies that differ are not summed.
func TestOrganizationsAndReport(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t, storetest.SQLiteDSN(t)))
	ctx := context.Background()
	settings, err := b.db.Settings(ctx)
	require.NoError(t, err)
	settings.LicensePrices = map[string]float64{roster.LicenseFull: 10}
	require.NoError(t, b.db.SaveSettings(ctx, settings))
	fresh := roster.Connection{Level: roster.LevelOrganization, OrgID: "3458764999000000001", OrgName: "Another Org", TeamID: "t-a",
		TeamName: "Main", InstallerID: "u-1", Scopes: []string{roster.ScopeTeamRead}, APIBaseURL: b.kit.Info.APIBaseURL,
		SealedToken: []byte{1}, Status: roster.StatusActive, SyncInterval: time.Hour}
	require.NoError(t, b.db.CreateConnection(ctx, &fresh))

	orgs, err := b.svc.Organizations(ctx)
	require.NoError(t, err)
	ids := []string{}
	for _, o := range orgs {
		ids = append(ids, o.ID)
	}
	require.Equal(t, []string{fresh.OrgID, b.org.OrgID, b.team.OrgID}, ids, "by name (Another Org, Example Corp twice), then id")
	org, err := b.svc.Organization(ctx, b.org.OrgID)
	require.NoError(t, err)
	require.True(t, org.Exact)
	require.True(t, org.Synced)
	require.Positive(t, org.Summary.Org.SeatsFromMiro)
	require.False(t, org.Contract.Saved)
	seats := org.Summary.Org.SeatsFromMiro
	require.InDelta(t, float64(seats)*10, org.Summary.MonthlyCost, 1e-9, "the default prices: Miro's seats at 10")
	team, err := b.svc.Organization(ctx, b.team.OrgID)
	require.NoError(t, err)
	require.False(t, team.Exact, "team level only")
	other, err := b.svc.Organization(ctx, fresh.OrgID)
	require.NoError(t, err)
	require.False(t, other.Synced)
	require.Equal(t, "Another Org", other.Name)
	require.Zero(t, other.Summary.Org.Accounts)
	_, err = b.svc.Organization(ctx, "nope")
	require.ErrorIs(t, err, store.ErrNotFound)

	// A yearly EUR contract for one: its own money, the totals not summed.
	require.NoError(t, b.svc.SaveContract(ctx, roster.Contract{OrgID: b.org.OrgID, Currency: "EUR", Billing: roster.BillingYearly,
		Licenses: map[string]roster.LicenseTerms{roster.LicenseFull: {Seats: 5, Price: 240}}}, "test"))
	rep, err := b.svc.Report(ctx)
	require.NoError(t, err)
	sum, ok := rep.Org(b.org.OrgID)
	require.True(t, ok)
	require.Equal(t, "EUR", sum.Contract.Currency)
	require.InDelta(t, float64(seats)*20, sum.MonthlyCost, 1e-9, "Miro's seat count wins over the contract's 5, at 240 a year")
	require.True(t, rep.Summary.Mixed)
	require.Zero(t, rep.Summary.MonthlyCost, "EUR and USD are not added")
	teamSum, ok := rep.Org(b.team.OrgID)
	require.True(t, ok)
	require.Equal(t, "USD", teamSum.Contract.Currency, "the other organization keeps the default contract")
}

// TestTrendAndChargeback: the daily points after a sync; chargeback by
// team and by department adds up to the organization's monthly cost.
func TestTrendAndChargeback(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		b := setup(t, db)
		ctx := context.Background()
		require.NoError(t, b.svc.SaveContract(ctx, roster.Contract{OrgID: b.org.OrgID, Currency: "EUR", Billing: roster.BillingMonthly,
			Licenses: map[string]roster.LicenseTerms{roster.LicenseFull: {Price: 16}, "occasional": {Price: 10}, "standard": {Price: 8}}}, "test"))

		for _, days := range []int{0, -1, licenses.TrendDays + 1} {
			_, err := b.svc.Trend(ctx, b.org.OrgID, days)
			require.Error(t, err, "days %d", days)
		}
		tr, err := b.svc.Trend(ctx, b.org.OrgID, 30)
		require.NoError(t, err)
		require.NotEmpty(t, tr.Days)
		last := tr.Days[len(tr.Days)-1]
		require.True(t, last.Day.Equal(b.day(0)), "today's point: %s", last.Day)
		rep, err := b.svc.Report(ctx)
		require.NoError(t, err)
		sum, _ := rep.Org(b.org.OrgID)
		require.Equal(t, sum.Org.Licenses[roster.LicenseFull].Assigned, last.Licenses[roster.LicenseFull].Assigned)
		require.Equal(t, roster.LicenseFull, tr.Licenses[0], "in Miro's order")

		for _, by := range []string{store.ChargebackByTeam, store.ChargebackByDepartment} {
			cb, err := b.svc.Chargeback(ctx, sum, by)
			require.NoError(t, err)
			require.InDelta(t, sum.MonthlyCost, cb.Total, 1e-6, "by %s: the lines add up to the organization's cost", by)
			total := 0.0
			for _, l := range cb.Lines {
				total += l.Cost
				require.NotEmpty(t, l.Label)
			}
			require.InDelta(t, cb.Total, total, 1e-6)
		}
		_, err = b.svc.Chargeback(ctx, sum, "cost-centre")
		require.ErrorContains(t, err, `group by must be "team" or "department"`)
		// An unknown organization is found out before chargeback: by the
		// lookup every caller makes.
		_, err = b.svc.Organization(ctx, "nope")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

// TestRemindRenewals: a reminder goes out within its days before the
// renewal, once per renewal date, on Slack and the webhook, in plain
// words; not before, not after the renewal, not without reminder days.
func TestRemindRenewals(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t, storetest.SQLiteDSN(t)))
	ctx := context.Background()
	hook, slack := notifytest.NewWebhook(t, "s3cret-s3cret"), notifytest.NewSlack(t)
	n, err := notify.New(notify.Config{WebhookURL: hook.URL(), WebhookSecret: "s3cret-s3cret", SlackWebhookURL: slack.URL()})
	require.NoError(t, err)
	save := func(org string, renewal time.Time, remind int) {
		t.Helper()
		require.NoError(t, b.svc.SaveContract(ctx, roster.Contract{OrgID: org, Currency: "EUR", Billing: roster.BillingMonthly,
			RenewalOn: renewal, RemindDays: remind,
			Licenses: map[string]roster.LicenseTerms{roster.LicenseFull: {Price: 16}}}, "test"))
	}

	// Not yet due: 40 days out with a 30-day reminder; no reminder days;
	// a renewal already past.
	save(b.org.OrgID, b.day(40), 30)
	save(b.team.OrgID, b.day(5), 0)
	sent, err := b.svc.RemindRenewals(ctx, n)
	require.NoError(t, err)
	require.Zero(t, sent)
	save(b.org.OrgID, b.day(-1), 30)
	sent, err = b.svc.RemindRenewals(ctx, n)
	require.NoError(t, err)
	require.Zero(t, sent)
	require.Zero(t, hook.Attempts()+slack.Attempts())

	// Ten days out: due; sent on both channels, once.
	save(b.org.OrgID, b.day(10), 30)
	for range 3 {
		_, err := b.svc.RemindRenewals(ctx, n)
		require.NoError(t, err)
	}
	require.Len(t, hook.Deliveries(), 1)
	require.Len(t, slack.Deliveries(), 1)
	text := slack.Deliveries()[0].Text
	rep, err := b.svc.Report(ctx)
	require.NoError(t, err)
	sum, _ := rep.Org(b.org.OrgID)
	require.True(t, strings.HasPrefix(text, "Miro renews in 10 days for "+sum.Org.Name+" ("+b.day(10).Format("Jan 2, 2006")+")\nIt costs EUR "), text)
	require.Equal(t, 1, strings.Count(text, "Miro renews"), "the subject is not repeated")
	if u := sum.Savings.UnassignedSeats; u > 0 {
		require.Contains(t, text, insights.Count(u)+" paid seats are held by nobody")
	}
	data, _ := hook.Deliveries()[0].JSON["data"].(map[string]any)
	require.Equal(t, b.day(10).Format(time.DateOnly), data["renewal_on"])

	// The day before: "tomorrow", for a new date.
	save(b.org.OrgID, b.day(1), 30)
	sent, err = b.svc.RemindRenewals(ctx, n)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	require.Contains(t, slack.Deliveries()[1].Text, "Miro renews tomorrow for")

	// A renewal date today is still reminded of, once.
	save(b.org.OrgID, b.day(0), 30)
	sent, err = b.svc.RemindRenewals(ctx, n)
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	require.Contains(t, slack.Deliveries()[2].Text, "Miro renews today for")
	require.Empty(t, hook.Rejected())
}

// TestRemindRenewalsStoreFailure: an error reading the contracts is
// returned, not swallowed.
func TestRemindRenewalsStoreFailure(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	svc := &licenses.Service{Store: db}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := svc.RemindRenewals(ctx, nil)
	require.Error(t, err)
	require.True(t, errors.Is(err, context.Canceled), err)
}
