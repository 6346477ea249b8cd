// Package secret seals secrets at rest (OAuth and SCIM tokens) with
// AES-256-GCM. The key comes from ROSTER_SECRET_KEY or from a key file,
// created with mode 0600, in the data directory. Opening with the wrong key
// fails with ErrWrongKey; it never yields garbage.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvKey is the environment variable that holds the key.
const EnvKey = "ROSTER_SECRET_KEY"

// KeyFile is the key file's name in the data directory.
const KeyFile = "secret.key"

// ErrWrongKey is returned when sealed data does not open with the key: the
// key changed, or the data was altered.
var ErrWrongKey = errors.New("the secret key does not match the one this data was sealed with")

// version prefixes every sealed value, so the format can change later.
const version byte = 1

// Key is a 256-bit AES key and where it came from. Its String method hides
// the key, so logging one is safe.
type Key struct {
	b       [32]byte
	fromEnv bool
	file    string // the key file, read or not, for error messages
}

// String names the key's origin, never the key.
func (k Key) String() string { return "secret.Key(" + k.origin() + ")" }

// GoString hides the key from %#v too.
func (k Key) GoString() string { return k.String() }

func (k Key) origin() string {
	switch {
	case k.fromEnv:
		return EnvKey
	case k.file == "":
		return "given key"
	}
	return k.file
}

// LoadKey returns the key from ROSTER_SECRET_KEY when it is set, else from
// <dataDir>/secret.key, which is created with 32 random bytes (base64, mode
// 0600) when missing. A key file readable by others is refused.
func LoadKey(dataDir string) (Key, error) {
	file := filepath.Join(dataDir, KeyFile)
	if v, ok := os.LookupEnv(EnvKey); ok && strings.TrimSpace(v) != "" {
		b, err := parseKey(v)
		if err != nil {
			return Key{}, fmt.Errorf("secret: %s: %w", EnvKey, err)
		}
		return Key{b: b, fromEnv: true, file: file}, nil
	}
	b, err := loadKeyFile(dataDir, file)
	if err != nil {
		return Key{}, err
	}
	return Key{b: b, file: file}, nil
}

// ParseKey parses a key written as standard base64, unpadded URL-safe
// base64, or hex, of exactly 32 bytes.
func ParseKey(s string) (Key, error) {
	b, err := parseKey(s)
	if err != nil {
		return Key{}, fmt.Errorf("secret: %w", err)
	}
	return Key{b: b}, nil
}

// NewKey returns a random key, written as standard base64.
func NewKey() (Key, string, error) {
	var k Key
	if _, err := rand.Read(k.b[:]); err != nil {
		return Key{}, "", fmt.Errorf("secret: new key: %w", err)
	}
	return k, base64.StdEncoding.EncodeToString(k.b[:]), nil
}

