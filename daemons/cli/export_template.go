package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// `infisical export --template` renders a Go text/template with the
// functions of Infisical's agent templates:
//
//	secret "<projectId>" "<env>" "<path>" ['<options JSON>']   list of secrets
//	listSecrets ...                                             same
//	listSecretsByProjectSlug "<slug>" "<env>" "<path>" [...]    by project slug
//	getSecretByName "<projectId>" "<env>" "<path>" "<name>"     one secret
//
// Each secret has .Key .Value .WorkspaceId .Type .ID .Comment .SecretPath.
// An empty project, environment or path means the one given by the flags
// (--projectId / .infisical.json, --env, --path). The options JSON accepts
// "recursive", "expandSecretReferences" and "includeImports".
// The template's data (.) offers .Secrets (the secrets the flags select),
// .ProjectID, .Environment and .SecretPath. Helpers: minus, add, upper,
// lower, trim, replace, join, split, contains, hasPrefix, hasSuffix, quote,
// squote, base64Encode, base64Decode, toJSON, default.

// templateSecret is a secret as templates see it.
type templateSecret struct {
	Key         string
	Value       string
	WorkspaceId string //nolint:revive // Infisical's field name
	Type        string
	ID          string
	Comment     string
	SecretPath  string
}

func toTemplateSecret(s apiclient.Secret) templateSecret {
	return templateSecret{Key: s.SecretKey, Value: s.SecretValue, WorkspaceId: s.Workspace, Type: s.Type,
		ID: s.Identifier(), Comment: s.SecretComment, SecretPath: s.SecretPath}
}

// templateData is the template's dot; Secrets is fetched on first use.
type templateData struct {
	ProjectID   string
	Environment string
	SecretPath  string
	fetch       func() ([]templateSecret, error)
	cached      []templateSecret
	done        bool
}

// Secrets returns the secrets selected by the command's flags.
func (d *templateData) Secrets() ([]templateSecret, error) {
	if !d.done {
		s, err := d.fetch()
		if err != nil {
			return nil, err
		}
		d.cached, d.done = s, true
	}
	return d.cached, nil
}

// templateOptions is the optional options JSON of secret/listSecrets.
type templateOptions struct {
	Recursive              *bool `json:"recursive"`
	ExpandSecretReferences *bool `json:"expandSecretReferences"`
	IncludeImports         *bool `json:"includeImports"`
}

func renderTemplate(ctx context.Context, app *App, t *target, sf *secretFlags, name, src string) ([]byte, error) {
	list := func(projectID, env, path string, opts ...string) ([]templateSecret, error) {
		q := sf.query(t, true)
		tt := *t
		if projectID != "" {
			tt.projectID = projectID
		}
		if env != "" {
			q.env = env
		}
		if path != "" {
			q.path = cleanSecretPath(path)
		}
		q.tags = "" // the tag filter of the flags applies to .Secrets only
		if len(opts) > 1 {
			return nil, fmt.Errorf("secret: expected at most one options argument, got %d", len(opts))
		}
		if len(opts) == 1 && strings.TrimSpace(opts[0]) != "" {
			var o templateOptions
			if err := json.Unmarshal([]byte(opts[0]), &o); err != nil {
				return nil, fmt.Errorf("secret: options must be a JSON object: %w", err)
			}
			if o.Recursive != nil {
				q.recursive = *o.Recursive
			}
			if o.ExpandSecretReferences != nil {
				q.expand = *o.ExpandSecretReferences
			}
			if o.IncludeImports != nil {
				q.includeImports = *o.IncludeImports
			}
		}
		res, err := app.fetchSecrets(ctx, &tt, q)
		if err != nil {
			return nil, err
		}
		out := make([]templateSecret, 0, len(res.secrets))
		for _, s := range res.secrets {
			out = append(out, toTemplateSecret(s))
		}
		return out, nil
	}
	bySlug := func(slug, env, path string, opts ...string) ([]templateSecret, error) {
		p, err := t.client.ProjectBySlug(ctx, slug)
		if err != nil {
			return nil, err
		}
		return list(p.Identifier(), env, path, opts...)
	}
	byName := func(projectID, env, path, secretName string) (templateSecret, error) {
		q := sf.query(t, true)
		if projectID == "" {
			projectID = t.projectID
		}
		if env != "" {
			q.env = env
		}
		if path != "" {
			q.path = cleanSecretPath(path)
		}
		res, err := t.client.GetSecret(ctx, apiclient.GetSecretOptions{ProjectID: projectID, Environment: q.env, SecretPath: q.path,
			Name: secretName, Type: "shared", IncludeImports: true, ExpandSecretReferences: true})
		if err == nil {
			return toTemplateSecret(res.Secret), nil
		}
		if !apiclient.IsUnreachable(err) {
			return templateSecret{}, err
		}
		// Offline: look the secret up in the cached listing of its folder.
		all, lerr := list(projectID, q.env, q.path)
		if lerr != nil {
			return templateSecret{}, err
		}
		for _, s := range all {
			if s.Key == secretName {
				return s, nil
			}
		}
		return templateSecret{}, err
	}
	funcs := template.FuncMap{
		"secret":                   list,
		"listSecrets":              list,
		"listSecretsByProjectSlug": bySlug,
		"secretsByProjectSlug":     bySlug,
		"getSecretByName":          byName,
		"minus":                    func(a, b int) int { return a - b },
		"add":                      func(a, b int) int { return a + b },
		"upper":                    strings.ToUpper,
		"lower":                    strings.ToLower,
		"trim":                     strings.TrimSpace,
		"replace":                  func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"join":                     func(sep string, list []string) string { return strings.Join(list, sep) },
		"split":                    func(sep, s string) []string { return strings.Split(s, sep) },
		"contains":                 func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix":                func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"hasSuffix":                func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
		"quote":                    func(s string) string { b, _ := json.Marshal(s); return string(b) },
		"squote":                   func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" },
		"base64Encode":             func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"base64Decode": func(s string) (string, error) {
			b, err := base64.StdEncoding.DecodeString(s)
			return string(b), err
		},
		"toJSON": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"default": func(def string, v any) any {
			if v == nil || v == "" {
				return def
			}
			return v
		},
	}
	tmpl, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	data := &templateData{ProjectID: t.projectID, Environment: t.env, SecretPath: t.path, fetch: func() ([]templateSecret, error) {
		res, err := app.fetchSecrets(ctx, t, sf.query(t, true))
		if err != nil {
			return nil, err
		}
		secrets := res.secrets
		sortByKey(secrets)
		out := make([]templateSecret, 0, len(secrets))
		for _, s := range secrets {
			out = append(out, toTemplateSecret(s))
		}
		return out, nil
	}}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render template: %w", err)
	}
	return b.Bytes(), nil
}
