package miro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// pageLimit is the page size of Miro's cursor lists: the maximum, so that a
// full walk takes the fewest calls (and credits).
const pageLimit = 100

// GetOrganization returns the organization: its plan and the number of
// purchased full licenses.
func (c *Client) GetOrganization(ctx context.Context, orgID string) (Organization, error) {
	var org Organization
	err := c.get(ctx, "enterprise-get-organization", L3, "/v2/orgs/"+seg(orgID), nil, &org)
	return org, err
}

// MemberFilter narrows OrgMembers. Empty fields do not filter.
type MemberFilter struct {
	Role    string // org role, e.g. organization_internal_user
	License string // license, e.g. full
	Active  *bool  // active or deactivated members only
}

// cursorList is the shape of Miro's cursor-paged lists.
type cursorList[T any] struct {
	Limit  int    `json:"limit"`
	Size   int    `json:"size"`
	Data   []T    `json:"data"`
	Cursor string `json:"cursor"`
	Type   string `json:"type"`
}

// OrgMembers walks every organization member matching f, 100 per call.
func (c *Client) OrgMembers(ctx context.Context, orgID string, f MemberFilter) iter.Seq2[OrganizationMember, error] {
	path := "/v2/orgs/" + seg(orgID) + "/members"
	return paginate(ctx, func(ctx context.Context, cursor string) (page[OrganizationMember], error) {
		q := url.Values{"limit": {strconv.Itoa(pageLimit)}}
		if f.Role != "" {
			q.Set("role", f.Role)
		}
		if f.License != "" {
			q.Set("license", f.License)
		}
		if f.Active != nil {
			q.Set("active", strconv.FormatBool(*f.Active))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var list cursorList[OrganizationMember]
		if err := c.get(ctx, "enterprise-get-organization-members", L3, path, q, &list); err != nil {
			return page[OrganizationMember]{}, err
		}
		if err := requireIDs(c.eng, path, list.Data, func(m OrganizationMember) string { return m.ID }); err != nil {
			return page[OrganizationMember]{}, err
		}
		return page[OrganizationMember]{items: list.Data, next: list.Cursor}, nil
	})
}

// maxEmailsPerCall is Miro's limit on the emails filter.
const maxEmailsPerCall = 10

// OrgMembersByEmail looks members up by email, ten per call (Miro's limit),
// batching longer lists. Emails not in the organization are simply absent
// from the result. Miro answers this query with a bare JSON array rather
// than the paged object; both shapes are accepted.
func (c *Client) OrgMembersByEmail(ctx context.Context, orgID string, emails []string) ([]OrganizationMember, error) {
	path := "/v2/orgs/" + seg(orgID) + "/members"
	var out []OrganizationMember
	for start := 0; start < len(emails); start += maxEmailsPerCall {
		batch := emails[start:min(start+maxEmailsPerCall, len(emails))]
		q := url.Values{"emails": {strings.Join(batch, ",")}}
		var raw json.RawMessage
		r := &request{op: "enterprise-get-organization-members", method: http.MethodGet, path: path, query: q, level: L3, idempotent: true}
		if err := c.eng.do(ctx, r, &raw); err != nil {
			return nil, err
		}
		members, err := decodeMemberSearch(raw)
		if err != nil {
			return nil, c.eng.wrap(r, "malformed response body", err)
		}
		out = append(out, members...)
	}
	return out, nil
}

// decodeMemberSearch accepts the bare array the emails query returns, and
// the paged object in case Miro ever aligns it with the other queries.
func decodeMemberSearch(raw json.RawMessage) ([]OrganizationMember, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body")
	}
	switch trimmed[0] {
	case '[':
		var members []OrganizationMember
		err := json.Unmarshal(trimmed, &members)
		return members, err
	case '{':
		var list cursorList[OrganizationMember]
		err := json.Unmarshal(trimmed, &list)
		return list.Data, err
	}
	return nil, fmt.Errorf("expected a JSON array or object, got %.20q", trimmed)
}

// OrgMember returns one organization member by user id.
func (c *Client) OrgMember(ctx context.Context, orgID, memberID string) (OrganizationMember, error) {
	var m OrganizationMember
	err := c.get(ctx, "enterprise-get-organization-member", L3, "/v2/orgs/"+seg(orgID)+"/members/"+seg(memberID), nil, &m)
	return m, err
}

// ResetAllSessions signs the user out of every session (offboarding). It
// is not retried after a 5xx or a reset: Miro may have acted.
func (c *Client) ResetAllSessions(ctx context.Context, email string) error {
	if email == "" {
		return errors.New("miro: reset sessions: email is required")
	}
	return c.eng.do(ctx, &request{
		op: "enterprise-post-user-sessions-reset", method: http.MethodPost, path: "/v2/sessions/reset_all",
		query: url.Values{"email": {email}}, level: L3,
	}, nil)
}
