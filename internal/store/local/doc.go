// Package local is rotor's embedded secret store: a store.Store with the
// semantics of AWS Secrets Manager, kept in one encrypted file (or in memory,
// for tests).
//
// # File format and durability
//
// The file (format 4, bolt.go) is a bbolt database: a B+tree of
// copy-on-write pages whose two meta pages are checksummed, each commit
// fdatasyncing the pages it wrote and then its meta page. A secret is one
// secret entry (its tags, dates, rotation rules and the labels of its
// versions), one entry per version (its id and dates) and one per version
// value, each sealed with
// XChaCha20-Poly1305 under a key derived from the 32-byte store key
// (Config.Key, $ROTOR_STORE_KEY, or a key file beside the store that is
// generated on first use), and found by an HMAC of its ARN or name: nothing
// is in plaintext, not values, not names, not labels. A secret's entries
// are sealed with their own key as associated data, so that an entry moved
// to another key does not open.
//
// Every group of operations (below) runs under a flock of <store>.lock,
// opens the database, runs in one of its transactions and closes it, so any
// number of processes share the file. A group of reads alone takes the lock
// shared and opens the database read-only, so reads of several processes
// run at once; any other group takes it exclusive. A commit is
// durable before any operation of its group returns; a crash (a killed
// process, a power loss) during a commit leaves the database as the
// commit before it, which holds everything acknowledged. Damage no crash
// causes (an entry that does not authenticate, a page that is garbage) is
// refused with an error that says to restore the file from a backup; a
// meta page that does not check is what a crash in its commit leaves, and
// the store opens at the commit before. Pages a commit frees are reused by
// the next ones, so the file stays about the size of the live data at its
// largest, and nothing ever rewrites it whole: there is no compaction.
//
// A store file of format 2 (an encrypted append-only log, v2file.go) is
// migrated when it is first opened: its secrets are written to a new
// database beside it, which is fsynced and renamed over it; a crash before
// the rename leaves the format 2 file as it was. One of format 3 (the same
// database, but with each secret's versions inside its secret entry) is
// upgraded in one commit when first opened, and each of its secrets takes
// the layout of format 4 when next written.
//
// Operations of one Store that arrive while another runs are group
// committed (group.go): the next group runs them all in one transaction,
// one after another, each seeing what its predecessors left and failing or
// succeeding on its own, and commits their changes once; none returns
// before that commit is durable, a read included. So concurrent writers
// share the syncs of one commit.
//
// A read writes nothing: the LastAccessedDate that GetSecretValue sets (a
// date, not a time) is kept in memory and written with the process's next
// write, in the same commit, when the store is closed, or 30 seconds later,
// whichever comes first (see access.go). A crash loses at most those dates.
// So are the secrets past their recovery window that reads come across:
// they are removed from the file at the same moments (a write removes
// those it reads itself).
//
// # Costs
//
// An operation on one secret reads that secret's metadata and, when it
// needs them, its values: a few pages of the B+tree, whatever the number of
// secrets. A group costs one flock, opening the database (reading its meta
// pages, its free list when it may write, and mapping the file, which
// reads nothing more) and, when it writes, the pages its changes touch and
// two fdatasyncs. A write puts the changed secret's entry, which is small
// (no version list), and the version entries and values that are new or
// changed, and deletes those it lost; the other versions are not touched,
// so a new version costs the same at 1 version as at 100. Opening a Store
// checks the key against the file and reads nothing else. ListSecrets
// reads the secret entries (which hold the labels it returns, so no version
// entry) of the page it returns in creation order (all of them only when a
// filter matches few), so listing is linear in the number of secrets. A
// Store keeps the secrets it read lately, decoded, between groups, and
// uses them again while their secret entry in the file is the one they
// came from (every write of a secret seals a new one).
//
// Rotation locks (LockRotation) are flocks of <store>.locks/<sha256 of the
// ARN>.lock, which the kernel releases when the holding process dies.
// LockWrite, for writes that are not rotations, first waits its turn behind
// the other writes of the secret (in-process on a channel, across processes
// on a flock of <sha256 of the ARN>.write), then takes the same rotation
// lock: concurrent writes are serialised, and only a rotation refuses them.
package local
