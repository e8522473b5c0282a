package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/infisical-go/engine/daemons/agent"
)

func init() { register(newAgentCommand) }

// DefaultAgentConfig is the config path of `infisical agent` (Infisical's default).
const DefaultAgentConfig = "agent-config.yaml"

func newAgentCommand(app *App) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the Infisical Agent: keep an access token and rendered secret files fresh",
		Long: "infisical agent authenticates with a machine identity (credentials read from files),\n" +
			"keeps the access token renewed and written to its sinks, and renders secret templates\n" +
			"to files, re-rendering them when the secrets change (see docs/agent.md).\n\n" +
			"The configuration is Infisical Agent's YAML, read from --config or, base64-encoded,\n" +
			"from " + agent.ConfigBase64Env + ".",
		Example: "  infisical agent --config agent-config.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := agent.Load(configPath, app.LookupEnv)
			if err != nil {
				var fe *agent.FieldError
				if errors.As(err, &fe) {
					return usagef("invalid agent config %s: %v", configPath, err)
				}
				return err
			}
			// infisical.address wins; else --domain / INFISICAL_API_URL,
			// so a forgotten address does not send credentials to
			// Infisical Cloud by surprise.
			var fallback string
			if cfg.Infisical.Address == "" && (app.domain != "" || app.env("INFISICAL_API_URL") != "") {
				if fallback, err = app.APIURL(); err != nil {
					return err
				}
			}
			ag, err := agent.New(cfg, agent.Options{
				Logger:     app.Logger(),
				HTTPClient: app.HTTPClient,
				LookupEnv:  app.LookupEnv,
				Stdout:     app.Stdout,
				Stderr:     app.Stderr,
				Address:    fallback,
				Ready:      releaseStartupMemory,
			})
			if err != nil {
				return err
			}
			if err := ag.Run(cmd.Context()); err != nil {
				return &exitError{code: ExitError, err: fmt.Errorf("agent: %w", err)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", DefaultAgentConfig, "path of the agent configuration file (YAML)")
	return cmd
}
