package miro

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
)

// A meter on a context counts the calls made under it and no others, so
// a sync sharing its client with actions records only its own spending.
func TestMeterCountsItsContextOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 10, Teams: 2})
	c := b.adminClient(t)
	ctx := context.Background()

	var mine Meter
	metered := WithMeter(ctx, &mine)
	_, err := c.GetOrganization(metered, b.info.OrgID)
	require.NoError(t, err)
	_, err = c.GetOrganization(ctx, b.info.OrgID) // not under the meter
	require.NoError(t, err)

	require.Equal(t, Stats{Calls: 1, Credits: L3.Credits()}, mine.Stats())
	require.Equal(t, 2, c.Stats().Calls, "the client counts both")
}
