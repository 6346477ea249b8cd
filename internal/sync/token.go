package sync

import (
	"encoding/json"
	"errors"
	"fmt"

	"roster/internal/miro"
	"roster/internal/secret"
)

// Sealer seals secrets at rest; *secret.Sealer implements it. A small
// interface keeps this package free of the key handling.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

var _ Sealer = (*secret.Sealer)(nil)

// SealToken seals a connection's OAuth token pair as stored in
// roster.Connection.SealedToken: the JSON of miro.Token, sealed. The
// connect flow and token rotation during a sync both write it this way.
func SealToken(s Sealer, t miro.Token) ([]byte, error) {
	if s == nil {
		return nil, errors.New("seal token: no sealer configured")
	}
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("seal token: %w", err)
	}
	sealed, err := s.Seal(plain)
	if err != nil {
		return nil, fmt.Errorf("seal token: %w", err)
	}
	return sealed, nil
}

// OpenToken opens what SealToken sealed.
func OpenToken(s Sealer, sealed []byte) (miro.Token, error) {
	if s == nil {
		return miro.Token{}, errors.New("open token: no sealer configured")
	}
	if len(sealed) == 0 {
		return miro.Token{}, errors.New("open token: the connection has no token (reconnect it)")
	}
	plain, err := s.Open(sealed)
	if err != nil {
		return miro.Token{}, fmt.Errorf("open token: %w", err)
	}
	var t miro.Token
	if err := json.Unmarshal(plain, &t); err != nil {
		return miro.Token{}, fmt.Errorf("open token: the sealed token is not a token: %w", err)
	}
	if t.AccessToken == "" {
		return miro.Token{}, errors.New("open token: the sealed token has no access token (reconnect it)")
	}
	return t, nil
}
