package sshserve

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/auditrelay/auditrelay/tui"
)

// newKey returns a fresh client key and its authorized_keys text
// ("ssh-ed25519 AAAA..." without a newline).
func newKey(t testing.TB) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey())))
}

func TestParseAuthorizedKeys(t *testing.T) {
	alice, aliceLine := newKey(t)
	bob, bobLine := newKey(t)
	_, carolLine := newKey(t)
	cert := &gossh.Certificate{Key: alice.PublicKey(), CertType: gossh.UserCert, ValidPrincipals: []string{"alice"}, ValidBefore: gossh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, bob); err != nil {
		t.Fatal(err)
	}
	certLine := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(cert)))

	type want struct {
		name string
		role tui.Role
	}
	tests := []struct {
		name   string
		text   string
		keys   map[string]want // by fingerprint
		errs   []string        // each must appear, with its line
		nlines int             // expected number of errors
	}{
		{
			name: "options, comments and blank lines",
			text: "# who may connect\n\nrole=operator,name=alice " + aliceLine + " alice@laptop\n  # indented comment\nrole=viewer,name=\"bob\" " + bobLine + "\n",
			keys: map[string]want{gossh.FingerprintSHA256(alice.PublicKey()): {"alice", tui.Operator}, gossh.FingerprintSHA256(bob.PublicKey()): {"bob", tui.Viewer}},
		},
		{
			name: "name from the comment",
			text: "role=viewer " + bobLine + " bob@desk\r\n",
			keys: map[string]want{gossh.FingerprintSHA256(bob.PublicKey()): {"bob@desk", tui.Viewer}},
		},
		{
			name:   "missing role",
			text:   "name=alice " + aliceLine + "\n",
			errs:   []string{"keys:1: no role"},
			nlines: 1,
		},
		{
			name:   "bare line without options",
			text:   aliceLine + " alice@laptop\n",
			errs:   []string{"keys:1: no role"},
			nlines: 1,
		},
		{
			name:   "unknown role",
			text:   "role=admin,name=alice " + aliceLine + "\n",
			errs:   []string{`keys:1: role "admin": want viewer or operator`},
			nlines: 1,
		},
		{
			name:   "unsupported option is not ignored",
			text:   `role=operator,name=alice,from="10.0.0.0/8" ` + aliceLine + "\n",
			errs:   []string{`keys:1: option "from=\"10.0.0.0/8\"" is not supported`},
			nlines: 1,
		},
		{
			name:   "no name and no comment",
			text:   "role=operator " + aliceLine + "\n",
			errs:   []string{"keys:1: no name"},
			nlines: 1,
		},
		{
			name:   "comment that cannot be a name",
			text:   "role=operator " + aliceLine + " Alice Smith\n",
			errs:   []string{`keys:1: no name= and the comment "Alice Smith" cannot be one`},
			nlines: 1,
		},
		{
			name:   "bad name",
			text:   "role=operator,name=al/ice " + aliceLine + "\n",
			errs:   []string{`keys:1: name "al/ice"`},
			nlines: 1,
		},
		{
			name:   "the issue's other format is explained",
			text:   "operator alice " + aliceLine + "\n",
			errs:   []string{"keys:1: not a key line (want \"" + lineFormat + "\")"},
			nlines: 1,
		},
		{
			name:   "broken base64",
			text:   "role=viewer,name=x ssh-ed25519 AAAA!!!\n",
			errs:   []string{"keys:1: not a key line"},
			nlines: 1,
		},
		{
			name:   "duplicate key",
			text:   "role=operator,name=alice " + aliceLine + "\nrole=viewer,name=alice2 " + aliceLine + "\n",
			keys:   map[string]want{gossh.FingerprintSHA256(alice.PublicKey()): {"alice", tui.Operator}},
			errs:   []string{"keys:2: key " + gossh.FingerprintSHA256(alice.PublicKey()) + " is already listed on line 1"},
			nlines: 1,
		},
		{
			name:   "certificate",
			text:   "role=operator,name=alice " + certLine + "\n",
			errs:   []string{"keys:1: certificates are not supported"},
			nlines: 1,
		},
		{
			name:   "role twice",
			text:   "role=viewer,role=operator,name=x " + aliceLine + "\n",
			errs:   []string{"keys:1: role is given twice"},
			nlines: 1,
		},
		{
			name: "good lines survive bad ones",
			text: "role=operator,name=alice " + aliceLine + "\nrole=nope,name=bob " + bobLine + "\nrole=viewer,name=carol " + carolLine + "\n",
			keys: map[string]want{
				gossh.FingerprintSHA256(alice.PublicKey()): {"alice", tui.Operator},
				fingerprintOf(t, carolLine):                {"carol", tui.Viewer},
			},
			errs:   []string{"keys:2: role \"nope\""},
			nlines: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseAuthorizedKeys("keys", []byte(tc.text))
			got := map[string]want{}
			for _, id := range keys {
				got[id.Fingerprint] = want{id.Name, id.Role}
			}
			if len(got) != len(tc.keys) {
				t.Errorf("keys = %v, want %v", got, tc.keys)
			}
			for fp, w := range tc.keys {
				if got[fp] != w {
					t.Errorf("key %s = %+v, want %+v", fp, got[fp], w)
				}
			}
			errs := unjoin(err)
			if len(errs) != tc.nlines {
				t.Errorf("errors = %v, want %d", errs, tc.nlines)
			}
			for _, e := range errs {
				var pe *ParseError
				if !errors.As(e, &pe) || pe.File != "keys" || pe.Line < 1 {
					t.Errorf("error %v is not a ParseError with a line", e)
				}
			}
			for _, w := range tc.errs {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not contain %q", err, w)
				}
			}
		})
	}
}

