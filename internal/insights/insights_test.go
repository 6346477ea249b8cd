package insights

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	o := roster.Overview{SeatsBought: 100, FullAssigned: 80, FullActive: 60, FullInactive: 20, ByLicense: map[string]int{"full": 80, "occasional": 10, "free": 500}}
	s := roster.Settings{InactivityDays: 60, Currency: "EUR", LicensePrices: map[string]float64{"full": 16, "occasional": 8}}
	sum := Summarize(o, s, now)
	require.InDelta(t, 0.6, sum.Utilisation, 1e-9)
	require.InDelta(t, 80*16+10*8, sum.MonthlyCost, 1e-9)
	require.InDelta(t, 20*16, sum.PotentialSavings, 1e-9)
	require.Equal(t, now.AddDate(0, 0, -60), sum.InactiveBefore)
	require.True(t, sum.Priced)
	require.Equal(t, "EUR", sum.Currency)

	t.Run("NoPurchaseCount", func(t *testing.T) {
		t.Parallel()
		sum := Summarize(roster.Overview{FullAssigned: 4, FullActive: 1}, roster.DefaultSettings(), now)
		require.InDelta(t, 0.25, sum.Utilisation, 1e-9)
		require.False(t, sum.Priced)
		require.Zero(t, sum.MonthlyCost)
	})
	t.Run("UsageUnknown", func(t *testing.T) {
		t.Parallel()
		// 2 of 6 full licenses are team-level only: neither active nor
		// inactive, so neither utilisation nor savings counts them.
		o := roster.Overview{FullAssigned: 6, FullActive: 3, FullInactive: 1, FullUsageUnknown: 2}
		sum := Summarize(o, roster.Settings{LicensePrices: map[string]float64{"full": 10}}, now)
		require.InDelta(t, 0.75, sum.Utilisation, 1e-9)
		require.InDelta(t, 10, sum.PotentialSavings, 1e-9)
	})
	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		sum := Summarize(roster.Overview{}, roster.DefaultSettings(), now)
		require.Zero(t, sum.Utilisation)
	})
}
