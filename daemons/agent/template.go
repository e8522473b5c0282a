package agent

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// errDynamicSecrets is returned by the dynamic-secret template functions,
// which this agent does not offer yet.
var errDynamicSecrets = errors.New("dynamic secrets are not supported by this agent")

// baseFuncs are the helpers every template gets: Sprig's text functions
// without env and expandenv (removed, as in Infisical, so a template cannot
// read the agent's environment), plus Infisical's own minus.
func baseFuncs() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	f["minus"] = func(a, b int) int { return a - b }
	return f
}

// secretOptions is the optional JSON argument of listSecrets and
// listSecretsByProjectSlug.
type secretOptions struct {
	Recursive bool  `json:"recursive"`
	Expand    *bool `json:"expandSecretReferences"`
}

func parseSecretOptions(args []string) (recursive, expand bool, err error) {
	if len(args) > 1 {
		return false, false, fmt.Errorf("expected at most one options argument, got %d", len(args))
	}
	var o secretOptions
	if len(args) == 1 && args[0] != "" {
		if err := json.Unmarshal([]byte(args[0]), &o); err != nil {
			return false, false, fmt.Errorf("invalid options %q: %w", args[0], err)
		}
	}
	expand = true
	if o.Expand != nil {
		expand = *o.Expand
	}
	return o.Recursive, expand, nil
}

// call is one server read a template made, remembered so the next poll can
// ask the server whether it changed (If-None-Match) before rendering again.
type call struct {
	key  string
	list *ListQuery // listSecrets / listSecretsByProjectSlug
	get  *[4]string // getSecretByName: project, env, path, name
	etag string
	data []Secret
}

func (c *call) fetch(ctx context.Context, a *api, token, ifNoneMatch string) (*fetched, error) {
	if c.list != nil {
		return a.listSecrets(ctx, token, *c.list, ifNoneMatch)
	}
	return a.getSecret(ctx, token, *c.get, ifNoneMatch)
}

// renderer renders one template and tells whether its inputs changed.
type renderer struct {
	tpl   *Template
	name  string
	api   *api
	slugs *slugCache
	funcs template.FuncMap

	// The inputs of the last successful render.
	textSum string
	calls   []*call
}

// slugCache maps project slugs to ids for listSecretsByProjectSlug; a
// project's id never changes, so one lookup per slug and run is enough.
type slugCache struct {
	mu  sync.Mutex
	ids map[string]string
}

func (s *slugCache) id(ctx context.Context, a *api, token, slug string) (string, error) {
	s.mu.Lock()
	id, ok := s.ids[slug]
	s.mu.Unlock()
	if ok {
		return id, nil
	}
	id, err := a.projectID(ctx, token, slug)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.ids[slug] = id
	s.mu.Unlock()
	return id, nil
}

// text returns the template's source: the file (read at every poll, so an
// edited template is picked up), the inline content or the decoded base64.
func (r *renderer) text() (string, error) {
	switch {
	case r.tpl.SourcePath != "":
		b, err := os.ReadFile(r.tpl.SourcePath)
		if err != nil {
			return "", fmt.Errorf("read template: %w", err)
		}
		return string(b), nil
	case r.tpl.TemplateContent != "":
		return r.tpl.TemplateContent, nil
	default:
		b, err := base64.StdEncoding.DecodeString(r.tpl.Base64TemplateContent)
		if err != nil {
			return "", fmt.Errorf("decode base64-template-content: %w", err)
		}
		return string(b), nil
	}
}

// renderResult is the outcome of one poll.
type renderResult struct {
	unchanged   bool   // the server confirmed every input: nothing rendered
	output      []byte // the rendered file
	fingerprint string // changes iff an input (template text, ETags) changed
}

