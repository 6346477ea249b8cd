package httpauth

import (
	"net"
	"sync"
	"time"
)

// Login limits. A pair of account and address is locked after
// MaxLoginFailures failures, so someone guessing elsewhere cannot keep
// the admin out; an address is locked after MaxAddressFailures failures
// over any accounts, known or not, which bounds password spraying and
// what anonymous requests can write to the audit log. Both count within
// LoginLockout and lock for LoginLockout.
const (
	MaxLoginFailures   = 5
	MaxAddressFailures = 30
	LoginLockout       = 15 * time.Minute
	// maxLimiterEntries bounds the limiter's memory (about 100 bytes
	// plus the key per entry). When full, expired entries go first,
	// then arbitrary ones: an attacker who floods it loses his own
	// counts as much as anyone's.
	maxLimiterEntries = 100_000
)

// LoginLimiter counts failed logins per account and address and per
// address, in memory: each `roster serve` process counts its own, which
// multiplies an attacker's budget by the number of processes at most.
// Unknown accounts count like known ones, so the answer never tells
// which exist.
type LoginLimiter struct {
	mu      sync.Mutex
	entries map[string]*failures
}

type failures struct {
	count       int
	first       time.Time // start of the counting window
	lockedUntil time.Time
}

// NewLoginLimiter returns an empty limiter.
func NewLoginLimiter() *LoginLimiter {
	return &LoginLimiter{entries: make(map[string]*failures)}
}

// Locked reports whether a login to account from addr is refused now,
// and until when.
func (l *LoginLimiter) Locked(account, addr string, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	until := time.Time{}
	for _, k := range []string{addressKey(addr), pairKey(account, addr)} {
		if f := l.entries[k]; f != nil && now.Before(f.lockedUntil) && f.lockedUntil.After(until) {
			until = f.lockedUntil
		}
	}
	return !until.IsZero(), until
}

// Fail counts a failed login and reports whether it started a lock-out
// (of the pair or of the address), so that the lock is audited once.
func (l *LoginLimiter) Fail(account, addr string, now time.Time) (locked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pair := l.count(pairKey(account, addr), MaxLoginFailures, now)
	address := l.count(addressKey(addr), MaxAddressFailures, now)
	return pair || address
}

// Succeed clears the pair's count after a good password.
func (l *LoginLimiter) Succeed(account, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, pairKey(account, addr))
}

func (l *LoginLimiter) count(key string, max int, now time.Time) (locked bool) {
	f := l.entries[key]
	if f == nil || now.Sub(f.first) >= LoginLockout && !now.Before(f.lockedUntil) {
		l.makeRoom(now)
		f = &failures{first: now}
		l.entries[key] = f
	}
	f.count++
	if f.count == max {
		f.lockedUntil = now.Add(LoginLockout)
		return true
	}
	return false
}

// makeRoom keeps the map under maxLimiterEntries. A full map drops what
// expired and then arbitrary entries down to nine tenths, so that a flood
// pays for a sweep once per tenth of the map, not at every insert.
func (l *LoginLimiter) makeRoom(now time.Time) {
	if len(l.entries) < maxLimiterEntries {
		return
	}
	for k, f := range l.entries {
		if now.Sub(f.first) >= LoginLockout && !now.Before(f.lockedUntil) {
			delete(l.entries, k)
		}
	}
	for k := range l.entries {
		if len(l.entries) <= maxLimiterEntries*9/10 {
			break
		}
		delete(l.entries, k)
	}
}

func pairKey(account, addr string) string { return "p\x00" + account + "\x00" + addressKey(addr) }

// addressKey is an address as the limiter counts it: an IPv6 address by
// its /64, which one client usually holds whole.
func addressKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return "a\x00" + addr
	}
	return "a\x00" + ip.Mask(net.CIDRMask(64, 128)).String()
}
