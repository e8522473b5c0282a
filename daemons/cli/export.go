package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

func init() { register(newExportCommand) }

// Export formats (Infisical's names).
const (
	formatDotenv       = "dotenv"
	formatDotenvExport = "dotenv-export"
	formatCSV          = "csv"
	formatJSON         = "json"
	formatYAML         = "yaml"
)

var exportFormats = []string{formatDotenv, formatDotenvExport, formatCSV, formatJSON, formatYAML}

type exportFlags struct {
	secretFlags
	format     string
	template   string
	outputFile string
	quoteChar  string
}

func newExportCommand(app *App) *cobra.Command {
	var fl exportFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print secrets in a file format (dotenv, dotenv-export, csv, json, yaml) or through a Go template",
		Long: `Fetch the secrets of an environment and print them in a file format, or render
them through a Go text/template (--template). With --output-file the result is
written to a file (mode 0600) instead of stdout.

When the server cannot be reached, the last secrets fetched for the same
project, environment and path are used (with a warning on stderr).`,
		Example: `  infisical export --env=prod > .env
  infisical export --format=json --output-file=secrets.json
  infisical export --template=./config.tmpl --projectId=<id>`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runExport(app, cmd, &fl) },
	}
	f := cmd.Flags()
	fl.bind(f, flagsTarget|flagsRead)
	f.StringVarP(&fl.format, "format", "f", formatDotenv, "output format: "+strings.Join(exportFormats, ", "))
	f.StringVar(&fl.template, "template", "", "path of a Go template to render instead of a format")
	f.StringVarP(&fl.outputFile, "output-file", "o", "", "write to this file (or into this directory) instead of stdout")
	f.StringVar(&fl.quoteChar, "dotenv-quote-char", "'", `quote character of the dotenv format: ' or "`)
	return cmd
}

func runExport(app *App, cmd *cobra.Command, fl *exportFlags) error {
	format := strings.ToLower(strings.TrimSpace(fl.format))
	if fl.template == "" && !contains(exportFormats, format) {
		return usagef("invalid --format %q: want one of %s", fl.format, strings.Join(exportFormats, ", "))
	}
	if fl.quoteChar != "'" && fl.quoteChar != `"` {
		return usagef(`invalid --dotenv-quote-char %q: want ' or "`, fl.quoteChar)
	}
	ctx := cmd.Context()
	t, err := app.resolveTarget(ctx, cmd, &fl.secretFlags)
	if err != nil {
		return err
	}
	var out []byte
	if fl.template != "" {
		src, err := os.ReadFile(fl.template)
		if err != nil {
			return fmt.Errorf("read template: %w", err)
		}
		out, err = renderTemplate(ctx, app, t, &fl.secretFlags, filepath.Base(fl.template), string(src))
		if err != nil {
			return err
		}
	} else {
		res, err := app.fetchSecrets(ctx, t, fl.query(t, true))
		if err != nil {
			return err
		}
		secrets := res.secrets
		sortByKey(secrets)
		if out, err = formatSecrets(secrets, format, fl.quoteChar); err != nil {
			return err
		}
	}
	if fl.outputFile == "" {
		_, err = app.Stdout.Write(out)
		return err
	}
	path, err := resolveOutputPath(fl.outputFile, format)
	if fl.template != "" {
		// A rendered template has no format: the file is written as named.
		path, err = filepath.Abs(fl.outputFile)
	}
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, out, 0o600, 0o755); err != nil {
		return err
	}
	app.info("Successfully exported secrets to: %s", path)
	return nil
}

// exportTag and exportSecret are the JSON layout of Infisical's CLI.
type exportTag struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Slug  string `json:"slug"`
	Color string `json:"color"`
}

type exportSecret struct {
	Key                   string      `json:"key"`
	Workspace             string      `json:"workspace"`
	Value                 string      `json:"value"`
	Type                  string      `json:"type"`
	ID                    string      `json:"_id"`
	SecretPath            string      `json:"secretPath"`
	Tags                  []exportTag `json:"tags"`
	Comment               string      `json:"comment"`
	SkipMultilineEncoding bool        `json:"skipMultilineEncoding"`
}

func toExportSecret(s apiclient.Secret) exportSecret {
	tags := make([]exportTag, 0, len(s.Tags))
	for _, t := range s.Tags {
		name := t.Name
		if name == "" {
			name = t.Slug
		}
		tags = append(tags, exportTag{ID: t.ID, Name: name, Slug: t.Slug, Color: t.Color})
	}
	return exportSecret{Key: s.SecretKey, Workspace: s.Workspace, Value: s.SecretValue, Type: s.Type, ID: s.Identifier(),
		SecretPath: s.SecretPath, Tags: tags, Comment: s.SecretComment, SkipMultilineEncoding: s.SkipMultilineEncoding}
}

