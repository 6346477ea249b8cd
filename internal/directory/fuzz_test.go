package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// fuzzPeople are the directory the SCIM fuzz targets run against: ada,
// who is patched, and her manager, named by id in some seeds.
var fuzzPeople = []roster.Person{
	{Email: "boss@example.com", Name: "The Boss", ExternalID: "00u-boss"},
	{Email: "ada@example.com", Name: "Ada Lovelace", ManagerEmail: "boss@example.com", Department: "Eng",
		ExternalID: "00u-ada", Aliases: []string{"ada@old.example"}},
}

// scimStores are both backends holding fuzzPeople, with ids 1 and 2.
func scimStores(tb testing.TB) []*sqlstore.DB {
	tb.Helper()
	dbs := storetest.Stores(tb)
	for _, db := range dbs {
		for i, p := range fuzzPeople {
			require.NoError(tb, db.UpsertPerson(context.Background(), &p))
			require.Equal(tb, int64(i+1), p.ID)
		}
	}
	return dbs
}

// requireSCIMError: err is what the SCIM server sends as a 4xx, with a
// detail; anything else would be a 500.
func requireSCIMError(t *testing.T, err error) *Error {
	t.Helper()
	var se *Error
	require.ErrorAs(t, err, &se, "a SCIM error, not roster's own failure")
	require.GreaterOrEqual(t, se.Status, 400)
	require.Less(t, se.Status, 500)
	require.NotEmpty(t, se.Detail)
	return se
}

// FuzzSCIMFilter parses any filter and runs it as GET /Users does, on
// both backends. A filter is refused as invalidFilter, or it parses to a
// userName or externalId match whose value is what the filter's JSON
// string says (RFC 7644 §3.4.2.2), which formats and parses back to
// itself, and which the store answers: at most one user, the one asked
// for.
func FuzzSCIMFilter(f *testing.F) {
	dbs := scimStores(f)
	for _, s := range []string{
		// What Okta and Entra ID send before creating a user.
		`userName eq "ada@example.com"`, `userName eq "ADA@Example.com"`, `externalId eq "00u-ada"`,
		`userName eq "nobody@example.com"`, SchemaUser + `:userName eq "boss@example.com"`,
		`userName eq "ada@old.example"`, `userName eq "a\"b@example.com"`, `externalId eq "\u00e9\ud83d\ude00"`,
		`userName eq "a\/b"`, `userName Eq "x"`, ``, `  `, `userName`, `userName eq`, `userName eq ada`,
		`userName co "ada"`, `emails eq "a"`, `userName eq "a" and active eq true`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		ctx := context.Background()
		flt, err := ParseFilter(filter)
		for _, db := range dbs {
			svc := &Service{Store: db}
			resp, lerr := svc.List(ctx, filter, 1, 10)
			if err != nil {
				se := requireSCIMError(t, err)
				require.Equal(t, scimTypeFilter, se.SCIMType)
				require.Equal(t, err, lerr, "List refuses what ParseFilter refuses")
				continue
			}
			require.NoError(t, lerr, "%s: a filter that parses is one the store answers", db.Dialect())
			if flt.Attr == "" {
				require.Equal(t, len(fuzzPeople), resp.TotalResults, "no filter lists everyone")
				continue
			}
			require.LessOrEqual(t, resp.TotalResults, 1)
			require.Len(t, resp.Resources, resp.TotalResults)
			for _, u := range resp.Resources {
				switch flt.Attr {
				case "userName":
					require.Equal(t, roster.NormalizeEmail(flt.Value), u.UserName)
				case "externalId":
					require.Equal(t, flt.Value, u.ExternalID)
				default:
					t.Fatalf("no filter found %+v", u)
				}
			}
		}
		want, ok := jsonFilter(filter)
		if ok {
			require.NoError(t, err, "a filter whose value is a JSON string parses")
			require.Equal(t, want, flt)
		}
		if err != nil || flt.Attr == "" {
			return
		}
		quoted, merr := json.Marshal(flt.Value)
		require.NoError(t, merr)
		again, err := ParseFilter(flt.Attr + " eq " + string(quoted))
		require.NoError(t, err)
		require.Equal(t, flt, again, "the filter formats and parses back to itself")
	})
}

