package local

import (
	"encoding/json"
	"fmt"
	"time"
)

// compactFrame is the plaintext size at which compaction starts a new frame.
const compactFrame = 1 << 20

// compact rewrites the live secrets to a new file and renames it over the
// store. Secrets whose recovery window has passed are dropped.
func (f *v2file) compact(d *db, now time.Time) error {
	c, err := newCodec(f.key)
	if err != nil {
		return err
	}
	recSize := make(map[string]int64, len(d.byARN))
	var live int64
	var frames [][]byte
	var batch [][]byte
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
		recSize[arn] = entrySize(raw)
		live += recSize[arn]
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
	buf = append(buf, body...)
	fd, err := writeAtomic(f.path, buf, f.hook)
	if err != nil {
		return err
	}
	fi, err := fd.Stat()
	if err != nil {
		fd.Close()
		return err
	}
	for arn, r := range d.byARN {
		if r.expired(now) {
			d.remove(arn)
		}
	}
	f.f.Close()
	f.f, f.fi, f.c = fd, fi, c
	f.off, f.size, f.frames = int64(len(buf)), int64(len(buf)), uint64(len(frames))
	f.noted = 0
	f.recSize, f.live = recSize, live
	return nil
}
