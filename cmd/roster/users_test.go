package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster/internal/api"
)

// decodeUsers reads `roster users --format json`: the JSON API's users
// (api.User, snake_case names), with no field the API type lacks.
func decodeUsers(t *testing.T, s string) []api.User {
	t.Helper()
	var users []api.User
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&users), s)
	for _, u := range users {
		require.NotEmpty(t, u.MiroUserID, "miro_user_id")
	}
	if len(users) > 0 {
		require.Contains(t, s, `"miro_user_id": `, "the API's names")
	}
	return users
}

// requireUsersCSV checks `roster users --format csv`: the columns of the
// dashboard's and the API's export (api.UserCSVHeader), then one row per
// user of want, in order.
func requireUsersCSV(t *testing.T, s string, want []api.User) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	require.NoError(t, err, s)
	require.Len(t, rows, 1+len(want), "the header and a row per person")
	require.Equal(t, api.UserCSVHeader, rows[0])
	for i, u := range want {
		require.Equal(t, u.MiroUserID, rows[i+1][1], "row %d", i+1)
	}
}