func parseKey(s string) ([32]byte, error) {
	var k [32]byte
	s = strings.TrimSpace(s)
	var (
		b   []byte
		err error
	)
	switch {
	case len(s) == 64 && isHex(s):
		b, err = hex.DecodeString(s)
	case len(s) == 44:
		b, err = base64.StdEncoding.DecodeString(s)
	case len(s) == 43:
		b, err = base64.RawURLEncoding.DecodeString(s)
	default:
		err = errors.New("wrong length")
	}
	if err != nil || len(b) != len(k) {
		// Never echo the value: it may be a real key with a typo.
		return k, fmt.Errorf("expected 32 bytes as standard base64 (44 characters), unpadded URL-safe base64 (43 characters) or hex (64 characters), got %d characters that are none of these (generate one with: openssl rand -base64 32)", len(s))
	}
	copy(k[:], b)
	return k, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

func loadKeyFile(dataDir, file string) ([32]byte, error) {
	fi, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(dataDir, file)
	}
	if err != nil {
		return [32]byte{}, fmt.Errorf("secret: key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return [32]byte{}, fmt.Errorf("secret: key file %s has mode %04o, readable by others: it must be 0600 (chmod 600 %s)",
			file, fi.Mode().Perm(), file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return [32]byte{}, fmt.Errorf("secret: key file: %w", err)
	}
	k, err := parseKey(string(data))
	if err != nil {
		return k, fmt.Errorf("secret: key file %s is malformed: %w", file, err)
	}
	return k, nil
}

// createKeyFile writes a new key to a temporary file and links it into
// place, so a concurrent reader never sees half a key and two processes
// starting at once agree on one key.
func createKeyFile(dataDir, file string) ([32]byte, error) {
	var k [32]byte
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return k, fmt.Errorf("secret: create key file: %w", err)
	}
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("secret: create key file: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, ".secret.key-*")
	if err != nil {
		return k, fmt.Errorf("secret: create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return k, fmt.Errorf("secret: create key file: %w", err)
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(k[:]) + "\n"); err != nil {
		tmp.Close()
		return k, fmt.Errorf("secret: create key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return k, fmt.Errorf("secret: create key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return k, fmt.Errorf("secret: create key file: %w", err)
	}
	if err := os.Link(tmp.Name(), file); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadKeyFile(dataDir, file) // another process won
		}
		return k, fmt.Errorf("secret: create key file: %w", err)
	}
	return k, nil
}

// Sealer seals and opens values with one key. It is safe for concurrent
// use.
type Sealer struct {
	key  Key
	aead cipher.AEAD
}

// NewSealer returns a Sealer for k.
func NewSealer(k Key) *Sealer {
	block, err := aes.NewCipher(k.b[:])
	if err != nil {
		panic("secret: " + err.Error()) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("secret: " + err.Error())
	}
	return &Sealer{key: k, aead: aead}
}

// Seal encrypts and authenticates plaintext: a version byte, a random
// nonce, then the ciphertext and its tag.
func (s *Sealer) Seal(plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("secret: seal: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, out[:1]), nil
}

// Open decrypts what Seal sealed. An error wraps ErrWrongKey when the value
// does not authenticate with this key.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() {
		return nil, fmt.Errorf("secret: open: sealed value too short (%d bytes)", len(sealed))
	}
	if sealed[0] != version {
		return nil, fmt.Errorf("secret: open: unknown sealed format version %d", sealed[0])
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], sealed[:1])
	if err != nil {
		return nil, fmt.Errorf("secret: open: %w (%s), or the sealed value was altered", ErrWrongKey, s.where())
	}
	return plain, nil
}

// where says where the key may come from, for wrong-key messages.
func (s *Sealer) where() string {
	if s.key.file == "" {
		return EnvKey
	}
	return EnvKey + " or " + s.key.file
}

// checkValue is what KeyCheck seals; VerifyKeyCheck expects it back.
const checkValue = "roster secret key check v1"

// KeyCheck returns a sealed known value (base64), to store once beside the
// data so that a later start can tell a wrong key at once.
func (s *Sealer) KeyCheck() (string, error) {
	sealed, err := s.Seal([]byte(checkValue))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sealed), nil
}

// VerifyKeyCheck checks that v, from KeyCheck, was sealed with this key. A
// different key gives an error wrapping ErrWrongKey that says where the key
// comes from.
func (s *Sealer) VerifyKeyCheck(v string) error {
	sealed, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return fmt.Errorf("secret: the stored key check value is not base64: %w", err)
	}
	plain, err := s.Open(sealed)
	if err != nil || string(plain) != checkValue {
		if err != nil && !errors.Is(err, ErrWrongKey) {
			return fmt.Errorf("secret: the stored key check value is malformed: %w", err)
		}
		return fmt.Errorf("%w (%s)", ErrWrongKey, s.where())
	}
	return nil
}

// MACKey derives a key for one purpose (e.g. "approval links") from the
// secret key, so signatures never reuse the sealing key itself and keys of
// different purposes are independent.
func (s *Sealer) MACKey(purpose string) []byte {
	m := hmac.New(sha256.New, s.key.b[:])
	m.Write([]byte("roster mac key v1: " + purpose))
	return m.Sum(nil)
}
