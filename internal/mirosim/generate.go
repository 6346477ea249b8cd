package mirosim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// Default mixes, used when the Config leaves them zero.
var (
	defaultLicenseMix = map[string]float64{
		"full": 0.55, "free": 0.15, "free_restricted": 0.05, "occasional": 0.05,
		"full_trial": 0.02, "basic": 0.06, "standard": 0.06, "advanced": 0.04, "unknown": 0.02,
	}
	defaultRoleMix = []weighted{
		{roleAdmin, 0.02}, {roleInternal, 0.85}, {roleExternal, 0.08}, {roleGuest, 0.05},
	}
)

var (
	givenNames = []string{"Ada", "Alan", "Alice", "Amir", "Anna", "Ben", "Carla", "Chen", "Dana", "David",
		"Elena", "Emma", "Farid", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jana", "John",
		"Kai", "Laura", "Leo", "Lina", "Marco", "Maria", "Mei", "Nina", "Omar", "Paula",
		"Pedro", "Priya", "Quinn", "Rosa", "Sam", "Sara", "Tariq", "Tom", "Uma", "Vera",
		"Wei", "Yara", "Yusuf", "Zoe"}
	familyNames = []string{"Smith", "Garcia", "Mueller", "Rossi", "Dubois", "Kowalski", "Nakamura", "Chen",
		"Okafor", "Silva", "Johansson", "Novak", "Ivanova", "Haddad", "Kim", "Patel",
		"Cohen", "Murphy", "Costa", "Jensen", "Fischer", "Lopez", "Tanaka", "Nguyen",
		"Andersen", "Moreau", "Schmidt", "Ricci", "Santos", "Berg"}
	departments = []string{"Engineering", "Product", "Design", "Marketing", "Sales", "Support",
		"Finance", "People", "Legal", "Operations"}
	teamWords = []string{"Platform", "Growth", "Mobile", "Payments", "Brand", "Research", "Infra",
		"Data", "Onboarding", "Partners", "Security", "Web", "Analytics", "Content", "Billing"}
	boardWords = []string{"Roadmap", "Retro", "Kickoff", "Brainstorm", "User journey", "Sprint plan",
		"Architecture", "OKRs", "Wireframes", "Workshop", "Backlog", "Offsite", "Mind map"}
)

type weighted struct {
	value  string
	weight float64
}

// picker draws values by weight with one uniform number.
type picker struct {
	values []string
	cum    []float64
}

func newPicker(ws []weighted) picker {
	var p picker
	total := 0.0
	for _, w := range ws {
		if w.weight > 0 {
			total += w.weight
			p.values = append(p.values, w.value)
			p.cum = append(p.cum, total)
		}
	}
	for i := range p.cum {
		p.cum[i] /= total
	}
	return p
}

func (p picker) pick(r *rand.Rand) string {
	i := sort.SearchFloat64s(p.cum, r.Float64())
	if i >= len(p.values) {
		i = len(p.values) - 1
	}
	return p.values[i]
}

// mixToWeighted turns a map into a sorted slice, so that map order never
// changes what a seed generates.
func mixToWeighted(m map[string]float64) []weighted {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]weighted, 0, len(keys))
	for _, k := range keys {
		out = append(out, weighted{k, m[k]})
	}
	return out
}

const day = 24 * time.Hour

// between is a uniform time in [from, to).
func between(r *rand.Rand, from, to time.Time) time.Time {
	d := to.Sub(from)
	if d <= 0 {
		return from
	}
	return from.Add(time.Duration(r.Int64N(int64(d)))).Truncate(time.Millisecond)
}

