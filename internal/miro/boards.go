package miro

import (
	"context"
	"iter"
	"net/url"
	"strconv"
)

// boardPageLimit is the maximum page size of GET /v2/boards.
const boardPageLimit = 50

// BoardQuery selects boards. Miro ignores Owner and Query when TeamID is
// set, so to find a user's boards in a team, filter by Owner and compare
// Board.Team client-side.
type BoardQuery struct {
	TeamID    string
	Owner     string // owner user id
	Query     string
	ProjectID string
}

// boardsPage is BoardsPagedResponse.
type boardsPage struct {
	Data   []Board `json:"data"`
	Total  int     `json:"total"`
	Size   int     `json:"size"`
	Offset int     `json:"offset"`
	Limit  int     `json:"limit"`
	Type   string  `json:"type"`
}

// Boards walks the boards the token's user can see, 50 per call, with
// offset paging.
func (c *Client) Boards(ctx context.Context, q BoardQuery) iter.Seq2[Board, error] {
	return paginate(ctx, func(ctx context.Context, next string) (page[Board], error) {
		offset := 0
		if next != "" {
			offset, _ = strconv.Atoi(next)
		}
		v := url.Values{"limit": {strconv.Itoa(boardPageLimit)}, "offset": {strconv.Itoa(offset)}}
		if q.TeamID != "" {
			v.Set("team_id", q.TeamID)
		}
		if q.Owner != "" {
			v.Set("owner", q.Owner)
		}
		if q.Query != "" {
			v.Set("query", q.Query)
		}
		if q.ProjectID != "" {
			v.Set("project_id", q.ProjectID)
		}
		var p boardsPage
		if err := c.get(ctx, "get-boards", L1, "/v2/boards", v, &p); err != nil {
			return page[Board]{}, err
		}
		out := page[Board]{items: p.Data}
		// More remain while the offset has not reached the total; an
		// empty page ends the walk even if total says otherwise.
		if end := offset + len(p.Data); len(p.Data) > 0 && end < p.Total {
			out.next = strconv.Itoa(end)
		}
		return out, nil
	})
}