// jsonFilter reads `attr eq <JSON string>` as RFC 7644 writes it, for
// the attributes roster understands, and values without a NUL (no stored
// text holds one).
func jsonFilter(s string) (Filter, bool) {
	attr, rest, _ := strings.Cut(strings.TrimSpace(s), " ")
	op, val, _ := strings.Cut(strings.TrimSpace(rest), " ")
	var f Filter
	switch {
	case strings.EqualFold(attr, "userName"), strings.EqualFold(attr, SchemaUser+":userName"):
		f.Attr = "userName"
	case strings.EqualFold(attr, "externalId"), strings.EqualFold(attr, SchemaUser+":externalId"):
		f.Attr = "externalId"
	default:
		return f, false
	}
	val = strings.TrimSpace(val)
	if !strings.EqualFold(op, "eq") || !strings.HasPrefix(val, `"`) || json.Unmarshal([]byte(val), &f.Value) != nil {
		return f, false
	}
	return f, !strings.ContainsRune(f.Value, 0)
}

// FuzzSCIMPatch decodes any body as a PATCH of ada and applies it, on
// both backends. A body is refused as a SCIM 400, or the patch applies
// whole or not at all: it answers the user as stored, and that user is
// valid (an email roster accepts, a known status), or it answers a SCIM
// 4xx and the user is unchanged. The user is put back after each input.
func FuzzSCIMPatch(f *testing.F) {
	dbs := scimStores(f)
	// Most seeds are operations alone (wrap true), wrapped in a PatchOp
	// body when run, so that fuzzing mutates operations more than the
	// envelope.
	for _, ops := range []string{
		// Okta.
		`{"op":"replace","value":{"active":false}}`,
		`{"op":"replace","value":{"userName":"ada@new.example","name":{"givenName":"Ada","familyName":"King"}}}`,
		// Entra ID.
		`{"op":"Replace","path":"active","value":"False"}`,
		`{"op":"Add","path":"displayName","value":"Ada K."},{"op":"Replace","path":"name.familyName","value":"King"}`,
		`{"op":"Add","path":"` + SchemaEnterprise + `:manager","value":"1"}`,
		`{"op":"Replace","path":"` + SchemaEnterprise + `:department","value":"Ops"}`,
		`{"op":"Remove","path":"` + SchemaEnterprise + `:manager"}`,
		`{"op":"Add","path":"emails","value":[{"value":"ada@example.com","primary":true},{"value":"al@example.org"}]}`,
		`{"op":"Replace","path":"externalId","value":"00u-new"}`,
		`{"op":"add","value":{"` + SchemaEnterprise + `":{"department":"R&D","manager":{"value":"boss@example.com"}}}}`,
		// Refused.
		`{"op":"replace","path":"userName","value":"not an email"}`,
		`{"op":"replace","path":"userName","value":"boss@example.com"}`,
		`{"op":"replace","path":"manager","value":"2"}`,
		`{"op":"replace","path":"manager","value":"99"}`,
		`{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@b.example"}`,
		`{"op":"move","path":"active"}`, `{"op":"replace"}`, `{"op":"replace","path":"active","value":"maybe"}`,
	} {
		f.Add(true, []byte(ops))
	}
	f.Add(false, []byte(`{"schemas":[],"Operations":[]}`))
	f.Add(false, []byte(`{"schemas":["`+SchemaPatchOp+`"],"Operations":"x"}`))
	f.Add(false, []byte(`not json`))

	f.Fuzz(func(t *testing.T, wrap bool, body []byte) {
		if wrap {
			body = slices.Concat([]byte(`{"schemas":["`+SchemaPatchOp+`"],"Operations":[`), body, []byte(`]}`))
		}
		ctx := context.Background()
		pr, err := DecodePatch(body)
		if err != nil {
			requireSCIMError(t, err)
			return
		}
		for _, db := range dbs {
			svc := &Service{Store: db}
			before, err := db.PersonByID(ctx, 2)
			require.NoError(t, err)
			u, perr := svc.Patch(ctx, "2", pr)
			after, err := db.PersonByID(ctx, 2)
			require.NoError(t, err)
			if perr != nil {
				requireSCIMError(t, perr)
				require.Equal(t, before, after, "%s: a refused patch changes nothing", db.Dialect())
				continue
			}
			require.Equal(t, UserOf(after, ""), u, "%s: the answer is the user as stored", db.Dialect())
			check := after
			check.Normalize()
			require.NoError(t, check.Validate(), "%s: the stored user is valid", db.Dialect())
			// Put ada back for the next input.
			require.NoError(t, db.UpdatePerson(ctx, &before))
		}
	})
}

