package mirosim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// SCIM 2.0 Users (RFC 7643/7644) of the Enterprise org. Guests are never
// SCIM users; external users are, but cannot be deactivated.

const (
	scimUserSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimListSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// userTypes maps licenses to SCIM userType and back.
var userTypes = map[string]string{
	"full": "Full", "free": "Free", "free_restricted": "Free Restricted", "full_trial": "Full (Trial)",
	"basic": "Basic", "standard": "Standard", "advanced": "Advanced", "occasional": "Occasional",
	"unknown": "Unknown",
}

func licenseOfUserType(ut string) (string, bool) {
	for l, t := range userTypes {
		if strings.EqualFold(t, ut) {
			return l, true
		}
	}
	return "", false
}

type scimName struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	Formatted  string `json:"formatted,omitempty"`
}

type scimValue struct {
	Value   string `json:"value"`
	Primary bool   `json:"primary,omitempty"`
	Type    string `json:"type,omitempty"`
	Display string `json:"display,omitempty"`
}

type scimMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
}

type scimUser struct {
	Schemas     []string          `json:"schemas"`
	ID          string            `json:"id"`
	UserName    string            `json:"userName"`
	Name        scimName          `json:"name"`
	DisplayName string            `json:"displayName"`
	UserType    string            `json:"userType"`
	Active      bool              `json:"active"`
	Emails      []scimValue       `json:"emails"`
	Roles       []scimValue       `json:"roles"`
	Groups      []scimValue       `json:"groups"`
	Enterprise  map[string]string `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	Meta        scimMeta          `json:"meta"`
}

type scimList struct {
	Schemas      []string   `json:"schemas"`
	TotalResults int        `json:"totalResults"`
	StartIndex   int        `json:"startIndex"`
	ItemsPerPage int        `json:"itemsPerPage"`
	Resources    []scimUser `json:"Resources"`
}

func writeSCIM(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// scimFail writes an RFC 7644 error; scimType may be empty.
func scimFail(w http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{
		"schemas": []string{scimErrorSchema},
		"status":  strconv.Itoa(status),
		"detail":  detail,
	}
	if scimType != "" {
		body["scimType"] = scimType
	}
	writeSCIM(w, status, body)
}

// scimFailErr maps a World refusal to a SCIM error.
func scimFailErr(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		scimFail(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	scimType := ""
	switch ae.Status {
	case http.StatusBadRequest:
		scimType = "invalidValue"
	}
	scimFail(w, ae.Status, scimType, ae.Message)
}

// scimUserByID is a SCIM-visible user: in the Enterprise org, not a guest.
func (s *Sim) scimUserByID(id string) *User {
	u := s.w.Users[id]
	if u == nil || u.OrgID != s.w.EnterpriseOrgID || u.Role == roleGuest {
		return nil
	}
	return u
}

func (s *Sim) toSCIM(r *http.Request, u *User) scimUser {
	role := "ORGANIZATION_INTERNAL_USER"
	if u.IsCompanyAdmin() {
		role = "ORGANIZATION_INTERNAL_ADMIN"
	}
	ut := userTypes[u.License]
	if ut == "" {
		ut = "Unknown"
	}
	modified := u.CreatedAt
	if u.LicenseAssignedAt.After(modified) {
		modified = u.LicenseAssignedAt
	}
	out := scimUser{
		// Miro's spec allows only the core schema URN here, though the
		// enterprise extension's attributes are present.
		Schemas:     []string{scimUserSchema},
		ID:          u.ID,
		UserName:    u.Email,
		Name:        scimName{GivenName: u.GivenName, FamilyName: u.FamilyName, Formatted: u.Name()},
		DisplayName: u.Name(),
		UserType:    ut,
		Active:      u.Active,
		Emails:      []scimValue{{Value: u.Email, Primary: true}},
		Roles:       []scimValue{{Type: "organization_user_role", Value: role, Primary: true}},
		Groups:      []scimValue{},
		Enterprise:  map[string]string{"department": u.Department},
		Meta: scimMeta{
			ResourceType: "User",
			Created:      fmtTime(u.CreatedAt),
			LastModified: fmtTime(modified),
			Location:     baseURL(r) + "/api/v1/scim/Users/" + u.ID,
		},
	}
	for _, a := range u.AdminRoles {
		out.Roles = append(out.Roles, scimValue{Type: "organization_admin_role", Value: a.Name})
	}
	for _, t := range s.w.userTeams(u) {
		out.Groups = append(out.Groups, scimValue{Value: t.ID, Display: t.Name})
	}
	return out
}

// ---- filter ----

// scimCond is one `attr op value` comparison of a filter.
type scimCond struct {
	attr, op, value string
}

// parseSCIMFilter reads `attr op "value"` comparisons joined by "and",
// with ops eq, ne, co and sw.
func parseSCIMFilter(f string) ([]scimCond, error) {
	var conds []scimCond
	rest := strings.TrimSpace(f)
	for rest != "" {
		attr, after, ok := strings.Cut(rest, " ")
		if !ok {
			return nil, fmt.Errorf("incomplete filter %q", f)
		}
		op, after, ok := strings.Cut(strings.TrimLeft(after, " "), " ")
		if !ok {
			return nil, fmt.Errorf("incomplete filter %q", f)
		}
		op = strings.ToLower(op)
		switch op {
		case "eq", "ne", "co", "sw":
		default:
			return nil, fmt.Errorf("unsupported operator %q", op)
		}
		after = strings.TrimLeft(after, " ")
		var value string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("unterminated string in filter %q", f)
			}
			value, after = after[1:end+1], after[end+2:]
		} else {
			value, after, _ = strings.Cut(after, " ")
			if value != "true" && value != "false" {
				return nil, fmt.Errorf("value %q must be a quoted string, true or false", value)
			}
		}
		conds = append(conds, scimCond{attr: attr, op: op, value: value})
		after = strings.TrimSpace(after)
		if after == "" {
			break
		}
		conj, next, _ := strings.Cut(after, " ")
		if !strings.EqualFold(conj, "and") {
			return nil, fmt.Errorf("only \"and\" may join comparisons, got %q", conj)
		}
		rest = strings.TrimSpace(next)
		if rest == "" {
			return nil, fmt.Errorf("filter %q ends with and", f)
		}
	}
	for _, c := range conds {
		switch strings.ToLower(c.attr) {
		case "username", "active", "usertype", "id", "displayname", "name.givenname", "name.familyname", "emails.value", "emails":
		default:
			return nil, fmt.Errorf("unsupported attribute %q", c.attr)
		}
	}
	return conds, nil
}

func (c scimCond) match(u *User) bool {
	var v string
	switch strings.ToLower(c.attr) {
	case "username", "emails.value", "emails":
		v = u.Email
	case "active":
		v = strconv.FormatBool(u.Active)
	case "usertype":
		v = userTypes[u.License]
	case "id":
		v = u.ID
	case "displayname":
		v = u.Name()
	case "name.givenname":
		v = u.GivenName
	case "name.familyname":
		v = u.FamilyName
	}
	// SCIM string comparisons on these attributes are case-insensitive.
	v, want := strings.ToLower(v), strings.ToLower(c.value)
	switch c.op {
	case "eq":
		return v == want
	case "ne":
		return v != want
	case "co":
		return strings.Contains(v, want)
	case "sw":
		return strings.HasPrefix(v, want)
	}
	return false
}

// ---- handlers ----

func (s *Sim) handleSCIMListUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	startIndex, count := 1, 100
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			scimFail(w, http.StatusBadRequest, "invalidValue", fmt.Sprintf("startIndex must be an integer, got %q", v))
			return
		}
		startIndex = max(n, 1) // RFC 7644: values below 1 mean 1
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			scimFail(w, http.StatusBadRequest, "invalidValue", fmt.Sprintf("count must be an integer, got %q", v))
			return
		}
		count = min(max(n, 0), 1000)
	}
	conds, err := parseSCIMFilter(q.Get("filter"))
	if err != nil {
		scimFail(w, http.StatusBadRequest, "invalidFilter", err.Error())
		return
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	org := s.w.Orgs[s.w.EnterpriseOrgID]
	out := scimList{Schemas: []string{scimListSchema}, StartIndex: startIndex, Resources: []scimUser{}}
	matched := 0
	for _, id := range org.memberIDs {
		u := s.w.Users[id]
		if u == nil || u.Role == roleGuest || !matchAll(conds, u) {
			continue
		}
		matched++
		if matched >= startIndex && len(out.Resources) < count {
			out.Resources = append(out.Resources, s.toSCIM(r, u))
		}
	}
	out.TotalResults = matched
	out.ItemsPerPage = len(out.Resources)
	writeSCIM(w, http.StatusOK, out)
}

func matchAll(conds []scimCond, u *User) bool {
	for _, c := range conds {
		if !c.match(u) {
			return false
		}
	}
	return true
}

func (s *Sim) handleSCIMGetUser(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.scimUserByID(r.PathValue("id"))
	if u == nil {
		scimFail(w, http.StatusNotFound, "", fmt.Sprintf("User %s not found", r.PathValue("id")))
		return
	}
	writeSCIM(w, http.StatusOK, s.toSCIM(r, u))
}

// scimChange is what a PUT or PATCH asks for; nil fields stay unchanged.
type scimChange struct {
	active     *bool
	userType   *string
	givenName  *string
	familyName *string
}

// apply checks the change and then makes it. userType may only move up
// to Full: SCIM cannot downgrade a license.
func (s *Sim) applySCIM(u *User, c scimChange) (status int, scimType, detail string) {
	var newLicense string
	if c.userType != nil {
		l, ok := licenseOfUserType(*c.userType)
		if !ok {
			return http.StatusBadRequest, "invalidValue", fmt.Sprintf("unknown userType %q", *c.userType)
		}
		if l != u.License && l != "full" {
			return http.StatusBadRequest, "mutability", fmt.Sprintf("userType can only be upgraded to Full, not changed from %s to %s", userTypes[u.License], *c.userType)
		}
		if l != u.License && c.active != nil && !*c.active {
			return http.StatusBadRequest, "invalidValue", "cannot upgrade the license of a user being deactivated"
		}
		newLicense = l
	}
	now := s.now()
	if c.active != nil {
		if err := s.w.setActive(u.ID, *c.active, now); err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				return ae.Status, "invalidValue", ae.Message
			}
			return http.StatusInternalServerError, "", err.Error()
		}
	}
	p := UserPatch{GivenName: c.givenName, FamilyName: c.familyName}
	if newLicense != "" && newLicense != u.License {
		if !u.Active {
			return http.StatusBadRequest, "invalidValue", "cannot upgrade the license of a deactivated user"
		}
		p.License = &newLicense
	}
	if _, err := s.w.updateUser(u.ID, p, now); err != nil {
		return http.StatusBadRequest, "invalidValue", err.Error()
	}
	return 0, "", ""
}

// boolValue reads a SCIM boolean, which some IdPs send as "True"/"False".
func boolValue(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		p, err := strconv.ParseBool(strings.ToLower(b))
		return p, err == nil
	}
	return false, false
}

func stringValue(v any) (*string, bool) {
	s, ok := v.(string)
	return &s, ok
}

// setAttr records one attribute of a PATCH or PUT into c.
func setAttr(c *scimChange, path string, v any) error {
	var ok bool
	switch strings.ToLower(path) {
	case "active":
		var b bool
		if b, ok = boolValue(v); ok {
			c.active = &b
		}
	case "usertype":
		c.userType, ok = stringValue(v)
	case "name.givenname":
		c.givenName, ok = stringValue(v)
	case "name.familyname":
		c.familyName, ok = stringValue(v)
	case "name":
		m, isMap := v.(map[string]any)
		if !isMap {
			return fmt.Errorf("name must be an object")
		}
		for k, sub := range m {
			if err := setAttr(c, "name."+k, sub); err != nil {
				return err
			}
		}
		return nil
	default:
		// Other attributes (emails, displayName, extension fields) are
		// accepted and ignored: the simulator does not model them.
		return nil
	}
	if !ok {
		return fmt.Errorf("invalid value for %s", path)
	}
	return nil
}

func (s *Sim) handleSCIMPatchUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Schemas    []string `json:"schemas"`
		Operations []struct {
			Op    string `json:"op"`
			Path  string `json:"path"`
			Value any    `json:"value"`
		} `json:"Operations"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		scimFail(w, http.StatusBadRequest, "invalidSyntax", fmt.Sprintf("invalid JSON body: %v", err))
		return
	}
	if len(body.Operations) == 0 {
		scimFail(w, http.StatusBadRequest, "invalidSyntax", "Operations must not be empty")
		return
	}
	var c scimChange
	for _, op := range body.Operations {
		switch strings.ToLower(op.Op) {
		case "replace", "add":
		default:
			scimFail(w, http.StatusBadRequest, "invalidSyntax", fmt.Sprintf("unsupported op %q (use replace or add)", op.Op))
			return
		}
		if op.Path == "" {
			m, ok := op.Value.(map[string]any)
			if !ok {
				scimFail(w, http.StatusBadRequest, "invalidValue", "an operation without path needs an object value")
				return
			}
			for k, v := range m {
				if err := setAttr(&c, k, v); err != nil {
					scimFail(w, http.StatusBadRequest, "invalidValue", err.Error())
					return
				}
			}
			continue
		}
		if err := setAttr(&c, op.Path, op.Value); err != nil {
			scimFail(w, http.StatusBadRequest, "invalidValue", err.Error())
			return
		}
	}
	s.scimChangeUser(w, r, c)
}

