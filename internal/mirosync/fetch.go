package mirosync

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"roster"
	"roster/internal/miro"
	"roster/internal/store"
)

// person is one member as a sync saw them: compact, so that a 100k-member
// organization costs a few tens of megabytes, never the response structs.
type person struct {
	id         string
	email      string // lower-case
	name       string
	orgRole    string
	adminRoles []string // "type:name"
	license    string
	// exact is true when the organization API described the person:
	// license, role, active and activity are Miro's, not inferred.
	exact           bool
	active          bool
	lastActivity    time.Time
	licenseAssigned time.Time
}

// observed is everything one sync read from Miro.
type observed struct {
	org    *roster.Organization
	teams  map[string]roster.Team
	people map[string]*person
	// members lists each team's members. Slices, not a map of 300k
	// memberships: a tenth of the memory, and ids shared with people.
	members map[string][]teamMember
	// teamNamesKept is set when the teams' names are not Miro's but the
	// connection's, remembered from when it connected (the v2 team plan
	// reads no team): a stored name is then kept.
	teamNamesKept bool
}

// teamMember is one membership of a team.
type teamMember struct {
	id   string // the person's id (the same string as person.id)
	role string // interned
}

func newObserved() *observed {
	return &observed{teams: map[string]roster.Team{}, people: map[string]*person{}, members: map[string][]teamMember{}}
}

// intern returns the constant for a known enum value, so that 300k
// memberships do not each keep a copy of "member"; others are kept as is.
func intern(v string) string {
	if known, ok := interned[v]; ok {
		return known
	}
	return v
}

// interned are the enum values intern shares: team roles, licenses and
// organization roles.
var interned = func() map[string]string {
	m := map[string]string{}
	for _, v := range append(append([]string{roster.TeamRoleMember, roster.TeamRoleAdmin, roster.TeamRoleNonTeam},
		roster.Licenses...), roster.OrgRoles...) {
		m[v] = v
	}
	return m
}()

// walk is one sync's conversation with Miro: the client, and the counters
// that progress reports and a failed run record (progress.go).
type walk struct {
	s       *Syncer
	conn    roster.Connection
	client  *miro.Client
	meter   miro.Meter // what this sync's calls spent
	started time.Time
	saver   *progressSaver // records the progress in the store

	mu        sync.Mutex // guards the counters and serialises Progress
	phase     string
	pages     int
	members   int
	teams     int
	teamsDone int
	// teamPagesDone counts team-member pages, finishedTeamPages those of
	// the teams done, for the time-left estimate; lookups and
	// lookupsDone count a team plan's member lookups.
	teamPagesDone, finishedTeamPages int
	lookups, lookupsDone             int
	// waitUntil is when the wait for Miro's limits last reported ends,
	// and waitReason what it is for; zero once a page came since.
	waitUntil  time.Time
	waitReason string
}

// connect gets the connection's Miro client.
func (w *walk) connect(context.Context) error {
	var err error
	w.client, err = w.s.Clients.REST(w.conn)
	return err
}

func (w *walk) concurrency() int {
	if w.s.Concurrency > 0 {
		return w.s.Concurrency
	}
	return 4
}

// record copies the counters and what the sync spent onto run.
func (w *walk) record(run *roster.SyncRun) {
	w.mu.Lock()
	run.Pages = w.pages
	w.mu.Unlock()
	st := w.meter.Stats()
	run.APICalls, run.Credits = st.Calls, st.Credits
}

// pageSize is the size of every list page the sync asks for (Miro's max).
const pageSize = 100

// eachPage drains seq, calling item per element and page after each page
// of pageSize (and after a short or empty last page).
func eachPage[T any](seq iter.Seq2[T, error], item func(T), page func()) error {
	n := 0
	for v, err := range seq {
		if err != nil {
			return err
		}
		item(v)
		n++
		if n%pageSize == 0 {
			page()
		}
	}
	if n == 0 || n%pageSize != 0 {
		page()
	}
	return nil
}

