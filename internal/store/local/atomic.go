package local

import (
	"os"
	"path/filepath"
)

// syncDir fsyncs a directory, so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeTemps deletes temporary files a process left when it died while
// writing. Call it under the store lock: nobody else is writing one then.
func removeTemps(path string) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return
	}
	for _, e := range entries {
		if isTempOf(path, e.Name()) {
			os.Remove(filepath.Join(filepath.Dir(path), e.Name()))
		}
	}
}
