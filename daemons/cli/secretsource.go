package cli

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// This file holds what the secret commands (run, export, secrets, ...)
// share: which token to use, which project/environment/path, and the one
// secret fetch (GET /api/v4/secrets) with its offline fallback.

// Environment variables read by the secret commands (Infisical's names).
const (
	envUAAccessToken = "INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN"
	envToken         = "INFISICAL_TOKEN"
	envTokenLegacy   = "TOKEN"
	envProjectID     = "INFISICAL_PROJECT_ID"

	workspaceFileName = ".infisical.json"
	defaultEnv        = "dev"
)

// ---- flags ------------------------------------------------------------------------

// secretFlags are the flags of the commands that read or write secrets.
type secretFlags struct {
	token            string
	projectID        string
	env              string
	path             string
	tags             string
	projectConfigDir string
	expand           bool
	includeImports   bool
	recursive        bool
	overriding       bool
}

// flag groups for bind.
const (
	flagsTarget = 1 << iota // --token --projectId --env --path --project-config-dir
	flagsRead               // --expand --include-imports --recursive --secret-overriding --tags
)

func (sf *secretFlags) bind(f *pflag.FlagSet, groups int) {
	if groups&flagsTarget != 0 {
		f.StringVar(&sf.token, "token", "", "machine identity access token or service token (env INFISICAL_TOKEN); default: the logged-in user")
		f.StringVar(&sf.projectID, "projectId", "", "project ID (env INFISICAL_PROJECT_ID); default: .infisical.json (required with machine identity tokens)")
		f.StringVarP(&sf.env, "env", "e", defaultEnv, "environment slug (dev, staging, prod, ...); default: .infisical.json rules, else dev")
		f.StringVar(&sf.path, "path", "/", "folder path of the secrets")
		f.StringVar(&sf.projectConfigDir, "project-config-dir", "", "directory holding .infisical.json (default: the current directory or a parent)")
	}
	if groups&flagsRead != 0 {
		f.BoolVar(&sf.expand, "expand", true, "expand secret references such as ${KEY}")
		f.BoolVar(&sf.includeImports, "include-imports", true, "include imported secrets (for keys not defined in the folder itself)")
		f.BoolVar(&sf.recursive, "recursive", false, "also fetch the secrets of every sub-folder")
		f.BoolVar(&sf.overriding, "secret-overriding", true, "personal secrets override shared secrets of the same name")
		f.StringVarP(&sf.tags, "tags", "t", "", "only secrets with these tag slugs (comma-separated)")
	}
}

// ---- credentials ------------------------------------------------------------------

type tokenKind int

const (
	tokenUser tokenKind = iota
	tokenIdentity
	tokenService
)

func (k tokenKind) String() string {
	switch k {
	case tokenIdentity:
		return "machine identity"
	case tokenService:
		return "service token"
	}
	return "user"
}

// credential is the token a command authenticates with.
type credential struct {
	token   string
	kind    tokenKind
	source  string       // where it came from, for messages
	session *userSession // set for the logged-in user
	// identity is stable across renewals and re-logins of the same
	// principal (identity ID, user ID, service token ID); it keys the
	// offline cache.
	identity string
}

// jwtClaims are the claims the CLI reads from access tokens (unverified:
// the server verifies; the CLI only classifies and keys its cache).
type jwtClaims struct {
	AuthTokenType  string `json:"authTokenType"`
	IdentityID     string `json:"identityId"`
	UserID         string `json:"userId"`
	TokenVersionID string `json:"tokenVersionId"`
	OrganizationID string `json:"organizationId"`
	OrgID          string `json:"orgId"`
	Exp            int64  `json:"exp"`
}

func decodeJWT(token string) (*jwtClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("decode JWT payload: %w", err)
	}
	var c jwtClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("parse JWT payload: %w", err)
	}
	return &c, nil
}

// newCredential classifies token (spec §9.1).
func newCredential(token, source string) *credential {
	token = strings.TrimSpace(token)
	c := &credential{token: token, source: source, kind: tokenIdentity}
	if apiclient.IsServiceToken(token) {
		c.kind = tokenService
		parts := strings.SplitN(token, ".", 4)
		if len(parts) >= 2 {
			c.identity = "service-token:" + parts[1]
		}
		return c
	}
	if claims, err := decodeJWT(token); err == nil {
		switch {
		case claims.AuthTokenType == "accessToken" || (claims.AuthTokenType == "" && claims.UserID != "" && claims.IdentityID == ""):
			c.kind = tokenUser
			c.identity = "user:" + claims.UserID
		case claims.IdentityID != "":
			c.identity = "identity:" + claims.IdentityID
		}
	}
	if c.identity == "" {
		sum := sha256.Sum256([]byte(token))
		c.identity = "token:" + hex.EncodeToString(sum[:16])
	}
	return c
}