// shellName is a name a POSIX shell can bind.
var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// formatSecrets renders secrets (already sorted) in format.
func formatSecrets(secrets []apiclient.Secret, format, quote string) ([]byte, error) {
	var b bytes.Buffer
	switch format {
	case formatDotenv:
		for _, s := range secrets {
			fmt.Fprintf(&b, "%s=%s%s%s\n", s.SecretKey, quote, escapeNewlines(s), quote)
		}
	case formatDotenvExport:
		// Meant to be sourced by a shell: values are single-quoted with
		// POSIX escaping, and names a shell cannot bind are refused (an
		// unescaped "PATH=x" would assign another variable).
		for _, s := range secrets {
			if !shellName.MatchString(s.SecretKey) {
				return nil, fmt.Errorf("cannot export secret %q as a shell variable: use letters, digits and underscores, not starting with a digit (or another --format)", s.SecretKey)
			}
			fmt.Fprintf(&b, "export %s='%s'\n", s.SecretKey, strings.ReplaceAll(escapeNewlines(s), "'", `'\''`))
		}
	case formatCSV:
		w := csv.NewWriter(&b)
		if err := w.Write([]string{"Key", "Value"}); err != nil {
			return nil, fmt.Errorf("write CSV: %w", err)
		}
		for _, s := range secrets {
			if err := w.Write([]string{s.SecretKey, escapeNewlines(s)}); err != nil {
				return nil, fmt.Errorf("write CSV: %w", err)
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return nil, fmt.Errorf("write CSV: %w", err)
		}
	case formatJSON:
		list := make([]exportSecret, 0, len(secrets))
		for _, s := range secrets {
			list = append(list, toExportSecret(s))
		}
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(list); err != nil {
			return nil, fmt.Errorf("encode JSON: %w", err)
		}
	case formatYAML:
		m := make(map[string]any, len(secrets))
		for _, s := range secrets {
			m[s.SecretKey] = yamlValue(escapeNewlines(s))
		}
		if len(m) == 0 {
			return []byte("{}\n"), nil
		}
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(m); err != nil {
			return nil, fmt.Errorf("encode YAML: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encode YAML: %w", err)
		}
	default:
		return nil, usagef("invalid format %q: want one of %s", format, strings.Join(exportFormats, ", "))
	}
	return b.Bytes(), nil
}

// yamlValue is v as the YAML encoder should write it. The encoder's
// literal block style loses or corrupts some multi-line values (only
// newlines, a leading newline, a line of a tab), which would then import
// differently with `secrets set --file`: those are written double-quoted.
func yamlValue(v string) any {
	if !strings.Contains(v, "\n") {
		return v
	}
	out, err := yaml.Marshal(v)
	var back string
	if err == nil && yaml.Unmarshal(out, &back) == nil && back == v {
		return v
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Tag: "!!str", Value: v}
}

// escapeNewlines writes a multi-line value on one line ("\n" escaped) when
// the secret has multi-line encoding enabled, as Infisical's CLI does
// (historically the flag skipMultilineEncoding means "encode").
func escapeNewlines(s apiclient.Secret) string {
	if s.SkipMultilineEncoding && strings.Contains(s.SecretValue, "\n") {
		return strings.ReplaceAll(s.SecretValue, "\n", `\n`)
	}
	return s.SecretValue
}

// resolveOutputPath follows Infisical's rules for --output-file: "~" is the
// home directory; an existing directory (or a path ending in "/") receives
// the format's default file name; a name without extension gets the
// format's extension.
func resolveOutputPath(p, format string) (string, error) {
	if strings.HasPrefix(p, "~") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("resolve ~ in --output-file: %w", err)
		}
		p = home + p[1:]
	}
	dirLike := strings.HasSuffix(p, "/") || strings.HasSuffix(p, string(filepath.Separator))
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolve --output-file: %w", err)
	}
	name, ext := ".env", ".env"
	switch format {
	case formatJSON:
		name, ext = "secrets.json", ".json"
	case formatCSV:
		name, ext = "secrets.csv", ".csv"
	case formatYAML:
		name, ext = "secrets.yaml", ".yaml"
	}
	if fi, err := os.Stat(abs); (err == nil && fi.IsDir()) || dirLike {
		return filepath.Join(abs, name), nil
	}
	if filepath.Ext(abs) == "" && !strings.HasPrefix(filepath.Base(abs), ".") {
		abs += ext
	}
	return abs, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
