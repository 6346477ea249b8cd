package mirosync

import (
	"cmp"
	"slices"
	"time"

	"roster"
	"roster/internal/store"
)

// diffInput is what buildDiff compares.
type diffInput struct {
	now   time.Time // already at store precision
	runID int64
	orgID string // the connection's organization
	obs   *observed
	snap  *store.Snapshot
	// known are stored accounts of observed people the snapshot lacks
	// (seen by other connections, or left), keyed by observed Miro id.
	known map[string]roster.Account
}

// counts are the run's counters. Removed is the store's: it decides
// who left inside ApplySync's transaction.
type counts struct{ added, changed int }

// buildDiff compares what a sync observed with what the store holds and
// returns only real changes: a resync of an unchanged Miro gives an empty
// Diff. It is pure, so every rule is testable without Miro or a database.
// It consumes in.obs.members and in.snap.Memberships (releasing them
// half-way keeps a 300k-membership sync's peak memory down).
func buildDiff(in diffInput) (store.Diff, counts) {
	var (
		d       store.Diff
		c       counts
		changed = map[string]bool{} // people with a change row but no joined/left
	)
	change := func(id string, kind roster.ChangeKind, team, old, new string) {
		d.Changes = append(d.Changes, roster.Change{
			MiroUserID: id, SyncRunID: in.runID, Kind: kind, MiroTeamID: team,
			OldValue: old, NewValue: new, At: in.now,
		})
	}

	// Organization and teams.
	if in.obs.org != nil && (in.snap.Organization == nil || *in.snap.Organization != *in.obs.org) {
		org := *in.obs.org
		d.Organization = &org
	}
	for _, t := range sortedValues(in.obs.teams) {
		old, ok := in.snap.Teams[t.MiroTeamID]
		if ok && in.obs.teamNamesKept {
			t.Name = old.Name
		}
		if !ok || old != t {
			d.Teams = append(d.Teams, t)
		}
	}
	for _, id := range sortedKeys(in.snap.Teams) {
		if _, ok := in.obs.teams[id]; !ok {
			d.RemovedTeams = append(d.RemovedTeams, id)
		}
	}

	// Size the big slices once: on a first sync they hold 300k+ rows, and
	// growing them by appending would briefly need them twice.
	upserts, matched := 0, 0
	for team, members := range in.obs.members {
		for _, m := range members {
			old, ok := in.snap.Memberships[store.MembershipKey{MiroTeamID: team, MiroUserID: m.id}]
			if ok {
				matched++
			}
			if !ok || old != m.role {
				upserts++
			}
		}
	}
	removed := len(in.snap.Memberships) - matched
	newPeople := max(0, len(in.obs.people)-len(in.snap.Accounts))
	d.Memberships = make([]roster.Membership, 0, upserts)
	d.RemovedMemberships = make([]roster.Membership, 0, removed)
	d.Changes = make([]roster.Change, 0, upserts+removed+newPeople)

	// Memberships of the covered teams, including teams that vanished:
	// what matches is struck off the snapshot, what remains has gone.
	for team, members := range in.obs.members {
		for _, m := range members {
			k := store.MembershipKey{MiroTeamID: team, MiroUserID: m.id}
			old, ok := in.snap.Memberships[k]
			delete(in.snap.Memberships, k)
			switch {
			case !ok:
				change(m.id, roster.ChangeTeamJoined, team, "", m.role)
			case old != m.role:
				change(m.id, roster.ChangeTeamRoleChanged, team, old, m.role)
			default:
				continue
			}
			d.Memberships = append(d.Memberships, roster.Membership{MiroUserID: m.id, MiroTeamID: team, Role: m.role})
			markChanged(changed, in, m.id)
		}
	}
	for k, role := range in.snap.Memberships {
		d.RemovedMemberships = append(d.RemovedMemberships, roster.Membership{MiroUserID: k.MiroUserID, MiroTeamID: k.MiroTeamID, Role: role})
		change(k.MiroUserID, roster.ChangeTeamLeft, k.MiroTeamID, role, "")
		markChanged(changed, in, k.MiroUserID)
	}
	in.obs.members, in.snap.Memberships = nil, nil

	// People this connection sees.
	for id, p := range in.obs.people {
		old, inSnap := in.snap.Accounts[id]
		if !inSnap {
			d.Seen = append(d.Seen, id)
			var ok bool
			if old, ok = in.known[id]; !ok {
				a := merge(roster.Account{}, p, in.orgID, true)
				a.FirstSeenAt, a.LastSeenAt = in.now, in.now
				d.Accounts = append(d.Accounts, a)
				change(id, roster.ChangeJoined, "", "", "")
				c.added++
				continue
			}
		}
		// The person's license is ours to infer only when no other
		// connection sees them (else two teams' guesses would flap).
		sole := inSnap && !in.snap.SeenElsewhere[id] || !old.LeftAt.IsZero()
		a := merge(old, p, in.orgID, sole)
		rejoined := !old.LeftAt.IsZero()
		a.LeftAt = time.Time{}
		if rejoined {
			change(id, roster.ChangeJoined, "", "", "")
			c.added++
		}
		n := len(d.Changes)
		// A value filled in where none was stored is no change.
		if old.Email != "" && a.Email != old.Email {
			change(id, roster.ChangeEmailChanged, "", old.Email, a.Email)
		}
		if old.Name != "" && a.Name != old.Name {
			change(id, roster.ChangeNameChanged, "", old.Name, a.Name)
		}
		if old.OrgRole != "" && a.OrgRole != old.OrgRole {
			change(id, roster.ChangeRoleChanged, "", old.OrgRole, a.OrgRole)
		}
		// An exact license replacing an inferred guess, or an active flag
		// first read from Miro, is better knowledge, not a change.
		if old.License != "" && a.License != old.License && a.LicenseExact == old.LicenseExact {
			change(id, roster.ChangeLicenseChanged, "", old.License, a.License)
		}
		if p.exact && old.LicenseExact && a.Active != old.Active {
			if a.Active {
				change(id, roster.ChangeReactivated, "", "false", "true")
			} else {
				change(id, roster.ChangeDeactivated, "", "true", "false")
			}
		}
		if !rejoined && len(d.Changes) > n {
			changed[id] = true
		}
		if !sameAccount(a, old) {
			a.LastSeenAt = in.now
			d.Accounts = append(d.Accounts, a)
		}
	}

	// People it no longer sees. Whether they left, seen by no connection
	// any more, ApplySync decides inside its transaction: another
	// connection may be losing them at this very moment, and each
	// snapshot would still show the other's sighting.
	for id := range in.snap.Accounts {
		if _, ok := in.obs.people[id]; !ok {
			d.Unseen = append(d.Unseen, id)
		}
	}
	c.changed = len(changed)
	sortDiff(&d)
	return d, c
}

