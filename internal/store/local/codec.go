package local

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// The store file (format 2) is
//
//	header: magic (8) | file id (16) | nonce (24) | sealed(key check | compacted (8))
//	frame:  file id (16) | seq (8) | length (4, of what follows) | nonce (24) | sealed entries
//
// A frame holds everything one write appended (a JSON array of entries), so
// a write is in the file whole or not at all: there is no such thing as half
// a write that authenticates. Frames are numbered from 0 in each file (seq).
// Everything after the magic and the file id is sealed with
// XChaCha20-Poly1305 under the store key, with associated data
// magic | file id | seq (the header uses seq 2^64-1), so a frame cannot be
// moved to another position or another file unnoticed.
//
// The file id at the start of each frame is a sync marker: after damage, the
// scanner finds the frames that follow by searching for it, without trusting
// a length field that may be the damaged part. compacted is the number of
// bytes of frames the compaction that wrote the file put after the header:
// they were fsynced before the file got its name, so no crash can damage
// them. Format 1 (magic ROTORDB1: one frame per record, no marker) was never
// released and is not read.
const (
	magic        = "ROTORDB2"
	oldMagic     = "ROTORDB1"
	fileIDLen    = 16
	nonceLen     = chacha20poly1305.NonceSizeX
	tagLen       = chacha20poly1305.Overhead
	seqLen       = 8
	lenLen       = 4
	frameHeadLen = fileIDLen + seqLen + lenLen
	maxFrame     = 64 << 20 // largest length field
	checkSeq     = ^uint64(0)
)

var keyCheck = []byte("rotor store key check, format 2")

var headerLen = len(magic) + fileIDLen + nonceLen + len(keyCheck) + seqLen + tagLen

var (
	errNotStore  = errors.New("not a rotor store")
	errWrongKey  = errors.New("wrong key")
	errOldFormat = errors.New("store format 1")
)

// codec seals and opens the frames of one store file.
type codec struct {
	aead cipher.AEAD
	id   [fileIDLen]byte
	// compacted is the length of the frames after the header that the
	// compaction which wrote the file put there.
	compacted int64
}

func (c *codec) ad(seq uint64) []byte {
	ad := make([]byte, 0, len(magic)+fileIDLen+seqLen)
	ad = append(ad, magic...)
	ad = append(ad, c.id[:]...)
	return binary.BigEndian.AppendUint64(ad, seq)
}

// openHeader checks the header of a store file against key.
func openHeader(key, buf []byte) (*codec, error) {
	if len(buf) >= len(oldMagic) && string(buf[:len(oldMagic)]) == oldMagic {
		return nil, errOldFormat
	}
	if len(buf) < headerLen || string(buf[:len(magic)]) != magic {
		return nil, errNotStore
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("store key: %w", err)
	}
	c := &codec{aead: aead}
	copy(c.id[:], buf[len(magic):])
	off := len(magic) + fileIDLen
	nonce := buf[off : off+nonceLen]
	plain, err := aead.Open(nil, nonce, buf[off+nonceLen:headerLen], c.ad(checkSeq))
	if err != nil || len(plain) != len(keyCheck)+seqLen || !bytes.Equal(plain[:len(keyCheck)], keyCheck) {
		return nil, errWrongKey
	}
	c.compacted = int64(binary.BigEndian.Uint64(plain[len(keyCheck):]))
	if c.compacted < 0 {
		return nil, errNotStore // authentic but impossible: a bug, not a crash
	}
	return c, nil
}

// frameAt opens the frame at the start of buf, whatever its seq. It returns
// ok=false when buf does not start with a whole, authentic frame of this
// file.
func (c *codec) frameAt(buf []byte) (seq uint64, plain []byte, n int, ok bool) {
	if len(buf) < frameHeadLen || !bytes.Equal(buf[:fileIDLen], c.id[:]) {
		return 0, nil, 0, false
	}
	seq = binary.BigEndian.Uint64(buf[fileIDLen:])
	size := int(binary.BigEndian.Uint32(buf[fileIDLen+seqLen:]))
	if size < nonceLen+tagLen || size > maxFrame || len(buf)-frameHeadLen < size {
		return 0, nil, 0, false
	}
	body := buf[frameHeadLen : frameHeadLen+size]
	plain, err := c.aead.Open(nil, body[:nonceLen], body[nonceLen:], c.ad(seq))
	if err != nil {
		return 0, nil, 0, false
	}
	return seq, plain, frameHeadLen + size, true
}

// open opens the frame at the start of buf, which must be frame seq.
func (c *codec) open(buf []byte, seq uint64) (plain []byte, n int, ok bool) {
	got, plain, n, ok := c.frameAt(buf)
	if !ok || got != seq {
		return nil, 0, false
	}
	return plain, n, true
}

// find returns the offset and seq of the first authentic frame in buf whose
// seq is at least minSeq. It looks wherever the file id occurs, so damaged
// length fields before the frame do not hide it.
func (c *codec) find(buf []byte, minSeq uint64) (at int, seq uint64, ok bool) {
	for pos := 0; ; pos++ {
		i := bytes.Index(buf[pos:], c.id[:])
		if i < 0 {
			return 0, 0, false
		}
		pos += i
		if seq, _, _, ok := c.frameAt(buf[pos:]); ok && seq >= minSeq {
			return pos, seq, true
		}
	}
}
