package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"roster/internal/store"
)

// TestAPITeams pages the teams with the store's counts, and names a bad
// cursor or limit.
func TestAPITeams(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	ctx := context.Background()
	stats, err := f.db.TeamStats(ctx, store.TeamStatsQuery{InactiveBefore: f.clock.Now().AddDate(0, 0, -60)})
	require.NoError(t, err)
	key := f.newAPIKey(t, "teams", "read")
	var apiTeams []Team
	cursor := ""
	for range 20 {
		a := f.api(t, "GET", "/api/v1/teams?limit=2&cursor="+url.QueryEscape(cursor), key, nil)
		require.Equal(t, http.StatusOK, a.Status, string(a.Body))
		var list List[Team]
		require.NoError(t, json.Unmarshal(a.Body, &list))
		require.Equal(t, stats.Total, *list.Total)
		apiTeams = append(apiTeams, list.Data...)
		if cursor = list.NextCursor; cursor == "" {
			break
		}
	}
	require.Len(t, apiTeams, stats.Total)
	for i, st := range stats.Teams {
		require.Equal(t, Team{TeamID: st.Team.MiroTeamID, OrgID: st.Team.OrgID, Name: st.Team.Name, ConnectionID: st.ConnectionID,
			Members: st.Members, Admins: st.Admins, Licensed: st.Licensed, Inactive: st.Inactive}, apiTeams[i])
	}
	a := f.api(t, "GET", "/api/v1/teams?cursor=nonsense", key, nil)
	require.Equal(t, http.StatusBadRequest, a.Status)
	_, field, _ := a.errorBody(t)
	require.Equal(t, "cursor", field)
	a = f.api(t, "GET", "/api/v1/teams?limit=501", key, nil)
	require.Equal(t, http.StatusBadRequest, a.Status)
	_, field, _ = a.errorBody(t)
	require.Equal(t, "limit", field)
}
