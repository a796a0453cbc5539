package sshserve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/auditrelay/auditrelay/tui"
)

// Identity is who an authorized key belongs to and what it may do.
type Identity struct {
	// Name is recorded as the actor of every action taken in the console.
	Name string
	// Role is what the console lets the key's holder do.
	Role tui.Role
	// Fingerprint is the key's SHA256 fingerprint, as ssh-keygen -l prints it.
	Fingerprint string
	// Line is where the key is listed in the authorized-keys file.
	Line int
}

// ParseError is one bad line of an authorized-keys file.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// lineFormat is what a key line looks like, for error messages.
const lineFormat = "role=operator,name=alice ssh-ed25519 AAAA... [comment]"

// maxNameLen bounds names: they are shown in the console and logged.
const maxNameLen = 64

// ParseAuthorizedKeys reads an authorized-keys file: OpenSSH
// authorized_keys lines whose options say who the key is and what it may do.
//
//	# comments and blank lines are ignored
//	role=operator,name=alice ssh-ed25519 AAAAC3Nza... alice@laptop
//	role=viewer,name="bob" ssh-rsa AAAAB3Nza...
//	role=viewer ssh-ed25519 AAAAC3Nza... carol@desk
//
// role is required (viewer or operator). name is the actor recorded for
// every action; without it the key's comment is used. Any other option is
// an error rather than ignored, so that an OpenSSH restriction such as
// from="..." is never silently dropped. file names the file in errors.
//
// It returns every valid key, keyed by its wire encoding, and one
// *ParseError per bad line (joined); a bad line authorizes nothing.
func ParseAuthorizedKeys(file string, data []byte) (map[string]Identity, error) {
	keys := make(map[string]Identity)
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10) // an RSA-16384 key line is ~3 KB
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, pub, err := parseKeyLine(line)
		if err != nil {
			fail(n, "%v", err)
			continue
		}
		id.Line = n
		wire := string(pub.Marshal())
		if prev, ok := keys[wire]; ok {
			fail(n, "key %s is already listed on line %d", id.Fingerprint, prev.Line)
			continue
		}
		keys[wire] = id
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", file, err))
	}
	return keys, errors.Join(errs...)
}

// parseKeyLine parses one non-blank, non-comment line.
func parseKeyLine(line string) (Identity, gossh.PublicKey, error) {
	pub, comment, options, _, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return Identity{}, nil, fmt.Errorf("not a key line (want %q): %v", lineFormat, err)
	}
	if _, ok := pub.(*gossh.Certificate); ok {
		return Identity{}, nil, errors.New("certificates are not supported: list the plain public key")
	}
	id := Identity{Fingerprint: gossh.FingerprintSHA256(pub)}
	var haveRole, haveName bool
	for _, opt := range options {
		k, v, hasValue := strings.Cut(opt, "=")
		v = unquote(v)
		switch {
		case k == "role" && hasValue:
			if haveRole {
				return Identity{}, nil, errors.New("role is given twice")
			}
			haveRole = true
			switch v {
			case "viewer":
				id.Role = tui.Viewer
			case "operator":
				id.Role = tui.Operator
			default:
				return Identity{}, nil, fmt.Errorf("role %q: want viewer or operator", v)
			}
		case k == "name" && hasValue:
			if haveName {
				return Identity{}, nil, errors.New("name is given twice")
			}
			haveName = true
			if err := checkName(v); err != nil {
				return Identity{}, nil, fmt.Errorf("name %q: %v", v, err)
			}
			id.Name = v
		default:
			return Identity{}, nil, fmt.Errorf("option %q is not supported (only role= and name=)", opt)
		}
	}
	if !haveRole {
		return Identity{}, nil, fmt.Errorf("no role: start the line with role=viewer or role=operator (want %q)", lineFormat)
	}
	if !haveName {
		if comment == "" {
			return Identity{}, nil, errors.New("no name: add name=... to the options (or a comment after the key)")
		}
		if err := checkName(comment); err != nil {
			return Identity{}, nil, fmt.Errorf("no name= and the comment %q cannot be one (%v): add name=...", comment, err)
		}
		id.Name = comment
	}
	return id, pub, nil
}

