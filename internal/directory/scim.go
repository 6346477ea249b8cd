// Package directory is who works here, as identity providers and
// spreadsheets describe it: the SCIM 2.0 User resource (RFC 7643) mapped
// to roster.Person, SCIM's filters and PATCH operations (RFC 7644), and
// CSV import with a per-row report. It speaks no HTTP: internal/web
// serves SCIM over this package's Service.
package directory

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"roster"
)

// SCIM schema and message URNs.
const (
	SchemaUser         = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaEnterprise   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaListResp     = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaPatchOp      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaError        = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaSPConfig     = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	defaultListCount   = 100
	maxListCount       = 1000
	maxPatchOps        = 100
	enterprisePrefix   = SchemaEnterprise + ":"
	scimTypeInvalid    = "invalidValue"
	scimTypeSyntax     = "invalidSyntax"
	scimTypeFilter     = "invalidFilter"
	scimTypePath       = "invalidPath"
	scimTypeUniqueness = "uniqueness"
)

// Error is a SCIM error (RFC 7644 §3.12): the HTTP status, the scimType
// for 400s and 409s, and a detail that says what to fix.
type Error struct {
	Status   int
	SCIMType string
	Detail   string
}

func (e *Error) Error() string { return fmt.Sprintf("scim %d %s: %s", e.Status, e.SCIMType, e.Detail) }

func badValue(format string, args ...any) *Error {
	return &Error{Status: 400, SCIMType: scimTypeInvalid, Detail: fmt.Sprintf(format, args...)}
}

// ErrorBody is the JSON of a SCIM error.
type ErrorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	SCIMType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// Body is e as SCIM sends it.
func (e *Error) Body() ErrorBody {
	return ErrorBody{Schemas: []string{SchemaError}, Status: strconv.Itoa(e.Status), SCIMType: e.SCIMType, Detail: e.Detail}
}

// User is the SCIM User resource, the attributes roster keeps.
type User struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id,omitempty"`
	ExternalID  string      `json:"externalId,omitempty"`
	UserName    string      `json:"userName"`
	Name        *Name       `json:"name,omitempty"`
	DisplayName string      `json:"displayName,omitempty"`
	Emails      []Email     `json:"emails,omitempty"`
	Active      *bool       `json:"active,omitempty"`
	Enterprise  *Enterprise `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	Meta        *Meta       `json:"meta,omitempty"`
}

// Name is SCIM's complex name.
type Name struct {
	Formatted  string `json:"formatted,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

// Email is one of a user's emails.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Enterprise is the enterprise extension's department and manager.
type Enterprise struct {
	Department string   `json:"department,omitempty"`
	Manager    *Manager `json:"manager,omitempty"`
}

// Manager names a manager by email, or by the manager's SCIM id.
type Manager struct {
	Value string `json:"value"`
}

// Meta is the resource's metadata.
type Meta struct {
	ResourceType string    `json:"resourceType"`
	Created      time.Time `json:"created"`
	LastModified time.Time `json:"lastModified"`
	Location     string    `json:"location,omitempty"`
}

// ListResponse is a page of users.
type ListResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []User   `json:"Resources"`
}

// UserOf is p as a SCIM User. location is the users endpoint's URL
// ("" leaves meta.location out).
func UserOf(p roster.Person, location string) User {
	active := p.Status != roster.PersonLeft
	u := User{
		Schemas: []string{SchemaUser, SchemaEnterprise}, ID: strconv.FormatInt(p.ID, 10),
		ExternalID: p.ExternalID, UserName: p.Email, DisplayName: p.Name, Active: &active,
		Emails: []Email{{Value: p.Email, Type: "work", Primary: true}},
		Meta:   &Meta{ResourceType: "User", Created: p.CreatedAt, LastModified: p.UpdatedAt},
	}
	if location != "" {
		u.Meta.Location = strings.TrimRight(location, "/") + "/" + u.ID
	}
	if p.Name != "" {
		given, family, _ := strings.Cut(p.Name, " ")
		u.Name = &Name{Formatted: p.Name, GivenName: given, FamilyName: family}
	}
	for _, a := range p.Aliases {
		u.Emails = append(u.Emails, Email{Value: a, Type: "other"})
	}
	if p.Department != "" || p.ManagerEmail != "" {
		u.Enterprise = &Enterprise{Department: p.Department}
		if p.ManagerEmail != "" {
			u.Enterprise.Manager = &Manager{Value: p.ManagerEmail}
		}
	}
	return u
}

// apply writes u's attributes onto p, as a PUT replaces them: userName
// is the email, the other emails are aliases, active=false means left.
// A manager given by id is resolved by managerEmail.
func (u User) apply(p *roster.Person, managerEmail func(string) (string, error)) error {
	if strings.TrimSpace(u.UserName) == "" {
		return badValue("userName is required")
	}
	p.Email = u.UserName
	p.ExternalID = u.ExternalID
	p.Name = nameOf(u)
	p.Aliases = nil
	for _, e := range u.Emails {
		if !strings.EqualFold(strings.TrimSpace(e.Value), strings.TrimSpace(u.UserName)) {
			p.Aliases = append(p.Aliases, e.Value)
		}
	}
	p.Status = roster.PersonActive
	if u.Active != nil && !*u.Active {
		p.Status = roster.PersonLeft
	}
	p.Department, p.ManagerEmail = "", ""
	if u.Enterprise != nil {
		p.Department = u.Enterprise.Department
		if u.Enterprise.Manager != nil && u.Enterprise.Manager.Value != "" {
			m, err := managerEmail(u.Enterprise.Manager.Value)
			if err != nil {
				return err
			}
			p.ManagerEmail = m
		}
	}
	return nil
}