// resolveCredential picks the token: --token, then
// INFISICAL_UNIVERSAL_AUTH_ACCESS_TOKEN, INFISICAL_TOKEN, TOKEN, then the
// logged-in user's session.
func (a *App) resolveCredential(flagToken string) (*credential, error) {
	if t := strings.TrimSpace(flagToken); t != "" {
		return newCredential(t, "--token"), nil
	}
	for _, name := range []string{envUAAccessToken, envToken, envTokenLegacy} {
		if t := a.env(name); t != "" {
			return newCredential(t, name), nil
		}
	}
	st, err := a.state()
	if err != nil {
		return nil, err
	}
	sess, _, err := st.activeSession()
	if err != nil {
		return nil, err
	}
	c := newCredential(sess.JTWToken, "login session of "+sess.Email)
	c.kind, c.session = tokenUser, sess
	if claims, err := decodeJWT(sess.JTWToken); err == nil && claims.Exp > 0 &&
		time.Unix(claims.Exp, 0).Before(time.Now().Add(30*time.Second)) {
		return nil, fmt.Errorf("your login session as %s has expired: run `infisical login`", sess.Email)
	}
	return c, nil
}

// apiURLFor is the API the credential belongs to: --domain and
// INFISICAL_API_URL win; a user session otherwise uses its profile's domain.
func (a *App) apiURLFor(c *credential) (string, error) {
	if a.domain == "" && a.env("INFISICAL_API_URL") == "" && c != nil && c.session != nil && c.session.Domain != "" {
		return normalizeAPIURL(c.session.Domain)
	}
	return a.APIURL()
}

// newClient builds an API client for c (nil: unauthenticated).
func (a *App) newClient(c *credential) (*apiclient.Client, error) {
	base, err := a.apiURLFor(c)
	if err != nil {
		return nil, err
	}
	cfg := apiclient.Config{BaseURL: base, HTTPClient: a.HTTPClient}
	if c != nil {
		cfg.Token = c.token
	}
	return apiclient.New(cfg)
}

// ---- .infisical.json ------------------------------------------------------------------

// workspaceFile is .infisical.json (spec features §9.3).
type workspaceFile struct {
	WorkspaceID                   string            `json:"workspaceId"`
	DefaultEnvironment            string            `json:"defaultEnvironment"`
	GitBranchToEnvironmentMapping map[string]string `json:"gitBranchToEnvironmentMapping"`
	DefaultSecretPath             string            `json:"defaultSecretPath,omitempty"`
}

// findWorkspaceFile reads .infisical.json from dir when given (it must
// exist there), else from the current directory or its nearest parent that
// has one. It returns nil, "" when there is none.
func findWorkspaceFile(dir string) (*workspaceFile, string, error) {
	var candidates []string
	if dir != "" {
		candidates = []string{filepath.Join(dir, workspaceFileName)}
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return nil, "", fmt.Errorf("current directory: %w", err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, filepath.Join(d, workspaceFileName))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, p := range candidates {
		raw, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w", p, err)
		}
		var wf workspaceFile
		if err := json.Unmarshal(raw, &wf); err != nil {
			return nil, "", fmt.Errorf("parse %s: %w", p, err)
		}
		return &wf, p, nil
	}
	if dir != "" {
		return nil, "", usagef("no %s in --project-config-dir %s", workspaceFileName, dir)
	}
	return nil, "", nil
}

// gitBranch returns the checked-out branch of the repository holding dir
// ("" when none), reading .git/HEAD directly (no git process).
func gitBranch(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		gitPath := filepath.Join(d, ".git")
		if fi, err := os.Stat(gitPath); err == nil {
			if !fi.IsDir() {
				// A worktree or submodule: ".git" holds "gitdir: <path>".
				raw, err := os.ReadFile(gitPath)
				if err != nil {
					return ""
				}
				gd := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(raw)), "gitdir:"))
				if !filepath.IsAbs(gd) {
					gd = filepath.Join(d, gd)
				}
				gitPath = gd
			}
			head, err := os.ReadFile(filepath.Join(gitPath, "HEAD"))
			if err != nil {
				return ""
			}
			ref := strings.TrimSpace(string(head))
			if b, ok := strings.CutPrefix(ref, "ref: refs/heads/"); ok {
				return b
			}
			return "" // detached HEAD
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// ---- target ---------------------------------------------------------------------------

// target is where a secret command acts: credential, client, project,
// environment and path.
type target struct {
	cred      *credential
	client    *apiclient.Client
	apiURL    string
	projectID string
	env       string
	path      string
	// cacheScope stands for the project in offline-cache keys when the
	// project could not be learnt offline (service tokens).
	cacheScope string
}

