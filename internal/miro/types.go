package miro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Time is a Miro timestamp. Miro is not consistent: most fields are
// RFC 3339 with a Z, audit logs send offsets without a colon
// (2023-09-01T09:30:10.840+0000), and lastActivityAt is empty for a user
// who never logged in. Empty decodes to the zero time.
type Time struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

// ParseTime parses any timestamp shape Miro is known to send.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised timestamp %q", s)
}

// UnmarshalJSON accepts every known shape, empty and null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("timestamp %s is not a string", b)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	parsed, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

// MarshalJSON writes RFC 3339 in UTC, or "" for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// FlexString decodes a JSON string or number as a string. Miro sends ids
// as strings, but some answers (an older token response's team_id) send a
// bare number, which must keep every digit.
type FlexString string

// UnmarshalJSON accepts "123", 123 and null.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	default:
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&n); err != nil {
			return fmt.Errorf("expected a string or a number, got %s", b)
		}
		*f = FlexString(n.String())
	}
	return nil
}

// Organization is GET /v2/orgs/{org_id}.
type Organization struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	Plan                  Plan   `json:"plan"`
	FullLicensesPurchased int    `json:"fullLicensesPurchased"`
	Type                  string `json:"type"`
}

// AdminRole is one of an org member's admin roles.
type AdminRole struct {
	Type string `json:"type"` // "prebuilt" or "custom"
	Name string `json:"name"` // e.g. "User Admin"
}

// OrganizationMember is a member of an organization, with email, role,
// license and activity: the core record of a sync.
type OrganizationMember struct {
	ID                string      `json:"id"`
	Email             string      `json:"email"`
	Active            bool        `json:"active"`
	Role              OrgRole     `json:"role"`
	License           License     `json:"license"`
	LastActivityAt    Time        `json:"lastActivityAt"`
	LicenseAssignedAt Time        `json:"licenseAssignedAt"`
	AdminRoles        []AdminRole `json:"adminRoles,omitempty"`
	Type              string      `json:"type"`
}

// Picture is a team's picture.
type Picture struct {
	ID          json.Number `json:"id,omitempty"` // int64 in the spec; kept exact
	ImageURL    string      `json:"imageURL,omitempty"`
	OriginalURL string      `json:"originalUrl,omitempty"`
	Type        string      `json:"type,omitempty"`
}

// Team is a Miro team.
type Team struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Picture *Picture `json:"picture,omitempty"`
	Type    string   `json:"type"`
}

// TeamMember is a membership of a team. ID is the user id, the same as
// OrganizationMember.ID; there is no email, join on the id.
type TeamMember struct {
	ID         string   `json:"id"`
	TeamID     string   `json:"teamId"`
	Role       TeamRole `json:"role"`
	CreatedAt  Time     `json:"createdAt"`
	CreatedBy  string   `json:"createdBy,omitempty"`
	ModifiedAt Time     `json:"modifiedAt"`
	ModifiedBy string   `json:"modifiedBy,omitempty"`
	Type       string   `json:"type"`
}

// TeamSettings is a team's settings. The enum values are plain strings:
// the spec's copyAccessLevel enum has a typo ("board_owner            -"),
// and settings are shown, not branched on.
type TeamSettings struct {
	OrganizationID               string `json:"organizationId"`
	TeamID                       string `json:"teamId"`
	Type                         string `json:"type"`
	TeamAccountDiscoverySettings *struct {
		AccountDiscovery string `json:"accountDiscovery,omitempty"`
	} `json:"teamAccountDiscoverySettings,omitempty"`
	TeamCollaborationSettings *struct {
		CoOwnerRole string `json:"coOwnerRole,omitempty"`
	} `json:"teamCollaborationSettings,omitempty"`
	TeamCopyAccessLevelSettings *struct {
		CopyAccessLevel           string `json:"copyAccessLevel,omitempty"`
		CopyAccessLevelLimitation string `json:"copyAccessLevelLimitation,omitempty"`
	} `json:"teamCopyAccessLevelSettings,omitempty"`
	TeamInvitationSettings *struct {
		InviteExternalUsers string `json:"inviteExternalUsers,omitempty"`
		WhoCanInvite        string `json:"whoCanInvite,omitempty"`
	} `json:"teamInvitationSettings,omitempty"`
	TeamSharingPolicySettings *struct {
		AllowListedDomains        []string `json:"allowListedDomains,omitempty"`
		CreateAssetAccessLevel    string   `json:"createAssetAccessLevel,omitempty"`
		DefaultBoardAccess        string   `json:"defaultBoardAccess,omitempty"`
		DefaultBoardSharingAccess string   `json:"defaultBoardSharingAccess,omitempty"`
		DefaultOrganizationAccess string   `json:"defaultOrganizationAccess,omitempty"`
		DefaultProjectAccess      string   `json:"defaultProjectAccess,omitempty"`
		MoveBoardToAccount        string   `json:"moveBoardToAccount,omitempty"`
		RestrictAllowedDomains    string   `json:"restrictAllowedDomains,omitempty"`
		SharingOnAccount          string   `json:"sharingOnAccount,omitempty"`
		SharingOnOrganization     string   `json:"sharingOnOrganization,omitempty"`
		SharingViaPublicLink      string   `json:"sharingViaPublicLink,omitempty"`
	} `json:"teamSharingPolicySettings,omitempty"`
}

