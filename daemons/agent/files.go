package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// defaultFileMode is the mode of a rendered file or token sink the agent
// creates; an existing file keeps its mode (and, when possible, owner).
const defaultFileMode fs.FileMode = 0o600

// writeFileAtomic replaces path with data so that a reader sees the old
// content or the new one, never a partial file: the bytes go to a
// temporary file in the same directory, which is synced and renamed over
// path. It reports whether the content changed (identical content is left
// alone, so the file's mtime only moves on a real change).
func writeFileAtomic(path string, data []byte) (changed bool, err error) {
	mode := defaultFileMode
	uid, gid := -1, -1
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return false, fmt.Errorf("write %s: not a regular file", path)
		}
		mode = st.Mode().Perm()
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(sys.Uid), int(sys.Gid)
		}
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	cleanup := func(e error) (bool, error) {
		_ = tmp.Close()
		_ = os.Remove(tmpName)
		return false, fmt.Errorf("write %s: %w", path, e)
	}
	if err := tmp.Chmod(mode); err != nil {
		return cleanup(err)
	}
	if uid >= 0 && (uid != os.Getuid() || gid != os.Getgid()) {
		// Keep the owner of the file being replaced; only root can,
		// so a failure is not an error.
		_ = tmp.Chown(uid, gid)
	}
	if _, err := tmp.Write(data); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmpName)
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		_ = os.Remove(tmpName)
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return true, nil
}
