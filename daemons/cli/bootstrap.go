package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newBootstrapCommand) }

// maxResponseBytes bounds how much of an answer a client command reads.
const maxResponseBytes = 4 << 20

type bootstrapFlags struct {
	email, password, organization string
	ignoreIfBootstrapped          bool
	output                        string
}

func newBootstrapCommand(app *App) *cobra.Command {
	var fl bootstrapFlags
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Set up a fresh instance: admin user, organization and instance admin identity",
		Long: `Set up a fresh Infisical instance without the web UI. It calls
POST <domain>/api/v1/admin/bootstrap, which creates the admin user, the
organization and an instance admin machine identity, and prints the answer as
JSON. The answer holds the identity's access token: treat it like a root
credential.`,
		Example: `  infisical bootstrap --domain http://localhost:8080 --email admin@example.com --password '...' --organization acme
  INFISICAL_API_URL=http://localhost:8080 INFISICAL_ADMIN_EMAIL=... INFISICAL_ADMIN_PASSWORD=... INFISICAL_ADMIN_ORGANIZATION=acme infisical bootstrap --ignore-if-bootstrapped`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBootstrap(app, cmd, fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.email, "email", "", "email of the admin user to create (env INFISICAL_ADMIN_EMAIL)")
	f.StringVar(&fl.password, "password", "", "password of the admin user (env INFISICAL_ADMIN_PASSWORD)")
	f.StringVar(&fl.organization, "organization", "", "name of the organization to create (env INFISICAL_ADMIN_ORGANIZATION)")
	f.BoolVar(&fl.ignoreIfBootstrapped, "ignore-if-bootstrapped", false, "exit 0 without output when the instance is already set up")
	f.StringVar(&fl.output, "output", "json", "output format: json")
	return cmd
}

// errorBody is the part of Infisical's error body the CLI shows.
type errorBody struct {
	StatusCode int             `json:"statusCode"`
	Error      string          `json:"error"`
	Message    json.RawMessage `json:"message"`
	ReqID      string          `json:"reqId"`
}

// text renders message, which is a string or (422) an array of issues.
func (e errorBody) text() string {
	var s string
	if json.Unmarshal(e.Message, &s) == nil {
		return s
	}
	if len(e.Message) > 0 {
		return string(e.Message)
	}
	return e.Error
}

func runBootstrap(app *App, cmd *cobra.Command, fl bootstrapFlags) error {
	changed := cmd.Flags().Changed
	email := pick(changed("email"), fl.email, app.env("INFISICAL_ADMIN_EMAIL"), "")
	password := fl.password
	if !changed("password") {
		// The password is not trimmed: spaces may be part of it.
		password, _ = app.LookupEnv("INFISICAL_ADMIN_PASSWORD")
	}
	organization := pick(changed("organization"), fl.organization, app.env("INFISICAL_ADMIN_ORGANIZATION"), "")
	var missing []string
	if email == "" {
		missing = append(missing, "--email (or INFISICAL_ADMIN_EMAIL)")
	}
	if password == "" {
		missing = append(missing, "--password (or INFISICAL_ADMIN_PASSWORD)")
	}
	if organization == "" {
		missing = append(missing, "--organization (or INFISICAL_ADMIN_ORGANIZATION)")
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, ", "))
	}
	if fl.output != "json" {
		return usagef("unsupported --output %q: only json is supported", fl.output)
	}
	base, err := app.APIURL()
	if err != nil {
		return err
	}

	body, err := json.Marshal(map[string]string{"email": email, "password": password, "organization": organization})
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	endpoint := base + "/v1/admin/bootstrap"
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "infisical-go-cli/"+Version())
	resp, err := app.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("bootstrap %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("read answer of %s: %w", endpoint, err)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var eb errorBody
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &eb) == nil && (len(eb.Message) > 0 || eb.Error != "") {
			msg = eb.text()
		}
		if msg == "" {
			msg = resp.Status
		}
		if fl.ignoreIfBootstrapped && alreadyBootstrapped(resp.StatusCode, msg) {
			app.info("instance already bootstrapped, nothing to do (%s)", msg)
			return nil
		}
		fmt.Fprintln(app.Stderr, msg)
		return &exitError{code: ExitError}
	}

	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") == nil {
		pretty.WriteByte('\n')
		_, err = app.Stdout.Write(pretty.Bytes())
	} else {
		// Not JSON: print as received.
		_, err = app.Stdout.Write(raw)
	}
	return err
}

// alreadyBootstrapped recognises the server's refusal to bootstrap twice
// (Infisical answers 400 "Instance has already been set up"). Any other
// failure, such as a network error or a 5xx, still fails the command.
func alreadyBootstrapped(status int, msg string) bool {
	if status != http.StatusBadRequest && status != http.StatusConflict && status != http.StatusForbidden {
		return false
	}
	m := strings.ToLower(msg)
	return strings.Contains(m, "already")
}