// generate builds a deterministic world from cfg: the same Config (Seed
// and Now included) gives the same organization.
func generate(cfg Config) *World {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15))
	now := cfg.Now().UTC().Truncate(time.Millisecond)
	w := newWorld()
	g := &generator{cfg: cfg, r: r, now: now, w: w}

	members := max(cfg.Members, 2) // the two known users
	nTeams := max(cfg.Teams, 1)

	org := &Org{ID: w.newID(), Name: "Example Corp", Plan: "company", Enterprise: true, DeactivatedLicense: "free"}
	w.Orgs[org.ID] = org
	w.EnterpriseOrgID = org.ID

	teams := make([]*Team, nTeams)
	for i := range teams {
		teams[i] = g.newTeam(org, fmt.Sprintf("%s %d", teamWords[i%len(teamWords)], i+1), 0)
	}

	mix := cfg.LicenseMix
	if len(mix) == 0 {
		mix = defaultLicenseMix
	}
	licensePick := newPicker(mixToWeighted(mix))
	rolePick := newPicker(defaultRoleMix)

	users := make([]*User, members)
	for i := range users {
		role := rolePick.pick(r)
		if i < 2 {
			role = []string{roleAdmin, roleInternal}[i]
		}
		users[i] = g.newUser(org, i, role, licensePick.pick(r), i >= 2)
	}
	w.Known.CompanyAdminID, w.Known.EnterpriseTeamID = users[0].ID, teams[0].ID
	w.Known.NonAdminID, w.Known.NonAdminTeamID = users[1].ID, teams[min(1, nTeams-1)].ID

	g.assignTeams(teams, users)
	g.ensureMember(teams[0], users[0], teamRoleAdmin)
	g.ensureMember(w.Teams[w.Known.NonAdminTeamID], users[1], teamRoleAdmin)
	for _, t := range teams {
		g.ensureAdmin(t, users)
	}

	full := 0
	for _, u := range users {
		if u.License == "full" {
			full++
		}
	}
	org.FullLicensesPurchased = cfg.FullLicensesPurchased
	if org.FullLicensesPurchased == 0 {
		org.FullLicensesPurchased = int(math.Ceil(1.1 * float64(full)))
	}

	for i := range cfg.NonEnterpriseTeams {
		g.nonEnterprise(i)
	}

	g.boardsAndProjects(users)
	g.audit(org, users)
	return w
}

type generator struct {
	cfg Config
	r   *rand.Rand
	now time.Time
	w   *World
	// firstBoard is each owner's most recently opened board, for the
	// board_opened audit events.
	firstBoard map[string]*Board
}

func (g *generator) newTeam(org *Org, name string, size int) *Team {
	t := &Team{
		ID: g.w.newID(), OrgID: org.ID, Name: name,
		CreatedAt: between(g.r, g.now.Add(-3*365*day), g.now.Add(-400*day)),
		members:   make(map[string]*TeamMember, size),
	}
	g.w.Teams[t.ID] = t
	org.teamIDs = append(org.teamIDs, t.ID)
	return t
}

// newUser makes the i-th user of org. random=false makes a well-behaved
// known user: active, full license, recently active.
func (g *generator) newUser(org *Org, i int, role, license string, random bool) *User {
	r := g.r
	given := givenNames[r.IntN(len(givenNames))]
	family := familyNames[r.IntN(len(familyNames))]
	domain := "example-corp.com"
	switch role {
	case roleExternal:
		domain = "partner-agency.com"
	case roleGuest:
		domain = "guest-mail.net"
		license = "free"
	}
	if !org.Enterprise {
		domain = fmt.Sprintf("smallco-%s.com", org.ID[len(org.ID)-4:])
	}
	u := &User{
		ID: g.w.newID(), OrgID: org.ID,
		Email:      strings.ToLower(fmt.Sprintf("%s.%s.%d@%s", given, family, i, domain)),
		GivenName:  given,
		FamilyName: family,
		Role:       role,
		License:    license,
		Active:     true,
		Department: departments[r.IntN(len(departments))],
		CreatedAt:  between(r, g.now.Add(-3*365*day), g.now.Add(-30*day)),
	}
	u.LicenseAssignedAt = between(r, u.CreatedAt, u.CreatedAt.Add(30*day))

	a := r.Float64()
	act, stale := g.cfg.ActiveShare, g.cfg.StaleShare
	if act+stale+g.cfg.NeverShare == 0 {
		act, stale = 0.6, 0.3
	} else {
		total := act + stale + g.cfg.NeverShare
		act, stale = act/total, stale/total
	}
	switch {
	case !random || a < act:
		u.LastActivityAt = between(r, g.now.Add(-30*day), g.now)
	case a < act+stale:
		// CreatedAt is at least 30 days ago, so this range is never empty.
		u.LastActivityAt = between(r, maxTime(g.now.Add(-365*day), u.CreatedAt), g.now.Add(-30*day))
	}

	if !random {
		u.License = "full"
	} else if (role == roleInternal || role == roleAdmin) && r.Float64() < 0.03 {
		u.Active = false
		u.License = org.DeactivatedLicense
	}
	if role == roleAdmin {
		u.AdminRoles = []AdminRole{{Type: "prebuilt", Name: "User Admin"}}
		switch r.IntN(4) {
		case 0:
			u.AdminRoles = append(u.AdminRoles, AdminRole{Type: "prebuilt", Name: "Content Admin"})
		case 1:
			u.AdminRoles = append(u.AdminRoles, AdminRole{Type: "custom", Name: "License Manager"})
		}
	}
	g.w.Users[u.ID] = u
	g.w.usersByMail[u.Email] = u
	org.memberIDs = append(org.memberIDs, u.ID) // ids ascend, so this stays sorted
	return u
}

