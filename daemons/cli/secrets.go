package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

func init() { register(newSecretsCommand) }

// `infisical secrets` and its sub-commands (spec features §9.6, api-core
// §9.2–9.5).

type secretsListFlags struct {
	secretFlags
	plain bool
}

func newSecretsCommand(app *App) *cobra.Command {
	var fl secretsListFlags
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "List, get, set and delete secrets, and manage folders",
		Long: `Print the secrets of an environment as a table (--plain: values only, one per
line). Sub-commands read, write and delete secrets and folders.`,
		Example: `  infisical secrets --env=prod --path=/api
  infisical secrets get DB_URL --plain --silent
  infisical secrets set API_KEY=abc DEBUG=false
  infisical secrets delete OLD_KEY`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runSecretsList(app, cmd, &fl) },
	}
	f := cmd.Flags()
	fl.bind(f, flagsTarget|flagsRead)
	f.BoolVar(&fl.plain, "plain", false, "print only the values, one per line")
	cmd.AddCommand(newSecretsGetCommand(app), newSecretsSetCommand(app), newSecretsDeleteCommand(app),
		newFoldersCommand(app), newExampleEnvCommand(app))
	return cmd
}

func runSecretsList(app *App, cmd *cobra.Command, fl *secretsListFlags) error {
	ctx := cmd.Context()
	t, err := app.resolveTarget(ctx, cmd, &fl.secretFlags)
	if err != nil {
		return err
	}
	res, err := app.fetchSecrets(ctx, t, fl.query(t, true))
	if err != nil {
		return err
	}
	secrets := res.secrets
	sortByKey(secrets)
	if fl.plain {
		var b bytes.Buffer
		for _, s := range secrets {
			b.WriteString(s.SecretValue)
			b.WriteByte('\n')
		}
		_, err := app.Stdout.Write(b.Bytes())
		return err
	}
	rows := make([][]string, 0, len(secrets))
	for _, s := range secrets {
		rows = append(rows, []string{s.SecretKey, s.SecretValue, s.Type})
	}
	return writeTable(app.Stdout, []string{"SECRET NAME", "SECRET VALUE", "SECRET TYPE"}, rows)
}

// ---- secrets get ------------------------------------------------------------------

type secretsGetFlags struct {
	secretFlags
	plain, rawValue bool
}

func newSecretsGetCommand(app *App) *cobra.Command {
	var fl secretsGetFlags
	cmd := &cobra.Command{
		Use:   "get <name> [name...]",
		Short: "Print selected secrets by name",
		Example: `  infisical secrets get DOMAIN PORT
  API_KEY=$(infisical secrets get API_KEY --plain --silent)`,
		Args: minArgs(1, "the name(s) of the secrets to print"),
		RunE: func(cmd *cobra.Command, args []string) error { return runSecretsGet(app, cmd, &fl, args) },
	}
	f := cmd.Flags()
	fl.bind(f, flagsTarget|flagsRead)
	f.BoolVar(&fl.plain, "plain", false, "print only the values, one per line")
	f.BoolVar(&fl.rawValue, "raw-value", false, "print only the value of a single secret, without a newline (deprecated: use --plain)")
	return cmd
}

const notFound = "*not found*"

func runSecretsGet(app *App, cmd *cobra.Command, fl *secretsGetFlags, names []string) error {
	if fl.rawValue && len(names) != 1 {
		return usagef("--raw-value prints a single secret: give exactly one name (or use --plain)")
	}
	ctx := cmd.Context()
	t, err := app.resolveTarget(ctx, cmd, &fl.secretFlags)
	if err != nil {
		return err
	}
	res, err := app.fetchSecrets(ctx, t, fl.query(t, true))
	if err != nil {
		return err
	}
	byKey := make(map[string]apiclient.Secret, len(res.secrets))
	for _, s := range res.secrets {
		if _, dup := byKey[s.SecretKey]; !dup {
			byKey[s.SecretKey] = s
		}
	}
	var missing []string
	rows := make([][]string, 0, len(names))
	var plain bytes.Buffer
	for _, n := range names {
		s, ok := byKey[n]
		if !ok {
			missing = append(missing, n)
			rows = append(rows, []string{n, notFound, notFound})
			plain.WriteByte('\n')
			continue
		}
		rows = append(rows, []string{n, s.SecretValue, s.Type})
		plain.WriteString(s.SecretValue)
		plain.WriteByte('\n')
	}
	switch {
	case fl.rawValue:
		if len(missing) > 0 {
			return fmt.Errorf("secret %s not found", missing[0])
		}
		_, err = fmt.Fprint(app.Stdout, byKey[names[0]].SecretValue)
	case fl.plain:
		_, err = app.Stdout.Write(plain.Bytes())
	default:
		err = writeTable(app.Stdout, []string{"SECRET NAME", "SECRET VALUE", "SECRET TYPE"}, rows)
	}
	if err != nil {
		return err
	}
	if len(missing) > 0 && (fl.plain || fl.rawValue) {
		// A script reading values must not mistake "missing" for "empty".
		return &exitError{code: ExitError, err: fmt.Errorf("secret(s) not found: %s", strings.Join(missing, ", "))}
	}
	return nil
}

