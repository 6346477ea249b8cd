package mirosync

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/miro"
)

// TestBudgetTime: the least time Miro's budget lets credits take. What
// the window has left goes at once, the rest a window's limit at each
// reset; a window already over counts as a full new one.
func TestBudgetTime(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	b := miro.Budget{Known: true, Limit: 1000, Window: time.Minute, Remaining: 200, Reset: now.Add(20 * time.Second)}
	for _, c := range []struct {
		name string
		b    miro.Budget
		cost float64
		want time.Duration
	}{
		{"within what is left", b, 200, 0},
		{"one reset", b, 1100, 20 * time.Second},
		{"two resets", b, 1300, 80 * time.Second},
		{"unknown budget", miro.Budget{}, 1e6, 0},
		{"a window with no answer yet", miro.Budget{Known: true, Limit: 1000, Window: time.Minute}, 1500, 2 * time.Minute},
		{"the window is over: a full one now", func() miro.Budget { o := b; o.Reset = now.Add(-time.Second); return o }(), 1000, 0},
		{"the window is over, then a reset", func() miro.Budget { o := b; o.Reset = now.Add(-time.Second); return o }(), 1500, time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) { require.Equal(t, c.want, budgetTime(c.b, c.cost, now)) })
	}
}