// render polls the server. When the template text is the same and every
// read of the last render still has the same ETag, it reports unchanged
// without rendering; otherwise it renders with fresh data.
func (r *renderer) render(ctx context.Context, token string) (*renderResult, error) {
	text, err := r.text()
	if err != nil {
		return nil, err
	}
	ts := sha256.Sum256([]byte(text))
	textSum := hex.EncodeToString(ts[:])

	// Answers fetched while probing, reused by the render below.
	fresh := map[string]*fetched{}
	if textSum == r.textSum && len(r.calls) > 0 {
		same := true
		for _, c := range r.calls {
			f, err := c.fetch(ctx, r.api, token, c.etag)
			if err != nil {
				return nil, err
			}
			if !f.notModified && f.etag != c.etag {
				same = false
				fresh[c.key] = f
			}
		}
		if same {
			return &renderResult{unchanged: true}, nil
		}
	}

	var (
		calls []*call
		seen  = map[string]*call{}
	)
	// read performs (or reuses) one read and records it.
	read := func(c *call) ([]Secret, error) {
		if prev, ok := seen[c.key]; ok {
			return prev.data, nil
		}
		f, ok := fresh[c.key]
		if !ok {
			var err error
			if f, err = c.fetch(ctx, r.api, token, ""); err != nil {
				return nil, err
			}
		}
		c.etag, c.data = f.etag, f.secrets
		seen[c.key] = c
		calls = append(calls, c)
		return c.data, nil
	}
	list := func(projectID, env, path string, opts []string) ([]Secret, error) {
		rec, expand, err := parseSecretOptions(opts)
		if err != nil {
			return nil, err
		}
		q := ListQuery{ProjectID: projectID, Environment: env, SecretPath: path, Recursive: rec, Expand: expand}
		key := "list\x00" + projectID + "\x00" + env + "\x00" + path + "\x00" + strconv.FormatBool(rec) + "\x00" + strconv.FormatBool(expand)
		return read(&call{key: key, list: &q})
	}
	listFn := func(projectID, env, path string, opts ...string) ([]Secret, error) {
		return list(projectID, env, path, opts)
	}
	funcs := template.FuncMap{
		"secret":      listFn, // Infisical's deprecated name of listSecrets
		"listSecrets": listFn,
		"listSecretsByProjectSlug": func(slug, env, path string, opts ...string) ([]Secret, error) {
			id, err := r.slugs.id(ctx, r.api, token, slug)
			if err != nil {
				return nil, err
			}
			return list(id, env, path, opts)
		},
		"getSecretByName": func(projectID, env, path, name string) (Secret, error) {
			g := [4]string{projectID, env, path, name}
			key := "get\x00" + projectID + "\x00" + env + "\x00" + path + "\x00" + name
			s, err := read(&call{key: key, get: &g})
			if err != nil {
				return Secret{}, err
			}
			if len(s) == 0 {
				return Secret{}, fmt.Errorf("secret %q not found", name)
			}
			return s[0], nil
		},
		"dynamicSecret":  func(args ...string) (map[string]any, error) { return nil, errDynamicSecrets },
		"dynamic_secret": func(args ...string) (map[string]any, error) { return nil, errDynamicSecrets },
	}
	// Every function call, loop iteration and write is charged to a budget
	// (template_bounds.go), so no template can hang the agent or exhaust
	// its memory.
	b := newBudget()
	t, err := template.New(r.name).Funcs(boundFuncs(r.funcs, b)).Funcs(boundFuncs(builtinBounds(), b)).
		Funcs(boundFuncs(funcs, b)).Funcs(tickFuncs(b)).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if err := graftTicks(t); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	var buf strings.Builder
	if err := t.Execute(boundedWriter{b: b, out: &buf}, nil); err != nil {
		return nil, fmt.Errorf("render template: %w", err)
	}
	fp := sha256.New()
	fp.Write([]byte(textSum))
	for _, c := range calls {
		fp.Write([]byte{0})
		fp.Write([]byte(c.key))
		fp.Write([]byte{0})
		fp.Write([]byte(c.etag))
	}
	r.textSum, r.calls = textSum, calls
	return &renderResult{output: []byte(buf.String()), fingerprint: hex.EncodeToString(fp.Sum(nil))}, nil
}

// tokenRefused reports that the server refused the access token itself: a
// 401, or the 403 TokenError Infisical answers for an expired token.
func tokenRefused(err error) bool {
	var ae *apiclient.APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.StatusCode == http.StatusUnauthorized || (ae.StatusCode == http.StatusForbidden && ae.Name == "TokenError")
}

// templateName is the name errors mention for a template.
func templateName(t *Template, i int) string {
	switch {
	case t.SourcePath != "":
		return filepath.Base(t.SourcePath)
	case t.TemplateContent != "":
		return fmt.Sprintf("template-content-%d", i)
	default:
		return fmt.Sprintf("base64-template-%d", i)
	}
}
