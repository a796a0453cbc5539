package auditlog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestSignKnownVector(t *testing.T) {
	// RFC 4231 test case 2: key "Jefe".
	got := Sign([]byte("Jefe"), []byte("what do ya want for nothing?"))
	if want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("whsec-test-secret")
	body := fixtures(t)["flag-toggle"]
	sig := Sign(secret, body)
	modified := append([]byte(nil), body...)
	modified[len(modified)/2] ^= 0x01

	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   error
	}{
		{"valid", secret, body, sig, nil},
		{"valid upper-case hex", secret, body, strings.ToUpper(sig), nil},
		{"valid sha256= prefix", secret, body, "sha256=" + sig, nil},
		{"valid SHA256= prefix and spaces", secret, body, "  SHA256=" + sig + " ", nil},
		{"wrong secret", []byte("another-secret"), body, sig, ErrSignatureMismatch},
		{"body modified", secret, modified, sig, ErrSignatureMismatch},
		{"body re-serialized", secret, compactJSON(t, body), sig, ErrSignatureMismatch},
		{"truncated", secret, body, sig[:63], ErrSignatureMalformed},
		{"too long", secret, body, sig + "00", ErrSignatureMalformed},
		{"not hex", secret, body, "z" + sig[1:], ErrSignatureMalformed},
		{"other algorithm prefix", secret, body, "sha1=" + sig, ErrSignatureMalformed},
		{"prefix only", secret, body, "sha256=", ErrSignatureMalformed},
		{"missing header", secret, body, "", ErrSignatureMissing},
		{"blank header", secret, body, "   ", ErrSignatureMissing},
		{"no secret", nil, body, sig, ErrNoSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.body, tc.header)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignMatchesStdlib(t *testing.T) {
	// Sign is the plain hex HMAC-SHA256 a receiver computes.
	secret, body := []byte("k"), []byte(`{"_id":"x"}`)
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if got, want := Sign(secret, body), hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if err := Verify(secret, body, Sign(secret, body)); err != nil {
		t.Error(err)
	}
}

func TestSignatureErrorsHideSecrets(t *testing.T) {
	secret := []byte("super-secret-value")
	sig := Sign(secret, []byte("a"))
	err := Verify(secret, []byte("b"), sig)
	if strings.Contains(err.Error(), string(secret)) || strings.Contains(err.Error(), sig) {
		t.Errorf("error reveals secret or signature: %v", err)
	}
}
