package cli

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newVaultCommand) }

// `infisical vault`: where login sessions are kept. This build has one
// storage, the file vault (sealed files under the state directory, see
// localstate.go); "auto" (a system keyring) is accepted and falls back to
// it, as Infisical's CLI does on systems without a keyring.

var vaultBackends = []struct{ name, description string }{
	{vaultAuto, "automatically select the system keyring (falls back to the file vault in this build)"},
	{vaultFile, "encrypted file vault"},
}

func newVaultCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vault",
		Short: "Show or change where login sessions are stored",
		Long: `Sessions of logged-in users are sealed (AES-256-GCM) in files of mode 0600 under
~/.infisical/vault (INFISICAL_CONFIG_DIR overrides the directory). The key comes
from ~/.infisical/machine.key, or from a passphrase when one is set with
'infisical vault set file --passphrase' or INFISICAL_VAULT_FILE_PASSPHRASE.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := app.state()
			if err != nil {
				return err
			}
			cfg, err := st.readConfig()
			if err != nil {
				return err
			}
			var b strings.Builder
			b.WriteString("Vaults are used to securely store your login details locally. Available vaults:")
			for _, v := range vaultBackends {
				fmt.Fprintf(&b, "\n- %s (%s)", v.name, v.description)
			}
			fmt.Fprintf(&b, "\n\nYou are currently using [%s] vault to store your login credentials\n", cfg.vaultType())
			_, err = fmt.Fprint(app.Stdout, b.String())
			return err
		},
	}
	var passphrase string
	set := &cobra.Command{
		Use:     "set <file|auto>",
		Short:   "Choose the vault, or set the file vault's passphrase (--passphrase)",
		Example: "  infisical vault set file --passphrase 'correct horse battery staple'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("passphrase") {
				if args[0] != vaultFile {
					return usagef("--passphrase applies to the file vault only")
				}
				return setVaultPassphrase(app, passphrase)
			}
			return useVault(app, args[0])
		},
	}
	set.Flags().StringVarP(&passphrase, "passphrase", "p", "", "passphrase of the file vault (empty: back to the machine key)")
	use := &cobra.Command{
		Use:   "use <file|auto>",
		Short: "Choose the vault",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return useVault(app, args[0]) },
	}
	cmd.AddCommand(set, use)
	return cmd
}

func useVault(app *App, want string) error {
	want = strings.ToLower(strings.TrimSpace(want))
	if want != vaultFile && want != vaultAuto {
		return usagef("unknown vault %q: the available vaults are file and auto", want)
	}
	st, err := app.state()
	if err != nil {
		return err
	}
	cfg, err := st.readConfig()
	if err != nil {
		return err
	}
	prev := cfg.vaultType()
	if prev == want {
		_, err = fmt.Fprintf(app.Stdout, "You are already using the [%s] vault\n", want)
		return err
	}
	cfg.VaultBackendType = want
	if err := st.writeConfig(cfg); err != nil {
		return err
	}
	_, err = fmt.Fprintf(app.Stdout, "Switched the vault from [%s] to [%s]\n", prev, want)
	if err == nil && want == vaultAuto {
		app.info("No system keyring is supported by this build: sessions stay in the file vault.")
	}
	return err
}

// setVaultPassphrase stores the passphrase and re-seals every session with
// it, so that it protects the existing sessions too.
func setVaultPassphrase(app *App, pass string) error {
	st, err := app.state()
	if err != nil {
		return err
	}
	cfg, err := st.readConfig()
	if err != nil {
		return err
	}
	var sessions []*userSession
	for _, u := range cfg.LoggedInUsers {
		s, err := st.loadSession(cfg, u.Email)
		if err != nil {
			app.info("Skipping the session of %s: %v", u.Email, err)
			continue
		}
		sessions = append(sessions, s)
	}
	cfg.VaultBackendType = vaultFile
	cfg.VaultBackendPassphrase = ""
	if pass != "" {
		cfg.VaultBackendPassphrase = base64.StdEncoding.EncodeToString([]byte(pass))
	}
	for _, s := range sessions {
		if err := st.saveSession(cfg, s); err != nil {
			return err
		}
	}
	if err := st.writeConfig(cfg); err != nil {
		return err
	}
	if pass == "" {
		_, err = fmt.Fprintln(app.Stdout, "Removed the file vault passphrase: sessions are sealed with the machine key")
		return err
	}
	_, err = fmt.Fprintln(app.Stdout, "Successfully set the passphrase of the file vault")
	return err
}
