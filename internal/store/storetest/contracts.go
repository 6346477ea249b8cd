package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

var contractTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Contracts/DefaultWhenNone", testContractDefault},
	{"Contracts/SaveLoad", testContractSaveLoad},
	{"Contracts/MarkRemindedOnce", testContractMarkRemindedOnce},
	{"Contracts/ReleaseReminder", testContractReleaseReminder},
	{"Contracts/ChangedRenewalResetsClaim", testContractChangedRenewal},
	{"Contracts/ErrInvalid", testContractInvalid},
}

// renewal is a renewal date as the store keeps it: a UTC midnight.
func renewal(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// someContract is a yearly EUR contract renewing on 2027-03-31.
func someContract(org string) roster.Contract {
	return roster.Contract{OrgID: org, Currency: "EUR", Billing: roster.BillingYearly,
		RenewalOn: renewal(2027, 3, 31), RemindDays: 30,
		Licenses: map[string]roster.LicenseTerms{
			roster.LicenseFull: {Seats: 100, Price: 192},
			"occasional":       {Price: 10.5},
			"basic":            {}, // nothing entered: not kept
		}}
}

func contractAudit(org string) roster.AuditEntry {
	return roster.AuditEntry{At: time.Now(), Actor: "operator:admin@example.com", Kind: "settings",
		Action: "save_contract", Target: "organization " + org, Result: "ok"}
}

// auditCount counts the settings kind of the audit log.
func auditCount(t *testing.T, s store.Store) int {
	t.Helper()
	entries, err := s.AuditEntries(ctx(), store.AuditFilter{Kind: "settings"})
	require.NoError(t, err)
	return len(entries)
}

func testContractDefault(t *testing.T, s store.Store) {
	settings := roster.DefaultSettings()
	settings.Currency, settings.LicensePrices = "GBP", map[string]float64{roster.LicenseFull: 14}
	require.NoError(t, s.SaveSettings(ctx(), settings))

	c, err := s.Contract(ctx(), "o-none")
	require.NoError(t, err)
	require.False(t, c.Saved, "nothing was saved")
	require.Equal(t, "o-none", c.OrgID)
	require.Equal(t, "GBP", c.Currency, "the settings' currency")
	require.Equal(t, roster.BillingMonthly, c.Billing)
	require.True(t, c.RenewalOn.IsZero())
	require.Equal(t, map[string]roster.LicenseTerms{roster.LicenseFull: {Price: 14}}, c.Licenses, "the default prices, no seats")
	all, err := s.Contracts(ctx())
	require.NoError(t, err)
	require.Empty(t, all, "a default contract is not a saved one")
}

func testContractSaveLoad(t *testing.T, s store.Store) {
	c := someContract("o1")
	require.NoError(t, s.SaveContract(ctx(), c, contractAudit("o1")))
	require.NoError(t, s.SaveContract(ctx(), roster.Contract{OrgID: "o0", Currency: "USD", Billing: roster.BillingMonthly}, contractAudit("o0")))

	got, err := s.Contract(ctx(), "o1")
	require.NoError(t, err)
	require.True(t, got.Saved)
	require.Equal(t, "EUR", got.Currency)
	require.Equal(t, roster.BillingYearly, got.Billing)
	require.True(t, got.RenewalOn.Equal(renewal(2027, 3, 31)), got.RenewalOn)
	require.Equal(t, 30, got.RemindDays)
	require.True(t, got.RemindedFor.IsZero(), "no reminder sent yet")
	require.Equal(t, map[string]roster.LicenseTerms{roster.LicenseFull: {Seats: 100, Price: 192}, "occasional": {Price: 10.5}},
		got.Licenses, "lines with nothing entered are dropped")
	require.False(t, got.UpdatedAt.IsZero())
	require.InDelta(t, 16.0, got.MonthlyPrice(roster.LicenseFull), 1e-9, "a yearly price is paid over 12 months")

	all, err := s.Contracts(ctx())
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, []string{"o0", "o1"}, []string{all[0].OrgID, all[1].OrgID}, "by organization id")
	require.Equal(t, 2, auditCount(t, s), "each save is audited with it")

	// Saving again replaces the whole contract.
	c.Currency, c.Billing, c.RenewalOn, c.RemindDays = "USD", roster.BillingMonthly, time.Time{}, 0
	c.Licenses = map[string]roster.LicenseTerms{"standard": {Seats: 5, Price: 8}}
	require.NoError(t, s.SaveContract(ctx(), c, contractAudit("o1")))
	got, err = s.Contract(ctx(), "o1")
	require.NoError(t, err)
	require.Equal(t, "USD", got.Currency)
	require.Equal(t, roster.BillingMonthly, got.Billing)
	require.True(t, got.RenewalOn.IsZero())
	require.Zero(t, got.RemindDays)
	require.Equal(t, map[string]roster.LicenseTerms{"standard": {Seats: 5, Price: 8}}, got.Licenses)
	all, err = s.Contracts(ctx())
	require.NoError(t, err)
	require.Len(t, all, 2, "an update adds no contract")
}

