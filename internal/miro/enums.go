package miro

import "encoding/json"

// enum is the shared representation of Miro's string enums. Miro keeps
// adding values (licenses gained advanced, standard and basic in 2026), so a
// value we do not know must never fail a decode: it reads as "unknown" while
// the raw string is kept for display and logs.
type enum struct {
	v   string // a known value, or "unknown"
	raw string // exactly what Miro sent
}

func newEnum(raw string, known []string) enum {
	for _, k := range known {
		if raw == k {
			return enum{v: raw, raw: raw}
		}
	}
	return enum{v: unknownValue, raw: raw}
}

const unknownValue = "unknown"

func (e enum) string() string {
	if e.v == "" {
		return unknownValue
	}
	return e.v
}

func (e enum) isKnown() bool { return e.v != "" && e.v != unknownValue }

func unmarshalEnum(b []byte, known []string) (enum, error) {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		// Not even a string (a number, an object): still not fatal, keep
		// the raw JSON so that the odd value can be shown and reported.
		if string(b) == "null" {
			return enum{}, nil
		}
		return enum{v: unknownValue, raw: string(b)}, nil
	}
	return newEnum(s, known), nil
}

func marshalEnum(e enum) ([]byte, error) {
	// Send back what Miro sent, so that a round trip loses nothing.
	if e.raw != "" {
		return json.Marshal(e.raw)
	}
	return json.Marshal(e.string())
}

// License is an organization member's license (OrganizationMember.license).
// Unknown values decode to LicenseUnknown with Raw() keeping Miro's value.
type License struct{ e enum }

var licenseValues = []string{"advanced", "standard", "basic", "full", "occasional", "free", "free_restricted", "full_trial", "unknown"}

// License values from the spec's OrganizationMember.license enum.
var (
	LicenseAdvanced       = License{enum{"advanced", "advanced"}}
	LicenseStandard       = License{enum{"standard", "standard"}}
	LicenseBasic          = License{enum{"basic", "basic"}}
	LicenseFull           = License{enum{"full", "full"}}
	LicenseOccasional     = License{enum{"occasional", "occasional"}}
	LicenseFree           = License{enum{"free", "free"}}
	LicenseFreeRestricted = License{enum{"free_restricted", "free_restricted"}}
	LicenseFullTrial      = License{enum{"full_trial", "full_trial"}}
	LicenseUnknown        = License{enum{"unknown", "unknown"}}
)

// ParseLicense maps a raw value to a License; unknown values give a License
// whose String is "unknown" and whose Raw is the input.
func ParseLicense(raw string) License { return License{newEnum(raw, licenseValues)} }

// String is the known value or "unknown".
func (l License) String() string { return l.e.string() }

// Raw is the value exactly as Miro sent it.
func (l License) Raw() string { return l.e.raw }

// IsKnown reports whether Miro sent a value this client knows (other than
// Miro's own "unknown").
func (l License) IsKnown() bool { return l.e.isKnown() }

// Equal compares the decoded values (two different unknowns are equal).
func (l License) Equal(o License) bool { return l.String() == o.String() }

// MarshalJSON writes the raw value back.
func (l License) MarshalJSON() ([]byte, error) { return marshalEnum(l.e) }

// UnmarshalJSON never fails on an unknown value.
func (l *License) UnmarshalJSON(b []byte) error {
	e, err := unmarshalEnum(b, licenseValues)
	l.e = e
	return err
}

// OrgRole is a member's role in the organization (OrganizationMember.role).
type OrgRole struct{ e enum }

var orgRoleValues = []string{"organization_internal_admin", "organization_internal_user", "organization_external_user", "organization_team_guest_user", "unknown"}

// OrgRole values from the spec.
var (
	OrgRoleInternalAdmin = OrgRole{enum{"organization_internal_admin", "organization_internal_admin"}}
	OrgRoleInternalUser  = OrgRole{enum{"organization_internal_user", "organization_internal_user"}}
	OrgRoleExternalUser  = OrgRole{enum{"organization_external_user", "organization_external_user"}}
	OrgRoleTeamGuestUser = OrgRole{enum{"organization_team_guest_user", "organization_team_guest_user"}}
	OrgRoleUnknown       = OrgRole{enum{"unknown", "unknown"}}
)

