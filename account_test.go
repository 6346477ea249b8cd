package roster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
)

func TestAccountLicenseLabel(t *testing.T) {
	require.Equal(t, "-", roster.Account{}.LicenseLabel())
	require.Equal(t, "-", roster.Account{LicenseExact: true}.LicenseLabel())
	require.Equal(t, "full", roster.Account{License: "full", LicenseExact: true}.LicenseLabel())
	require.Equal(t, "full (inferred)", roster.Account{License: "full"}.LicenseLabel())
	require.Equal(t, "free (inferred)", roster.Account{License: "free"}.LicenseLabel())
}

// The one inactivity rule: measured from the later of the last activity
// and the license's assignment (first sight when Miro gives neither), and
// only where usage is known.
func TestAccountInactive(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	cutoff := roster.InactiveBefore(now, 60)
	day := 24 * time.Hour
	cases := map[string]struct {
		a    roster.Account
		want bool
	}{
		"full assigned today, never logged in":       {roster.Account{LicenseExact: true, LicenseAssignedAt: now.Add(-time.Minute), FirstSeenAt: now}, false},
		"full assigned 90 days ago, never logged in": {roster.Account{LicenseExact: true, LicenseAssignedAt: now.Add(-90 * day), FirstSeenAt: now.Add(-90 * day)}, true},
		"active 10 days ago":                         {roster.Account{LicenseExact: true, LastActivityAt: now.Add(-10 * day), LicenseAssignedAt: now.Add(-400 * day)}, false},
		"active 90 days ago, reassigned 5 days ago":  {roster.Account{LicenseExact: true, LastActivityAt: now.Add(-90 * day), LicenseAssignedAt: now.Add(-5 * day)}, false},
		"active 90 days ago, assigned 400 days ago":  {roster.Account{LicenseExact: true, LastActivityAt: now.Add(-90 * day), LicenseAssignedAt: now.Add(-400 * day)}, true},
		"neither given, first seen today":            {roster.Account{LicenseExact: true, FirstSeenAt: now}, false},
		"neither given, first seen 90 days ago":      {roster.Account{LicenseExact: true, FirstSeenAt: now.Add(-90 * day)}, true},
		"team level only, first seen 400 days ago":   {roster.Account{FirstSeenAt: now.Add(-400 * day)}, false},
		"known, no time at all":                      {roster.Account{LicenseExact: true}, false},
	}
	for name, c := range cases {
		require.Equal(t, c.want, c.a.Inactive(cutoff), name)
	}
	require.False(t, roster.Account{}.UsageKnown())
	require.True(t, roster.Account{LicenseExact: true}.UsageKnown())
}
