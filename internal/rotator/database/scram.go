package database

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// scramIterations is PostgreSQL's default scram_iterations.
const scramIterations = 4096

// scramVerifier returns the SCRAM-SHA-256 verifier PostgreSQL stores for pw
// (RFC 5802, RFC 7677), so that the password itself never reaches the
// server, its statement log or its error reports: the server keeps a
// verifier given in ALTER ROLE … PASSWORD as it is. It reports false for a
// password with characters outside printable ASCII, which SASLprep could
// change; those are sent as they are and hashed by the server.
func scramVerifier(pw string) (string, bool) {
	for i := 0; i < len(pw); i++ {
		if pw[i] < 0x20 || pw[i] > 0x7e {
			return "", false
		}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", false
	}
	return scramVerifierWith(pw, salt, scramIterations)
}

func scramVerifierWith(pw string, salt []byte, iter int) (string, bool) {
	salted, err := pbkdf2.Key(sha256.New, pw, salt, iter, sha256.Size)
	if err != nil {
		return "", false
	}
	defer clear(salted)
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	clear(clientKey)
	serverKey := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return "SCRAM-SHA-256$" + strconv.Itoa(iter) + ":" + b64(salt) + "$" + b64(storedKey[:]) + ":" + b64(serverKey), true
}
