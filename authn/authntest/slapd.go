package authntest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Slapd is a private OpenLDAP server started for one test: its own
// configuration and database in a temporary directory, listening on a free
// loopback port, stopped when the test ends. No system service is used.
type Slapd struct {
	URL           string // ldap://127.0.0.1:<port>
	BaseDN        string // dc=example,dc=org
	AdminDN       string // cn=admin,dc=example,dc=org (the rootdn)
	AdminPassword string
	// PeopleDN is the organizational unit users are added to.
	PeopleDN string

	cmd *exec.Cmd
	mu  sync.Mutex
	log bytes.Buffer
}

// SlapdBinary returns the path of slapd ("" when it is not installed). It
// looks on PATH and in /usr/sbin.
func SlapdBinary() string {
	if p, err := exec.LookPath("slapd"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/slapd", "/usr/local/sbin/slapd", "/usr/local/libexec/slapd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// StartSlapd starts slapd, or skips the test when the binary is missing,
// unless INFISICAL_REQUIRE_SLAPD=1 (CI), where a missing slapd fails it.
func StartSlapd(t testing.TB) *Slapd {
	t.Helper()
	bin := SlapdBinary()
	if bin == "" {
		if os.Getenv("INFISICAL_REQUIRE_SLAPD") == "1" {
			t.Fatal("slapd is required (INFISICAL_REQUIRE_SLAPD=1) but not installed: apt-get install slapd ldap-utils")
		}
		t.Skip("slapd not installed (apt-get install slapd ldap-utils); skipping the LDAP test")
	}
	dir := t.TempDir()
	s := &Slapd{BaseDN: "dc=example,dc=org", AdminDN: "cn=admin,dc=example,dc=org", AdminPassword: "admin-secret-pw",
		PeopleDN: "ou=people,dc=example,dc=org"}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	schema := "/etc/ldap/schema"
	modules := "/usr/lib/ldap"
	conf := fmt.Sprintf(`include %[1]s/core.schema
include %[1]s/cosine.schema
include %[1]s/inetorgperson.schema
include %[1]s/nis.schema
pidfile %[2]s/slapd.pid
argsfile %[2]s/slapd.args
modulepath %[3]s
moduleload back_mdb
database mdb
maxsize 10485760
suffix "%[4]s"
rootdn "%[5]s"
rootpw %[6]s
directory %[2]s/db
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by * read
`, schema, dir, modules, s.BaseDN, s.AdminDN, s.AdminPassword)
	confPath := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	s.URL = "ldap://127.0.0.1:" + strconv.Itoa(port)
	// -d 0 keeps slapd in the foreground (so it dies with the test) without
	// debug output.
	s.cmd = exec.Command(bin, "-d", "0", "-f", confPath, "-h", s.URL+"/")
	s.cmd.Stdout, s.cmd.Stderr = &syncWriter{s: s}, &syncWriter{s: s}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			s.mu.Lock()
			out := s.log.String()
			s.mu.Unlock()
			t.Fatalf("slapd did not start listening on %s: %s", s.URL, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.add(t, s.BaseDN, map[string][]string{"objectClass": {"top", "dcObject", "organization"}, "o": {"Example"}, "dc": {"example"}})
	s.add(t, s.PeopleDN, map[string][]string{"objectClass": {"top", "organizationalUnit"}, "ou": {"people"}})
	return s
}

type syncWriter struct{ s *Slapd }

func (w *syncWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.log.Len() < 1<<16 {
		w.s.log.Write(p)
	}
	return len(p), nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Slapd) add(t testing.TB, dn string, attrs map[string][]string) {
	t.Helper()
	conn, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("dial slapd: %v", err)
	}
	defer conn.Close()
	if err := conn.Bind(s.AdminDN, s.AdminPassword); err != nil {
		t.Fatalf("bind slapd admin: %v", err)
	}
	req := goldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		req.Attribute(k, v)
	}
	if err := conn.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
}

// AddUser adds an inetOrgPerson uid=<uid> under PeopleDN with a password,
// a mail address and extra attributes, and returns its DN.
func (s *Slapd) AddUser(t testing.TB, uid, password, mail string, extra map[string][]string) string {
	t.Helper()
	dn := "uid=" + goldap.EscapeDN(uid) + "," + s.PeopleDN
	attrs := map[string][]string{"objectClass": {"top", "inetOrgPerson"}, "uid": {uid}, "cn": {uid}, "sn": {uid},
		"mail": {mail}, "userPassword": {password}}
	for k, v := range extra {
		attrs[k] = v
	}
	s.add(t, dn, attrs)
	return dn
}
