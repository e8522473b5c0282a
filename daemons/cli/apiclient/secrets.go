package apiclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Tag is a tag attached to a secret.
type Tag struct {
	ID    string `json:"id"`
	Slug  string `json:"slug"`
	Name  string `json:"name"`
	Color string `json:"color,omitempty"`
}

// Secret is Infisical's SecretRaw, with the fields clients read.
type Secret struct {
	ID                    string `json:"id"`
	LegacyID              string `json:"_id,omitempty"`
	Workspace             string `json:"workspace"`
	Environment           string `json:"environment"`
	Version               int    `json:"version"`
	Type                  string `json:"type"`
	SecretKey             string `json:"secretKey"`
	SecretValue           string `json:"secretValue"`
	SecretComment         string `json:"secretComment"`
	SecretPath            string `json:"secretPath,omitempty"`
	SkipMultilineEncoding bool   `json:"skipMultilineEncoding,omitempty"`
	SecretValueHidden     bool   `json:"secretValueHidden,omitempty"`
	Tags                  []Tag  `json:"tags,omitempty"`
}

// Identifier is the secret's id (the legacy _id when id is absent).
func (s *Secret) Identifier() string {
	if s.ID != "" {
		return s.ID
	}
	return s.LegacyID
}

// ImportBlock holds the secrets one import brings into a folder.
type ImportBlock struct {
	SecretPath  string   `json:"secretPath"`
	Environment string   `json:"environment"`
	FolderID    string   `json:"folderId,omitempty"`
	Secrets     []Secret `json:"secrets"`
}

// ListSecretsOptions are the parameters of GET /api/v4/secrets. Infisical's
// CLI always sends every boolean explicitly; so does ListSecrets.
type ListSecretsOptions struct {
	ProjectID   string
	Environment string
	SecretPath  string // "" means "/"

	IncludeImports           bool
	Recursive                bool
	ExpandSecretReferences   bool
	IncludePersonalOverrides bool
	// TagSlugs is a comma-separated list of tag slugs ("" = no filter).
	TagSlugs string

	// ETag, when set, is sent as If-None-Match: an unchanged list answers
	// 304 and ListSecrets returns NotModified with no secrets.
	ETag string
}

// SecretList is the answer of ListSecrets.
type SecretList struct {
	Secrets []Secret      `json:"secrets"`
	Imports []ImportBlock `json:"imports,omitempty"`
	// ETag of the answer (sent back as ListSecretsOptions.ETag to poll).
	ETag string `json:"-"`
	// NotModified is set when the server answered 304 to ETag.
	NotModified bool `json:"-"`
}

// ListSecrets lists secrets (GET /api/v4/secrets).
func (c *Client) ListSecrets(ctx context.Context, o ListSecretsOptions) (*SecretList, error) {
	q := url.Values{}
	q.Set("projectId", o.ProjectID)
	q.Set("environment", o.Environment)
	q.Set("secretPath", pathOrRoot(o.SecretPath))
	q.Set("includeImports", boolString(o.IncludeImports))
	q.Set("recursive", boolString(o.Recursive))
	q.Set("expandSecretReferences", boolString(o.ExpandSecretReferences))
	q.Set("includePersonalOverrides", boolString(o.IncludePersonalOverrides))
	if t := strings.TrimSpace(o.TagSlugs); t != "" {
		q.Set("tagSlugs", t)
	}
	var out SecretList
	resp, err := c.call(ctx, request{method: http.MethodGet, path: "/v4/secrets", query: q, etag: o.ETag}, &out)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	out.ETag = resp.etag
	out.NotModified = resp.status == http.StatusNotModified
	return &out, nil
}

// Merged returns the folder's own secrets followed by imported secrets
// whose keys are not already present; among imports the first one seen
// wins (spec §3.2, §9.2).
func (l *SecretList) Merged() []Secret {
	out := make([]Secret, 0, len(l.Secrets))
	seen := make(map[string]bool, len(l.Secrets))
	for _, s := range l.Secrets {
		out = append(out, s)
		seen[s.SecretKey] = true
	}
	for _, imp := range l.Imports {
		for _, s := range imp.Secrets {
			if seen[s.SecretKey] {
				continue
			}
			seen[s.SecretKey] = true
			if s.SecretPath == "" {
				s.SecretPath = imp.SecretPath
			}
			if s.Environment == "" {
				s.Environment = imp.Environment
			}
			out = append(out, s)
		}
	}
	return out
}

