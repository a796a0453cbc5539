//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lowSpace is the free space below which a failing write is put down to a
// full file system.
const lowSpace = 1 << 20

// diagnose says what keeps SQLite from writing file in dir, or "" when
// nothing obvious does. access(2) answers for this process's user, root
// included: a read-only file system is read-only for root too.
func diagnose(file, dir string) string {
	switch err := unix.Access(dir, unix.W_OK); {
	case errors.Is(err, unix.EROFS):
		return fmt.Sprintf("directory %s is read-only (read-only file system)", dir)
	case errors.Is(err, unix.EACCES):
		return fmt.Sprintf("directory %s is read-only for this process (uid %d): make it writable", dir, os.Geteuid())
	}
	if err := unix.Access(file, unix.W_OK); errors.Is(err, unix.EACCES) || errors.Is(err, unix.EROFS) {
		return fmt.Sprintf("database file %s is read-only for this process (uid %d)", file, os.Geteuid())
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil {
		if free := uint64(st.Bavail) * uint64(st.Bsize); free < lowSpace {
			return fmt.Sprintf("no space left on the file system of %s (%d bytes free)", dir, free)
		}
	}
	return ""
}