func nameOf(u User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	if u.Name == nil {
		return ""
	}
	if u.Name.Formatted != "" {
		return u.Name.Formatted
	}
	return strings.TrimSpace(u.Name.GivenName + " " + u.Name.FamilyName)
}

// DecodeUser reads a User body, refusing what is not JSON or not a User.
func DecodeUser(b []byte) (User, error) {
	var u User
	if err := json.Unmarshal(b, &u); err != nil {
		return User{}, &Error{Status: 400, SCIMType: scimTypeSyntax, Detail: "The body is not a SCIM User: " + jsonProblem(err)}
	}
	hasUser := false
	for _, s := range u.Schemas {
		hasUser = hasUser || s == SchemaUser
	}
	if !hasUser {
		return User{}, &Error{Status: 400, SCIMType: scimTypeSyntax, Detail: "schemas must include " + SchemaUser + "."}
	}
	return u, nil
}

// Filter is a parsed SCIM filter: roster understands `userName eq "…"`
// and `externalId eq "…"`, which is what identity providers send to find
// a user before creating it.
type Filter struct {
	Attr  string // "userName" or "externalId"
	Value string
}

// ParseFilter parses a filter; "" is no filter (zero Filter).
func ParseFilter(s string) (Filter, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Filter{}, nil
	}
	bad := &Error{Status: 400, SCIMType: scimTypeFilter,
		Detail: fmt.Sprintf("Unsupported filter %q: roster understands userName eq \"...\" and externalId eq \"...\".", s)}
	attr, rest, ok := strings.Cut(s, " ")
	if !ok {
		return Filter{}, bad
	}
	op, val, ok := strings.Cut(strings.TrimSpace(rest), " ")
	if !ok || !strings.EqualFold(op, "eq") {
		return Filter{}, bad
	}
	switch {
	case strings.EqualFold(attr, "userName"), strings.EqualFold(attr, SchemaUser+":userName"):
		attr = "userName"
	case strings.EqualFold(attr, "externalId"), strings.EqualFold(attr, SchemaUser+":externalId"):
		attr = "externalId"
	default:
		return Filter{}, bad
	}
	// The value is a JSON string (RFC 7644 §3.4.2.2), escapes and all.
	// No stored text holds a NUL, and PostgreSQL refuses one.
	val = strings.TrimSpace(val)
	var v string
	if !strings.HasPrefix(val, `"`) || json.Unmarshal([]byte(val), &v) != nil || strings.ContainsRune(v, 0) {
		return Filter{}, bad
	}
	return Filter{Attr: attr, Value: v}, nil
}

// PatchRequest is a SCIM PATCH body.
type PatchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []PatchOp `json:"Operations"`
}

// PatchOp is one PATCH operation.
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

// DecodePatch reads a PATCH body.
func DecodePatch(b []byte) (PatchRequest, error) {
	var pr PatchRequest
	if err := json.Unmarshal(b, &pr); err != nil {
		return PatchRequest{}, &Error{Status: 400, SCIMType: scimTypeSyntax, Detail: "The body is not a SCIM PatchOp: " + jsonProblem(err)}
	}
	ok := false
	for _, s := range pr.Schemas {
		ok = ok || s == SchemaPatchOp
	}
	switch {
	case !ok:
		return PatchRequest{}, &Error{Status: 400, SCIMType: scimTypeSyntax, Detail: "schemas must include " + SchemaPatchOp + "."}
	case len(pr.Operations) == 0:
		return PatchRequest{}, &Error{Status: 400, SCIMType: scimTypeSyntax, Detail: "Operations is empty."}
	case len(pr.Operations) > maxPatchOps:
		return PatchRequest{}, &Error{Status: 400, SCIMType: "tooMany", Detail: fmt.Sprintf("At most %d operations per PATCH.", maxPatchOps)}
	}
	return pr, nil
}