// assignTeams puts each user in ~TeamsPerMember teams (at least one),
// choosing teams with a Zipf-like skew: a few big teams, many small ones.
func (g *generator) assignTeams(teams []*Team, users []*User) {
	r := g.r
	cum := make([]float64, len(teams))
	total := 0.0
	for i := range teams {
		total += 1 / math.Pow(float64(i+1), 0.8)
		cum[i] = total
	}
	for i := range cum {
		cum[i] /= total
	}
	extra := max(g.cfg.TeamsPerMember-1, 0)
	chosen := make([]int, 0, 8)
	for _, u := range users {
		k := 1 + int(r.Float64()*(2*extra+1))
		k = min(k, len(teams))
		chosen = chosen[:0]
		for tries := 0; len(chosen) < k && tries < 20*k; tries++ {
			j := min(sort.SearchFloat64s(cum, r.Float64()), len(teams)-1)
			if !slices.Contains(chosen, j) {
				chosen = append(chosen, j)
			}
		}
		for _, j := range chosen {
			t := teams[j]
			role := teamRoleMember
			switch {
			case u.Role == roleGuest:
				role = teamRoleNonTeam
			case u.Role != roleExternal && r.Float64() < 0.03:
				role = teamRoleAdmin
			}
			g.addGenMembership(t, u, role)
		}
	}
}

// addGenMembership adds a membership during generation. Users are created
// in id order, so appending keeps Team.memberIDs sorted.
func (g *generator) addGenMembership(t *Team, u *User, role string) *TeamMember {
	at := between(g.r, maxTime(u.CreatedAt, t.CreatedAt), g.now.Add(-day))
	m := &TeamMember{
		UserID: u.ID, TeamID: t.ID, ConnectionID: g.w.newID(), Role: role,
		CreatedAt: at, CreatedBy: g.w.Known.CompanyAdminID, ModifiedAt: at, ModifiedBy: g.w.Known.CompanyAdminID,
	}
	t.members[u.ID] = m
	t.memberIDs = appendSorted(t.memberIDs, u.ID)
	g.w.userTeamIDs[u.ID] = appendSorted(g.w.userTeamIDs[u.ID], t.ID)
	g.w.connections[m.ConnectionID] = m
	return m
}