// ParseOrgRole maps a raw value to an OrgRole (unknown values kept as Raw).
func ParseOrgRole(raw string) OrgRole { return OrgRole{newEnum(raw, orgRoleValues)} }

// String is the known value or "unknown".
func (r OrgRole) String() string { return r.e.string() }

// Raw is the value exactly as Miro sent it.
func (r OrgRole) Raw() string { return r.e.raw }

// IsKnown reports whether the value is one this client knows.
func (r OrgRole) IsKnown() bool { return r.e.isKnown() }

// Equal compares the decoded values.
func (r OrgRole) Equal(o OrgRole) bool { return r.String() == o.String() }

// MarshalJSON writes the raw value back.
func (r OrgRole) MarshalJSON() ([]byte, error) { return marshalEnum(r.e) }

// UnmarshalJSON never fails on an unknown value.
func (r *OrgRole) UnmarshalJSON(b []byte) error {
	e, err := unmarshalEnum(b, orgRoleValues)
	r.e = e
	return err
}

// TeamRole is a member's role in a team (TeamMember.role and the legacy
// team-user-connection role). team_guest is deprecated but still accepted
// by the list filter, so it is known here.
type TeamRole struct{ e enum }

var teamRoleValues = []string{"non_team", "member", "admin", "team_guest"}

// TeamRole values from the spec.
var (
	TeamRoleNonTeam   = TeamRole{enum{"non_team", "non_team"}}
	TeamRoleMember    = TeamRole{enum{"member", "member"}}
	TeamRoleAdmin     = TeamRole{enum{"admin", "admin"}}
	TeamRoleTeamGuest = TeamRole{enum{"team_guest", "team_guest"}}
)

// ParseTeamRole maps a raw value to a TeamRole (unknown values kept as Raw).
func ParseTeamRole(raw string) TeamRole { return TeamRole{newEnum(raw, teamRoleValues)} }

// String is the known value or "unknown".
func (r TeamRole) String() string { return r.e.string() }

// Raw is the value exactly as Miro sent it.
func (r TeamRole) Raw() string { return r.e.raw }

// IsKnown reports whether the value is one this client knows.
func (r TeamRole) IsKnown() bool { return r.e.isKnown() }

// Equal compares the decoded values.
func (r TeamRole) Equal(o TeamRole) bool { return r.String() == o.String() }

// MarshalJSON writes the raw value back.
func (r TeamRole) MarshalJSON() ([]byte, error) { return marshalEnum(r.e) }

// UnmarshalJSON never fails on an unknown value.
func (r *TeamRole) UnmarshalJSON(b []byte) error {
	e, err := unmarshalEnum(b, teamRoleValues)
	r.e = e
	return err
}

// Plan is an organization's plan (Organization.plan).
type Plan struct{ e enum }

var planValues = []string{"company", "consultant", "consultant_slf", "business", "paid_team_org", "integration_org", "professional_2022", "edu_team_org", "free_team_org", "dev_team_org", "unknown"}

// Plan values from the spec (the ones roster branches on).
var (
	PlanCompany  = Plan{enum{"company", "company"}}
	PlanBusiness = Plan{enum{"business", "business"}}
	PlanUnknown  = Plan{enum{"unknown", "unknown"}}
)

// ParsePlan maps a raw value to a Plan (unknown values kept as Raw).
func ParsePlan(raw string) Plan { return Plan{newEnum(raw, planValues)} }

// String is the known value or "unknown".
func (p Plan) String() string { return p.e.string() }

// Raw is the value exactly as Miro sent it.
func (p Plan) Raw() string { return p.e.raw }

// IsKnown reports whether the value is one this client knows.
func (p Plan) IsKnown() bool { return p.e.isKnown() }

// Equal compares the decoded values.
func (p Plan) Equal(o Plan) bool { return p.String() == o.String() }

// MarshalJSON writes the raw value back.
func (p Plan) MarshalJSON() ([]byte, error) { return marshalEnum(p.e) }

// UnmarshalJSON never fails on an unknown value.
func (p *Plan) UnmarshalJSON(b []byte) error {
	e, err := unmarshalEnum(b, planValues)
	p.e = e
	return err
}
