package sqlstore_test

import (
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestPostgres runs the suite when ROSTER_TEST_POSTGRES_URL is set, each
// test in its own schema.
func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.PostgresDSN(t) // skips, or fails under ROSTER_REQUIRE_POSTGRES=1
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return storetest.Open(t, storetest.PostgresDSN(t))
	})
}