func testContractMarkRemindedOnce(t *testing.T, s store.Store) {
	c := someContract("o1")
	require.NoError(t, s.SaveContract(ctx(), c, contractAudit("o1")))

	// Another renewal date than the contract's claims nothing.
	ok, err := s.MarkReminded(ctx(), "o1", renewal(2027, 4, 30))
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = s.MarkReminded(ctx(), "o-none", c.RenewalOn)
	require.NoError(t, err)
	require.False(t, ok, "no contract, nothing to claim")

	// Many callers at once: exactly one wins.
	const callers = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
		errs []error
	)
	for range callers {
		wg.Go(func() {
			ok, err := s.MarkReminded(ctx(), "o1", c.RenewalOn)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				wins++
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Equal(t, 1, wins, "one claim per renewal date")
	got, err := s.Contract(ctx(), "o1")
	require.NoError(t, err)
	require.True(t, got.RemindedFor.Equal(c.RenewalOn), got.RemindedFor)
	require.False(t, got.ReminderDue(c.RenewalOn.AddDate(0, 0, -10)), "sent: not due any more")

	ok, err = s.MarkReminded(ctx(), "o1", c.RenewalOn)
	require.NoError(t, err)
	require.False(t, ok, "claimed already")
}

func testContractReleaseReminder(t *testing.T, s store.Store) {
	c := someContract("o1")
	require.NoError(t, s.SaveContract(ctx(), c, contractAudit("o1")))
	ok, err := s.MarkReminded(ctx(), "o1", c.RenewalOn)
	require.NoError(t, err)
	require.True(t, ok)

	// Releasing another date leaves the claim.
	require.NoError(t, s.ReleaseReminder(ctx(), "o1", renewal(2027, 4, 30)))
	got, err := s.Contract(ctx(), "o1")
	require.NoError(t, err)
	require.True(t, got.RemindedFor.Equal(c.RenewalOn))

	require.NoError(t, s.ReleaseReminder(ctx(), "o1", c.RenewalOn))
	got, err = s.Contract(ctx(), "o1")
	require.NoError(t, err)
	require.True(t, got.RemindedFor.IsZero(), "released")
	require.True(t, got.ReminderDue(c.RenewalOn.AddDate(0, 0, -10)), "due again")
	ok, err = s.MarkReminded(ctx(), "o1", c.RenewalOn)
	require.NoError(t, err)
	require.True(t, ok, "the next try claims it again")
}

func testContractChangedRenewal(t *testing.T, s store.Store) {
	c := someContract("o1")
	require.NoError(t, s.SaveContract(ctx(), c, contractAudit("o1")))
	ok, err := s.MarkReminded(ctx(), "o1", c.RenewalOn)
	require.NoError(t, err)
	require.True(t, ok)

	// Saving with the same renewal date keeps the claim.
	c.Licenses[roster.LicenseFull] = roster.LicenseTerms{Seats: 120, Price: 192}
	require.NoError(t, s.SaveContract(ctx(), c, contractAudit("o1")))
	got, err := s.Contract(ctx(), "o1")
	require.NoError(t, err)
	require.True(t, got.RemindedFor.Equal(c.RenewalOn), "same renewal: still sent")

	// A new renewal date is a new reminder.
	c.RenewalOn = renewal(2028, 3, 31)
	require.NoError(t, s.SaveContract(ctx(), c, contractAudit("o1")))
	got, err = s.Contract(ctx(), "o1")
	require.NoError(t, err)
	require.True(t, got.RemindedFor.IsZero(), "a changed renewal date resets the claim")
	ok, err = s.MarkReminded(ctx(), "o1", renewal(2027, 3, 31))
	require.NoError(t, err)
	require.False(t, ok, "the old date is no claim any more")
	ok, err = s.MarkReminded(ctx(), "o1", c.RenewalOn)
	require.NoError(t, err)
	require.True(t, ok)
}

func testContractInvalid(t *testing.T, s store.Store) {
	good := someContract("o1")
	require.NoError(t, s.SaveContract(ctx(), good, contractAudit("o1")))
	before, err := s.Contracts(ctx())
	require.NoError(t, err)
	audits := auditCount(t, s)

	bad := []func(c *roster.Contract){
		func(c *roster.Contract) { c.Currency = "euro" },
		func(c *roster.Contract) { c.Billing = "week" },
		func(c *roster.Contract) { c.RenewalOn = renewal(1999, 12, 31) },
		func(c *roster.Contract) { c.RemindDays = -1 },
		func(c *roster.Contract) { c.RemindDays = roster.MaxRemindDays + 1 },
		func(c *roster.Contract) { c.RenewalOn = time.Time{} }, // a reminder without a renewal date
		func(c *roster.Contract) { c.Licenses[roster.LicenseFull] = roster.LicenseTerms{Seats: -1} },
		func(c *roster.Contract) { c.Licenses[roster.LicenseFull] = roster.LicenseTerms{Price: -0.01} },
		func(c *roster.Contract) {
			c.Licenses[roster.LicenseFull] = roster.LicenseTerms{Price: roster.MaxSeatPrice + 1}
		},
		func(c *roster.Contract) { c.Licenses["gold"] = roster.LicenseTerms{Price: 1} },
	}
	for i, change := range bad {
		c := someContract("o1")
		change(&c)
		err := s.SaveContract(ctx(), c, contractAudit("o1"))
		require.ErrorIs(t, err, store.ErrInvalid, "change %d", i)
		var ce *roster.ContractError
		require.ErrorAs(t, err, &ce, "change %d names its field", i)
		require.NotEmpty(t, ce.Field)
	}
	// A refused new contract is not created either.
	err = s.SaveContract(ctx(), roster.Contract{OrgID: "o2", Currency: "EUR", Billing: "day"}, contractAudit("o2"))
	require.ErrorIs(t, err, store.ErrInvalid)

	after, err := s.Contracts(ctx())
	require.NoError(t, err)
	require.Equal(t, before, after, "a refused contract changed nothing")
	require.Equal(t, audits, auditCount(t, s), "and audited nothing")
}
