package roster_test

import (
	"testing"

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
