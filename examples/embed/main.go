// Command embed shows the engine used as a library: it opens an engine
// in-process (SQLite in a temporary directory, freshly generated keys),
// creates an organization and a project, writes a secret and reads it back.
// No server and no network are involved.
//
//	go run ./examples/embed
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"github.com/infisical-go/engine/infisical"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, ""); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

// run does the whole demonstration, printing to out. dbURL selects the
// database (a postgres:// URL); empty means SQLite in a temporary directory.
func run(ctx context.Context, out io.Writer, dbURL string) error {
	dir, err := os.MkdirTemp("", "infisical-embed-")
	if err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	defer os.RemoveAll(dir)

	// A real program loads these from its own secret store; they protect
	// every value the engine stores.
	rootKey, err := randomBase64(32)
	if err != nil {
		return err
	}
	authSecret, err := randomBase64(32)
	if err != nil {
		return err
	}

	eng, err := infisical.Open(ctx, infisical.Config{
		DataDir:           dir,   // SQLite file <dir>/infisical.db unless DatabaseURL is set
		DatabaseURL:       dbURL, // "" = SQLite
		RootEncryptionKey: rootKey,
		AuthSecret:        authSecret,
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("open engine: %w", err)
	}
	defer eng.Close()

	org, err := eng.CreateOrganization(ctx, "Example Org")
	if err != nil {
		return fmt.Errorf("create organization: %w", err)
	}
	// The platform actor is the embedding program itself: it passes every
	// permission check of its organization.
	actor := infisical.Platform(org.ID)

	project, err := eng.Projects.Create(ctx, actor, infisical.CreateProjectInput{OrgID: org.ID, Name: "Example Project"})
	if err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	fmt.Fprintf(out, "organization %s (%s)\nproject %s (%s)\n", org.Name, org.ID, project.Name, project.ID)

	return writeAndRead(ctx, eng, actor, project, out)
}

// writeAndRead stores a secret in the project's dev environment (sealed
// with the project's data key) and reads it back.
func writeAndRead(ctx context.Context, eng *infisical.Engine, actor infisical.Actor, project *infisical.Project, out io.Writer) error {
	scope := infisical.SecretScope{Project: infisical.ProjectRef{ID: project.ID}, Environment: "dev", SecretPath: "/"}
	created, err := eng.Secrets.Create(ctx, actor, infisical.CreateSecretInput{
		SecretScope: scope,
		NewSecret:   infisical.NewSecret{Key: "DB_URL", Value: "postgres://app@db:5432/app", Comment: "primary database"},
	})
	if err != nil {
		return fmt.Errorf("create secret: %w", err)
	}
	fmt.Fprintf(out, "created %s in environment %s, path %s (version %d)\n", created.Key, created.Environment, created.SecretPath, created.Version)

	got, err := eng.Secrets.Get(ctx, actor, infisical.GetSecretInput{SecretScope: scope, Key: "DB_URL"})
	if err != nil {
		return fmt.Errorf("read secret: %w", err)
	}
	fmt.Fprintf(out, "read back %s=%s\n", got.Key, got.Value)

	list, err := eng.Secrets.List(ctx, actor, infisical.ListSecretsInput{SecretScope: scope})
	if err != nil {
		return fmt.Errorf("list secrets: %w", err)
	}
	fmt.Fprintf(out, "secrets in dev: %d\n", len(list.Secrets))
	return nil
}

func randomBase64(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
