package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
)

// SeedAt is the end of the seeded organization's sync; activity is spread
// over the 200 days before it.
var SeedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// SeedMembers is the size of the organization the dashboard benchmarks
// use: 100,000 accounts in 1,000 teams, 300,000 memberships.
const SeedMembers = 100_000

// FirstSyncDiff is the first sync of an organization ("o1") of n members
// in n/100 teams, each member in 3 teams, all with full licenses.
func FirstSyncDiff(n int) store.Diff {
	at := SeedAt
	teams := max(1, n/100)
	d := store.Diff{Organization: &roster.Organization{MiroOrgID: "o1", Name: "Big", Plan: "enterprise", FullLicensesPurchased: n}}
	for i := range teams {
		d.Teams = append(d.Teams, roster.Team{MiroTeamID: fmt.Sprintf("t%d", i), OrgID: "o1", Name: fmt.Sprintf("Team %d", i)})
	}
	for i := range n {
		id := fmt.Sprintf("3458764%012d", i)
		d.Accounts = append(d.Accounts, roster.Account{
			MiroUserID: id, Email: fmt.Sprintf("user%d@example.com", i), Name: fmt.Sprintf("User %d", i), OrgID: "o1",
			OrgRole: "organization_internal_user", License: roster.LicenseFull, LicenseExact: true, Active: true,
			LastActivityAt: at.Add(-time.Duration(i) * time.Minute), LicenseAssignedAt: at.Add(-time.Hour), FirstSeenAt: at,
		})
		d.Seen = append(d.Seen, id)
		for k := range 3 {
			d.Memberships = append(d.Memberships, roster.Membership{MiroUserID: id, MiroTeamID: fmt.Sprintf("t%d", (i+k*7)%teams), Role: "member"})
		}
		d.Changes = append(d.Changes, roster.Change{MiroUserID: id, Kind: roster.ChangeJoined, NewValue: roster.LicenseFull, At: at})
	}
	return d
}

// DashboardDiff is FirstSyncDiff(n) with a dashboard's mix: 70% full
// licenses, 1 in 13 never active, activity spread over 200 days before
// SeedAt, 2% guests, 1% external, 1% deactivated, 1% left.
func DashboardDiff(n int) store.Diff {
	d := FirstSyncDiff(n)
	for i := range d.Accounts {
		a := &d.Accounts[i]
		a.Name = fmt.Sprintf("%s %s", []string{"Ada", "Bob", "Cy", "Dee", "Eve", "Flo", "Gus"}[i%7], []string{"Lovelace", "Smith", "Young", "Ng", "Moss"}[i%5])
		switch {
		case i%10 >= 7:
			a.License = roster.LicenseFree
		case i%97 == 0:
			a.License, a.LicenseExact = roster.LicenseUnknown, false
		}
		// Licenses assigned long ago, so that activity alone decides who
		// is inactive (inactivity runs from the later of the two).
		a.LicenseAssignedAt = SeedAt.AddDate(-1, 0, 0)
		a.LastActivityAt = SeedAt.Add(-time.Duration(i%(200*24)) * time.Hour)
		if i%13 == 0 {
			a.LastActivityAt = time.Time{}
		}
		switch {
		case i%50 == 1:
			a.OrgRole = "organization_team_guest_user"
		case i%100 == 2:
			a.OrgRole = "organization_external_user"
		}
		a.Active = i%100 != 3
		if i%100 == 4 {
			a.LeftAt = SeedAt
		}
	}
	return d
}

// SeedDashboard stores an organization-level connection synced once (at
// SeedAt) with DashboardDiff(n), in one ApplySync, after a directory that
// knows 9 in 10 of its people (SeedDirectory), and returns the
// connection. On PostgreSQL it then runs VACUUM ANALYZE, as autovacuum
// would soon after a first sync. It is for benchmarks and load tests; the
// connection has no token, and a sync interval of 10 years so that a
// scheduler leaves it alone.
func SeedDashboard(ctx context.Context, db *sqlstore.DB, n int) (roster.Connection, error) {
	c := roster.Connection{Level: roster.LevelOrganization, OrgID: "o1", TeamID: "t0", SyncInterval: 10 * 365 * 24 * time.Hour}
	if err := db.CreateConnection(ctx, &c); err != nil {
		return c, fmt.Errorf("seed: create the connection: %w", err)
	}
	run := roster.SyncRun{ConnectionID: c.ID}
	if err := db.StartSyncRun(ctx, &run); err != nil {
		return c, fmt.Errorf("seed: start the sync run: %w", err)
	}
	run.EndedAt = SeedAt
	d := DashboardDiff(n)
	// The directory first, as an identity provider would have pushed it:
	// the accounts take its names as the sync inserts them.
	if err := SeedDirectory(ctx, db, d.Accounts); err != nil {
		return c, fmt.Errorf("seed: the directory: %w", err)
	}
	if err := db.ApplySync(ctx, &run, d); err != nil {
		return c, fmt.Errorf("seed: apply the sync: %w", err)
	}
	if db.Dialect() == "postgres" {
		if _, err := db.SQL().ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			return c, fmt.Errorf("seed: vacuum: %w", err)
		}
	}
	return c, nil
}