// GetSecretOptions are the parameters of GET /api/v4/secrets/{name}.
type GetSecretOptions struct {
	ProjectID, Environment, SecretPath, Name string
	Type                                     string // "shared" (default) or "personal"
	IncludeImports                           bool
	ExpandSecretReferences                   bool
	Version                                  int    // 0: the current version
	ETag                                     string // If-None-Match
}

// SecretResult is the answer of GetSecret.
type SecretResult struct {
	Secret      Secret
	ETag        string
	NotModified bool
}

// GetSecret reads one secret by name (GET /api/v4/secrets/{secretName}).
func (c *Client) GetSecret(ctx context.Context, o GetSecretOptions) (*SecretResult, error) {
	typ := o.Type
	if typ == "" {
		typ = "shared"
	}
	q := url.Values{}
	q.Set("projectId", o.ProjectID)
	q.Set("environment", o.Environment)
	q.Set("secretPath", pathOrRoot(o.SecretPath))
	q.Set("type", typ)
	q.Set("includeImports", boolString(o.IncludeImports))
	q.Set("expandSecretReferences", boolString(o.ExpandSecretReferences))
	if o.Version > 0 {
		q.Set("version", strconv.Itoa(o.Version))
	}
	var out struct {
		Secret Secret `json:"secret"`
	}
	resp, err := c.call(ctx, request{method: http.MethodGet, path: "/v4/secrets/" + url.PathEscape(o.Name), query: q, etag: o.ETag}, &out)
	if err != nil {
		return nil, fmt.Errorf("get secret %s: %w", o.Name, err)
	}
	return &SecretResult{Secret: out.Secret, ETag: resp.etag, NotModified: resp.status == http.StatusNotModified}, nil
}

// SecretWrite is the body of a v3 create or update (spec §9.3).
type SecretWrite struct {
	ProjectID   string
	Environment string
	SecretPath  string
	Name        string
	Value       string
	Type        string   // "shared" or "personal"; "" = server default
	Comment     *string  // nil: not sent
	TagIDs      []string // nil: not sent
}

func (w SecretWrite) body() map[string]any {
	b := map[string]any{"workspaceId": w.ProjectID, "environment": w.Environment, "secretPath": pathOrRoot(w.SecretPath), "secretValue": w.Value}
	if w.Type != "" {
		b["type"] = w.Type
	}
	if w.Comment != nil {
		b["secretComment"] = *w.Comment
	}
	if w.TagIDs != nil {
		b["tagIds"] = w.TagIDs
	}
	return b
}

// CreateSecret creates a secret (POST /api/v3/secrets/raw/{secretName}).
func (c *Client) CreateSecret(ctx context.Context, w SecretWrite) error {
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v3/secrets/raw/" + url.PathEscape(w.Name), body: w.body()}, nil); err != nil {
		return fmt.Errorf("create secret %s: %w", w.Name, err)
	}
	return nil
}

// UpdateSecret changes a secret's value (PATCH /api/v3/secrets/raw/{secretName}).
func (c *Client) UpdateSecret(ctx context.Context, w SecretWrite) error {
	if _, err := c.call(ctx, request{method: http.MethodPatch, path: "/v3/secrets/raw/" + url.PathEscape(w.Name), body: w.body()}, nil); err != nil {
		return fmt.Errorf("update secret %s: %w", w.Name, err)
	}
	return nil
}

// DeleteSecret deletes a secret (DELETE /api/v3/secrets/raw/{secretName},
// JSON body).
func (c *Client) DeleteSecret(ctx context.Context, projectID, environment, secretPath, name, typ string) error {
	body := map[string]any{"secretName": name, "workspaceId": projectID, "environment": environment, "secretPath": pathOrRoot(secretPath)}
	if typ != "" {
		body["type"] = typ
	}
	if _, err := c.call(ctx, request{method: http.MethodDelete, path: "/v3/secrets/raw/" + url.PathEscape(name), body: body}, nil); err != nil {
		return fmt.Errorf("delete secret %s: %w", name, err)
	}
	return nil
}

// ---- folders ----------------------------------------------------------------------

