package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

func init() { register(newInitCommand) }

type initFlags struct {
	token     string
	projectID string
	yes       bool
}

func newInitCommand(app *App) *cobra.Command {
	var fl initFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Link the current directory to an Infisical project (writes .infisical.json)",
		Long: `Choose one of your projects and write .infisical.json in the current
directory. The file holds only the project ID (and optional defaults), so it
can be committed. Other commands find it in the current directory or a parent.`,
		Example: `  infisical init
  infisical init --projectId=<id> --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runInit(app, cmd, &fl) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.token, "token", "", "use this access token instead of the logged-in user")
	f.StringVar(&fl.projectID, "projectId", "", "project to link (default: prompt, or the only project)")
	f.BoolVarP(&fl.yes, "yes", "y", false, "overwrite an existing .infisical.json without asking")
	return cmd
}

func runInit(app *App, cmd *cobra.Command, fl *initFlags) error {
	ctx := cmd.Context()
	p := app.prompter()
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("current directory: %w", err)
	}
	path := filepath.Join(wd, workspaceFileName)
	if _, err := os.Stat(path); err == nil && !fl.yes {
		ok, err := p.confirm("A "+workspaceFileName+" already exists here. Overwrite it?", "--yes")
		if err != nil {
			return err
		}
		if !ok {
			app.info("Left %s unchanged.", path)
			return nil
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check %s: %w", path, err)
	}

	cred, err := app.resolveCredential(fl.token)
	if err != nil {
		return err
	}
	client, err := app.newClient(cred)
	if err != nil {
		return err
	}
	projects, err := client.Projects(ctx)
	if err != nil {
		return err
	}
	// A user session acts in one organization: offer its projects only.
	orgID := ""
	if cred.session != nil {
		orgID = cred.session.OrganizationID
	}
	if orgID == "" && cred.kind == tokenUser {
		if c, err := decodeJWT(cred.token); err == nil {
			orgID = c.OrganizationID
		}
	}
	var candidates []apiclient.Project
	for _, pr := range projects {
		if orgID == "" || pr.OrgID == "" || pr.OrgID == orgID {
			candidates = append(candidates, pr)
		}
	}
	var chosen *apiclient.Project
	switch want := strings.TrimSpace(fl.projectID); {
	case want != "":
		for i := range candidates {
			if candidates[i].Identifier() == want || candidates[i].Slug == want {
				chosen = &candidates[i]
			}
		}
		if chosen == nil {
			return fmt.Errorf("project %q is not one of your projects", want)
		}
	case len(candidates) == 0:
		return errors.New("you have no projects in this organization: create one first")
	case len(candidates) == 1:
		chosen = &candidates[0]
	default:
		names := make([]string, len(candidates))
		for i, pr := range candidates {
			names[i] = fmt.Sprintf("%s (%s)", pr.Name, pr.Identifier())
		}
		i, err := p.choose("Which of your Infisical projects would you like to connect this project to?", names, "--projectId")
		if err != nil {
			return err
		}
		chosen = &candidates[i]
	}
	wf := workspaceFile{WorkspaceID: chosen.Identifier()}
	raw, err := json.MarshalIndent(wf, "", "    ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", workspaceFileName, err)
	}
	if err := writeFileAtomic(path, append(raw, '\n'), 0o644, 0o755); err != nil {
		return err
	}
	_, err = fmt.Fprintf(app.Stdout, "Linked this directory to project %s (%s): wrote %s\n", chosen.Name, chosen.Identifier(), path)
	return err
}
