package secret_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster/internal/secret"
)

func newSealer(t *testing.T) *secret.Sealer {
	t.Helper()
	k, _, err := secret.NewKey()
	require.NoError(t, err)
	return secret.NewSealer(k)
}

func TestSealRoundTrip(t *testing.T) {
	t.Parallel()
	s := newSealer(t)
	for _, plain := range [][]byte{nil, []byte("x"), []byte(`{"access_token":"eyJ...","refresh_token":"r1"}`), bytes.Repeat([]byte{0}, 10000)} {
		sealed, err := s.Seal(plain)
		require.NoError(t, err)
		require.False(t, len(plain) > 4 && bytes.Contains(sealed, plain), "sealed value contains the plaintext")
		got, err := s.Open(sealed)
		require.NoError(t, err)
		require.Equal(t, string(plain), string(got))
	}
	// A random nonce: sealing twice gives different values.
	a, err := s.Seal([]byte("same"))
	require.NoError(t, err)
	b, err := s.Seal([]byte("same"))
	require.NoError(t, err)
	require.NotEqual(t, a, b)
}

func TestOpenErrWrongKey(t *testing.T) {
	t.Parallel()
	sealed, err := newSealer(t).Seal([]byte("token"))
	require.NoError(t, err)
	got, err := newSealer(t).Open(sealed)
	require.ErrorIs(t, err, secret.ErrWrongKey)
	require.Nil(t, got)
}

func TestOpenErrTampered(t *testing.T) {
	t.Parallel()
	s := newSealer(t)
	sealed, err := s.Seal([]byte("a token worth protecting"))
	require.NoError(t, err)
	// Flip one bit anywhere past the version byte: nonce, ciphertext or tag.
	for i := 1; i < len(sealed); i++ {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		_, err := s.Open(bad)
		require.ErrorIs(t, err, secret.ErrWrongKey, "byte %d", i)
	}
	// A changed version byte, a truncated value, nothing at all.
	bad := bytes.Clone(sealed)
	bad[0] = 9
	_, err = s.Open(bad)
	require.ErrorContains(t, err, "unknown sealed format version 9")
	_, err = s.Open(sealed[:len(sealed)-1])
	require.ErrorIs(t, err, secret.ErrWrongKey)
	_, err = s.Open(sealed[:10])
	require.ErrorContains(t, err, "too short")
	_, err = s.Open(nil)
	require.ErrorContains(t, err, "too short")
}

func TestKeyCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, err := secret.LoadKey(dir)
	require.NoError(t, err)
	s := secret.NewSealer(k)
	check, err := s.KeyCheck()
	require.NoError(t, err)
	require.NoError(t, s.VerifyKeyCheck(check))

	err = newSealer(t).VerifyKeyCheck(check)
	require.ErrorIs(t, err, secret.ErrWrongKey)

	other, err := secret.LoadKey(t.TempDir())
	require.NoError(t, err)
	err = secret.NewSealer(other).VerifyKeyCheck(check)
	require.ErrorIs(t, err, secret.ErrWrongKey)
	require.NotContains(t, err.Error(), "secret:", "a plain message")
	require.Contains(t, err.Error(), "the secret key does not match the one this data was sealed with (ROSTER_SECRET_KEY or ")
	require.Contains(t, err.Error(), filepath.Join("", "secret.key")+")")

	require.ErrorContains(t, s.VerifyKeyCheck("not base64!"), "not base64")
	require.ErrorContains(t, s.VerifyKeyCheck(base64.StdEncoding.EncodeToString([]byte("short"))), "malformed")
}

func TestKeyHidden(t *testing.T) {
	t.Parallel()
	k, encoded, err := secret.NewKey()
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	require.NoError(t, err)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, k)
		require.NotContains(t, out, encoded)
		require.NotContains(t, out, hex.EncodeToString(raw))
	}
}

// Tests below set ROSTER_SECRET_KEY, so they do not run in parallel.