// ---- secrets set ------------------------------------------------------------------

type secretsSetFlags struct {
	secretFlags
	secretType string
	file       string
}

func newSecretsSetCommand(app *App) *cobra.Command {
	var fl secretsSetFlags
	cmd := &cobra.Command{
		Use:   "set <KEY=VALUE> [KEY=VALUE...]",
		Short: "Create or update secrets",
		Long: `Set secrets: an existing key gets the new value, a missing one is created.
--file reads KEY=VALUE pairs from a .env file or a YAML mapping (.yaml/.yml).
--tags attaches tags by slug, creating tags that do not exist yet.
--type personal sets your personal override of a shared secret.`,
		Example: `  infisical secrets set STRIPE_KEY=sk_test_123 DOMAIN=example.com
  infisical secrets set --file=.env --env=staging
  infisical secrets set DOMAIN=example.com --type=personal`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && fl.file == "" {
				return usagef("give KEY=VALUE pairs or --file")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSecretsSet(app, cmd, &fl, args) },
	}
	f := cmd.Flags()
	fl.bind(f, flagsTarget)
	f.StringVar(&fl.secretType, "type", "shared", "secret type: shared or personal")
	f.StringVarP(&fl.tags, "tags", "t", "", "tag slugs to attach (comma-separated; missing tags are created)")
	f.StringVar(&fl.file, "file", "", "read KEY=VALUE pairs from a .env or YAML file")
	return cmd
}

// keyValue is one secret to set, in the order given.
type keyValue struct{ key, value string }

func runSecretsSet(app *App, cmd *cobra.Command, fl *secretsSetFlags, args []string) error {
	typ := strings.ToLower(strings.TrimSpace(fl.secretType))
	if typ != "shared" && typ != "personal" {
		return usagef("invalid --type %q: want shared or personal", fl.secretType)
	}
	var pairs []keyValue
	if fl.file != "" {
		fromFile, err := readSecretsFile(fl.file)
		if err != nil {
			return err
		}
		pairs = append(pairs, fromFile...)
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return usagef("invalid argument %q: want KEY=VALUE", a)
		}
		pairs = append(pairs, keyValue{key: k, value: v})
	}
	for _, p := range pairs {
		if err := validateSecretKey(p.key); err != nil {
			return err
		}
	}
	ctx := cmd.Context()
	t, err := app.resolveTarget(ctx, cmd, &fl.secretFlags)
	if err != nil {
		return err
	}
	if t.projectID == "" {
		return errors.New("the project of the service token is unknown (server unreachable)")
	}
	// Pre-read the folder (spec §9.3): personal overrides only for --type
	// personal, so "exists" means "exists with that type".
	list, err := t.client.ListSecrets(ctx, apiclient.ListSecretsOptions{ProjectID: t.projectID, Environment: t.env, SecretPath: t.path,
		IncludeImports: false, ExpandSecretReferences: false, IncludePersonalOverrides: typ == "personal"})
	if err != nil {
		return err
	}
	existing := make(map[string]apiclient.Secret, len(list.Secrets))
	for _, s := range list.Secrets {
		if s.Type == typ {
			existing[s.SecretKey] = s
		}
	}
	var tagIDs []string
	if slugs := normalizeTags(fl.tags); slugs != "" {
		for _, slug := range strings.Split(slugs, ",") {
			tag, err := t.client.EnsureTag(ctx, t.projectID, slug)
			if err != nil {
				return err
			}
			tagIDs = append(tagIDs, tag.ID)
		}
	}
	rows := make([][]string, 0, len(pairs))
	for _, p := range pairs {
		w := apiclient.SecretWrite{ProjectID: t.projectID, Environment: t.env, SecretPath: t.path, Name: p.key, Value: p.value, Type: typ, TagIDs: tagIDs}
		status := "SECRET CREATED"
		if cur, ok := existing[p.key]; ok {
			if cur.SecretValue == p.value && tagIDs == nil {
				rows = append(rows, []string{p.key, p.value, "SECRET VALUE UNCHANGED"})
				continue
			}
			status = "SECRET VALUE MODIFIED"
			err = t.client.UpdateSecret(ctx, w)
		} else {
			err = t.client.CreateSecret(ctx, w)
		}
		if err != nil {
			return err
		}
		existing[p.key] = apiclient.Secret{SecretKey: p.key, SecretValue: p.value, Type: typ}
		rows = append(rows, []string{p.key, p.value, status})
	}
	return writeTable(app.Stdout, []string{"SECRET NAME", "SECRET VALUE", "STATUS"}, rows)
}