// applyPatch applies ops to p. Supported: add and replace of active,
// userName, displayName, name (and its sub-attributes), emails,
// externalId, and the enterprise department and manager (with or
// without a path: a pathless op's value is an object of these), and
// remove of department, manager, externalId, emails, displayName and name.
func applyPatch(p *roster.Person, ops []PatchOp, managerEmail func(string) (string, error)) error {
	for i, op := range ops {
		kind := strings.ToLower(op.Op)
		switch kind {
		case "add", "replace":
			if op.Path == "" {
				var obj map[string]json.RawMessage
				if err := json.Unmarshal(op.Value, &obj); err != nil {
					return badValue("Operations[%d]: an op without path needs an object value.", i)
				}
				for k, v := range obj {
					if k == SchemaEnterprise {
						var ent map[string]json.RawMessage
						if err := json.Unmarshal(v, &ent); err != nil {
							return badValue("Operations[%d]: %s must be an object.", i, k)
						}
						for ek, ev := range ent {
							if err := setAttr(p, enterprisePrefix+ek, ev, managerEmail); err != nil {
								return err
							}
						}
						continue
					}
					if err := setAttr(p, k, v, managerEmail); err != nil {
						return err
					}
				}
				continue
			}
			if err := setAttr(p, op.Path, op.Value, managerEmail); err != nil {
				return err
			}
		case "remove":
			if err := removeAttr(p, op.Path); err != nil {
				return err
			}
		default:
			return badValue("Operations[%d]: op %q is not add, replace or remove.", i, op.Op)
		}
	}
	return nil
}

// attrKey canonicalises a path: case-insensitive, core schema prefix off.
func attrKey(path string) string {
	k := strings.ToLower(strings.TrimSpace(path))
	k = strings.TrimPrefix(k, strings.ToLower(SchemaUser)+":")
	return k
}

func setAttr(p *roster.Person, path string, v json.RawMessage, managerEmail func(string) (string, error)) error {
	str := func() (string, error) {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", badValue("%s must be a string.", path)
		}
		return s, nil
	}
	switch attrKey(path) {
	case "active":
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			// Entra ID sends "False" and "True" as strings.
			s, serr := str()
			if serr != nil {
				return badValue("active must be true or false.")
			}
			if b, err = strconv.ParseBool(strings.ToLower(s)); err != nil {
				return badValue("active must be true or false.")
			}
		}
		p.Status = roster.PersonActive
		if !b {
			p.Status = roster.PersonLeft
		}
	case "username":
		s, err := str()
		if err != nil {
			return err
		}
		p.Email = s
	case "externalid":
		s, err := str()
		if err != nil {
			return err
		}
		p.ExternalID = s
	case "displayname", "name.formatted":
		s, err := str()
		if err != nil {
			return err
		}
		p.Name = s
	case "name.givenname", "name.familyname":
		s, err := str()
		if err != nil {
			return err
		}
		given, family, _ := strings.Cut(p.Name, " ")
		if attrKey(path) == "name.givenname" {
			given = s
		} else {
			family = s
		}
		p.Name = strings.TrimSpace(given + " " + family)
	case "name":
		var n Name
		if err := json.Unmarshal(v, &n); err != nil {
			return badValue("name must be an object.")
		}
		p.Name = nameOf(User{Name: &n})
	case "emails":
		var es []Email
		if err := json.Unmarshal(v, &es); err != nil {
			return badValue("emails must be a list of {value}.")
		}
		p.Aliases = nil
		for _, e := range es {
			if !strings.EqualFold(strings.TrimSpace(e.Value), p.Email) {
				p.Aliases = append(p.Aliases, e.Value)
			}
		}
	case strings.ToLower(enterprisePrefix) + "department", "department":
		s, err := str()
		if err != nil {
			return err
		}
		p.Department = s
	case strings.ToLower(enterprisePrefix) + "manager", "manager", strings.ToLower(enterprisePrefix) + "manager.value":
		var m Manager
		if err := json.Unmarshal(v, &m); err != nil {
			s, serr := str()
			if serr != nil {
				return badValue("manager must be {\"value\": email or id}.")
			}
			m.Value = s
		}
		if m.Value == "" {
			p.ManagerEmail = ""
			return nil
		}
		e, err := managerEmail(m.Value)
		if err != nil {
			return err
		}
		p.ManagerEmail = e
	default:
		return &Error{Status: 400, SCIMType: scimTypePath, Detail: fmt.Sprintf("roster cannot change %q.", path)}
	}
	return nil
}

func removeAttr(p *roster.Person, path string) error {
	switch attrKey(path) {
	case strings.ToLower(enterprisePrefix) + "department", "department":
		p.Department = ""
	case strings.ToLower(enterprisePrefix) + "manager", "manager":
		p.ManagerEmail = ""
	case "externalid":
		p.ExternalID = ""
	case "emails":
		p.Aliases = nil
	case "displayname", "name", "name.formatted":
		p.Name = ""
	default:
		return &Error{Status: 400, SCIMType: scimTypePath, Detail: fmt.Sprintf("roster cannot remove %q.", path)}
	}
	return nil
}

// ServiceProviderConfig is what roster's SCIM server supports.
func ServiceProviderConfig() map[string]any {
	no := map[string]any{"supported": false}
	return map[string]any{
		"schemas":        []string{SchemaSPConfig},
		"patch":          map[string]any{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": maxListCount},
		"changePassword": no,
		"sort":           no,
		"etag":           no,
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "API key with scope scim",
			"description": "Authorization: Bearer rk_... with an API key that has the scim scope (Settings → API keys).",
		}},
	}
}

// jsonProblem is a refused body's problem in JSON's words, ending a
// sentence.
func jsonProblem(err error) string {
	_, msg := roster.JSONProblem(err)
	return msg + "."
}
