package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newTokenCommand) }

func newTokenCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage machine identity access tokens",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	renew := &cobra.Command{
		Use:   "renew <access-token>",
		Short: "Renew a machine identity access token and print the renewed token",
		Long: `Renew a machine identity access token (POST /api/v1/auth/token/renew) and
print the token to use from now on: servers may return a new JWT, so always
switch to the printed one.`,
		Example: `  export INFISICAL_TOKEN=$(infisical token renew "$INFISICAL_TOKEN" --silent)`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || strings.TrimSpace(args[0]) == "" {
				return usagef("give the access token to renew: infisical token renew <access-token>")
			}
			tok := strings.TrimSpace(args[0])
			client, err := app.newClient(nil)
			if err != nil {
				return err
			}
			res, err := client.RenewToken(cmd.Context(), tok)
			if err != nil {
				return err
			}
			app.info("Successfully renewed the access token (it now expires in %ds).", res.ExpiresIn)
			_, err = fmt.Fprintln(app.Stdout, res.AccessToken)
			return err
		},
	}
	cmd.AddCommand(renew)
	return cmd
}
