package roster

import (
	"fmt"
	"net/mail"
	"strings"
)

// MaxEmailLength bounds an email address: 64 bytes of local part, the @
// and 255 of domain (RFC 3696). Longer input is refused without being
// echoed back.
const MaxEmailLength = 320

// NormalizeEmail is an email as roster keeps it: trimmed and lower-cased,
// so matching people and accounts is case-insensitive.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// CheckEmail says what is wrong with an email address, or nil when it is
// one: a bare address (no display name, no angle brackets) of at most
// MaxEmailLength bytes. It is the one email rule: the dashboard, the API,
// the CLI, the directory and the action layer all reach it.
func CheckEmail(e string) error {
	if len(e) > MaxEmailLength {
		return fmt.Errorf("is longer than %d bytes, so it is not an email address", MaxEmailLength)
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e {
		return fmt.Errorf("%q is not an email address", e)
	}
	return nil
}

// ValidEmail reports whether CheckEmail accepts e.
func ValidEmail(e string) bool { return CheckEmail(e) == nil }

// ParseEmail normalizes e and checks it.
func ParseEmail(e string) (string, error) {
	n := NormalizeEmail(e)
	if err := CheckEmail(n); err != nil {
		return n, err
	}
	return n, nil
}
