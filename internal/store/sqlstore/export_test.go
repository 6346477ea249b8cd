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