// Folder is a folder row (the fields clients read).
type Folder struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ListFolders lists the folders directly under path (GET /api/v1/folders,
// with the legacy `directory` parameter as Infisical's CLI sends it).
func (c *Client) ListFolders(ctx context.Context, projectID, environment, path string) ([]Folder, error) {
	q := url.Values{"workspaceId": {projectID}, "environment": {environment}, "directory": {pathOrRoot(path)}}
	var out struct {
		Folders []Folder `json:"folders"`
	}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/folders", query: q}, &out); err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	return out.Folders, nil
}

// CreateFolder creates folder name under path (POST /api/v1/folders).
func (c *Client) CreateFolder(ctx context.Context, projectID, environment, path, name string) (*Folder, error) {
	body := map[string]string{"name": name, "workspaceId": projectID, "environment": environment, "path": pathOrRoot(path)}
	var out struct {
		Folder Folder `json:"folder"`
	}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/folders", body: body}, &out); err != nil {
		return nil, fmt.Errorf("create folder %s: %w", name, err)
	}
	return &out.Folder, nil
}

// DeleteFolder deletes folder name under path, recursively
// (DELETE /api/v1/folders/{name}, JSON body with `directory`).
func (c *Client) DeleteFolder(ctx context.Context, projectID, environment, path, name string) error {
	body := map[string]string{"folderName": name, "workspaceId": projectID, "environment": environment, "directory": pathOrRoot(path)}
	if _, err := c.call(ctx, request{method: http.MethodDelete, path: "/v1/folders/" + url.PathEscape(name), body: body}, nil); err != nil {
		return fmt.Errorf("delete folder %s: %w", name, err)
	}
	return nil
}

// ---- tags -------------------------------------------------------------------------

// TagBySlug reads a project tag by slug; a missing tag is a 404 (IsNotFound).
func (c *Client) TagBySlug(ctx context.Context, projectID, slug string) (*Tag, error) {
	var out struct {
		Tag Tag `json:"tag"`
	}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/projects/" + url.PathEscape(projectID) + "/tags/slug/" + url.PathEscape(slug)}, &out); err != nil {
		return nil, fmt.Errorf("get tag %s: %w", slug, err)
	}
	return &out.Tag, nil
}

// CreateTag creates a project tag with an empty color.
func (c *Client) CreateTag(ctx context.Context, projectID, slug string) (*Tag, error) {
	var out struct {
		Tag Tag `json:"tag"`
	}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/v1/projects/" + url.PathEscape(projectID) + "/tags", body: map[string]string{"slug": slug, "color": ""}}, &out); err != nil {
		return nil, fmt.Errorf("create tag %s: %w", slug, err)
	}
	return &out.Tag, nil
}

// EnsureTag returns the tag with slug, creating it when the server answers
// 404 (the get-or-create of `infisical secrets set --tags`).
func (c *Client) EnsureTag(ctx context.Context, projectID, slug string) (*Tag, error) {
	t, err := c.TagBySlug(ctx, projectID, slug)
	if err == nil {
		return t, nil
	}
	if !IsNotFound(err) {
		return nil, err
	}
	return c.CreateTag(ctx, projectID, slug)
}

// ---- projects ---------------------------------------------------------------------

// Project is the part of a project object clients read.
type Project struct {
	ID       string `json:"id"`
	LegacyID string `json:"_id,omitempty"`
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	OrgID    string `json:"orgId"`
}

// Identifier is the project's id (the legacy _id when id is absent).
func (p *Project) Identifier() string {
	if p.ID != "" {
		return p.ID
	}
	return p.LegacyID
}

// ProjectBySlug resolves a project slug (GET /api/v1/projects/slug/{slug};
// the answer is the unwrapped project).
func (c *Client) ProjectBySlug(ctx context.Context, slug string) (*Project, error) {
	var out Project
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/projects/slug/" + url.PathEscape(slug)}, &out); err != nil {
		return nil, fmt.Errorf("get project %s: %w", slug, err)
	}
	return &out, nil
}

// Projects lists the caller's projects (GET /api/v1/workspace; `infisical
// init` reads _id and orgId).
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	var out struct {
		Workspaces []Project `json:"workspaces"`
	}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/workspace"}, &out); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out.Workspaces, nil
}

// pathOrRoot defaults an empty secret path to "/" and adds a missing
// leading slash.
func pathOrRoot(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}