// resolveTarget applies the precedence rules: --projectId >
// INFISICAL_PROJECT_ID > .infisical.json (> the service token's project);
// --env > the branch mapping > defaultEnvironment > the service token's
// only scope > dev; --path > defaultSecretPath > /.
func (a *App) resolveTarget(ctx context.Context, cmd *cobra.Command, sf *secretFlags) (*target, error) {
	cred, err := a.resolveCredential(sf.token)
	if err != nil {
		return nil, err
	}
	client, err := a.newClient(cred)
	if err != nil {
		return nil, err
	}
	t := &target{cred: cred, client: client, apiURL: client.BaseURL()}
	changed := cmd.Flags().Changed

	t.projectID = strings.TrimSpace(sf.projectID)
	if t.projectID == "" {
		t.projectID = a.env(envProjectID)
	}
	wf, wfPath, err := findWorkspaceFile(sf.projectConfigDir)
	if err != nil {
		return nil, err
	}
	if t.projectID == "" && wf != nil {
		t.projectID = wf.WorkspaceID
	}

	envFromToken := ""
	if cred.kind == tokenService && (t.projectID == "" || !changed("env")) {
		det, err := a.serviceTokenDetails(ctx, t)
		if err != nil {
			return nil, err
		}
		switch {
		case det != nil:
			if t.projectID == "" {
				t.projectID = det.Workspace
			}
			if len(det.Scopes) == 1 {
				envFromToken = det.Scopes[0].Environment
			}
		case t.projectID == "":
			// Offline and never seen: the cache is keyed by the token.
			t.cacheScope = cred.identity
		}
	}

	switch {
	case changed("env"):
		t.env = strings.TrimSpace(sf.env)
	case wf != nil && len(wf.GitBranchToEnvironmentMapping) > 0 && wf.GitBranchToEnvironmentMapping[gitBranch(filepath.Dir(wfPath))] != "":
		t.env = wf.GitBranchToEnvironmentMapping[gitBranch(filepath.Dir(wfPath))]
	case wf != nil && wf.DefaultEnvironment != "":
		t.env = wf.DefaultEnvironment
	case envFromToken != "":
		t.env = envFromToken
	default:
		t.env = strings.TrimSpace(sf.env)
	}
	if t.env == "" {
		t.env = defaultEnv
	}

	t.path = sf.path
	if !changed("path") && wf != nil && wf.DefaultSecretPath != "" {
		t.path = wf.DefaultSecretPath
	}
	t.path = cleanSecretPath(t.path)

	if t.projectID == "" && t.cacheScope == "" {
		if cred.kind == tokenUser {
			return nil, usagef("no project: run `infisical init` in this directory, or pass --projectId")
		}
		return nil, usagef("no project: pass --projectId (or set %s); it is required with machine identity tokens", envProjectID)
	}
	return t, nil
}

// cleanSecretPath adds a leading slash and drops a trailing one (with the
// spaces around it: "a / " is "/a", and cleaning a clean path changes
// nothing).
func cleanSecretPath(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if len(p) > 1 {
		p = strings.TrimRightFunc(p, func(r rune) bool { return r == '/' || unicode.IsSpace(r) })
		if p == "" {
			p = "/"
		}
	}
	return p
}

// serviceTokenDetails asks the server about a service token, remembering
// the answer in the offline cache; offline it returns the remembered one,
// or nil when there is none.
func (a *App) serviceTokenDetails(ctx context.Context, t *target) (*apiclient.ServiceTokenDetails, error) {
	cache := a.offlineCache(t.cred)
	entry := "service-token-details|" + t.apiURL
	det, err := t.client.ServiceTokenDetails(ctx)
	if err == nil {
		if !a.offlineDisabled() {
			cache.save(entry, det)
		}
		return det, nil
	}
	if !apiclient.IsUnreachable(err) || a.offlineDisabled() {
		return nil, err
	}
	var cached apiclient.ServiceTokenDetails
	if _, cerr := cache.load(entry, &cached); cerr == nil {
		return &cached, nil
	}
	return nil, nil
}

// ---- fetching -------------------------------------------------------------------------

// secretQuery is one listing.
type secretQuery struct {
	env, path                         string
	includeImports, recursive, expand bool
	overriding                        bool
	tags                              string
	etag                              string // If-None-Match (watch mode)
	// save keeps the answer in the offline cache; fallback uses the cache
	// when the server cannot be reached.
	save, fallback bool
}

func (sf *secretFlags) query(t *target, offline bool) secretQuery {
	return secretQuery{env: t.env, path: t.path, includeImports: sf.includeImports, recursive: sf.recursive,
		expand: sf.expand, overriding: sf.overriding, tags: normalizeTags(sf.tags), save: offline, fallback: offline}
}

// normalizeTags trims a comma-separated tag list.
func normalizeTags(s string) string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return strings.Join(out, ",")
}

