package httpauth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// APIKeyPrefix starts every API key, so that a leaked one is recognisable
// (secret scanners) and a session token is never mistaken for one.
const APIKeyPrefix = "rk_"

// APIKeyShownLength is how much of a key the settings page shows to tell
// keys apart: the prefix and a few characters.
const APIKeyShownLength = len(APIKeyPrefix) + 8

// NewAPIKey makes a key: the secret, shown once, and what the store keeps
// of it (its first characters and its SHA-256).
func NewAPIKey() (secret string, shown string, hash []byte) {
	secret = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
	return secret, secret[:APIKeyShownLength], APIKeyHash(secret)
}

// APIKeyHash is what the store keeps of an API key.
func APIKeyHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// KeyRefusal is a bearer token turned away: 401 when it is missing,
// malformed or unknown, 403 when the key lacks the scope. Actor names the
// key when it is known, for the audit log.
type KeyRefusal struct {
	Status  int
	Message string
	Actor   string
}

func (e *KeyRefusal) Error() string { return e.Message }

// ErrNoBearer is the refusal of a request with no Authorization header,
// so a caller may try the session instead.
var ErrNoBearer = &KeyRefusal{Status: http.StatusUnauthorized, Message: "no Authorization header"}

// apiKeyTouchEvery spaces out last-used writes: one per key per minute
// is precise enough for the settings list and spares the single SQLite
// writer a write per request.
const apiKeyTouchEvery = time.Minute

// APIKey authenticates "Authorization: Bearer rk_..." and checks that the
// key has scope (none when empty). It returns ErrNoBearer when the
// request has no Authorization header, a *KeyRefusal when the key is
// refused, or the store's failure.
func (g *Guard) APIKey(r *http.Request, scope string) (roster.APIKey, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return roster.APIKey{}, ErrNoBearer
	}
	// The scheme is case-insensitive (RFC 7235 §2.1); spaces may
	// separate it from the token.
	scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(token, APIKeyPrefix) {
		return roster.APIKey{}, &KeyRefusal{Status: http.StatusUnauthorized,
			Message: "The Authorization header must be \"Bearer rk_...\", an API key made in Settings → API keys."}
	}
	k, err := g.Store.APIKeyByHash(r.Context(), APIKeyHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return roster.APIKey{}, &KeyRefusal{Status: http.StatusUnauthorized, Message: "The API key is unknown or was deleted."}
	}
	if err != nil {
		return roster.APIKey{}, fmt.Errorf("look up the API key: %w", err)
	}
	actor := "apikey:" + k.Name
	if scope != "" && !slices.Contains(k.Scopes, scope) {
		return k, &KeyRefusal{Status: http.StatusForbidden, Actor: actor,
			Message: fmt.Sprintf("The API key %q lacks the %s scope this route needs (it has: %s).", k.Name, scope, strings.Join(k.Scopes, ", "))}
	}
	g.touch(r, k)
	return k, nil
}

// touch records a key's use. A failure is logged, not returned: the
// request itself is authorised.
func (g *Guard) touch(r *http.Request, k roster.APIKey) {
	now := g.now()
	if now.Sub(k.LastUsedAt) < apiKeyTouchEvery {
		return
	}
	if err := g.Store.TouchAPIKey(r.Context(), k.ID, now); err != nil {
		g.logger().WarnContext(r.Context(), "record API key use", "key_id", k.ID, "error", err)
	}
}
