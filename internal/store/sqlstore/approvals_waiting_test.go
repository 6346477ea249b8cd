package sqlstore_test

import (
	"testing"

	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

func TestCountWaitingApprovals(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		storetest.CountWaitingApprovals(t, db)
	})
}