// fetched is the result of fetchSecrets.
type fetched struct {
	secrets     []apiclient.Secret // merged, overrides applied
	etag        string
	notModified bool
	fromCache   bool
	savedAt     time.Time
}

// cachedList is what the offline cache keeps of one listing.
type cachedList struct {
	Secrets []apiclient.Secret      `json:"secrets"`
	Imports []apiclient.ImportBlock `json:"imports"`
	ETag    string                  `json:"etag"`
}

// fetchSecrets lists secrets for t and q. When the server cannot be
// reached and q.fallback is set, the last good answer for the same project,
// environment, path and options is used instead, with a warning.
func (a *App) fetchSecrets(ctx context.Context, t *target, q secretQuery) (*fetched, error) {
	entry := cacheEntryKey(t, q)
	var list *apiclient.SecretList
	var err error
	if t.projectID != "" {
		list, err = t.client.ListSecrets(ctx, apiclient.ListSecretsOptions{
			ProjectID: t.projectID, Environment: q.env, SecretPath: q.path,
			IncludeImports: q.includeImports, Recursive: q.recursive, ExpandSecretReferences: q.expand,
			IncludePersonalOverrides: q.overriding, TagSlugs: q.tags, ETag: q.etag,
		})
	} else {
		err = fmt.Errorf("list secrets: the project of the service token is unknown: %w", errUnreachableProject)
	}
	if err == nil {
		if list.NotModified {
			return &fetched{etag: list.ETag, notModified: true}, nil
		}
		if q.save && !a.offlineDisabled() {
			a.offlineCache(t.cred).save(entry, cachedList{Secrets: list.Secrets, Imports: list.Imports, ETag: list.ETag})
		}
		return &fetched{secrets: filterByTags(resolveOverrides(list.Merged(), q.overriding), q.tags), etag: list.ETag}, nil
	}
	if !q.fallback || a.offlineDisabled() || !(apiclient.IsUnreachable(err) || errors.Is(err, errUnreachableProject)) {
		return nil, err
	}
	var cl cachedList
	savedAt, cerr := a.offlineCache(t.cred).load(entry, &cl)
	if cerr != nil {
		return nil, fmt.Errorf("%w (and no offline copy of these secrets is available)", err)
	}
	fmt.Fprintf(a.Stderr, "Warning: unable to reach %s (%v); using the secrets saved at %s (offline mode)\n",
		t.apiURL, err, savedAt.Local().Format(time.RFC3339))
	l := apiclient.SecretList{Secrets: cl.Secrets, Imports: cl.Imports}
	return &fetched{secrets: filterByTags(resolveOverrides(l.Merged(), q.overriding), q.tags), etag: cl.ETag, fromCache: true, savedAt: savedAt}, nil
}

// filterByTags keeps the secrets carrying one of the tag slugs (the server
// filters the folder's own secrets; this also drops imported ones without
// the tags, as Infisical's CLI does). An empty list keeps everything.
func filterByTags(in []apiclient.Secret, tags string) []apiclient.Secret {
	if tags == "" {
		return in
	}
	want := strings.Split(tags, ",")
	out := in[:0:0]
	for _, s := range in {
		for _, t := range s.Tags {
			if contains(want, t.Slug) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// errUnreachableProject marks a service token whose project could not be
// learnt because the server is unreachable.
var errUnreachableProject = errors.New("server unreachable")

// cacheEntryKey names one listing in the offline cache: everything that
// changes the answer is part of it.
func cacheEntryKey(t *target, q secretQuery) string {
	scope := t.projectID
	if scope == "" {
		scope = t.cacheScope
	}
	return strings.Join([]string{"secrets", t.apiURL, scope, q.env, q.path,
		fmt.Sprint(q.includeImports, q.recursive, q.expand, q.overriding), q.tags}, "|")
}

// resolveOverrides keeps one secret per (path, key): the personal one when
// overriding (the default), else the shared one. v4 servers already resolve
// overrides; this also covers servers that return both.
func resolveOverrides(in []apiclient.Secret, overriding bool) []apiclient.Secret {
	type k struct{ path, key string }
	idx := make(map[k]int, len(in))
	out := make([]apiclient.Secret, 0, len(in))
	for _, s := range in {
		key := k{s.SecretPath, s.SecretKey}
		if i, ok := idx[key]; ok {
			prefer := "shared"
			if overriding {
				prefer = "personal"
			}
			if s.Type == prefer && out[i].Type != prefer {
				out[i] = s
			}
			continue
		}
		idx[key] = len(out)
		out = append(out, s)
	}
	return out
}

// sortByKey sorts secrets by key (then path), as export prints them.
func sortByKey(s []apiclient.Secret) {
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].SecretKey != s[j].SecretKey {
			return s[i].SecretKey < s[j].SecretKey
		}
		return s[i].SecretPath < s[j].SecretPath
	})
}
