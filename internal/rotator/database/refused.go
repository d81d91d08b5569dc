package database

import "errors"

// errRefused marks a login the database refused (a wrong password, a
// disabled or locked account, no such user), as opposed to one that could
// not be tried (the network, TLS, a timeout). Only a refusal proves that a
// credential no longer works.
var errRefused = errors.New("the database refused the credential")

// refused is a driver error that is a refusal.
type refused struct{ error }

func (r refused) Unwrap() error      { return r.error }
func (refused) Is(target error) bool { return target == errRefused }

// myRefusals are the MySQL and MariaDB error numbers of a refused login:
// access denied (1045, 1698) and a locked account (MySQL 3118, MariaDB
// 4151).
var myRefusals = map[uint16]bool{1045: true, 1698: true, 3118: true, 4151: true}