func (s *Sim) scimChangeUser(w http.ResponseWriter, r *http.Request, c scimChange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.scimUserByID(r.PathValue("id"))
	if u == nil {
		scimFail(w, http.StatusNotFound, "", fmt.Sprintf("User %s not found", r.PathValue("id")))
		return
	}
	if status, scimType, detail := s.applySCIM(u, c); status != 0 {
		scimFail(w, status, scimType, detail)
		return
	}
	writeSCIM(w, http.StatusOK, s.toSCIM(r, u))
}

func (s *Sim) handleSCIMReplaceUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name     *scimName `json:"name"`
		Active   any       `json:"active"`
		UserType *string   `json:"userType"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		scimFail(w, http.StatusBadRequest, "invalidSyntax", fmt.Sprintf("invalid JSON body: %v", err))
		return
	}
	c := scimChange{userType: body.UserType}
	if body.Name != nil {
		c.givenName, c.familyName = &body.Name.GivenName, &body.Name.FamilyName
	}
	if body.Active != nil {
		b, ok := boolValue(body.Active)
		if !ok {
			scimFail(w, http.StatusBadRequest, "invalidValue", "active must be a boolean")
			return
		}
		c.active = &b
	}
	s.scimChangeUser(w, r, c)
}

func (s *Sim) handleSCIMDeleteUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.scimUserByID(r.PathValue("id"))
	if u == nil {
		scimFail(w, http.StatusNotFound, "", fmt.Sprintf("User %s not found", r.PathValue("id")))
		return
	}
	if err := s.w.removeUser(u.ID, s.now()); err != nil {
		scimFailErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
