package cli

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/infisical-go/engine/daemons/api"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// TestBootstrapAgainstServer runs the command against the real API handler:
// the first call sets the instance up, a second one is refused, and
// --ignore-if-bootstrapped turns that refusal into success.
func TestBootstrapAgainstServer(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		eng := enginetest.Open(t, b)
		h, err := api.New(eng, api.Config{})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		env := map[string]string{"INFISICAL_API_URL": srv.URL, "INFISICAL_ADMIN_EMAIL": "admin@example.com",
			"INFISICAL_ADMIN_PASSWORD": "correct-horse-battery", "INFISICAL_ADMIN_ORGANIZATION": "Acme"}

		r := runCLI(t, env, "bootstrap")
		if r.code != ExitOK {
			t.Fatalf("first bootstrap: exit %d\n%s", r.code, r.stderr)
		}
		var out struct {
			Organization struct{ ID, Name string }
			Identity     struct {
				Credentials struct{ Token string }
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
		}
		if out.Organization.ID == "" || out.Organization.Name != "Acme" || out.Identity.Credentials.Token == "" {
			t.Fatalf("unexpected answer: %s", r.stdout)
		}

		r = runCLI(t, env, "bootstrap")
		if r.code != ExitError || !strings.Contains(r.stderr, "already") || r.stdout != "" {
			t.Fatalf("second bootstrap: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		r = runCLI(t, env, "bootstrap", "--ignore-if-bootstrapped")
		if r.code != ExitOK || r.stdout != "" {
			t.Fatalf("ignored second bootstrap: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}
