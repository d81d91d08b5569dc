// Package local is rotor's embedded secret store: a store.Store with the
// semantics of AWS Secrets Manager, kept in one encrypted file (or in memory,
// for tests).
//
// # File format and durability
//
// The file is a header followed by an append-only log of frames, one per
// write, each sealed with XChaCha20-Poly1305 under a 32-byte key (Config.Key,
// $ROTOR_STORE_KEY, or a key file beside the store that is generated on
// first use). Nothing is in plaintext: not values, not names, not labels. A
// frame holds, for each secret the operation changed, the secret's new
// metadata and the values its versions gained, or the secret's removal.
//
// Every operation runs under an exclusive flock of <store>.lock: it first
// applies the frames other processes appended since it last looked (or
// reloads the file if another process replaced it), then appends its frame
// and fdatasyncs before it returns. An operation, read or write, that finds
// frames it has not synced itself fdatasyncs them before it uses them,
// since their writer may have died before its own fdatasync: nothing is
// returned, acted on or appended after that a power loss can take back. So
// only the last frame can be damaged by a crash (cut short when the writer
// is killed, any of its pages missing after a power loss); it was never
// acknowledged, and it is dropped (with a warning to Config.Logger) and cut
// off by the next writer. Any other damage cannot come from a crash: the
// store then refuses to open and says to restore the file from a backup
// (see scan.go). When the log has grown to twice the size of the live
// data, it is compacted: written to a temporary file in the same directory,
// fsynced, renamed over the store, and the directory fsynced. The first
// operation on a store file a process has not seen before (after opening,
// or after another process compacted) fsyncs the directory too, since the
// process that renamed it there may have died first. (Rewriting the whole
// file on every write, the simpler scheme, would make rotating N secrets
// cost O(N²).)
//
// Operations of one Store that arrive while another runs are group
// committed (group.go): the next group runs them all under one flock, one
// after another, and appends their changes as one frame with one
// fdatasync; none returns before that frame is durable, a read included.
// So concurrent writers share a sync, and there is still one frame per
// fdatasync: the crash model above is unchanged.
//
// When an fdatasync of a write fails, the frame may sit in the page cache
// though not on disk, and Linux reports that only once; so the write cuts
// its frame off again and fails, and the Store reloads the file before its
// next operation. If even that cut fails, the Store refuses every further
// call and says to fix the storage and reopen the store.
//
// A read writes nothing: the LastAccessedDate that GetSecretValue sets (a
// date, not a time) is kept in memory and written with the process's next
// write, in the same frame, when the store is closed, or 30 seconds later,
// whichever comes first (see access.go). A crash loses at most those dates.
//
// # Costs
//
// An operation costs one flock, two stats, and for a write the encoding and
// sealing of the changed secret's metadata (its versions' ids, labels and
// dates, not their values) plus the values it added, and one fdatasync.
// An operation that finds frames this process has not synced itself (its
// first after opening a store that was appended to since its last
// compaction, its first after another process wrote) adds one, which costs
// next to nothing when their writer synced them; its first on a store file
// it has not seen before adds a directory fsync.
// Compaction rewrites the whole file, but only after as many bytes were
// appended as the live data holds, so its cost per operation is constant.
// Opening a store reads and decrypts the whole file once; the state then
// lives in memory, one entry per secret and version. ListSecrets is linear in
// the number of secrets.
//
// Rotation locks (LockRotation) are flocks of <store>.locks/<sha256 of the
// ARN>.lock, which the kernel releases when the holding process dies.
// LockWrite, for writes that are not rotations, first waits its turn behind
// the other writes of the secret (in-process on a channel, across processes
// on a flock of <sha256 of the ARN>.write), then takes the same rotation
// lock: concurrent writes are serialised, and only a rotation refuses them.
package local
