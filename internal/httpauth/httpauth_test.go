package httpauth

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"correct horse battery", "Kettle-Lantern-Orbit-7", strings.Repeat("é", 12) + "tz9", strings.Repeat("ab3Zq", 14) + "xy"} {
		require.NoError(t, CheckPassword(ok, "ann@example.com"), ok)
	}
	for _, tc := range []struct{ pw, want string }{
		{"short", "at least 12 characters (it has 5)"},
		{"😀😀😀😀", "at least 12 characters (it has 4)"},
		{strings.Repeat("ab3Zq", 14) + "xyz", "at most 72 bytes (it has 73)"},
		{"            ", "too easy to guess"},
		{"password1234", "too easy to guess"},
		{"qwertyuiop12", "too easy to guess"},
		{"ann@example.com", "too easy to guess"},
		{"correct\x00horse battery", "control characters"},
		{"\xff\xfe correct horse", "not valid UTF-8"},
	} {
		err := CheckPassword(tc.pw, "ann@example.com")
		require.ErrorContains(t, err, tc.want, "%q", tc.pw)
		_, err = HashPassword(tc.pw, "ann@example.com")
		require.ErrorContains(t, err, tc.want, "%q", tc.pw)
	}
}

func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	l := NewLoginLimiter()
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

	// The pair locks at its fifth failure, once.
	for i := 1; i <= MaxLoginFailures; i++ {
		locked, _ := l.Locked("ann@example.com", "192.0.2.1", t0)
		require.False(t, locked, "before failure %d", i)
		require.Equal(t, i == MaxLoginFailures, l.Fail("ann@example.com", "192.0.2.1", t0), "failure %d", i)
	}
	locked, until := l.Locked("ann@example.com", "192.0.2.1", t0)
	require.True(t, locked)
	require.Equal(t, t0.Add(LoginLockout), until)
	locked, _ = l.Locked("ann@example.com", "192.0.2.2", t0)
	require.False(t, locked, "another address is not locked out")
	locked, _ = l.Locked("ann@example.com", "192.0.2.1", t0.Add(LoginLockout))
	require.False(t, locked, "the lock ends")

	// A success clears the pair's count.
	for range MaxLoginFailures - 1 {
		l.Fail("bob@example.com", "192.0.2.3", t0)
	}
	l.Succeed("bob@example.com", "192.0.2.3")
	require.False(t, l.Fail("bob@example.com", "192.0.2.3", t0))

	// Failures spread over a longer time than the window never lock.
	for i := range 3 * MaxLoginFailures {
		require.False(t, l.Fail("cy@example.com", "192.0.2.4", t0.Add(time.Duration(i)*LoginLockout/2)))
	}
}

// The limiter's memory is bounded whatever a flood sends.
func TestLoginLimiterBounded(t *testing.T) {
	t.Parallel()
	l := NewLoginLimiter()
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range maxLimiterEntries + 5000 {
		l.Fail(fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), t0)
	}
	require.LessOrEqual(t, len(l.entries), maxLimiterEntries)
}

func TestClientGone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	require.False(t, ClientGone(r, context.Canceled), "the request is still live")
	cancel()
	require.True(t, ClientGone(r, fmt.Errorf("list: %w", context.Canceled)))
	require.False(t, ClientGone(r, fmt.Errorf("boom")))
}
