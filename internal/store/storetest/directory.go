package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// directoryTests check store.Directory.
var directoryTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Directory/UpsertOK", testPeopleUpsert},
	{"Directory/Match", testPeopleMatch},
	{"Directory/List", testPeopleList},
	{"Directory/ErrConflictAlias", testPeopleConflict},
	{"Directory/ErrNotFound", testPeopleNotFound},
	{"Directory/ErrInvalid", testPeopleInvalid},
}

func testPeopleUpsert(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := roster.Person{Email: " Ada@Example.com ", Name: "Ada", ManagerEmail: "Boss@Example.com",
		Department: "Eng", ExternalID: "ext-1", Aliases: []string{"ADA@old.example.com"}}
	require.NoError(t, s.UpsertPerson(ctx, &p))
	require.NotZero(t, p.ID)
	require.Equal(t, "ada@example.com", p.Email)
	require.Equal(t, roster.PersonActive, p.Status)

	got, err := s.PersonByID(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, "ada@example.com", got.Email)
	require.Equal(t, "boss@example.com", got.ManagerEmail)
	require.Equal(t, []string{"ada@old.example.com"}, got.Aliases)
	require.Equal(t, "ext-1", got.ExternalID)
	require.False(t, got.CreatedAt.IsZero())

	// The same email again updates in place.
	again := roster.Person{Email: "ADA@example.com", Name: "Ada L.", Status: roster.PersonLeft}
	require.NoError(t, s.UpsertPerson(ctx, &again))
	require.Equal(t, p.ID, again.ID)
	got, err = s.PersonByID(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, "Ada L.", got.Name)
	require.Equal(t, roster.PersonLeft, got.Status)
	require.Empty(t, got.Aliases)

	_, err = s.PersonByExternalID(ctx, "ext-1")
	require.ErrorIs(t, err, store.ErrNotFound, "the upsert cleared the external id")

	// UpdatePerson may change the email.
	got.Email, got.ExternalID = "ada@new.example.com", "ext-2"
	require.NoError(t, s.UpdatePerson(ctx, &got))
	byExt, err := s.PersonByExternalID(ctx, "ext-2")
	require.NoError(t, err)
	require.Equal(t, "ada@new.example.com", byExt.Email)
}

func testPeopleMatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := roster.Person{Email: "grace@example.com", Name: "Grace"}
	require.NoError(t, s.UpsertPerson(ctx, &p))
	require.NoError(t, s.SetAliases(ctx, p.ID, []string{"G.Hopper@Navy.example", "grace@miro.example"}))

	for _, e := range []string{"GRACE@example.com", "g.hopper@navy.example", " Grace@MIRO.example "} {
		got, err := s.PersonForAccount(ctx, e)
		require.NoError(t, err, e)
		require.Equal(t, p.ID, got.ID, e)
		got, err = s.PersonByEmail(ctx, e)
		require.NoError(t, err, e)
		require.Equal(t, p.ID, got.ID, e)
		require.Equal(t, []string{"g.hopper@navy.example", "grace@miro.example"}, got.Aliases)
	}
	_, err := s.PersonForAccount(ctx, "nobody@example.com")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Many at once: by email or alias, case-insensitively, with aliases.
	other := roster.Person{Email: "ada@example.com"}
	require.NoError(t, s.UpsertPerson(ctx, &other))
	emails := []string{"GRACE@example.com", "g.hopper@navy.example", "ada@example.com", "nobody@example.com", ""}
	for i := range 1500 { // more than one batch of parameters
		emails = append(emails, fmt.Sprintf("filler-%d@example.com", i))
	}
	many, err := s.PeopleForAccounts(ctx, emails)
	require.NoError(t, err)
	require.Len(t, many, 3)
	require.Equal(t, p.ID, many["grace@example.com"].ID)
	require.Equal(t, p.ID, many["g.hopper@navy.example"].ID)
	require.Equal(t, []string{"g.hopper@navy.example", "grace@miro.example"}, many["g.hopper@navy.example"].Aliases)
	require.Equal(t, other.ID, many["ada@example.com"].ID)
	none, err := s.PeopleForAccounts(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, none)
}