// FuzzImport imports any file, on both backends, as the dashboard's and
// the API's upload does. It never fails with roster's own error: a file
// is refused whole (a *FileError that says nothing was imported, and
// nothing was), or it is read row by row, every row counted as created,
// updated or failed, each failed row named with its line and column.
// Whatever it stores is a valid person: no row with an invalid email
// (or manager email, alias or status) is ever accepted. The file's name,
// as a browser sends it, is audited as UTF-8 text of at most 200 bytes.
func FuzzImport(f *testing.F) {
	dbs := storetest.Stores(f)
	header := strings.Join(CSVColumns, ",") + ",aliases\n"
	for _, s := range []string{
		header + "ada@example.com,Ada Lovelace,boss@example.com,Eng,active,ada@old.example;a.l@example.org\n" +
			"boss@example.com,The Boss,,Eng,,\n" + "grace@example.com,Grace,,Ops,left,\n",
		header + "not-an-email,Bad,,Eng,active,\n" + "sam@example.com,Sam,,,\n" + "\"lin@example.com\",\"Lin, Jr.\",,Sales,Active,\n",
		header + "ada@example.com,Ada,,,,\n" + "ADA@example.com,Ada again,,,,\n" + "kim@example.com,Kim,,,,ada@example.com\n",
		header + "a@example.com,\"unterminated\n",
		"\ufeffstatus,department,manager_email,name,email\r\nactive,Eng,,Zed,zed@example.com\r\n",
		header + "me@example.com,Me,me@example.com,,,\n",
		"", "email,name\n", "email,email,name,manager_email,department,status\n", header + strings.Repeat(",", 6) + "\n",
		"PK\x03\x04\x14\x00\x00\x00\x08\x00",
	} {
		f.Add("people.csv", []byte(s))
	}
	f.Add("", []byte(header))
	f.Add("Personal – Übersicht (2).csv", []byte(header))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ctx := context.Background()
		for _, db := range dbs {
			resetDirectory(t, db)
			rep, err := ImportFile(ctx, db, "fuzz", name, bytes.NewReader(data))
			people, perr := db.People(ctx, store.PeopleFilter{Limit: 1000})
			require.NoError(t, perr)
			if err != nil {
				var fe *FileError
				require.True(t, errors.As(err, &fe), "%s: a file is refused whole, never with roster's own error: %v", db.Dialect(), err)
				require.True(t, strings.HasSuffix(fe.Message, "Nothing was imported."), fe.Message)
				require.Zero(t, people.Total, "%s: a refused file imports nothing", db.Dialect())
				continue
			}
			require.Equal(t, rep.Rows, rep.Created+rep.Updated+rep.Failed, "every row is counted once")
			require.Equal(t, rep.OK(), len(rep.Errors) == 0)
			failed := map[int]bool{}
			for _, re := range rep.Errors {
				require.GreaterOrEqual(t, re.Row, 2, "the header is row 1")
				require.Contains(t, []string{"row", "email", "name", "manager_email", "department", "status", "aliases"}, re.Field)
				require.NotEmpty(t, re.Message)
				failed[re.Row] = true
			}
			require.Len(t, failed, rep.Failed, "each failed row is named")
			require.Equal(t, rep.Created, people.Total, "%s: each created row is a person", db.Dialect())
			for _, p := range people.People {
				check := p
				check.Normalize()
				require.NoError(t, check.Validate(), "%s: an imported person is valid", db.Dialect())
				require.Equal(t, check, p, "%s: stored normalized", db.Dialect())
				require.False(t, slices.Contains(p.Aliases, p.Email))
			}
			audit, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "directory"})
			require.NoError(t, err)
			require.Len(t, audit, 1, "the import is audited")
			require.True(t, utf8.ValidString(audit[0].Target), "%q", audit[0].Target)
			require.LessOrEqual(t, len(audit[0].Target), 200+len("…"))
			require.NotEmpty(t, strings.TrimSpace(audit[0].Target))
			require.False(t, strings.ContainsFunc(audit[0].Target, unicode.IsControl), "%q", audit[0].Target)
		}
	})
}

// resetDirectory empties the directory (and the audit log the imports
// write) before an input.
func resetDirectory(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	for _, table := range []string{"person_aliases", "people", "person_events", "audit_log"} {
		_, err := db.SQL().ExecContext(context.Background(), `DELETE FROM `+table)
		require.NoError(t, err, table)
	}
}