func fingerprintOf(t *testing.T, line string) string {
	t.Helper()
	pub, _, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return gossh.FingerprintSHA256(pub)
}

// FuzzParseAuthorizedKeys checks that any input gives keys or line errors,
// never a panic, and that every key it accepts has a role and a valid name.
func FuzzParseAuthorizedKeys(f *testing.F) {
	_, line := newKey(f)
	f.Add("role=operator,name=alice " + line + " alice@laptop\n")
	f.Add("# c\n\nrole=viewer " + line + " bob\n")
	f.Add(`role=viewer,name="b\"ob" ` + line)
	f.Add("operator alice " + line)
	f.Add("role=,name= ssh-ed25519 ")
	f.Add("\x00\xff")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := ParseAuthorizedKeys("f", []byte(text))
		for _, id := range keys {
			if checkName(id.Name) != nil || (id.Role != tui.Viewer && id.Role != tui.Operator) || id.Line < 1 || id.Fingerprint == "" {
				t.Fatalf("accepted a bad identity %+v", id)
			}
		}
		for _, e := range unjoin(err) {
			var pe *ParseError
			if errors.As(e, &pe) && (pe.Line < 1 || pe.Msg == "") {
				t.Fatalf("error without a line or message: %v", e)
			}
		}
	})
}

// syncBuffer is a log destination tests read while the server writes.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

func TestKeyringReloadsWhenTheFileChanges(t *testing.T) {
	alice, aliceLine := newKey(t)
	bob, bobLine := newKey(t)
	path := filepath.Join(t.TempDir(), "authorized_keys")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		// Some file systems keep modification times in seconds; a later
		// time makes the change visible whatever the size.
		later := time.Now().Add(time.Duration(len(text)) * time.Second)
		if err := os.Chtimes(path, later, later); err != nil {
			t.Fatal(err)
		}
	}
	write("role=operator,name=alice " + aliceLine + "\n")
	logs := newSyncBuffer()
	k, err := openKeyring(path, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := k.lookup(alice.PublicKey()); !ok || id.Name != "alice" || id.Role != tui.Operator {
		t.Fatalf("alice = %+v, %v", id, ok)
	}
	if _, ok := k.lookup(bob.PublicKey()); ok {
		t.Fatal("bob is not listed yet")
	}

	// Revoke alice, add bob as a viewer.
	write("role=viewer,name=bob " + bobLine + "\n")
	if _, ok := k.lookup(alice.PublicKey()); ok {
		t.Error("alice was revoked but is still accepted")
	}
	if id, ok := k.lookup(bob.PublicKey()); !ok || id.Role != tui.Viewer {
		t.Errorf("bob = %+v, %v", id, ok)
	}

	// A bad line is logged with its line number and grants nothing; the
	// good line still works.
	write("role=viewer,name=bob " + bobLine + "\nrole=root,name=alice " + aliceLine + "\n")
	if _, ok := k.lookup(alice.PublicKey()); ok {
		t.Error("a bad line granted access")
	}
	if _, ok := k.lookup(bob.PublicKey()); !ok {
		t.Error("the good line stopped working")
	}
	if !strings.Contains(logs.String(), path+":2: role") {
		t.Errorf("the bad line was not logged with file:line:\n%s", logs)
	}

	// A removed file refuses everyone.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.lookup(bob.PublicKey()); ok {
		t.Error("the file is gone but bob is still accepted")
	}
}

func TestOpenKeyringRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(newSyncBuffer(), nil))
	if _, err := openKeyring(filepath.Join(dir, "nope"), log); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("# ok\nrole=operator,name=x ssh-ed25519 AAAA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openKeyring(bad, log); err == nil || !strings.Contains(err.Error(), bad+":2:") {
		t.Errorf("bad line at start: %v", err)
	}
}
