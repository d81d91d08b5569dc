package local

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// The writing side of store format 2, for tests: rotor reads format 2 only
// to migrate it (v2file.go), and tests write one as the release before
// format 3 left it.

// compactFrame is the plaintext size at which writeV2 starts a new frame.
const compactFrame = 1 << 20

// writeV2 writes the live secrets of d as a compacted store file of format
// 2 at path. Secrets whose recovery window has passed are left out.
func writeV2(path string, key []byte, d *db, now time.Time) error {
	c, err := newCodec(key)
	if err != nil {
		return err
	}
	var frames, batch [][]byte
	batchSize := 0
	for _, arn := range d.sorted() {
		r := d.byARN[arn]
		if r.expired(now) {
			continue
		}
		raw, err := json.Marshal(newEntry(r, allValues(r)))
		if err != nil {
			return fmt.Errorf("encode secret record: %w", err)
		}
		batch = append(batch, raw)
		batchSize += len(raw)
		if batchSize >= compactFrame {
			frames, batch, batchSize = append(frames, joinEntries(batch)), nil, 0
		}
	}
	if len(batch) > 0 {
		frames = append(frames, joinEntries(batch))
	}
	var body []byte
	for seq, plain := range frames {
		if body, err = c.seal(body, uint64(seq), plain); err != nil {
			return err
		}
	}
	buf, err := c.header(int64(len(body)))
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(buf, body...), 0o600)
}

// newEntry makes the entry that writes r with the values of the given versions.
func newEntry(r *record, values []string) entry {
	meta := *r
	meta.Versions = make([]*version, len(r.Versions))
	e := entry{Put: &meta}
	for i, v := range r.Versions {
		vc := *v
		vc.Value = nil
		meta.Versions[i] = &vc
		if v.HasValue && slices.Contains(values, v.ID) {
			if e.Values == nil {
				e.Values = make(map[string][]byte, len(values))
			}
			e.Values[v.ID] = v.Value
		}
	}
	return e
}

// allValues lists the versions of r that hold a value.
func allValues(r *record) []string {
	var ids []string
	for _, v := range r.Versions {
		if v.HasValue {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

// joinEntries is the plaintext of a frame holding the encoded entries.
func joinEntries(raws [][]byte) []byte {
	plain := append([]byte{'['}, bytes.Join(raws, []byte{','})...)
	return append(plain, ']')
}

func newCodec(key []byte) (*codec, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("store key: %w", err)
	}
	c := &codec{aead: aead}
	if _, err := rand.Read(c.id[:]); err != nil {
		return nil, err
	}
	return c, nil
}

// header returns the file header for this codec's file id, saying that
// compacted bytes of frames follow it.
func (c *codec) header(compacted int64) ([]byte, error) {
	h := make([]byte, 0, headerLen)
	h = append(h, magic...)
	h = append(h, c.id[:]...)
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	h = append(h, nonce...)
	plain := binary.BigEndian.AppendUint64(bytes.Clone(keyCheck), uint64(compacted))
	return c.aead.Seal(h, nonce, plain, c.ad(checkSeq)), nil
}

// seal appends frame seq holding plain to dst.
func (c *codec) seal(dst []byte, seq uint64, plain []byte) ([]byte, error) {
	n := nonceLen + len(plain) + tagLen
	if n > maxFrame {
		return nil, fmt.Errorf("a write of %d bytes is larger than the %d the store allows", n, maxFrame)
	}
	dst = append(dst, c.id[:]...)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	start := len(dst)
	dst = append(dst, make([]byte, nonceLen)...)
	if _, err := rand.Read(dst[start:]); err != nil {
		return nil, err
	}
	return c.aead.Seal(dst, dst[start:start+nonceLen], plain, c.ad(seq)), nil
}
