package database

import (
	"context"
	"crypto/sha1" //nolint:gosec // the mysql_native_password format
	"encoding/hex"
	"strings"
)

// On MariaDB, an account whose plugin is mysql_native_password is given
// the password's hash (IDENTIFIED BY PASSWORD '*...', SET PASSWORD =
// '*...') instead of the password, so that neither the general query log
// nor the prepared statement that builds the change ever holds it: MariaDB
// logs both as they ran. Other plugins (ed25519, MySQL's
// caching_sha2_password) get the password, for the server to hash.

// nativeHash is mysql_native_password's hash of pw: "*" and the upper-case
// hex of SHA1(SHA1(pw)).
func nativeHash(pw string) string {
	first := sha1.Sum([]byte(pw)) //nolint:gosec // the plugin's format
	second := sha1.Sum(first[:])  //nolint:gosec // the plugin's format
	return "*" + strings.ToUpper(hex.EncodeToString(second[:]))
}

// nativeAccount reports whether SHOW CREATE USER's statement is that of
// an account authenticated by mysql_native_password alone.
func nativeAccount(show string) bool {
	return strings.Contains(show, " IDENTIFIED BY PASSWORD '*") && !strings.Contains(show, " VIA ")
}

// native reports whether user@host is a MariaDB account authenticated by
// mysql_native_password (as the master sees mysql.user).
func (s *mySession) native(ctx context.Context, user, host string) bool {
	var plugin string
	if !s.mariaDB(ctx) {
		return false
	}
	if err := s.c.QueryRowContext(ctx, "SELECT plugin FROM mysql.user WHERE User = ? AND Host = ?", user, host).Scan(&plugin); err != nil {
		return false
	}
	return plugin == "mysql_native_password" || plugin == ""
}

// mariaDB reports whether the server is MariaDB.
func (s *mySession) mariaDB(ctx context.Context) bool {
	var version string
	return s.c.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version) == nil && strings.Contains(strings.ToLower(version), "mariadb")
}
