package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/api"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestContractCommands drives `roster contract show` and `set` on SQLite
// and PostgreSQL: the default contract, a change of some terms keeping
// the others, every bad value refused by name with a non-zero exit and
// nothing saved.
func TestContractCommands(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t)
			var db []string
			if backend == "postgres" {
				db = []string{"--database", storetest.PostgresDSN(t)}
			}
			cli := func(args ...string) result {
				t.Helper()
				return e.roster(t, append(args, db...)...)
			}
			r := cli("connect", "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallOrgAdmin))
			require.NoError(t, r.err, r.stdout+r.stderr)
			r = cli("sync")
			require.NoError(t, r.err, r.stdout+r.stderr)
			org := e.info.OrgID

			// Nothing saved yet: the default contract.
			r = cli("contract", "show")
			require.NoError(t, r.err, r.stderr)
			require.Contains(t, r.stdout, e.info.OrgName+" ("+org+"), organization level")
			require.Contains(t, r.stdout, "none saved: priced by the default prices in Settings")
			require.Contains(t, r.stdout, "USD per month")
			require.Regexp(t, `Full +\d+ \(from Miro\)`, r.stdout)

			r = cli("contract", "set", "--org", org, "--currency", "eur", "--billing", "year", "--renewal", "2027-03-31",
				"--remind-days", "30", "--seats", "basic=10,standard=4", "--price", "full=192", "--price", "basic=48")
			require.NoError(t, r.err, r.stdout+r.stderr)
			require.Contains(t, r.stdout, "Saved.")
			require.Contains(t, r.stdout, "EUR per year")
			require.Contains(t, r.stdout, "2027-03-31, reminder 30 days before")
			require.Regexp(t, `Basic +10 +48.00`, r.stdout)

			// Only the terms given change.
			r = cli("contract", "set", "--org", org, "--price", "standard=30", "--seats", "full=5")
			require.NoError(t, r.err, r.stdout+r.stderr)
			require.Contains(t, r.stdout, "full seats were purchased; that count is used, not --seats full")
			r = cli("contract", "show", "--org", org, "--format", "json")
			require.NoError(t, r.err, r.stderr)
			var got api.Organization
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(&got), r.stdout)
			require.True(t, got.Contract.Saved)
			require.Equal(t, "EUR", got.Contract.Currency)
			require.Equal(t, "year", got.Contract.Billing)
			require.Equal(t, "2027-03-31", *got.Contract.RenewalOn)
			require.Equal(t, 30, got.Contract.RemindDays)
			require.Equal(t, map[string]api.ContractLine{"full": {Seats: 5, Price: 192}, "basic": {Seats: 10, Price: 48},
				"standard": {Seats: 4, Price: 30}}, got.Contract.Licenses)
			require.Positive(t, got.SeatsFromMiro)

			// Bad values: the flag is named, the exit is non-zero, nothing
			// is saved.
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"--currency", "euro"}, "--currency: Enter a three-letter currency code"},
				{[]string{"--billing", "week"}, "--billing: Choose monthly or yearly prices"},
				{[]string{"--renewal", "31/03/2027"}, "--renewal: Enter the date as YYYY-MM-DD"},
				{[]string{"--renewal", "1999-01-01"}, "--renewal: Enter a renewal date between 2000 and 2200"},
				{[]string{"--renewal", ""}, "--remind-days: A reminder needs a renewal date"},
				{[]string{"--remind-days", "400"}, "--remind-days: Enter a whole number of days from 0 to 365"},
				{[]string{"--remind-days", "soon"}, "--remind-days must be a whole number of days"},
				{[]string{"--seats", "basic=-1"}, "--seats basic: Enter a whole number of seats"},
				{[]string{"--seats", "basic=ten"}, "--seats basic: seats must be a whole number"},
				{[]string{"--seats", "basic"}, "--seats wants LICENSE=VALUE"},
				{[]string{"--seats", "gold=1"}, "--seats gold: unknown license"},
				{[]string{"--price", "full=-5"}, "--price full: Enter a price from 0 to 1000000"},
				{[]string{"--price", "full=2000000"}, "--price full: Enter a price from 0 to 1000000"},
				{[]string{"--price", "full=cheap"}, "--price full: the price must be a number"},
			} {
				r := cli(append([]string{"contract", "set", "--org", org}, tc.args...)...)
				require.Error(t, r.err, "%v", tc.args)
				require.Equal(t, 2, r.code(), "%v", tc.args)
				require.Contains(t, r.err.Error(), tc.want, "%v", tc.args)
			}
			r = cli("contract", "set", "--org", "999", "--currency", "EUR")
			require.Error(t, r.err)
			require.Contains(t, r.err.Error(), `no connection reaches organization "999"; the organizations are: `+org)
			r = cli("contract", "set", "--currency", "EUR")
			require.ErrorContains(t, r.err, "--org is required")
			r = cli("contract", "show", "--org", "999")
			require.ErrorContains(t, r.err, `no connection reaches organization "999"`)
			require.Error(t, cli("contract").err)
			require.Error(t, cli("contract", "renew").err)

			r = cli("contract", "show", "--org", org, "--format", "json")
			require.NoError(t, r.err)
			var after api.Organization
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &after))
			require.Equal(t, got.Contract, after.Contract, "a refused change saved nothing")

			// Each save is audited as the CLI's.
			st := storetest.Open(t, dsnOf(t, e, db))
			entries, err := st.AuditEntries(context.Background(), store.AuditFilter{Kind: "settings"})
			require.NoError(t, err)
			require.Len(t, entries, 2)
			for _, en := range entries {
				require.Equal(t, "save_contract", en.Action)
				require.True(t, strings.HasPrefix(en.Actor, "cli"), en.Actor)
			}
			c, err := st.Contract(context.Background(), org)
			require.NoError(t, err)
			require.Equal(t, roster.BillingYearly, c.Billing)
		})
	}
}

// dsnOf is the database the test's commands use: the --database given, or
// the data directory's SQLite file.
func dsnOf(t *testing.T, e *e2e, db []string) string {
	t.Helper()
	if len(db) == 2 {
		return db[1]
	}
	return e.dataDir + "/roster.db"
}