// AuditEvent is one entry of the organization's audit log.
type AuditEvent struct {
	ID        string         `json:"id"`
	Event     string         `json:"event"`    // e.g. sign_in_succeeded, board_opened
	Category  string         `json:"category"` // e.g. authentication
	CreatedAt Time           `json:"createdAt"`
	Details   map[string]any `json:"details,omitempty"`
	Context   *AuditContext  `json:"context,omitempty"`
	Object    *AuditObject   `json:"object,omitempty"`
	CreatedBy *AuditActor    `json:"createdBy,omitempty"`
}

// AuditContext is where an audit event happened.
type AuditContext struct {
	IP           string        `json:"ip,omitempty"`
	Team         *AuditNamedID `json:"team,omitempty"`
	Organization *AuditNamedID `json:"organization,omitempty"`
}

// AuditNamedID is an id with its name.
type AuditNamedID struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AuditObject is what an audit event acted on.
type AuditObject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AuditActor is who caused an audit event. Type is user, application,
// scim_provisioner or miro_automation, kept as a plain string.
type AuditActor struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// UserInfo is the short user reference on boards.
type UserInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// BoardMembership is the token user's membership of a board.
type BoardMembership struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"` // viewer, commenter, editor, coowner, owner
	Type string `json:"type"`
}

// Board is a Miro board, as listed by GET /v2/boards.
type Board struct {
	ID                    string           `json:"id"`
	Name                  string           `json:"name"`
	Description           string           `json:"description"`
	Type                  string           `json:"type"`
	ViewLink              string           `json:"viewLink,omitempty"`
	CreatedAt             Time             `json:"createdAt"`
	ModifiedAt            Time             `json:"modifiedAt"`
	LastOpenedAt          Time             `json:"lastOpenedAt"`
	CreatedBy             *UserInfo        `json:"createdBy,omitempty"`
	ModifiedBy            *UserInfo        `json:"modifiedBy,omitempty"`
	LastOpenedBy          *UserInfo        `json:"lastOpenedBy,omitempty"`
	Owner                 *UserInfo        `json:"owner,omitempty"`
	Team                  *Team            `json:"team,omitempty"`
	Project               *BoardProject    `json:"project,omitempty"`
	CurrentUserMembership *BoardMembership `json:"currentUserMembership,omitempty"`
}

// BoardProject is the project (Space) a board is in.
type BoardProject struct {
	ID FlexString `json:"id"`
}

// TokenInfo is GET /v1/oauth-token: what a token is bound to.
// Organization is nil when Miro leaves it out (teams outside an
// organization may).
type TokenInfo struct {
	Type         string   `json:"type"`
	Organization *NamedID `json:"organization,omitempty"`
	Team         *NamedID `json:"team,omitempty"`
	CreatedBy    *NamedID `json:"createdBy,omitempty"`
	User         *NamedID `json:"user,omitempty"`
	Scopes       []string `json:"scopes"`
}

// HasScope reports whether the token was granted scope.
func (t TokenInfo) HasScope(scope string) bool {
	for _, s := range t.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// NamedID is a {type, id, name} reference.
type NamedID struct {
	Type string     `json:"type"`
	ID   FlexString `json:"id"`
	Name string     `json:"name"`
}