// Directory names of the seed: 40 given names by 40 family names.
var (
	seedGivenNames = []string{"Aisha", "Alejandro", "Amara", "Andrei", "Astrid", "Bruno", "Camille", "Chidi",
		"Daniela", "Dmitri", "Elif", "Emeka", "Fatima", "Felix", "Giulia", "Hamid", "Ingrid", "Jonas",
		"Kaito", "Leila", "Lucas", "Magnus", "Mariam", "Mateo", "Nadia", "Nikolai", "Olga", "Oscar",
		"Priyanka", "Rafael", "Rania", "Sofia", "Stefan", "Thabo", "Valentina", "Viktor", "Yasmin", "Yuki",
		"Zainab", "Zoltan"}
	seedFamilyNames = []string{"Abara", "Bergström", "Castellano", "Dąbrowski", "Eriksen", "Fernández",
		"Gallagher", "Hoffmann", "Iwasaki", "Jovanović", "Kowalczyk", "Lindqvist", "Mbeki", "Nakashima",
		"Okonkwo", "Petrov", "Quintero", "Rasmussen", "Schneider", "Takahashi", "Ulrich", "Vasquez",
		"Wójcik", "Xavier", "Yilmaz", "Zhang", "Achterberg", "Boateng", "Cardoso", "Delacroix",
		"Esposito", "Fitzgerald", "Grünewald", "Halvorsen", "Ibáñez", "Jankowski", "Kaczmarek",
		"Lombardi", "Marchetti", "Novotný"}
)

// SeedDirectory writes the directory people of accounts, straight into
// the tables in a few large statements (one UpsertPerson per person
// would take minutes): 9 in 10 accounts' emails belong to a person, 1 in
// 20 of them as an alias of another email; people are named from
// seedGivenNames and seedFamilyNames, in 20 departments, and 1 in 100 has
// left while their Miro account is still active: a leaver (not one whom
// DashboardDiff has leave Miro too, who would count nowhere). The search
// column is what roster writes (lower(email name
// department), lower-cased by Go).
func SeedDirectory(ctx context.Context, db *sqlstore.DB, accounts []roster.Account) error {
	type person struct{ email, name, department, status, alias string }
	var people []person
	for i, a := range accounts {
		n := i + 1 // the account's id once synced into an empty store
		if n%10 == 9 {
			continue
		}
		// By n/10: n%20 would leave 2 of the 20 departments empty (n%10 == 9
		// has no person), and 1 by alias only.
		p := person{email: a.Email, department: fmt.Sprintf("Department %d", (n/10)%20), status: string(roster.PersonActive)}
		given, family := seedGivenNames[i%len(seedGivenNames)], seedFamilyNames[(i/len(seedGivenNames))%len(seedFamilyNames)]
		p.name = given + " " + family
		if n%100 == 6 { // DashboardDiff's i%100 == 5: active, in Miro
			p.status = string(roster.PersonLeft)
		}
		if n%20 == 7 {
			p.email, p.alias = strings.ToLower(fmt.Sprintf("%s.%s.%d@corp.example.com", given, family, n)), a.Email
		}
		people = append(people, p)
	}
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	at := SeedAt.Format("2006-01-02T15:04:05.000000Z") // the store's time layout
	const rows = 40                                    // 6 parameters a row, under 300 a statement
	for batch := range slices.Chunk(people, rows) {
		var b strings.Builder
		args := []any{at}
		b.WriteString(`INSERT INTO people (email, name, department, status, search, created_at, updated_at) VALUES `)
		for i, p := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			k := len(args)
			fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $1, $1)", k+1, k+2, k+3, k+4, k+5)
			args = append(args, p.email, p.name, p.department, p.status, strings.ToLower(p.email+" "+p.name+" "+p.department))
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	for _, p := range people {
		if p.alias == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO person_aliases (person_id, email)
			SELECT id, $2 FROM people WHERE lower(email) = $1`, p.email, p.alias); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Seed100k opens the database dsn names and seeds it with
// SeedDashboard(SeedMembers): 100,000 accounts, 1,000 teams and 300,000
// memberships. The store is closed when tb ends.
func Seed100k(tb testing.TB, dsn string) (*sqlstore.DB, roster.Connection) {
	tb.Helper()
	db := Open(tb, dsn)
	c, err := SeedDashboard(context.Background(), db, SeedMembers)
	require.NoError(tb, err)
	return db, c
}

// SeedLicenseDays copies the seed's daily license points to each of the
// days before SeedAt, so that a trend has two years of points to read.
func SeedLicenseDays(ctx context.Context, db *sqlstore.DB, days int) error {
	for i := 1; i < days; i++ {
		_, err := db.SQL().ExecContext(ctx, `INSERT INTO license_days (day, org_id, license, purchased, assigned, active, inactive, usage_unknown)
			SELECT $1, org_id, license, purchased, assigned, active, inactive, usage_unknown FROM license_days WHERE day = $2`,
			SeedAt.AddDate(0, 0, -i).Format(time.DateOnly), SeedAt.Format(time.DateOnly))
		if err != nil {
			return fmt.Errorf("seed: license days: %w", err)
		}
	}
	return nil
}