func testPeopleList(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, e := range []string{"a@x.example", "b@x.example", "c@x.example", "d@x.example", "e@x.example"} {
		p := roster.Person{Email: e, Name: "Person " + e, Department: "Sales", Aliases: []string{"alias-" + e}}
		if i%2 == 1 {
			p.Status, p.Department = roster.PersonLeft, "Eng_ineering"
		}
		require.NoError(t, s.UpsertPerson(ctx, &p))
	}
	var seen []string
	cursor := ""
	for {
		page, err := s.People(ctx, store.PeopleFilter{Cursor: cursor, Limit: 2})
		require.NoError(t, err)
		require.Equal(t, 5, page.Total)
		for _, p := range page.People {
			seen = append(seen, p.Email)
			require.Equal(t, []string{"alias-" + p.Email}, p.Aliases)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	require.Equal(t, []string{"a@x.example", "b@x.example", "c@x.example", "d@x.example", "e@x.example"}, seen)

	page, err := s.People(ctx, store.PeopleFilter{Status: roster.PersonLeft})
	require.NoError(t, err)
	require.Equal(t, 2, page.Total)
	page, err = s.People(ctx, store.PeopleFilter{Search: "ENG_"})
	require.NoError(t, err)
	require.Equal(t, 2, page.Total)
	page, err = s.People(ctx, store.PeopleFilter{Search: "g%i"})
	require.NoError(t, err)
	require.Equal(t, 0, page.Total, "LIKE wildcards match themselves")

	_, err = s.People(ctx, store.PeopleFilter{Cursor: "garbage"})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func testPeopleConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := roster.Person{Email: "a@example.com", Aliases: []string{"shared@example.com"}}
	require.NoError(t, s.UpsertPerson(ctx, &a))
	b := roster.Person{Email: "b@example.com"}
	require.NoError(t, s.UpsertPerson(ctx, &b))

	// An alias taken by another person, as alias or as email.
	require.ErrorIs(t, s.SetAliases(ctx, b.ID, []string{"Shared@example.com"}), store.ErrConflict)
	require.ErrorIs(t, s.SetAliases(ctx, b.ID, []string{"A@example.com"}), store.ErrConflict)
	c := roster.Person{Email: "c@example.com", Aliases: []string{"b@example.com"}}
	require.ErrorIs(t, s.UpsertPerson(ctx, &c), store.ErrConflict)
	// A new person whose email is another's alias.
	d := roster.Person{Email: "SHARED@example.com"}
	require.ErrorIs(t, s.UpsertPerson(ctx, &d), store.ErrConflict)
	// Changing an email to another person's.
	b.Email = "a@example.com"
	require.ErrorIs(t, s.UpdatePerson(ctx, &b), store.ErrConflict)

	// Nothing changed.
	_, err := s.PersonByEmail(ctx, "c@example.com")
	require.ErrorIs(t, err, store.ErrNotFound)
	got, err := s.PersonByID(ctx, b.ID)
	require.NoError(t, err)
	require.Equal(t, "b@example.com", got.Email)
	require.Empty(t, got.Aliases)
}

func testPeopleNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.PersonByID(ctx, 42)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.PersonByEmail(ctx, "x@example.com")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.DeletePerson(ctx, 42), store.ErrNotFound)
	require.ErrorIs(t, s.SetAliases(ctx, 42, nil), store.ErrNotFound)
	p := roster.Person{ID: 42, Email: "x@example.com"}
	require.ErrorIs(t, s.UpdatePerson(ctx, &p), store.ErrNotFound)

	q := roster.Person{Email: "y@example.com", Aliases: []string{"y2@example.com"}}
	require.NoError(t, s.UpsertPerson(ctx, &q))
	require.NoError(t, s.DeletePerson(ctx, q.ID))
	_, err = s.PersonByEmail(ctx, "y2@example.com")
	require.ErrorIs(t, err, store.ErrNotFound, "the aliases went with the person")
	r := roster.Person{Email: "r@example.com", Aliases: []string{"y2@example.com"}}
	require.NoError(t, s.UpsertPerson(ctx, &r), "a deleted person's alias is free again")
}

func testPeopleInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := roster.Person{Email: "not an email", Status: "gone"}
	err := s.UpsertPerson(ctx, &p)
	require.ErrorIs(t, err, store.ErrInvalid)
	var pe roster.PersonErrors
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe, 2)
	require.Equal(t, "email", pe[0].Field)
	require.Equal(t, "status", pe[1].Field)
	page, err := s.People(ctx, store.PeopleFilter{})
	require.NoError(t, err)
	require.Zero(t, page.Total)
}
