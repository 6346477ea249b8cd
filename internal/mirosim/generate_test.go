package mirosim

import (
	"testing"
	"time"
)

// fixedNow pins the clock so that generation is reproducible.
var fixedNow = func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }

func genConfig(members, teams int) Config {
	return Config{Seed: 1, Members: members, Teams: teams, TeamsPerMember: 3, NonEnterpriseTeams: 1, Now: fixedNow}
}

// BenchmarkGenerate100k builds the reference org: 100,000 members,
// 1,000 teams, ~300,000 memberships.
func BenchmarkGenerate100k(b *testing.B) {
	cfg := genConfig(100_000, 1_000)
	b.ReportAllocs()
	for b.Loop() {
		w := generate(cfg)
		if len(w.Users) < 100_000 {
			b.Fatal("too few users")
		}
	}
}
