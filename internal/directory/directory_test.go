package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// TestImport: good rows apply, each bad row is reported with its line
// and column and changes nothing, on both backends.
func TestImport(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		// Someone already there, whose alias a bad row tries to take.
		taken := roster.Person{Email: "old@example.com", Name: "Old", Aliases: []string{"shared@example.com"}}
		require.NoError(t, db.UpsertPerson(ctx, &taken))

		csv := "email,name,manager_email,department,status,aliases\n" +
			"Ada@Example.com,Ada Lovelace,boss@example.com,Eng,active,ada@miro.example;A.L@Example.org\n" + // row 2: good
			"not-an-email,Bad,,Eng,active,\n" + // row 3: bad email
			"grace@example.com,Grace,,Ops,retired,\n" + // row 4: bad status
			"kim@example.com,Kim,,Ops,,shared@example.com\n" + // row 5: alias taken
			"old@example.com,Old Timer,,Ops,left,\n" + // row 6: good (update)
			"ADA@example.com,Ada again,,,,\n" + // row 7: duplicate
			"sam@example.com,Sam,,,\n" + // row 8: too few fields
			"\"lin@example.com\",\"Lin, Jr.\",,Sales,Active,\n" // row 9: good
		rep, err := Import(ctx, db, strings.NewReader(csv))
		require.NoError(t, err)
		require.Equal(t, 8, rep.Rows)
		require.Equal(t, 2, rep.Created)
		require.Equal(t, 1, rep.Updated)
		require.Equal(t, 5, rep.Failed)
		require.False(t, rep.OK())
		require.Equal(t, []RowError{
			{Row: 3, Field: "email", Message: `"not-an-email" is not an email address`},
			{Row: 4, Field: "status", Message: `"retired" is neither active nor left`},
			{Row: 5, Field: "aliases", Message: "shared@example.com belongs to old@example.com"},
			{Row: 7, Field: "email", Message: "ada@example.com is already on row 2"},
			{Row: 8, Field: "row", Message: "has 5 fields, the header 6"},
		}, rep.Errors)

		ada, err := db.PersonForAccount(ctx, "a.l@EXAMPLE.org")
		require.NoError(t, err)
		require.Equal(t, "ada@example.com", ada.Email)
		require.Equal(t, "Ada Lovelace", ada.Name, "the duplicate row changed nothing")
		require.Equal(t, []string{"a.l@example.org", "ada@miro.example"}, ada.Aliases)
		old, err := db.PersonByEmail(ctx, "old@example.com")
		require.NoError(t, err)
		require.Equal(t, roster.PersonLeft, old.Status)
		require.Empty(t, old.Aliases, "a row without aliases clears them")
		lin, err := db.PersonByEmail(ctx, "lin@example.com")
		require.NoError(t, err)
		require.Equal(t, "Lin, Jr.", lin.Name)
		for _, e := range []string{"not-an-email", "grace@example.com", "kim@example.com", "sam@example.com"} {
			_, err := db.PersonByEmail(ctx, e)
			require.ErrorIs(t, err, store.ErrNotFound, e)
		}
		page, err := db.People(ctx, store.PeopleFilter{})
		require.NoError(t, err)
		require.Equal(t, 3, page.Total)
	})
}

func TestImportHeader(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	for _, in := range []string{"", "email,name\n", "email,name,manager_email,department,status,phone\n", "email,email,name,manager_email,department,status\n"} {
		_, err := Import(context.Background(), db, strings.NewReader(in))
		require.Error(t, err, in)
	}
	// Columns in any order, no aliases column, a BOM.
	rep, err := Import(context.Background(), db, strings.NewReader("\ufeffstatus,department,manager_email,name,email\nactive,Eng,,Zed,zed@example.com\n"))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Created)
}

func TestParseFilter(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Filter{
		``:                                  {},
		`userName eq "a@b.example"`:         {Attr: "userName", Value: "a@b.example"},
		`USERNAME EQ "A@B.example"`:         {Attr: "userName", Value: "A@B.example"},
		`externalId eq "00u\"x"`:            {Attr: "externalId", Value: `00u"x`},
		SchemaUser + `:userName eq "x@y.z"`: {Attr: "userName", Value: "x@y.z"},
	} {
		got, err := ParseFilter(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{`userName`, `userName eq`, `userName co "a"`, `emails eq "a"`, `userName eq a`, `userName eq "a" and active eq true`} {
		_, err := ParseFilter(in)
		var se *Error
		require.ErrorAs(t, err, &se, in)
		require.Equal(t, "invalidFilter", se.SCIMType, in)
	}
}

func TestUserRoundTrip(t *testing.T) {
	t.Parallel()
	p := roster.Person{ID: 7, Email: "jo@example.com", Name: "Jo Bloggs", ManagerEmail: "m@example.com", Department: "Eng",
		Status: roster.PersonLeft, ExternalID: "e7", Aliases: []string{"jo@old.example"}}
	u := UserOf(p, "https://roster.example/scim/v2/Users/")
	require.Equal(t, "7", u.ID)
	require.False(t, *u.Active)
	require.Equal(t, "Jo", u.Name.GivenName)
	require.Equal(t, "Bloggs", u.Name.FamilyName)
	require.Equal(t, "https://roster.example/scim/v2/Users/7", u.Meta.Location)
	var back roster.Person
	require.NoError(t, u.apply(&back, func(v string) (string, error) { return v, nil }))
	back.ID, back.CreatedAt, back.UpdatedAt = p.ID, p.CreatedAt, p.UpdatedAt
	require.Equal(t, p, back)
}

// failingReader gives a header, then fails for good.
type failingReader struct{ sent bool }

func (f *failingReader) Read(p []byte) (int, error) {
	if !f.sent {
		f.sent = true
		return copy(p, "email,name,manager_email,department,status\na@example.com,A,,,active\n"), nil
	}
	return 0, errors.New("disk on fire")
}

func TestImportReaderFailureStops(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		rep, err := Import(context.Background(), db, &failingReader{})
		require.ErrorContains(t, err, "disk on fire")
		require.Equal(t, 1, rep.Rows, "the rows read before the failure are reported")
	})
}

// TestImportManyAliases: a row listing aliases up to the upload limit is
// a row error, not an hour of one core (duplicates were looked for in
// quadratic time), and a row at the limit of aliases imports.
func TestImportManyAliases(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	var b strings.Builder
	b.WriteString("email,name,manager_email,department,status,aliases\nok@example.com,Ok,,,,")
	for i := range roster.MaxAliases {
		fmt.Fprintf(&b, "ok%d@example.com;", i)
	}
	b.WriteString("\nmany@example.com,Many,,,,")
	for i := 0; b.Len() < MaxImportBytes-100; i++ {
		fmt.Fprintf(&b, "m%d@x.io;", i)
	}
	b.WriteString("\n")
	rep, err := ImportFile(context.Background(), db, "test", "many.csv", strings.NewReader(b.String()))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Created)
	require.Equal(t, []RowError{{Row: 3, Field: "aliases", Message: "are more than 100 (at most 100 per person)"}}, rep.Errors)
	ok, err := db.PersonByEmail(context.Background(), "ok@example.com")
	require.NoError(t, err)
	require.Len(t, ok.Aliases, roster.MaxAliases)
}
