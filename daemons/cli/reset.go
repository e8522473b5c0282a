package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func init() { register(newResetCommand) }

func newResetCommand(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "reset",
		Short: "Delete all local Infisical state: sessions, profiles, offline caches and the machine key",
		Long: `Delete everything the command line keeps under ~/.infisical (or
INFISICAL_CONFIG_DIR): the configuration and profiles, the sealed sessions, the
offline copies of secrets and the machine key. Use it to recover from a broken
state; you will have to log in again. .infisical.json files are not touched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := app.state()
			if err != nil {
				return err
			}
			for _, p := range []string{st.path(configFileName), st.path(vaultDirName), st.path(cacheDirName), st.path(machineKeyFileName)} {
				if err := os.RemoveAll(p); err != nil {
					return fmt.Errorf("reset: %w", err)
				}
			}
			_, err = fmt.Fprintln(app.Stdout, "Reset successful: local sessions, caches and keys were deleted")
			return err
		},
	}
}
