package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/directory"
	"roster/internal/httpauth"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// upload posts a multipart body (as multipartCSV builds it) with the
// session's CSRF token as a form field, as the import form does.
func (br *browser) upload(path, name, content string) page {
	br.t.Helper()
	body, ct := testkit.MultipartCSV(br.t, name, content, httpauth.CSRFField, br.csrf)
	req, err := http.NewRequest(http.MethodPost, br.b.ts.URL+path, bytes.NewReader(body))
	require.NoError(br.t, err)
	req.Header.Set("Content-Type", ct)
	resp, err := br.c.Do(req)
	require.NoError(br.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(br.t, err)
	return page{resp, string(raw)}
}

func TestDirectoryPage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		acc := f.member(t)
		accs, err := db.Accounts(ctx, store.AccountFilter{ConnectionID: f.org.ID})
		require.NoError(t, err)
		var other roster.Account
		for _, a := range accs {
			if a.Email != "" && a.ID != acc.ID {
				other = a
				break
			}
		}
		// One matches by email, one by alias, one not at all.
		for _, p := range []roster.Person{
			{Email: acc.Email, Name: "Matched Byemail", ManagerEmail: "boss@example.com", Department: "Sales", Status: roster.PersonActive},
			{Email: "someone.else@corp.example", Name: "Matched Byalias", Department: "Finance", Status: roster.PersonActive, Aliases: []string{other.Email}},
			{Email: "nobody@corp.example", Name: "No Match", Department: "Sales", Status: roster.PersonLeft},
		} {
			require.NoError(t, db.UpsertPerson(ctx, &p))
		}
		br := f.loggedIn(t, roster.RoleViewer)
		p := br.mustGet("/directory")
		require.Contains(t, p.Body, `href="/directory" aria-current="page">Directory</a>`)
		require.Equal(t, 3, total(t, p.Body))
		rows := findAll(parseHTML(t, p.Body), "tr", "")
		byName := map[string]string{}
		for _, r := range rows {
			byName[strings.SplitN(text(r), " ", 2)[0]] = text(r)
		}
		require.Contains(t, p.Body, `href="/users/`+itoa(acc.ID)+`"`)
		require.Contains(t, byName[acc.Email], "boss@example.com")
		require.Contains(t, byName[acc.Email], "Sales")
		require.Contains(t, p.Body, `href="/users/`+itoa(other.ID)+`"`)
		require.Contains(t, byName["someone.else@corp.example"], "by alias "+other.Email)
		require.Contains(t, byName["nobody@corp.example"], "left")
		require.Contains(t, byName["nobody@corp.example"], "none")
		// A viewer sees no import form.
		require.NotContains(t, p.Body, `action="/directory/import"`)

		// Search, status filter and the htmx fragment.
		finance := br.mustGet("/directory?q=finance").Body
		require.Equal(t, 1, total(t, finance))
		require.Equal(t, "1 person matches", text(findAll(parseHTML(t, finance), "p", "pager")[0]))
		require.Equal(t, 1, total(t, br.mustGet("/directory?status=left").Body))
		frag := br.get("/directory?q=sales", "HX-Request", "true", "HX-Target", "directory-results")
		require.Equal(t, http.StatusOK, frag.StatusCode)
		require.NotContains(t, frag.Body, "<html")
		require.Equal(t, 2, total(t, frag.Body))
		require.Contains(t, text(parseHTML(t, frag.Body)), "2 people match")
		require.Equal(t, http.StatusBadRequest, br.get("/directory?status=gone").StatusCode)
		require.Equal(t, http.StatusBadRequest, br.get("/directory?cursor=bogus").StatusCode)
	})
}

func TestDirectoryPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for i := range directoryPageSize + 5 {
		p := roster.Person{Email: "p" + itoa(int64(i)) + "@example.com", Name: "P", Status: roster.PersonActive}
		require.NoError(t, b.db.UpsertPerson(ctx, &p))
	}
	br := b.loggedIn(t, roster.RoleViewer)
	p := br.mustGet("/directory")
	require.Equal(t, directoryPageSize+5, total(t, p.Body))
	next := nextHref(t, p.Body)
	require.NotEmpty(t, next)
	p = br.mustGet(next)
	require.Len(t, findAll(parseHTML(t, p.Body), "tr", ""), 5+1) // and the header
	require.Empty(t, nextHref(t, p.Body))
}

