package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newUserCommand) }

// `infisical user`: the local profiles (account + instance) of logged-in
// users. Purely local: no server call.

func newUserCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the profiles of logged-in users",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	get := &cobra.Command{
		Use:   "get",
		Short: "Print properties of the active profile",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	get.AddCommand(newUserGetTokenCommand(app))
	update := &cobra.Command{
		Use:   "update",
		Short: "Change properties of a profile",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	update.AddCommand(newUserUpdateDomainCommand(app))
	cmd.AddCommand(newUserSwitchCommand(app), get, update)
	return cmd
}

func newUserSwitchCommand(app *App) *cobra.Command {
	return &cobra.Command{
		Use:     "switch [email]",
		Short:   "Choose the active profile",
		Example: "  infisical user switch alice@example.com",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := app.state()
			if err != nil {
				return err
			}
			cfg, err := st.readConfig()
			if err != nil {
				return err
			}
			if len(cfg.LoggedInUsers) == 0 {
				return errNoSession
			}
			var email string
			if len(args) == 1 {
				email = strings.TrimSpace(args[0])
			} else {
				names := make([]string, len(cfg.LoggedInUsers))
				for i, u := range cfg.LoggedInUsers {
					names[i] = fmt.Sprintf("%s (%s)", u.Email, u.Domain)
				}
				i, err := app.prompter().choose("Which of your Infisical profiles would you like to use", names, "the email as argument")
				if err != nil {
					return err
				}
				email = cfg.LoggedInUsers[i].Email
			}
			prof, ok := cfg.profile(email)
			if !ok {
				return fmt.Errorf("no profile for %s: log in with `infisical login` first", email)
			}
			cfg.LoggedInUserEmail, cfg.LoggedInUserDomain = prof.Email, prof.Domain
			if err := st.writeConfig(cfg); err != nil {
				return err
			}
			_, err = fmt.Fprintf(app.Stdout, "Default profile is now '%s'\n", prof.Email)
			return err
		},
	}
}

func newUserGetTokenCommand(app *App) *cobra.Command {
	var plain bool
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print the access token of the active profile",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := app.state()
			if err != nil {
				return err
			}
			sess, _, err := st.activeSession()
			if err != nil {
				return err
			}
			if plain {
				_, err = fmt.Fprintln(app.Stdout, sess.JTWToken)
				return err
			}
			sessionID := ""
			if c, err := decodeJWT(sess.JTWToken); err == nil {
				sessionID = c.TokenVersionID
			}
			_, err = fmt.Fprintf(app.Stdout, "Session ID: %s\nToken: %s\n", sessionID, sess.JTWToken)
			return err
		},
	}
	cmd.Flags().BoolVar(&plain, "plain", false, "print only the token")
	return cmd
}

func newUserUpdateDomainCommand(app *App) *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:     "domain [url]",
		Short:   "Change the Infisical instance a profile talks to",
		Example: "  infisical user update domain https://infisical.example.com",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := app.state()
			if err != nil {
				return err
			}
			cfg, err := st.readConfig()
			if err != nil {
				return err
			}
			if email == "" {
				email = cfg.LoggedInUserEmail
			}
			if _, ok := cfg.profile(email); !ok || email == "" {
				return fmt.Errorf("no profile for %q: log in with `infisical login` first", email)
			}
			raw := ""
			if len(args) == 1 {
				raw = args[0]
			} else if raw, err = app.prompter().line("New domain (e.g. https://infisical.example.com)", "the URL as argument"); err != nil {
				return err
			}
			domain, err := normalizeAPIURL(raw)
			if err != nil {
				return err
			}
			for i, u := range cfg.LoggedInUsers {
				if strings.EqualFold(u.Email, email) {
					cfg.LoggedInUsers[i].Domain = domain
				}
			}
			if strings.EqualFold(cfg.LoggedInUserEmail, email) {
				cfg.LoggedInUserDomain = domain
			}
			if err := st.writeConfig(cfg); err != nil {
				return err
			}
			_, err = fmt.Fprintf(app.Stdout, "Profile %s now uses %s\n", email, domain)
			return err
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "profile to change (default: the active one)")
	return cmd
}
