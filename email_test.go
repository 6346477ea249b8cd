package roster_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
)

func TestCheckEmail(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"ann@example.com", "a.b+tag@sub.example.org", "x@localhost"} {
		require.NoError(t, roster.CheckEmail(ok), ok)
	}
	for in, want := range map[string]string{
		"not an email":          `"not an email" is not an email address`,
		"Ann <ann@example.com>": "is not an email address",
		"@example.com":          "is not an email address",
		"":                      "is not an email address",
	} {
		require.ErrorContains(t, roster.CheckEmail(in), want, in)
	}
	// A huge input is refused without being echoed back.
	huge := strings.Repeat("a", 900<<10) + "@example.com"
	err := roster.CheckEmail(huge)
	require.ErrorContains(t, err, "longer than 320 bytes")
	require.Less(t, len(err.Error()), 200)

	e, err := roster.ParseEmail("  Ann@Example.COM ")
	require.NoError(t, err)
	require.Equal(t, "ann@example.com", e)
}

func TestCheckActionKey(t *testing.T) {
	t.Parallel()
	require.NoError(t, roster.CheckActionKey("k-1"))
	require.ErrorContains(t, roster.CheckActionKey(""), "is required")
	require.NoError(t, roster.CheckActionKey(strings.Repeat("k", roster.MaxActionKeyLength)))
	require.ErrorContains(t, roster.CheckActionKey(strings.Repeat("k", roster.MaxActionKeyLength+1)), "at most 200")
}