func TestLoadKeyEnvFormats(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 11)[:32]
	ref := sealWithRaw(t, raw)
	for name, v := range map[string]string{
		"base64 std":      base64.StdEncoding.EncodeToString(raw),
		"base64 raw url":  base64.RawURLEncoding.EncodeToString(raw),
		"hex":             hex.EncodeToString(raw),
		"hex upper":       strings.ToUpper(hex.EncodeToString(raw)),
		"with whitespace": " " + base64.StdEncoding.EncodeToString(raw) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("ROSTER_SECRET_KEY", v)
			dir := t.TempDir()
			k, err := secret.LoadKey(dir)
			require.NoError(t, err)
			got, err := secret.NewSealer(k).Open(ref)
			require.NoError(t, err, "the env key is the same key in every format")
			require.Equal(t, "ref", string(got))
			require.NoFileExists(t, filepath.Join(dir, "secret.key"), "no key file when the env sets the key")
		})
	}
}

func sealWithRaw(t *testing.T, raw []byte) []byte {
	t.Helper()
	k, err := secret.ParseKey(hex.EncodeToString(raw))
	require.NoError(t, err)
	sealed, err := secret.NewSealer(k).Seal([]byte("ref"))
	require.NoError(t, err)
	return sealed
}

func TestLoadKeyEnvErrMalformed(t *testing.T) {
	for name, v := range map[string]string{
		"too short":       base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"too long":        base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 48)),
		"not base64":      strings.Repeat("!", 44),
		"hex of 31 bytes": hex.EncodeToString(make([]byte, 31)),
		"64 non-hex":      strings.Repeat("g", 64),
		"passphrase":      "correct horse battery staple",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("ROSTER_SECRET_KEY", v)
			_, err := secret.LoadKey(t.TempDir())
			require.ErrorContains(t, err, "ROSTER_SECRET_KEY: expected 32 bytes as standard base64 (44 characters), unpadded URL-safe base64 (43 characters) or hex (64 characters)")
			require.NotContains(t, err.Error(), v, "the value is never echoed")
		})
	}
}

func TestLoadKeyFile(t *testing.T) {
	t.Setenv("ROSTER_SECRET_KEY", "")
	dir := filepath.Join(t.TempDir(), "roster-data") // created on demand
	k1, err := secret.LoadKey(dir)
	require.NoError(t, err)
	file := filepath.Join(dir, "secret.key")
	fi, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	require.Len(t, raw, 32)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")

	// The second load reads the same key.
	k2, err := secret.LoadKey(dir)
	require.NoError(t, err)
	sealed, err := secret.NewSealer(k1).Seal([]byte("v"))
	require.NoError(t, err)
	got, err := secret.NewSealer(k2).Open(sealed)
	require.NoError(t, err)
	require.Equal(t, "v", string(got))

	// The env key wins over the file.
	_, encoded, err := secret.NewKey()
	require.NoError(t, err)
	t.Setenv("ROSTER_SECRET_KEY", encoded)
	k3, err := secret.LoadKey(dir)
	require.NoError(t, err)
	_, err = secret.NewSealer(k3).Open(sealed)
	require.ErrorIs(t, err, secret.ErrWrongKey)
}

func TestLoadKeyFileErrOpenMode(t *testing.T) {
	t.Setenv("ROSTER_SECRET_KEY", "")
	dir := t.TempDir()
	_, err := secret.LoadKey(dir)
	require.NoError(t, err)
	file := filepath.Join(dir, "secret.key")
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		require.NoError(t, os.Chmod(file, mode))
		_, err = secret.LoadKey(dir)
		require.ErrorContains(t, err, fmt.Sprintf("has mode %04o", mode))
		require.ErrorContains(t, err, "chmod 600 "+file)
	}
	require.NoError(t, os.Chmod(file, 0o400)) // stricter is fine
	_, err = secret.LoadKey(dir)
	require.NoError(t, err)
}

func TestLoadKeyFileErrMalformed(t *testing.T) {
	t.Setenv("ROSTER_SECRET_KEY", "")
	dir := t.TempDir()
	file := filepath.Join(dir, "secret.key")
	for _, content := range []string{"", "short", base64.StdEncoding.EncodeToString(make([]byte, 31))} {
		require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
		_, err := secret.LoadKey(dir)
		require.ErrorContains(t, err, "key file "+file+" is malformed: expected 32 bytes")
	}
}
