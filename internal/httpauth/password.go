package httpauth

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/bcrypt"
)

// Password rules. bcrypt reads only the first 72 bytes of a password, so
// a longer one would be cut silently (and x/crypto refuses it outright);
// the minimum counts characters, not bytes, so that four emoji are not a
// 12-character password.
const (
	MinPasswordLength = 12
	MaxPasswordBytes  = 72
	// minPasswordScore is zxcvbn's "safely unguessable" (about 10^8
	// guesses or more): it refuses common passwords, keyboard walks,
	// repeats, dates and the account's own email.
	minPasswordScore = 3
)

// BcryptCost is bcrypt's default; tests lower it to stay fast.
var BcryptCost = bcrypt.DefaultCost

// CheckPassword says what is wrong with a new password for the account
// email, or nil: the one rule the setup page, `roster admin create` and
// every other path that sets a password reach.
func CheckPassword(pw, email string) error {
	if !utf8.ValidString(pw) {
		return fmt.Errorf("the password is not valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(pw); n < MinPasswordLength {
		return fmt.Errorf("the password must be at least %d characters (it has %d)", MinPasswordLength, n)
	}
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("the password must be at most %d bytes (it has %d); bcrypt ignores the rest", MaxPasswordBytes, len(pw))
	}
	for _, r := range pw {
		if unicode.IsControl(r) {
			return fmt.Errorf("the password must not contain control characters")
		}
	}
	if zxcvbn.PasswordStrength(pw, []string{email}).Score < minPasswordScore {
		return fmt.Errorf("the password is too easy to guess (a common password, a pattern, a repeat or the email); use a longer passphrase of unrelated words")
	}
	return nil
}

// HashPassword checks a new password for the account email
// (CheckPassword) and hashes it for roster.Operator.PasswordHash.
func HashPassword(pw, email string) (string, error) {
	if err := CheckPassword(pw, email); err != nil {
		return "", err
	}
	h, err := hash(pw)
	return string(h), err
}

func hash(pw string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash the password: %w", err)
	}
	return h, nil
}

// Passwords checks passwords against stored hashes.
type Passwords struct {
	// dummy is a hash compared against for unknown accounts, so that
	// timing reveals nothing about which exist.
	dummy []byte
}

// NewPasswords prepares the timing equaliser.
func NewPasswords() (*Passwords, error) {
	d, err := hash("roster-timing-equaliser")
	if err != nil {
		return nil, err
	}
	return &Passwords{dummy: d}, nil
}

// Match reports whether pw is the password of hash. A password longer
// than any roster accepts matches nothing, but costs the same time.
func (p *Passwords) Match(hash, pw string) bool {
	if len(pw) > MaxPasswordBytes {
		p.Spend("")
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// Spend takes as long as Match, for an account that does not exist.
func (p *Passwords) Spend(pw string) {
	if len(pw) > MaxPasswordBytes {
		pw = pw[:MaxPasswordBytes]
	}
	_ = bcrypt.CompareHashAndPassword(p.dummy, []byte(pw))
}
