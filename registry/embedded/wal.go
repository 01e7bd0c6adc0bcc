package embedded

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/meshbridge/meshbridge/registry"
)

// Record framing: 4-byte little-endian payload length, 4-byte CRC-32C of the
// payload, then the payload (one JSON-encoded registry.Event). A torn or
// corrupt record ends the log: everything before it is kept.
const (
	headerSize = 8
	// maxRecord bounds a record so a corrupt length cannot make us allocate gigabytes.
	maxRecord = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	walName      = "wal.log"
	snapshotName = "snapshot.db"
	lockName     = "LOCK"
)

// appendRecord encodes e onto buf.
func appendRecord(buf []byte, e *registry.Event) ([]byte, error) {
	payload, err := json.Marshal(e)
	if err != nil {
		return buf, fmt.Errorf("encode event %d: %w", e.Revision, err)
	}
	var hdr [headerSize]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[4:8], crc32.Checksum(payload, castagnoli))
	buf = append(buf, hdr[:]...)
	return append(buf, payload...), nil
}

// readRecords calls fn for each intact record of the file and returns the
// offset just after the last intact one. A missing file reads as empty.
func readRecords(path string, fn func(*registry.Event) error) (good int64, torn bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	return decodeRecords(bufio.NewReaderSize(f, 1<<20), fn)
}

// decodeRecords reads records from r; see readRecords.
func decodeRecords(r io.Reader, fn func(*registry.Event) error) (good int64, torn bool, err error) {
	var hdr [headerSize]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return good, false, nil
			}
			return good, true, nil
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		if n == 0 || n > maxRecord {
			return good, true, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return good, true, nil
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[4:8]) {
			return good, true, nil
		}
		var e registry.Event
		if err := json.Unmarshal(payload, &e); err != nil {
			return good, true, nil
		}
		if err := fn(&e); err != nil {
			return good, false, err
		}
		good += int64(headerSize + n)
	}
}

// writeFileSync writes data to path atomically: a temporary file, fsync,
// rename, fsync of the directory.
func writeFileSync(path string, write func(w io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(tmp) // best effort: a stale temporary file is overwritten next time
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