func TestDirectoryImport(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		b := setupOn(t, db)
		ctx := context.Background()
		br := b.loggedIn(t, roster.RoleAdmin)

		p := br.mustGet("/directory")
		require.Contains(t, p.Body, `action="/directory/import" enctype="multipart/form-data"`)
		require.Contains(t, p.Body, "email,name,manager_email,department,status,aliases")

		// Refused uploads write nothing.
		before := storetest.Dump(t, db)
		p = br.upload("/directory/import", "", "")
		require.Equal(t, http.StatusBadRequest, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "Choose a CSV file to upload")
		p = br.upload("/directory/import", "people.csv", "mail,full_name\nann@example.com,Ann\n")
		require.Equal(t, http.StatusUnprocessableEntity, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "the header lacks email, name, manager_email, department, status")
		require.Contains(t, p.Body, "Nothing was imported")
		p = br.upload("/directory/import", "people.xlsx", "PK\x03\x04\x00\x00binary")
		require.Equal(t, http.StatusBadRequest, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "people.xlsx is not a CSV file")
		p = br.upload("/directory/import", "empty.csv", "")
		require.Equal(t, http.StatusBadRequest, p.StatusCode, p.Body)
		p = br.upload("/directory/import", "big.csv", strings.Repeat("x", directory.MaxImportBytes+100<<10))
		require.Equal(t, http.StatusRequestEntityTooLarge, p.StatusCode)
		require.Contains(t, p.Body, "at most 10 MB")
		p = br.post("/directory/import", nil)
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "multipart/form-data")
		require.Equal(t, before, storetest.Dump(t, db), "a refused upload wrote")

		// Good and bad rows: the good apply, the bad change nothing.
		csv := "email,name,manager_email,department,status,aliases\n" +
			"ann@example.com,Ann Lee,bob@example.com,Sales,active,ann.lee@example.com\n" +
			"not-an-email,Nobody,,Sales,active,\n" +
			"carl@example.com,Carl,,Finance,fired,\n" +
			"dora@example.com,Dora,,Finance,left,\n"
		p = br.upload("/directory/import", "people.csv", csv)
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		doc := parseHTML(t, p.Body)
		cell := func(class string) string {
			cs := findAll(doc, "td", class)
			require.Len(t, cs, 1, class)
			return text(cs[0])
		}
		require.Equal(t, "4", cell("rows"))
		require.Equal(t, "2", cell("created"))
		require.Equal(t, "0", cell("updated"))
		require.Equal(t, "2", cell("failed"))
		var failed [][]string
		for _, tr := range findAll(findAll(doc, "table", "row-errors")[0], "tr", "")[1:] {
			var cells []string
			for _, td := range findAll(tr, "td", "") {
				cells = append(cells, text(td))
			}
			failed = append(failed, cells)
		}
		require.Len(t, failed, 2)
		require.Equal(t, []string{"3", "email"}, failed[0][:2])
		require.Contains(t, failed[0][2], "not-an-email")
		require.Equal(t, []string{"4", "status"}, failed[1][:2])

		ann, err := db.PersonByEmail(ctx, "ann.lee@example.com")
		require.NoError(t, err)
		require.Equal(t, "ann@example.com", ann.Email)
		_, err = db.PersonByEmail(ctx, "dora@example.com")
		require.NoError(t, err)
		_, err = db.PersonByEmail(ctx, "carl@example.com")
		require.ErrorIs(t, err, store.ErrNotFound)
		entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "directory"})
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, "partial", entries[0].Result)
		require.Equal(t, "operator:admin@example.com", entries[0].Actor)

		// The directory now lists them.
		require.Equal(t, 2, total(t, br.mustGet("/directory").Body))
	})
}

func TestDirectoryImportForbiddenToViewers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.loggedIn(t, roster.RoleViewer)
	admin := b.loggedIn(t, roster.RoleAdmin)
	before := storetest.Dump(t, b.db)
	p := br.upload("/directory/import", "people.csv", "email,name,manager_email,department,status\nann@example.com,Ann,,Sales,active\n")
	require.Equal(t, http.StatusForbidden, p.StatusCode)
	require.Equal(t, before, storetest.Dump(t, b.db))

	// And without the CSRF token, an admin's upload is refused too.
	admin.csrf = "wrong"
	p = admin.upload("/directory/import", "people.csv", "email,name,manager_email,department,status\nann@example.com,Ann,,Sales,active\n")
	require.Equal(t, http.StatusForbidden, p.StatusCode)
	require.Equal(t, before, storetest.Dump(t, b.db))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