// fetchOrganization reads the whole organization: org info, members,
// teams, every team's members, and usage from audit logs.
func (w *walk) fetchOrganization(ctx context.Context, obs *observed, audit bool) error {
	c, orgID := w.client, w.conn.OrgID
	org, err := c.GetOrganization(ctx, orgID)
	if err != nil {
		return err
	}
	w.page("organization", nil)
	obs.org = &roster.Organization{MiroOrgID: orgID, Name: org.Name, Plan: org.Plan.String(), FullLicensesPurchased: org.FullLicensesPurchased}

	err = eachPage(c.OrgMembers(ctx, orgID, miro.MemberFilter{}), func(m miro.OrganizationMember) {
		obs.people[m.ID] = personOf(m)
	}, func() { w.page("members", func(w *walk) { w.members = len(obs.people) }) })
	if err != nil {
		return err
	}

	err = eachPage(c.Teams(ctx, orgID, ""), func(t miro.Team) {
		obs.teams[t.ID] = roster.Team{MiroTeamID: t.ID, OrgID: orgID, Name: t.Name}
	}, func() { w.page("teams", func(w *walk) { w.teams = len(obs.teams) }) })
	if err != nil {
		return err
	}

	if err := w.fetchTeamMembers(ctx, obs); err != nil {
		return err
	}
	if audit {
		return w.fetchUsage(ctx, obs)
	}
	return nil
}

// fetchTeamMembers walks every team's members, Concurrency teams at a
// time; the client's pacer keeps the shared credit budget.
func (w *walk) fetchTeamMembers(ctx context.Context, obs *observed) error {
	teamIDs := make([]string, 0, len(obs.teams))
	for id := range obs.teams {
		teamIDs = append(teamIDs, id)
	}
	// A fixed order that has nothing to do with the teams' age: the teams
	// done are then a fair sample of them all, for the time-left estimate
	// (in id order, older and often bigger teams would come first).
	slices.SortFunc(teamIDs, func(a, b string) int {
		return cmp.Or(cmp.Compare(shuffleKey(a), shuffleKey(b)), strings.Compare(a, b))
	})

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan string)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex // guards obs.members and skipped
		skipped int
	)
	for range min(w.concurrency(), len(teamIDs)) {
		wg.Go(func() {
			for teamID := range jobs {
				var got []teamMember
				pages := 0
				err := eachPage(w.client.TeamMembers(ctx, w.conn.OrgID, teamID, ""), func(m miro.TeamMember) {
					got = append(got, teamMember{m.ID, intern(m.Role.String())})
				}, func() {
					pages++
					w.page("team members", func(w *walk) { w.teamPagesDone++ })
				})
				if err != nil {
					cancel(fmt.Errorf("team %s: %w", teamID, err))
					return
				}
				mu.Lock()
				kept := got[:0]
				for _, m := range got {
					p := obs.people[m.id]
					if p == nil {
						skipped++ // joined after the member list was read
						continue
					}
					// The person's own id string: 300k memberships share
					// the members' strings instead of copying them.
					kept = append(kept, teamMember{p.id, m.role})
				}
				obs.members[teamID] = slices.Clip(kept)
				mu.Unlock()
				w.mu.Lock()
				w.teamsDone++
				w.finishedTeamPages += pages
				w.mu.Unlock()
			}
		})
	}
