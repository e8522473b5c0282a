package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

func init() { register(newLoginCommand) }

type loginFlags struct {
	method string
	plain  bool

	// machine identities
	clientID, clientSecret       string
	identityID                   string
	serviceAccountTokenPath      string
	serviceAccountKeyFilePath    string
	oidcJWT, jwt                 string
	ldapUsername, ldapPassword   string
	azureResource, azureClientID string
	organizationSlug             string

	// users
	email, password, organizationID, mfaCode string
	interactive                              bool
}

func newLoginCommand(app *App) *cobra.Command {
	var fl loginFlags
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in as a user (email and password) or obtain a machine identity access token",
		Long: `Log in to Infisical.

--method=user (the default) logs a user in with email and password, selects an
organization and keeps the session in the vault (see 'infisical vault'); later
commands use it when no token is given.

Every other method logs a machine identity in and prints its access token:
  universal-auth  --client-id --client-secret
  kubernetes      --machine-identity-id [--service-account-token-path]
  azure           --machine-identity-id (token from the instance metadata service)
  gcp-id-token    --machine-identity-id (token from the GCE metadata server)
  gcp-iam         --machine-identity-id --service-account-key-file-path
  aws-iam         --machine-identity-id (credentials from the AWS SDK chain)
  oidc-auth       --machine-identity-id --oidc-jwt
  jwt-auth        --machine-identity-id --jwt
  ldap-auth       --machine-identity-id --ldap-username --ldap-password
With --plain --silent only the token is printed:
  export INFISICAL_TOKEN=$(infisical login --method=universal-auth --client-id=... --client-secret=... --plain --silent)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runLogin(app, cmd, &fl) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.method, "method", "user", "login method: user, "+joinMethods())
	f.BoolVar(&fl.plain, "plain", false, "print only the access token (machine identity methods)")
	f.StringVar(&fl.clientID, "client-id", "", "universal auth client ID (env INFISICAL_UNIVERSAL_AUTH_CLIENT_ID)")
	f.StringVar(&fl.clientSecret, "client-secret", "", "universal auth client secret (env INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET)")
	f.StringVar(&fl.identityID, "machine-identity-id", "", "machine identity ID (env INFISICAL_MACHINE_IDENTITY_ID)")
	f.StringVar(&fl.serviceAccountTokenPath, "service-account-token-path", "", "Kubernetes service-account token file (env INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH; default "+apiclient.DefaultKubernetesTokenPath+")")
	f.StringVar(&fl.serviceAccountKeyFilePath, "service-account-key-file-path", "", "GCP service-account key JSON file (env INFISICAL_GCP_IAM_SERVICE_ACCOUNT_KEY_FILE_PATH)")
	f.StringVar(&fl.oidcJWT, "oidc-jwt", "", "JWT from the OIDC identity provider (env INFISICAL_OIDC_AUTH_JWT)")
	f.StringVar(&fl.jwt, "jwt", "", "JWT for jwt-auth (env INFISICAL_JWT)")
	f.StringVar(&fl.ldapUsername, "ldap-username", "", "LDAP username for ldap-auth (env INFISICAL_LDAP_USERNAME)")
	f.StringVar(&fl.ldapPassword, "ldap-password", "", "LDAP password for ldap-auth (env INFISICAL_LDAP_PASSWORD)")
	f.StringVar(&fl.azureResource, "azure-resource", "", "audience of the Azure managed identity token (default "+apiclient.DefaultAzureResource+")")
	f.StringVar(&fl.azureClientID, "azure-client-id", "", "client ID of a user-assigned Azure managed identity (env INFISICAL_AZURE_AUTH_CLIENT_ID)")
	f.StringVar(&fl.organizationSlug, "organization-slug", "", "sub-organization to scope the token to (env INFISICAL_AUTH_ORGANIZATION_SLUG)")
	f.StringVar(&fl.email, "email", "", "email of the user (method user; prompted when absent)")
	f.StringVar(&fl.password, "password", "", "password of the user (method user; prompted when absent)")
	f.StringVar(&fl.organizationID, "organization-id", "", "organization to log in to (method user; prompted when the user has several)")
	f.StringVar(&fl.mfaCode, "mfa-code", "", "multi-factor code, when the organization requires one (prompted when absent)")
	f.BoolVarP(&fl.interactive, "interactive", "i", false, "log in in the terminal (always the case here; accepted for compatibility)")
	return cmd
}

func joinMethods() string {
	names := make([]string, 0, len(apiclient.Methods))
	for _, m := range apiclient.Methods {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ")
}

// flagOrEnv returns the flag's value when set, else the first non-empty
// environment variable.
func (a *App) flagOrEnv(cmd *cobra.Command, flag, value string, envs ...string) string {
	if cmd.Flags().Changed(flag) {
		return strings.TrimSpace(value)
	}
	for _, e := range envs {
		if v := a.env(e); v != "" {
			return v
		}
	}
	return strings.TrimSpace(value)
}

func runLogin(app *App, cmd *cobra.Command, fl *loginFlags) error {
	if strings.EqualFold(strings.TrimSpace(fl.method), "user") {
		return loginUser(app, cmd, fl)
	}
	method, err := apiclient.ParseMethod(fl.method)
	if err != nil {
		return usagef("invalid --method %q: want user, %s", fl.method, joinMethods())
	}
	opts := apiclient.CredentialOptions{
		Method:           method,
		OrganizationSlug: app.flagOrEnv(cmd, "organization-slug", fl.organizationSlug, "INFISICAL_AUTH_ORGANIZATION_SLUG"),
	}
	identityEnvs := []string{"INFISICAL_MACHINE_IDENTITY_ID"}
	switch method {
	case apiclient.MethodUniversalAuth:
		opts.ClientID = app.flagOrEnv(cmd, "client-id", fl.clientID, "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID")
		opts.ClientSecret = app.flagOrEnv(cmd, "client-secret", fl.clientSecret, "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET")
		var missing []string
		if opts.ClientID == "" {
			missing = append(missing, "--client-id (or INFISICAL_UNIVERSAL_AUTH_CLIENT_ID)")
		}
		if opts.ClientSecret == "" {
			missing = append(missing, "--client-secret (or INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET)")
		}
		if len(missing) > 0 {
			return usagef("universal-auth login needs %s", strings.Join(missing, " and "))
		}
	case apiclient.MethodKubernetes:
		identityEnvs = append(identityEnvs, "INFISICAL_KUBERNETES_IDENTITY_ID")
		opts.ServiceAccountTokenPath = app.flagOrEnv(cmd, "service-account-token-path", fl.serviceAccountTokenPath, "INFISICAL_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH")
	case apiclient.MethodGCPIAM:
		identityEnvs = append(identityEnvs, "INFISICAL_GCP_AUTH_IDENTITY_ID")
		opts.ServiceAccountKeyFilePath = app.flagOrEnv(cmd, "service-account-key-file-path", fl.serviceAccountKeyFilePath, "INFISICAL_GCP_IAM_SERVICE_ACCOUNT_KEY_FILE_PATH")
		if opts.ServiceAccountKeyFilePath == "" {
			return usagef("gcp-iam login needs --service-account-key-file-path (or INFISICAL_GCP_IAM_SERVICE_ACCOUNT_KEY_FILE_PATH)")
		}
	case apiclient.MethodGCPIDToken:
		identityEnvs = append(identityEnvs, "INFISICAL_GCP_AUTH_IDENTITY_ID")
	case apiclient.MethodAzure:
		identityEnvs = append(identityEnvs, "INFISICAL_AZURE_AUTH_IDENTITY_ID")
		opts.AzureResource = strings.TrimSpace(fl.azureResource)
		opts.AzureClientID = app.flagOrEnv(cmd, "azure-client-id", fl.azureClientID, "INFISICAL_AZURE_AUTH_CLIENT_ID")
	case apiclient.MethodAWSIAM:
		identityEnvs = append(identityEnvs, "INFISICAL_AWS_IAM_AUTH_IDENTITY_ID")
	case apiclient.MethodOIDC:
		identityEnvs = append(identityEnvs, "INFISICAL_OIDC_AUTH_IDENTITY_ID")
		if opts.JWT = app.flagOrEnv(cmd, "oidc-jwt", fl.oidcJWT, "INFISICAL_OIDC_AUTH_JWT"); opts.JWT == "" {
			return usagef("oidc-auth login needs --oidc-jwt (or INFISICAL_OIDC_AUTH_JWT)")
		}
	case apiclient.MethodJWT:
		if opts.JWT = app.flagOrEnv(cmd, "jwt", fl.jwt, "INFISICAL_JWT"); opts.JWT == "" {
			return usagef("jwt-auth login needs --jwt (or INFISICAL_JWT)")
		}
	case apiclient.MethodLDAP:
		identityEnvs = append(identityEnvs, "INFISICAL_LDAP_AUTH_IDENTITY_ID")
		opts.Username = app.flagOrEnv(cmd, "ldap-username", fl.ldapUsername, "INFISICAL_LDAP_USERNAME")
		opts.Password = fl.ldapPassword
		if !cmd.Flags().Changed("ldap-password") {
			opts.Password, _ = app.LookupEnv("INFISICAL_LDAP_PASSWORD")
		}
		if opts.Username == "" || opts.Password == "" {
			return usagef("ldap-auth login needs --ldap-username and --ldap-password (or INFISICAL_LDAP_USERNAME and INFISICAL_LDAP_PASSWORD)")
		}
	}
	if method != apiclient.MethodUniversalAuth {
		if opts.IdentityID = app.flagOrEnv(cmd, "machine-identity-id", fl.identityID, identityEnvs...); opts.IdentityID == "" {
			return usagef("%s login needs --machine-identity-id (or INFISICAL_MACHINE_IDENTITY_ID)", method)
		}
	}
	client, err := app.newClient(nil)
	if err != nil {
		return err
	}
	tok, err := client.MachineLogin(cmd.Context(), opts)
	if err != nil {
		return err
	}
	if fl.plain {
		_, err = fmt.Fprintln(app.Stdout, tok.AccessToken)
		return err
	}
	_, err = fmt.Fprintf(app.Stdout, "Success: logged in as a machine identity (%s)\n\nAccess token:\n%s\n", method, tok.AccessToken)
	if err == nil {
		app.info("\nUse it with --token, or export it as INFISICAL_TOKEN. It expires in %ds.", tok.ExpiresIn)
	}
	return err
}

// loginUser runs the email/password flow (api-core §9.6) and stores the
// organization-scoped session in the vault.
func loginUser(app *App, cmd *cobra.Command, fl *loginFlags) error {
	ctx := cmd.Context()
	p := app.prompter()
	email := strings.TrimSpace(fl.email)
	var err error
	if email == "" {
		if email, err = p.line("Email", "--email"); err != nil {
			return err
		}
		email = strings.TrimSpace(email)
	}
	if email == "" || !strings.Contains(email, "@") {
		return usagef("invalid email %q", email)
	}
	password := fl.password
	if password == "" {
		if password, err = p.secret("Password", "--password"); err != nil {
			return err
		}
	}
	if password == "" {
		return usagef("the password is empty")
	}
	base, err := app.APIURL()
	if err != nil {
		return err
	}
	client, err := app.newClient(nil)
	if err != nil {
		return err
	}
	interim, err := client.UserLogin(ctx, email, password)
	if err != nil {
		return err
	}
	client = client.WithToken(interim)
	orgID, err := chooseOrganization(ctx, p, client, fl.organizationID)
	if err != nil {
		return err
	}
	sel, err := client.SelectOrganization(ctx, orgID)
	if err != nil {
		return err
	}
	token := sel.Token
	if sel.IsMfaEnabled {
		code := strings.TrimSpace(fl.mfaCode)
		if code == "" {
			if code, err = p.line("Enter the verification code sent to you", "--mfa-code"); err != nil {
				return err
			}
		}
		mfaClient := client
		if sel.Token != "" {
			mfaClient = client.WithToken(sel.Token)
		}
		if token, err = mfaClient.VerifyMFA(ctx, email, strings.TrimSpace(code), sel.MfaMethod); err != nil {
			return err
		}
	}
	st, err := app.state()
	if err != nil {
		return err
	}
	cfg, err := st.readConfig()
	if err != nil {
		return err
	}
	if err := st.saveSession(cfg, &userSession{Email: email, JTWToken: token, Domain: base, OrganizationID: orgID}); err != nil {
		return err
	}
	cfg.upsertProfile(email, base)
	if err := st.writeConfig(cfg); err != nil {
		return err
	}
	_, err = fmt.Fprintf(app.Stdout, "You are now logged in as %s\n", email)
	app.info("Run `infisical init` in your project directory to link it to an Infisical project.")
	return err
}

// chooseOrganization picks the organization: --organization-id, the only
// one, or a prompt.
func chooseOrganization(ctx context.Context, p *prompter, client *apiclient.Client, flagOrg string) (string, error) {
	orgs, err := client.Organizations(ctx)
	if err != nil {
		return "", err
	}
	if flagOrg = strings.TrimSpace(flagOrg); flagOrg != "" {
		for _, o := range orgs {
			if o.ID == flagOrg || (o.Slug != "" && o.Slug == flagOrg) {
				return o.ID, nil
			}
		}
		return "", fmt.Errorf("you are not a member of organization %q", flagOrg)
	}
	switch len(orgs) {
	case 0:
		return "", fmt.Errorf("your account belongs to no organization")
	case 1:
		return orgs[0].ID, nil
	}
	names := make([]string, len(orgs))
	for i, o := range orgs {
		names[i] = fmt.Sprintf("%s (%s)", o.Name, o.ID)
	}
	i, err := p.choose("Select an organization", names, "--organization-id")
	if err != nil {
		return "", err
	}
	return orgs[i].ID, nil
}
