package dockerhub

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// maxLabel is Docker Hub's limit on a token label, in characters.
const maxLabel = 100

// labelPrefix is what every label of a token rotor made for the secret
// name starts with: "rotor:<name>:". A name too long to leave room for a
// version id is cut and given a digest of the whole name, so that two long
// names that share their beginning still get different prefixes.
func labelPrefix(name string, tokenLen int) string {
	room := maxLabel - len("rotor:") - len(":") - tokenLen
	if utf8.RuneCountInString(name) > room {
		sum := sha256.Sum256([]byte(name))
		suffix := "~" + hex.EncodeToString(sum[:6])
		keep := max(room-len(suffix), 0)
		r := []rune(name)
		name = string(r[:min(keep, len(r))]) + suffix
	}
	return "rotor:" + name + ":"
}

// label is the label of the token Create makes for version token.
func label(name, token string) string {
	return labelPrefix(name, utf8.RuneCountInString(token)) + token
}

// ownVersion returns the version id a label rotor wrote for name names, or
// false when rotor did not write the label for this secret.
func ownVersion(name, lbl string) (string, bool) {
	if !strings.HasPrefix(lbl, "rotor:") {
		return "", false
	}
	i := strings.LastIndexByte(lbl, ':')
	if i < 0 {
		return "", false
	}
	ver := lbl[i+1:]
	if ver == "" || lbl != label(name, ver) {
		return "", false
	}
	return ver, true
}