// unquote removes the double quotes OpenSSH allows around option values.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`)
	}
	return v
}

// checkName accepts names that read well in logs and the console: letters,
// digits and . _ - @ +.
func checkName(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("longer than %d characters", maxNameLen)
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@+", r)
		if !ok {
			return fmt.Errorf("%q is not allowed (letters, digits and . _ - @ + only)", r)
		}
	}
	return nil
}

// keyring is the authorized-keys file as last read. It re-reads the file
// whenever its size, modification time or identity change, so editing the
// file (revoking a key) takes effect on the next connection without a
// restart.
type keyring struct {
	path string
	log  *slog.Logger

	mu    sync.Mutex
	stamp fileStamp
	keys  map[string]Identity
}

// fileStamp identifies a version of a file without reading it.
type fileStamp struct {
	info    os.FileInfo
	size    int64
	modTime time.Time
	missing bool
}

func (a fileStamp) same(b fileStamp) bool {
	if a.missing || b.missing {
		return a.missing == b.missing
	}
	return a.info != nil && b.info != nil && os.SameFile(a.info, b.info) && a.size == b.size && a.modTime.Equal(b.modTime)
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fileStamp{missing: true}, nil
	}
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{info: fi, size: fi.Size(), modTime: fi.ModTime()}, nil
}

// openKeyring reads path; any bad line is an error, so a typo is caught
// at start rather than locking someone out later.
func openKeyring(path string, log *slog.Logger) (*keyring, error) {
	st, err := stampOf(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	if st.missing {
		return nil, fmt.Errorf("authorized keys: %s does not exist (one key per line: %s)", path, lineFormat)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	keys, err := ParseAuthorizedKeys(path, data)
	if err != nil {
		return nil, fmt.Errorf("authorized keys:\n%w", err)
	}
	if len(keys) == 0 {
		log.Warn("ssh: the authorized-keys file lists no keys: every connection will be refused", "file", path)
	}
	return &keyring{path: path, log: log, stamp: st, keys: keys}, nil
}

// lookup returns the identity of key, re-reading the file first when it
// changed.
func (k *keyring) lookup(key gossh.PublicKey) (Identity, bool) {
	if key == nil {
		return Identity{}, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshLocked()
	id, ok := k.keys[string(key.Marshal())]
	return id, ok
}

// refresh re-reads the file when it changed.
func (k *keyring) refresh() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshLocked()
}

// refreshLocked re-reads the file when it changed. A file that disappears
// or cannot be read authorizes nobody; a line that no longer parses
// authorizes nothing, and the other lines keep working. Problems are
// logged once per change of the file.
func (k *keyring) refreshLocked() {
	st, err := stampOf(k.path)
	if err == nil && st.same(k.stamp) {
		return
	}
	var data []byte
	switch {
	case err != nil:
	case st.missing:
		err = errors.New("the file was removed")
	default:
		data, err = os.ReadFile(k.path)
	}
	if err != nil {
		k.log.Error("ssh: cannot read the authorized-keys file: refusing every key until it is fixed", "file", k.path, "err", err)
		if st.info == nil && !st.missing {
			st.missing = true // stat failed: try again once the file shows up
		}
		k.stamp, k.keys = st, nil
		return
	}
	keys, perr := ParseAuthorizedKeys(k.path, data)
	for _, e := range unjoin(perr) {
		k.log.Error("ssh: authorized-keys line ignored", "err", e)
	}
	k.log.Info("ssh: authorized keys reloaded", "file", k.path, "keys", len(keys))
	k.stamp, k.keys = st, keys
}

// unjoin splits an errors.Join result into its errors.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
