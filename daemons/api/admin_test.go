package api_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

func cheapArgon(c *infisical.Config) {
	c.Argon2 = authn.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
}

func TestAdminRoutes(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b, cheapArgon)
		var cfg struct {
			Config struct {
				Initialized bool `json:"initialized"`
			} `json:"config"`
		}
		ts.must("GET", "/api/v1/admin/config", "", nil, &cfg)
		if cfg.Config.Initialized {
			t.Fatal("fresh instance reports initialized")
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"bad email", map[string]any{"email": "nope", "password": "long-enough", "organization": "Acme"}, "email"},
			{"short password", map[string]any{"email": "a@example.com", "password": "1234567", "organization": "Acme"}, "password"},
			{"no organization", map[string]any{"email": "a@example.com", "password": "long-enough"}, "organization"},
			{"password number", map[string]any{"email": "a@example.com", "password": 12345678, "organization": "Acme"}, "password"},
		} {
			code, raw, _ := ts.do("POST", "/api/v1/admin/bootstrap", "", tc.body)
			idWantError(t, tc.name, code, raw, 422, "ValidationFailure", tc.field)
		}

		var out struct {
			Message      string          `json:"message"`
			User         json.RawMessage `json:"user"`
			Organization struct {
				ID   string `json:"id"`
				Name string `json:"name"`
				Slug string `json:"slug"`
			} `json:"organization"`
			Identity struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				Credentials struct {
					Token string `json:"token"`
				} `json:"credentials"`
			} `json:"identity"`
		}
		ts.must("POST", "/api/v1/admin/bootstrap", "", map[string]any{"email": "root@example.com", "password": "correct-horse", "organization": "Acme"}, &out)
		if out.Message != "Successfully bootstrapped instance" || out.Organization.Name != "Acme" || out.Organization.Slug == "" ||
			out.Identity.ID == "" || out.Identity.Name == "" || out.Identity.Credentials.Token == "" {
			t.Fatalf("bootstrap %+v", out)
		}
		idWantKeys(t, "user", out.User, "id", "email", "username", "firstName", "lastName", "superAdmin", "isEmailVerified")
		var user struct {
			Email      string `json:"email"`
			Username   string `json:"username"`
			SuperAdmin bool   `json:"superAdmin"`
		}
		_ = json.Unmarshal(out.User, &user)
		if user.Email != "root@example.com" || user.Username != "root@example.com" || !user.SuperAdmin {
			t.Fatalf("user %s", out.User)
		}
		if strings.Contains(string(out.User), "correct-horse") || strings.Contains(string(out.User), "argon2") {
			t.Fatal("user object leaks the password or its hash")
		}
		ts.must("GET", "/api/v1/admin/config", "", nil, &cfg)
		if !cfg.Config.Initialized {
			t.Fatal("not initialized after bootstrap")
		}
		// The identity token administers the organization.
		pid := ts.createProject(out.Identity.Credentials.Token, "First")
		ts.must("GET", "/api/v1/workspace/"+pid, out.Identity.Credentials.Token, nil, nil)

		code, raw, _ := ts.do("POST", "/api/v1/admin/bootstrap", "", map[string]any{"email": "x@example.com", "password": "correct-horse", "organization": "Again"})
		idWantError(t, "second bootstrap", code, raw, 400, "BadRequest", "")
		if !strings.Contains(string(raw), "Instance has already been set up") {
			t.Fatalf("second bootstrap message %s", raw)
		}
	})
}

func TestAdminBootstrapRace(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b, cheapArgon)
		const n = 6
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				codes[i], _, _ = ts.do("POST", "/api/v1/admin/bootstrap", "", map[string]any{"email": "root@example.com", "password": "correct-horse", "organization": "Acme"})
			}(i)
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case 200:
				ok++
			case 400:
			default:
				t.Fatalf("unexpected status %d", c)
			}
		}
		if ok != 1 {
			t.Fatalf("%d bootstraps succeeded: %v", ok, codes)
		}
	})
}
