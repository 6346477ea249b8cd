package miro

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
)

// pageLists are the lists FuzzListPage reads a page of.
var pageLists = []string{"members", "teams", "team members", "audit"}

// FuzzListPage answers the first page of each list with any body, and an
// empty last page after it, through the client's whole path (request,
// decoding, paging). The walk ends; it yields exactly the items that
// encoding/json reads from the page, or an error that names the call and
// nothing of that page; and it never yields a member, team or team
// member without an id, which a sync would file under "" (or, were it
// skipped, take for someone who left).
func FuzzListPage(f *testing.F) {
	for kind, body := range simPages(f) {
		f.Add(uint8(kind), body)
	}
	// Miro's documented shapes: audit times with an offset without a
	// colon, a member who never signed in, a number where a string goes.
	// (testdata/fuzz holds what fuzzing found.)
	f.Add(uint8(3), []byte(`{"limit":100,"size":1,"data":[{"id":"1","event":"sign_in_succeeded","category":"authentication",`+
		`"createdAt":"2023-09-01T09:30:10.840+0000","context":{"ip":"1.2.3.4"},"createdBy":{"type":"user","id":"3458764","name":"A","email":"a@example.com"}}],"cursor":"","type":"cursor-list"}`))
	f.Add(uint8(0), []byte(`{"data":[{"id":"3458764","email":"a@example.com","active":true,"role":"organization_internal_user","license":"full","lastActivityAt":"","licenseAssignedAt":null}],"cursor":"c1"}`))
	f.Add(uint8(1), []byte(`{"data":[{"id":3458764,"name":"T"}]}`))
	f.Add(uint8(2), []byte(`{"data":null,"cursor":null}`))
	f.Add(uint8(0), []byte(`[]`))
	f.Add(uint8(1), []byte(`<html>502 Bad Gateway</html>`))

	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		list := pageLists[int(kind)%len(pageLists)]
		var calls atomic.Int32
		c, err := New(Config{
			BaseURL: "https://miro.invalid", Token: StaticToken("t"), MaxRetries: -1,
			HTTPClient: &http.Client{Transport: roundTrip(func(r *http.Request) *http.Response {
				if calls.Add(1) == 1 {
					return jsonAnswer(body)
				}
				require.NotEmpty(t, r.URL.Query().Get("cursor"), "only a page with a cursor is followed")
				return jsonAnswer([]byte(`{"data":[],"cursor":""}`))
			})},
		})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		switch list {
		case "members":
			checkWalk(t, c.OrgMembers(ctx, "o1", MemberFilter{}), body, func(m OrganizationMember) string { return m.ID })
		case "teams":
			checkWalk(t, c.Teams(ctx, "o1", ""), body, func(m Team) string { return m.ID })
		case "team members":
			checkWalk(t, c.TeamMembers(ctx, "o1", "t1", ""), body, func(m TeamMember) string { return m.ID })
		case "audit":
			q := AuditQuery{CreatedAfter: time.Unix(0, 0), CreatedBefore: time.Unix(1, 0)}
			checkWalk(t, c.AuditLogs(ctx, q), body, nil)
		}
		require.LessOrEqual(t, calls.Load(), int32(2), "one page and the empty one after it")
	})
}

// checkWalk drains seq and compares it with what encoding/json reads
// from body. id, when not nil, is the id every item must have.
func checkWalk[T any](t *testing.T, seq iter.Seq2[T, error], body []byte, id func(T) string) {
	t.Helper()
	var (
		got     []T
		walkErr error
	)
	for item, err := range seq {
		if err != nil {
			walkErr = err
			break
		}
		if id != nil {
			require.NotEmpty(t, id(item), "an item without an id was yielded")
		}
		got = append(got, item)
	}
	var want cursorList[T]
	jerr := json.Unmarshal(body, &want)
	missing := false
	for _, item := range want.Data {
		missing = missing || id != nil && id(item) == ""
	}
	if jerr != nil || missing {
		require.Error(t, walkErr, "a page that is not a list of items with ids is refused")
		require.True(t, strings.HasPrefix(walkErr.Error(), "miro: GET /v2/"), "the error names the call: %v", walkErr)
		require.Empty(t, got, "nothing of a refused page is yielded")
		return
	}
	require.NoError(t, walkErr)
	require.Len(t, got, len(want.Data))
	if id != nil {
		for i := range got {
			require.Equal(t, id(want.Data[i]), id(got[i]))
		}
	}
}

type roundTrip func(*http.Request) *http.Response

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r), nil }

func jsonAnswer(body []byte) *http.Response {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(body))}
}

// simPages are real first pages of each list, as the simulator answers
// them, indexed as pageLists.
func simPages(tb testing.TB) [][]byte {
	tb.Helper()
	b := setup(tb, mirosim.Config{Members: 40, Teams: 3})
	tok := b.info.Installs[mirosim.InstallOrgAdmin].AccessToken
	org, team := b.info.OrgID, b.info.TeamIDs[0]
	now := time.Now().UTC()
	paths := []string{
		"/v2/orgs/" + org + "/members?limit=3",
		"/v2/orgs/" + org + "/teams?limit=2",
		"/v2/orgs/" + org + "/teams/" + team + "/members?limit=3",
		"/v2/audit/logs?limit=3&" + url.Values{
			"createdAfter":  {now.Add(-80 * 24 * time.Hour).Format(auditTimeLayout)},
			"createdBefore": {now.Format(auditTimeLayout)},
		}.Encode(),
	}
	var out [][]byte
	for _, p := range paths {
		req, err := http.NewRequest(http.MethodGet, b.info.APIBaseURL+p, nil)
		require.NoError(tb, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := b.srv.Client().Do(req)
		require.NoError(tb, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(tb, err)
		require.Equal(tb, http.StatusOK, resp.StatusCode, "%s: %s", p, body)
		var list cursorList[json.RawMessage]
		require.NoError(tb, json.Unmarshal(body, &list))
		require.NotEmpty(tb, list.Data, "%s: a page with items", p)
		out = append(out, body)
	}
	return out
}