// sortDiff orders a diff's rows (in place, no copies), so that a sync's
// writes and change rows come in a stable order.
func sortDiff(d *store.Diff) {
	slices.SortFunc(d.Accounts, func(a, b roster.Account) int { return cmp.Compare(a.MiroUserID, b.MiroUserID) })
	slices.Sort(d.Seen)
	slices.Sort(d.Unseen)
	byKey := func(a, b roster.Membership) int {
		return cmp.Or(cmp.Compare(a.MiroTeamID, b.MiroTeamID), cmp.Compare(a.MiroUserID, b.MiroUserID))
	}
	slices.SortFunc(d.Memberships, byKey)
	slices.SortFunc(d.RemovedMemberships, byKey)
	slices.SortFunc(d.Changes, func(a, b roster.Change) int {
		return cmp.Or(cmp.Compare(a.MiroUserID, b.MiroUserID), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.MiroTeamID, b.MiroTeamID))
	})
}

// markChanged counts a membership change against its person, unless the
// person joined or left in this run (counted as added or removed).
func markChanged(changed map[string]bool, in diffInput, id string) {
	if old, inSnap := in.snap.Accounts[id]; inSnap {
		if _, seen := in.obs.people[id]; seen && old.LeftAt.IsZero() {
			changed[id] = true
		}
		return
	}
	if k, ok := in.known[id]; ok && k.LeftAt.IsZero() {
		changed[id] = true
	}
}

// merge lays what a sync saw over the stored account. Email and name are
// Miro's at every level: what a level returns replaces what is stored,
// what it does not return (the organization API has no names) is kept.
// Exact (organization API) data overwrites; inferred (team-level) data
// only fills gaps, so a team-level sync never undoes what an
// organization-level one stored. ownLicense lets an inferred sync replace
// an inferred license. The account's organization follows the same rule:
// the organization-level sync's, else the team-level one's.
func merge(old roster.Account, p *person, orgID string, ownLicense bool) roster.Account {
	a := old
	a.MiroUserID = p.id
	a.AdminRoles = slices.Clone(old.AdminRoles)
	if p.email != "" {
		a.Email = p.email
	}
	if p.name != "" {
		a.Name = p.name
	}
	if p.exact {
		a.OrgRole = p.orgRole
		a.AdminRoles = slices.Clone(p.adminRoles)
		a.License, a.LicenseExact = p.license, true
		a.OrgID = orgID
		a.Active = p.active
		a.LicenseAssignedAt = p.licenseAssigned
		// Audit logs may have raised it past what the member record says.
		if p.lastActivity.After(store.Stamp(old.LastActivityAt)) {
			a.LastActivityAt = p.lastActivity
		}
	} else {
		if !a.LicenseExact && (ownLicense || a.License == "" || licenseRank(p.license) > licenseRank(a.License)) {
			a.License = p.license
		}
		if !a.LicenseExact && (ownLicense || a.OrgID == "") {
			a.OrgID = orgID
		}
		if old.ID == 0 {
			a.Active = true
		}
	}
	return a
}

// licenseRank orders inferred licenses, so that of two teams' guesses the
// higher one wins.
func licenseRank(l string) int {
	switch l {
	case roster.LicenseFull:
		return 2
	case roster.LicenseFree:
		return 1
	}
	return 0
}

// sameAccount compares the fields a sync writes, at store precision.
// FirstSeenAt and LastSeenAt are bookkeeping, not news.
func sameAccount(a, b roster.Account) bool {
	return a.MiroUserID == b.MiroUserID && a.Email == b.Email && a.Name == b.Name &&
		a.OrgID == b.OrgID && a.OrgRole == b.OrgRole && slices.Equal(a.AdminRoles, b.AdminRoles) &&
		a.License == b.License && a.LicenseExact == b.LicenseExact && a.Active == b.Active &&
		store.Stamp(a.LastActivityAt).Equal(store.Stamp(b.LastActivityAt)) &&
		store.Stamp(a.LicenseAssignedAt).Equal(store.Stamp(b.LicenseAssignedAt)) &&
		store.Stamp(a.LeftAt).Equal(store.Stamp(b.LeftAt))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedValues(m map[string]roster.Team) []roster.Team {
	out := make([]roster.Team, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}
