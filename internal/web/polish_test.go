package web

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store/storetest"
)

// TestAuditPartialFilters: the audit log's Target and Who boxes match any
// part, whatever the case, and Who reads as words, never "operator:…".
func TestAuditPartialFilters(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		b := setupOn(t, db)
		ctx := context.Background()
		for _, e := range []roster.AuditEntry{
			{Actor: "operator:Ann.Lee@example.com", Kind: "action", Action: "remove_from_team", Target: "Grace.Hopper@corp.example", Result: "ok"},
			{Actor: "apikey:nightly-import", Kind: "directory", Action: "import", Target: "people.csv", Result: "ok"},
			{Actor: "workflow:offboarding", Kind: "workflow", Action: "step_done", Target: "grace.h@corp.example", Result: "ok"},
			{Actor: "system", Kind: "auth", Action: "login_failed", Target: "mallory@elsewhere.example", Result: "refused"},
		} {
			require.NoError(t, db.AppendAudit(ctx, &e))
		}
		br := b.loggedIn(t, roster.RoleViewer)

		// rows are the listed entries' Who and Target cells.
		rows := func(query url.Values) [][2]string {
			t.Helper()
			p := br.mustGet("/audit?" + query.Encode())
			var out [][2]string
			for _, tr := range findAll(parseHTML(t, p.Body), "tr", "") {
				cells := findAll(tr, "td", "")
				if len(cells) == 0 {
					continue // the header
				}
				out = append(out, [2]string{text(cells[1]), text(cells[3])})
			}
			return out
		}

		require.Equal(t, [][2]string{
			{"offboarding (workflow)", "grace.h@corp.example"},
			{"Ann.Lee@example.com (dashboard)", "Grace.Hopper@corp.example"},
		}, rows(url.Values{"target": {"GRACE"}}))
		require.Equal(t, [][2]string{{"nightly-import (API key)", "people.csv"}},
			rows(url.Values{"who": {"Nightly"}}))
		require.Equal(t, [][2]string{{"Ann.Lee@example.com (dashboard)", "Grace.Hopper@corp.example"}},
			rows(url.Values{"who": {"ann.lee@"}, "target": {"hopper"}}))
		require.Equal(t, [][2]string{{"roster (automatic)", "mallory@elsewhere.example"}},
			rows(url.Values{"target": {"elsewhere"}, "kind": {"auth"}}))
		require.Empty(t, rows(url.Values{"target": {"grace"}, "who": {"nightly"}}))

		// The boxes keep what was typed, and an empty result says so.
		p := br.mustGet("/audit?who=nobody-at-all&target=x")
		require.Contains(t, p.Body, `value="nobody-at-all"`)
		require.Contains(t, p.Body, "No entry matches.")
	})
}

func TestActorName(t *testing.T) {
	t.Parallel()
	for actor, want := range map[string]string{
		"operator:admin@example.com": "admin@example.com (dashboard)",
		"apikey:ci":                  "ci (API key)",
		"workflow:offboarding":       "offboarding (workflow)",
		"cli:ann":                    "ann (command line)",
		"scim:10.0.0.7":              "10.0.0.7 (SCIM)",
		"system":                     "roster (automatic)",
		"directory":                  "directory",
		"robot:x":                    "x (robot)",
		"":                           "unknown",
	} {
		require.Equal(t, want, actorName(actor), actor)
	}
}

func TestPlural(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1 run", plural(1, "run"))
	require.Equal(t, "0 runs", plural(0, "run"))
	require.Equal(t, "1 person", plural(1, "person"))
	require.Equal(t, "1,234 people", plural(1234, "person"))
	require.Equal(t, "matches", noun(2, "match"))
}

// TestDatetimeOneLine: a moment is a <time> with the exact instant, in a
// class the stylesheet keeps on one line.
func TestDatetimeOneLine(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	require.Equal(t, `<time class="when" datetime="2026-03-04T04:06:07Z" title="2026-03-04T04:06:07Z">2026-03-04 04:06 UTC</time>`,
		string(datetimeHTML(at)))
	require.Equal(t, "-", string(datetimeHTML(time.Time{})))
	css, err := staticFS.ReadFile("static/app.css")
	require.NoError(t, err)
	require.Regexp(t, `time\.when[^{]*\{[^}]*white-space: nowrap`, string(css))
}