// appendSorted is insertSorted with a fast path for the usual case of
// generation, where ids arrive in ascending order.
func appendSorted(ids []string, id string) []string {
	if n := len(ids); n == 0 || ids[n-1] < id {
		return append(ids, id)
	}
	return insertSorted(ids, id)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ensureMember makes u a member of t with role.
func (g *generator) ensureMember(t *Team, u *User, role string) {
	if m := t.members[u.ID]; m != nil {
		m.Role = role
		return
	}
	g.addGenMembership(t, u, role)
}

// ensureAdmin gives a team without an admin one: its longest-standing
// internal member, or a random internal user when it has none.
func (g *generator) ensureAdmin(t *Team, users []*User) {
	if t.adminCount() > 0 {
		return
	}
	var best *TeamMember
	for _, id := range t.memberIDs {
		m := t.members[id]
		u := g.w.Users[id]
		if u.Role != roleInternal && u.Role != roleAdmin {
			continue
		}
		if best == nil || m.CreatedAt.Before(best.CreatedAt) {
			best = m
		}
	}
	if best != nil {
		best.Role = teamRoleAdmin
		return
	}
	for {
		u := users[g.r.IntN(len(users))]
		if u.Role == roleInternal || u.Role == roleAdmin {
			g.addGenMembership(t, u, teamRoleAdmin)
			return
		}
	}
}

// nonEnterprise adds the i-th Business-plan org with one team of 20.
func (g *generator) nonEnterprise(i int) {
	w := g.w
	org := &Org{ID: w.newID(), Name: fmt.Sprintf("Small Co %d", i+1), Plan: "business", DeactivatedLicense: "free"}
	w.Orgs[org.ID] = org
	t := g.newTeam(org, fmt.Sprintf("Small Co %d Team", i+1), 20)
	var users []*User
	for j := range 20 {
		u := g.newUser(org, j, roleInternal, "full", j > 0)
		role := teamRoleMember
		if j == 0 {
			role = teamRoleAdmin
		}
		users = append(users, u)
		m := g.addGenMembership(t, u, role)
		m.CreatedBy, m.ModifiedBy = users[0].ID, users[0].ID // the team's admin invited everyone
	}
	full := 0
	for _, u := range users {
		if u.License == "full" {
			full++
		}
	}
	org.FullLicensesPurchased = full
	if i == 0 {
		w.Known.NonEnterpriseOrgID, w.Known.NonEnterpriseTeamID, w.Known.NonEnterpriseAdminID = org.ID, t.ID, users[0].ID
	}
	g.boardsAndProjects(users)
}

// boardsAndProjects gives each user who ever logged in 0-3 boards in their
// teams; about a quarter of them sit in a project of the owner's.
func (g *generator) boardsAndProjects(users []*User) {
	r, w := g.r, g.w
	if g.firstBoard == nil {
		g.firstBoard = make(map[string]*Board)
	}
	for _, u := range users {
		if u.LastActivityAt.IsZero() || u.Role == roleGuest {
			continue
		}
		ts := w.userTeams(u)
		if len(ts) == 0 {
			continue
		}
		n := r.IntN(4)
		var projects map[string]*Project // team id -> the owner's project
		for range n {
			t := ts[r.IntN(len(ts))]
			created := between(r, maxTime(u.CreatedAt, t.CreatedAt), u.LastActivityAt)
			opened := between(r, created, u.LastActivityAt.Add(time.Millisecond))
			b := &Board{
				ID:           w.newBoardID(),
				Name:         fmt.Sprintf("%s %d", boardWords[r.IntN(len(boardWords))], len(w.boardIDs)+1),
				TeamID:       t.ID,
				OwnerID:      u.ID,
				CreatedByID:  u.ID,
				CreatedAt:    created,
				ModifiedAt:   between(r, created, opened.Add(time.Millisecond)),
				LastOpenedAt: opened,
			}
			if r.IntN(4) == 0 {
				if projects == nil {
					projects = make(map[string]*Project)
				}
				p := projects[t.ID]
				if p == nil {
					p = &Project{ID: w.newID(), Name: u.GivenName + "'s " + t.Name + " space", TeamID: t.ID, OwnerID: u.ID}
					w.Projects[p.ID] = p
					projects[t.ID] = p
				}
				b.ProjectID = p.ID
			}
			w.addBoard(b)
			if fb := g.firstBoard[u.ID]; fb == nil || b.LastOpenedAt.After(fb.LastOpenedAt) {
				g.firstBoard[u.ID] = b
			}
		}
	}
}

// audit records, for each user active in the last 90 days, a sign-in at
// their last activity and, for half of those with a board, the opening of
// their most recently opened board: at most two events per user.
func (g *generator) audit(org *Org, users []*User) {
	horizon := g.now.Add(-90 * day)
	events := make([]AuditEvent, 0, len(users))
	for _, u := range users {
		if u.LastActivityAt.Before(horizon) {
			continue
		}
		events = append(events, AuditEvent{
			OrgID: org.ID, Event: "sign_in_succeeded", Category: "authentication",
			CreatedAt: u.LastActivityAt, ActorType: "user", ActorID: u.ID,
			Details: map[string]any{"authType": "SSO", "mfaFactorType": "NONE"},
		})
		if b := g.firstBoard[u.ID]; b != nil && b.LastOpenedAt.After(horizon) && g.r.IntN(2) == 0 {
			events = append(events, AuditEvent{
				OrgID: org.ID, Event: "board_opened", Category: "boards",
				CreatedAt: b.LastOpenedAt, ActorType: "user", ActorID: u.ID,
				TeamID: b.TeamID, ObjectID: b.ID, ObjectName: b.Name,
			})
		}
	}
	slices.SortStableFunc(events, func(a, b AuditEvent) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i := range events {
		events[i].ID = g.w.newID()
	}
	g.w.Audit = append(g.w.Audit, events...)
}