// validateSecretKey applies the key rules clients check before sending.
func validateSecretKey(k string) error {
	switch {
	case strings.TrimSpace(k) == "":
		return usagef("a secret name is empty: every argument must be KEY=VALUE")
	case k != strings.TrimSpace(k):
		return usagef("secret name %q has leading or trailing spaces", k)
	case strings.ContainsAny(k, ":/"):
		return usagef("secret name %q contains a colon or a slash", k)
	case k[0] >= '0' && k[0] <= '9':
		return usagef("secret name %q starts with a digit", k)
	}
	return nil
}

// readSecretsFile reads KEY=VALUE pairs from a dotenv file, or from a YAML
// mapping when the name ends in .yaml or .yml.
func readSecretsFile(path string) ([]keyValue, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --file: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return parseSecretsYAML(raw, path)
	}
	return parseDotenv(raw, path)
}

// parseSecretsYAML reads a YAML mapping of names to scalar values.
func parseSecretsYAML(raw []byte, name string) ([]keyValue, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(raw, &node); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	if len(node.Content) == 0 {
		return nil, nil
	}
	m := node.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse %s: want a mapping of names to values", name)
	}
	out := make([]keyValue, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("parse %s: the value of %s is not a scalar", name, k.Value)
		}
		out = append(out, keyValue{key: k.Value, value: v.Value})
	}
	return out, nil
}

// parseDotenv reads a .env file: KEY=VALUE lines, optional "export ",
// comments, single quotes (literal; may span lines, ending at the last quote
// of the line that closes them), double quotes (\n \t \" \\ escapes; may
// span lines) and unquoted values (trailing " #comment" dropped). Quoted
// values keep their inner whitespace, so what `infisical export` writes
// reads back unchanged.
func parseDotenv(raw []byte, name string) ([]keyValue, error) {
	var out []keyValue
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	lineNo := 0
	// next appends the following line to body, for values spanning lines.
	next := func(body string, start int, quote string) (string, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return "", fmt.Errorf("read %s: %w", name, err)
			}
			return "", fmt.Errorf("%s:%d: unterminated %s quote", name, start, quote)
		}
		lineNo++
		return body + "\n" + strings.TrimSuffix(sc.Text(), "\r"), nil
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimLeftFunc(strings.TrimSuffix(sc.Text(), "\r"), unicode.IsSpace)
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE", name, lineNo)
		}
		k, v = strings.TrimSpace(k), strings.TrimLeftFunc(v, unicode.IsSpace)
		start := lineNo
		var err error
		switch {
		case strings.HasPrefix(v, "'"):
			body := v[1:]
			// Only the newest line can hold the closing quote.
			for from := 0; !strings.Contains(body[from:], "'"); {
				from = len(body)
				if body, err = next(body, start, "single"); err != nil {
					return nil, err
				}
			}
			v = body[:strings.LastIndex(body, "'")]
		case strings.HasPrefix(v, `"`):
			body := v[1:]
			end, resume := scanDoubleQuoted(body, 0)
			for end < 0 {
				if body, err = next(body, start, "double"); err != nil {
					return nil, err
				}
				end, resume = scanDoubleQuoted(body, resume)
			}
			v = unescapeDouble(body[:end])
		default:
			v = strings.TrimSpace(v)
			if i := strings.Index(v, " #"); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
		}
		out = append(out, keyValue{key: k, value: v})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// scanDoubleQuoted looks for the first unescaped `"` of s from index i. It
// returns its index (-1 when there is none) and the index a scan of a
// longer s must resume from (past an escape that ended s), so that a value
// spanning many lines is scanned once, not once per line.
func scanDoubleQuoted(s string, i int) (end, resume int) {
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i, i
		}
	}
	return -1, i
}

func unescapeDouble(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ---- secrets delete ---------------------------------------------------------------

type secretsDeleteFlags struct {
	secretFlags
	secretType string
}

func newSecretsDeleteCommand(app *App) *cobra.Command {
	var fl secretsDeleteFlags
	cmd := &cobra.Command{
		Use:     "delete <name> [name...]",
		Short:   "Delete secrets by name",
		Example: `  infisical secrets delete STRIPE_KEY DOMAIN --env=dev --path=/`,
		Args:    minArgs(1, "the name(s) of the secrets to delete"),
		RunE:    func(cmd *cobra.Command, args []string) error { return runSecretsDelete(app, cmd, &fl, args) },
	}
	f := cmd.Flags()
	fl.bind(f, flagsTarget)
	f.StringVar(&fl.secretType, "type", "shared", "secret type: shared or personal")
	return cmd
}

func runSecretsDelete(app *App, cmd *cobra.Command, fl *secretsDeleteFlags, names []string) error {
	typ := strings.ToLower(strings.TrimSpace(fl.secretType))
	if typ != "shared" && typ != "personal" {
		return usagef("invalid --type %q: want shared or personal", fl.secretType)
	}
	ctx := cmd.Context()
	t, err := app.resolveTarget(ctx, cmd, &fl.secretFlags)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := t.client.DeleteSecret(ctx, t.projectID, t.env, t.path, n, typ); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(app.Stdout, "secret name(s) [%s] have been deleted from your project\n", strings.Join(names, ", "))
	return err
}
