package local

import "fmt"

// What a crash can leave in a store file of format 2, and what scan
// accepts when that file is migrated.
//
// A write of format 2 appended one frame and fdatasynced before it was
// acknowledged, and every operation that found frames it had not made
// durable itself fdatasynced them before it used them or appended. So at any moment at
// most one frame, the last, is not known to be on disk, and a crash can only
// damage that one:
//
//   - a killed process leaves a prefix of its frame (write(2) was cut short);
//   - a power loss leaves any subset of the frame's pages, in any order,
//     the others zero or holding what was there before (a tail an earlier
//     crash left and the writer cut off), and the file size anywhere from
//     the frame's start to its end.
//
// Either way the frame fails authentication and nothing after it is an
// authentic frame of this file with its seq or a later one. Such a tail was
// never acknowledged: scan stops before it, and the migration leaves it out. Anything else is damage no crash makes
// (failing hardware, a bad copy, an edit), and scan refuses it rather than
// let the next write cut acknowledged writes off: a damaged frame followed
// by a later authentic one, or damage in, or truncation of, the frames a
// compaction wrote (those were fsynced before the file got its name).

// scan opens the frames in buf, which lies at offset at of the file and
// starts with frame seq, and passes each plaintext to fn. It returns how many bytes and frames it consumed; when that is less
// than len(buf), the rest is the remains of the last write, cut short by a
// crash before it was acknowledged, which the caller ignores. It fails
// when the damage is anything else.
func (c *codec) scan(buf []byte, at int64, seq uint64, fn func(plain []byte) error) (int, uint64, error) {
	off, frames := 0, uint64(0)
	for off < len(buf) {
		plain, n, ok := c.open(buf[off:], seq+frames)
		if !ok {
			break
		}
		if err := fn(plain); err != nil {
			return off, frames, fmt.Errorf("the write at offset %d (frame %d): %w", at+int64(off), seq+frames, err)
		}
		off += n
		frames++
	}
	pos, next := at+int64(off), seq+frames
	fileEnd, compactedEnd := at+int64(len(buf)), int64(headerLen)+c.compacted
	switch {
	case pos < compactedEnd && fileEnd < compactedEnd:
		return off, frames, fmt.Errorf("the file ends at offset %d, inside the secrets the store's last compaction wrote and fsynced (up to offset %d): it was cut short",
			fileEnd, compactedEnd)
	case pos < compactedEnd:
		return off, frames, fmt.Errorf("frame %d at offset %d is damaged, inside the secrets the store's last compaction wrote and fsynced",
			next, pos)
	case off == len(buf):
		return off, frames, nil
	}
	if i, later, ok := c.find(buf[off:], next); ok {
		return off, frames, fmt.Errorf("the write at offset %d (frame %d) is damaged or missing, yet a later write (frame %d, at offset %d) is intact",
			pos, next, later, pos+int64(i))
	}
	return off, frames, nil
}
