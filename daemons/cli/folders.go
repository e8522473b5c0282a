package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// `infisical secrets folders get|create|delete` (api-core §9.5).

type folderFlags struct {
	secretFlags
	name string
}

func newFoldersCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "folders",
		Short: "List, create and delete folders",
		Example: `  infisical secrets folders get --path=/apps
  infisical secrets folders create --path=/apps --name=api
  infisical secrets folders delete --path=/apps --name=api`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newFolderGetCommand(app), newFolderCreateCommand(app), newFolderDeleteCommand(app))
	return cmd
}

func newFolderGetCommand(app *App) *cobra.Command {
	var fl folderFlags
	cmd := &cobra.Command{
		Use:   "get",
		Short: "List the folders under --path",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := app.resolveTarget(ctx, cmd, &fl.secretFlags)
			if err != nil {
				return err
			}
			folders, err := t.client.ListFolders(ctx, t.projectID, t.env, t.path)
			if err != nil {
				return err
			}
			rows := make([][]string, 0, len(folders))
			for _, f := range folders {
				rows = append(rows, []string{f.ID, f.Name})
			}
			return writeTable(app.Stdout, []string{"FOLDER ID", "FOLDER NAME"}, rows)
		},
	}
	fl.bind(cmd.Flags(), flagsTarget)
	return cmd
}

func newFolderCreateCommand(app *App) *cobra.Command {
	var fl folderFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create folder --name under --path",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.TrimSpace(fl.name)
			if name == "" {
				return usagef("--name is required")
			}
			ctx := cmd.Context()
			t, err := app.resolveTarget(ctx, cmd, &fl.secretFlags)
			if err != nil {
				return err
			}
			folder, err := t.client.CreateFolder(ctx, t.projectID, t.env, t.path, name)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(app.Stdout, "folder named [%s] created in path [%s] (id %s)\n", folder.Name, t.path, folder.ID)
			return err
		},
	}
	fl.bind(cmd.Flags(), flagsTarget)
	cmd.Flags().StringVar(&fl.name, "name", "", "name of the folder to create")
	return cmd
}

func newFolderDeleteCommand(app *App) *cobra.Command {
	var fl folderFlags
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete folder --name under --path, with everything in it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.TrimSpace(fl.name)
			if name == "" {
				return usagef("--name is required")
			}
			ctx := cmd.Context()
			t, err := app.resolveTarget(ctx, cmd, &fl.secretFlags)
			if err != nil {
				return err
			}
			if err := t.client.DeleteFolder(ctx, t.projectID, t.env, t.path, name); err != nil {
				return err
			}
			_, err = fmt.Fprintf(app.Stdout, "folder named [%s] deleted from path [%s]\n", name, t.path)
			return err
		},
	}
	fl.bind(cmd.Flags(), flagsTarget)
	cmd.Flags().StringVar(&fl.name, "name", "", "name of the folder to delete")
	return cmd
}
