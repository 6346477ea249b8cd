package mirosim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

type userShortJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

type projectJSON struct {
	ID string `json:"id"`
}

type boardJSON struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Type         string        `json:"type"`
	ViewLink     string        `json:"viewLink"`
	CreatedAt    string        `json:"createdAt"`
	ModifiedAt   string        `json:"modifiedAt"`
	LastOpenedAt *string       `json:"lastOpenedAt,omitempty"`
	Owner        userShortJSON `json:"owner"`
	CreatedBy    userShortJSON `json:"createdBy"`
	ModifiedBy   userShortJSON `json:"modifiedBy"`
	Team         teamJSON      `json:"team"`
	Project      *projectJSON  `json:"project,omitempty"`
}

type linksJSON struct {
	Self  string `json:"self"`
	Next  string `json:"next,omitempty"`
	Prev  string `json:"prev,omitempty"`
	First string `json:"first"`
	Last  string `json:"last"`
}

type boardsPage struct {
	Data   []boardJSON `json:"data"`
	Total  int         `json:"total"`
	Size   int         `json:"size"`
	Offset int         `json:"offset"`
	Limit  int         `json:"limit"`
	Links  linksJSON   `json:"links"`
	Type   string      `json:"type"`
}

// userShort names a user; a deleted creator still gets an entry.
func (s *Sim) userShort(id string) userShortJSON {
	name := "Deleted user"
	if u := s.w.Users[id]; u != nil {
		name = u.Name()
	}
	return userShortJSON{ID: id, Name: name, Type: "user"}
}

func (s *Sim) toBoard(b *Board) boardJSON {
	out := boardJSON{
		ID: b.ID, Name: b.Name, Description: "", Type: "board",
		ViewLink:     "https://miro.com/app/board/" + b.ID + "/",
		CreatedAt:    fmtTime(b.CreatedAt),
		ModifiedAt:   fmtTime(b.ModifiedAt),
		LastOpenedAt: optTime(b.LastOpenedAt),
		Owner:        s.userShort(b.OwnerID),
		CreatedBy:    s.userShort(b.CreatedByID),
		ModifiedBy:   s.userShort(b.OwnerID),
		Team:         teamJSON{ID: b.TeamID, Type: "team"},
	}
	if t := s.w.Teams[b.TeamID]; t != nil {
		out.Team.Name = t.Name
	}
	if b.ProjectID != "" {
		out.Project = &projectJSON{ID: b.ProjectID}
	}
	return out
}

// baseURL is the scheme and host the request came in on, for absolute links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// pageLink is the request's URL with limit and offset replaced.
func pageLink(r *http.Request, limit, offset int) string {
	q := r.URL.Query()
	q.Set("limit", strconv.Itoa(limit))
	q.Set("offset", strconv.Itoa(offset))
	return baseURL(r) + r.URL.Path + "?" + q.Encode()
}

// handleListBoards serves GET /v2/boards with offset paging. A Company
// Admin sees every board of the org; anyone else sees the boards of the
// teams they belong to. Trashed boards are never listed. The order is by
// team (ascending id), then creation: stable, as offset paging needs.
func (s *Sim) handleListBoards(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 20, 1, 50)
	if err != nil {
		writeError(w, err)
		return
	}
	offset, err := queryInt(r, "offset", 0, 0, 1<<31-1)
	if err != nil {
		writeError(w, err)
		return
	}
	teamID, owner, projectID := q.Get("team_id"), q.Get("owner"), q.Get("project_id")
	query := strings.ToLower(q.Get("query"))
	if len(query) > 500 {
		writeError(w, errBadRequest("query: at most 500 characters"))
		return
	}
	if teamID != "" {
		owner, query = "", "" // Miro ignores them when team_id is set
	}
	g := grantFrom(r)
	if g == nil {
		writeError(w, errForbidden("no token"))
		return
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.w.Users[g.UserID]
	if u == nil {
		writeError(w, errForbidden(fmt.Sprintf("user %s no longer exists", g.UserID)))
		return
	}
	// The teams whose boards the caller may see, ascending: a Company
	// Admin sees every team of the org, anyone else their own teams.
	teams := s.w.userTeamIDs[u.ID]
	if u.IsCompanyAdmin() && u.OrgID == g.OrgID {
		if org := s.w.Orgs[g.OrgID]; org != nil {
			teams = org.teamIDs
		}
	}
	if teamID != "" {
		if slices.Contains(teams, teamID) {
			teams = []string{teamID}
		} else {
			teams = nil
		}
	}

	// Boards are listed team by team in creation order; count them all for
	// total and keep only the requested page.
	page := boardsPage{Data: []boardJSON{}, Offset: offset, Limit: limit, Type: "list"}
	total := 0
	for _, tid := range teams {
		for _, b := range s.w.boardsByTeam[tid] {
			if b.Trashed || (owner != "" && b.OwnerID != owner) ||
				(projectID != "" && b.ProjectID != projectID) ||
				(query != "" && !strings.Contains(strings.ToLower(b.Name), query)) {
				continue
			}
			if total >= offset && total < offset+limit {
				page.Data = append(page.Data, s.toBoard(b))
			}
			total++
		}
	}
	page.Total = total
	page.Size = len(page.Data)
	lastOffset := 0
	if total > 0 {
		lastOffset = (total - 1) / limit * limit
	}
	page.Links = linksJSON{
		Self:  pageLink(r, limit, offset),
		First: pageLink(r, limit, 0),
		Last:  pageLink(r, limit, lastOffset),
	}
	if offset+limit < total {
		page.Links.Next = pageLink(r, limit, offset+limit)
	}
	if offset > 0 {
		page.Links.Prev = pageLink(r, limit, max(offset-limit, 0))
	}
	writeJSON(w, http.StatusOK, page)
}