feed:
	for _, id := range teamIDs {
		select {
		case jobs <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if skipped > 0 {
		w.s.logger().WarnContext(ctx, "sync: team members not in the member list were skipped", "connection", w.conn.ID, "count", skipped)
	}
	return nil
}

// shuffleKey orders ids by a hash of them (FNV-1a).
func shuffleKey(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// usageEvents are the audit events that show a person using Miro.
var usageEvents = map[string]bool{"sign_in_succeeded": true, "board_opened": true}

// auditHorizon is how far back Miro keeps audit logs.
const auditHorizon = 90 * 24 * time.Hour

// auditOverlap reaches back before the last sync's end: that sync read
// the audit log before it finished writing, and raising an activity time
// twice is harmless.
const auditOverlap = 15 * time.Minute

// fetchUsage raises people's last activity from the audit log since the
// last successful sync (at most Miro's 90 days).
func (w *walk) fetchUsage(ctx context.Context, obs *observed) error {
	now := w.s.now()
	from := now.Add(-auditHorizon).Add(time.Minute) // a minute's margin for clock skew
	if since := w.conn.LastSyncAt.Add(-auditOverlap); since.After(from) {
		from = since
	}
	q := miro.AuditQuery{CreatedAfter: from, CreatedBefore: now}
	return eachPage(w.client.AuditLogs(ctx, q), func(ev miro.AuditEvent) {
		if !usageEvents[ev.Event] || ev.CreatedBy == nil || ev.CreatedBy.Type != "user" {
			return
		}
		p := obs.people[ev.CreatedBy.ID]
		if p == nil || !p.exact {
			return
		}
		if t := store.Stamp(ev.CreatedAt.Time); t.After(p.lastActivity) {
			p.lastActivity = t
		}
	}, func() { w.page("audit", nil) })
}

// fetchTeamV2 reads the connected team through the organization API: its
// members, then each member's record (licenses exact).
func (w *walk) fetchTeamV2(ctx context.Context, obs *observed) error {
	c, orgID, teamID := w.client, w.conn.OrgID, w.conn.TeamID
	obs.teams[teamID] = roster.Team{MiroTeamID: teamID, OrgID: orgID, Name: w.conn.TeamName}
	obs.teamNamesKept = true
	roles := map[string]string{}
	err := eachPage(c.TeamMembers(ctx, orgID, teamID, ""), func(m miro.TeamMember) {
		roles[m.ID] = intern(m.Role.String())
	}, func() {
		w.page("team members", func(w *walk) { w.teams, w.members = 1, len(roles) })
	})
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(roles))
	for id := range roles {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	w.mu.Lock()
	w.teamsDone = 1
	w.lookups = len(ids)
	w.mu.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan string)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for range min(w.concurrency(), len(ids)) {
		wg.Go(func() {
			for id := range jobs {
				m, err := c.OrgMember(ctx, orgID, id)
				if miro.IsNotFound(err) {
					continue // left the organization during the sync
				}
				if err != nil {
					cancel(err)
					return
				}
				p := personOf(m)
				mu.Lock()
				obs.people[p.id] = p
				obs.members[teamID] = append(obs.members[teamID], teamMember{p.id, roles[id]})
				mu.Unlock()
				w.page("members", func(w *walk) { w.lookupsDone++ })
			}
		})
	}
feed:
	for _, id := range ids {
		select {
		case jobs <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return context.Cause(ctx)
}

// fetchTeamLegacy reads the connected team through the v1 team API:
// email, name and team role. Licenses are inferred from the role.
func (w *walk) fetchTeamLegacy(ctx context.Context, obs *observed) error {
	teamID := w.conn.TeamID
	team := roster.Team{MiroTeamID: teamID, OrgID: w.conn.OrgID, Name: w.conn.TeamName}
	err := eachPage(w.client.Legacy().TeamUserConnections(ctx, teamID), func(uc miro.TeamUserConnection) {
		id := string(uc.User.ID)
		if id == "" {
			return
		}
		if uc.Team.Name != "" {
			team.Name = uc.Team.Name
		}
		role := intern(uc.Role.String())
		if _, dup := obs.people[id]; dup {
			return // listed twice across a page boundary
		}
		obs.people[id] = &person{
			id: id, email: strings.ToLower(strings.TrimSpace(uc.User.Email)), name: uc.User.Name,
			license: inferLicense(role), active: true,
		}
		obs.members[teamID] = append(obs.members[teamID], teamMember{id, role})
	}, func() {
		w.page("team members", func(w *walk) { w.teams, w.members = 1, len(obs.people) })
	})
	if err != nil {
		return err
	}
	obs.teams[teamID] = team
	w.mu.Lock()
	w.teamsDone = 1
	w.mu.Unlock()
	return nil
}

// inferLicense guesses a license from a team role: team members and admins
// hold a full license, non-team users a free one.
func inferLicense(teamRole string) string {
	switch teamRole {
	case roster.TeamRoleMember, roster.TeamRoleAdmin:
		return roster.LicenseFull
	case roster.TeamRoleNonTeam:
		return roster.LicenseFree
	}
	return roster.LicenseUnknown
}

// personOf keeps what a sync needs of an organization member.
func personOf(m miro.OrganizationMember) *person {
	p := &person{
		id: m.ID, email: strings.ToLower(strings.TrimSpace(m.Email)),
		orgRole: intern(m.Role.String()), license: intern(m.License.String()), exact: true, active: m.Active,
		lastActivity: store.Stamp(m.LastActivityAt.Time), licenseAssigned: store.Stamp(m.LicenseAssignedAt.Time),
	}
	for _, r := range m.AdminRoles {
		p.adminRoles = append(p.adminRoles, r.Type+":"+r.Name)
	}
	return p
}
