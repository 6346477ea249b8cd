package sqlstore

// The cursor codecs, for the fuzz tests of package sqlstore_test, which
// need storetest (and so cannot be in this package).
type (
	ListCursor = listCursor
	TeamCursor = teamCursor
)

var (
	DecodeCursor       = decodeCursor
	EncodeCursor       = encodeCursor
	DecodeTeamCursor   = decodeTeamCursor
	EncodeTeamCursor   = encodeTeamCursor
	DecodePeopleCursor = decodePeopleCursor
	EncodePeopleCursor = encodePeopleCursor
)

// ForgetOverview drops the overview's kept groups, so that the next
// overview scans every account; OverviewScans counts those full scans.
func (db *DB) ForgetOverview() {
	db.kept.mu.Lock()
	defer db.kept.mu.Unlock()
	db.kept.groups = nil
}

func (db *DB) OverviewScans() int {
	db.kept.mu.Lock()
	defer db.kept.mu.Unlock()
	return db.kept.scans
}
