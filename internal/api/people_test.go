package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
)

// TestAPIPeople pages the directory over the JSON API.
func TestAPIPeople(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for i := range 5 {
		p := roster.Person{Email: fmt.Sprintf("p%d@example.com", i), Name: fmt.Sprintf("P %d", i), Aliases: []string{fmt.Sprintf("alt%d@example.com", i)}}
		if i == 4 {
			p.Status = roster.PersonLeft
		}
		require.NoError(t, b.db.UpsertPerson(ctx, &p))
	}
	key := b.newAPIKey(t, "reader", roster.ScopeRead)
	var emails []string
	cursor := ""
	for {
		a := b.api(t, "GET", "/api/v1/people?limit=2&cursor="+url.QueryEscape(cursor), key, nil)
		require.Equal(t, http.StatusOK, a.Status, string(a.Body))
		var out struct {
			Data       []Person `json:"data"`
			Total      int      `json:"total"`
			NextCursor string   `json:"next_cursor"`
		}
		a.decode(t, &out)
		require.Equal(t, 5, out.Total)
		for _, p := range out.Data {
			emails = append(emails, p.Email)
			require.Len(t, p.Aliases, 1)
		}
		if out.NextCursor == "" {
			break
		}
		cursor = out.NextCursor
	}
	require.Equal(t, []string{"p0@example.com", "p1@example.com", "p2@example.com", "p3@example.com", "p4@example.com"}, emails)

	a := b.api(t, "GET", "/api/v1/people?status=left", key, nil)
	require.Contains(t, string(a.Body), `"total":1`)
	a = b.api(t, "GET", "/api/v1/people?status=gone", key, nil)
	_, field, _ := a.errorBody(t)
	require.Equal(t, "status", field)
	a = b.api(t, "GET", "/api/v1/people?cursor=zzz", key, nil)
	_, field, _ = a.errorBody(t)
	require.Equal(t, "cursor", field)
}

// A SCIM token is not an API key for the JSON API.
func TestAPIRefusesSCIMKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.newAPIKey(t, "okta", roster.ScopeSCIM)
	a := b.api(t, "GET", "/api/v1/people", token, nil)
	require.Equal(t, http.StatusForbidden, a.Status, string(a.Body))
	code, _, _ := a.errorBody(t)
	require.Equal(t, "insufficient_scope", code)
}
