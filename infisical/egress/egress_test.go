package egress

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestIsPublic(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::808:808", true}, // NAT64 form of 8.8.8.8
		{"127.0.0.1", false},
		{"127.255.0.9", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata service
		{"fe80::1", false},
		{"fd00:ec2::254", false}, // AWS metadata over IPv6
		{"fc00::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"0.1.2.3", false},
		{"100.64.0.1", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"198.18.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"64:ff9b::a00:1", false}, // NAT64 form of 10.0.0.1
		{"64:ff9b::7f00:1", false},
		{"2001:db8::1", false},
		{"fec0::1", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			if got := IsPublic(netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Fatalf("IsPublic(%s) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
	if IsPublic(netip.Addr{}) {
		t.Fatal("the zero Addr is public")
	}
}

func TestCheckHost(t *testing.T) {
	tests := []struct {
		host    string
		refused bool
	}{
		{"example.com", false},
		{"example.com:8443", false},
		{"93.184.216.34", false},
		{"[2606:4700:4700::1111]:443", false},
		{"127.0.0.1", true},
		{"127.0.0.1:8443", true},
		{"[::1]:443", true},
		{"[::1]", true},
		{"169.254.169.254", true},
		{"localhost", true},
		{"LOCALHOST:80", true},
		{"api.localhost", true},
		{"localhost.example.com", false},
		{"localhost.", true},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			err := CheckHost(tc.host)
			if tc.refused != (err != nil) {
				t.Fatalf("CheckHost(%q) = %v, refused want %v", tc.host, err, tc.refused)
			}
			if err != nil && !errors.Is(err, ErrNotPublic) {
				t.Fatalf("error %v does not wrap ErrNotPublic", err)
			}
		})
	}
}

// TestClientRefusesLoopback dials a real local server through the guarded
// client (refused before any byte is sent) and through a plain client (which
// reaches it), so the refusal is the guard's and not a network failure.
func TestClientRefusesLoopback(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()

	resp, err := Client(5*time.Second).Post(srv.URL, "application/json", nil)
	if err == nil {
		resp.Body.Close()
		t.Fatal("guarded client reached a loopback server")
	}
	if !errors.Is(err, ErrNotPublic) {
		t.Fatalf("error %v does not wrap ErrNotPublic", err)
	}
	// A name that resolves to loopback is refused the same way.
	_, port, _ := splitPort(srv.URL)
	if _, err := Client(5 * time.Second).Get("http://localhost:" + port + "/"); !errors.Is(err, ErrNotPublic) {
		t.Fatalf("localhost by name: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("server saw %d requests", hits.Load())
	}
	resp, err = srv.Client().Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatalf("plain client: %v", err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("server saw %d requests, want 1", hits.Load())
	}
}

func splitPort(u string) (string, string, error) {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == ':' {
			return u[:i], u[i+1:], nil
		}
	}
	return u, "", errors.New("no port")
}

func FuzzCheckHost(f *testing.F) {
	for _, s := range []string{"example.com", "127.0.0.1:80", "[::1]", "[::ffff:10.0.0.1]:443", "localhost", "[", "]", "::", "1.2.3.4:", "%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		err := CheckHost(host)
		if err != nil && !errors.Is(err, ErrNotPublic) {
			t.Fatalf("CheckHost(%q) = %v", host, err)
		}
		// An IP literal is refused exactly when it is not public.
		if a, perr := netip.ParseAddr(host); perr == nil && (err == nil) != IsPublic(a) {
			t.Fatalf("CheckHost(%q) = %v, IsPublic = %v", host, err, IsPublic(a))
		}
	})
}
