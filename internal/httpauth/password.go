package httpauth

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLength is the shortest password roster accepts.
const MinPasswordLength = 12

// BcryptCost is bcrypt's default; tests lower it to stay fast.
var BcryptCost = bcrypt.DefaultCost

// CheckPassword says what is wrong with a new password, or nil: the one
// rule the setup page and `roster admin create` reach.
func CheckPassword(pw string) error {
	if len(pw) < MinPasswordLength {
		return fmt.Errorf("the password must be at least %d characters", MinPasswordLength)
	}
	return nil
}

// HashPassword checks a new password (CheckPassword) and hashes it for
// roster.Operator.PasswordHash.
func HashPassword(pw string) (string, error) {
	if err := CheckPassword(pw); err != nil {
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

// Match reports whether pw is the password of hash.
func (p *Passwords) Match(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// Spend takes as long as Match, for an account that does not exist.
func (p *Passwords) Spend(pw string) { _ = bcrypt.CompareHashAndPassword(p.dummy, []byte(pw)) }
