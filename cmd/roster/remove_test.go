package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfirmed(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, " yes ": true, "n\n": false, "\n": false, "": false, "sure\n": false} {
		var out bytes.Buffer
		require.Equal(t, want, confirmed(strings.NewReader(in), &out, "Remove? [y/N] "), "%q", in)
		require.Equal(t, "Remove? [y/N] ", out.String())
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	require.False(t, isTerminal(null), "/dev/null is no terminal")
	f, err := os.CreateTemp(t.TempDir(), "in")
	require.NoError(t, err)
	defer f.Close()
	require.False(t, isTerminal(f))
}
