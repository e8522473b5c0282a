package agent

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// retryPolicy is infisical.retry-strategy: how one request is retried when
// the server cannot be reached or answers 429/502/503/504.
type retryPolicy struct {
	maxRetries int
	base, max  time.Duration
}

// defaultRetry matches Infisical's agent: 3 retries, 200 ms doubling up to 5 s.
var defaultRetry = retryPolicy{maxRetries: 3, base: 200 * time.Millisecond, max: 5 * time.Second}

func retryFrom(rs *RetryStrategy) retryPolicy {
	p := defaultRetry
	if rs == nil {
		return p
	}
	if rs.MaxRetries > 0 {
		p.maxRetries = rs.MaxRetries
	}
	if d, err := ParseInterval(rs.BaseDelay); err == nil {
		p.base = d
	}
	if d, err := ParseInterval(rs.MaxDelay); err == nil {
		p.max = d
	}
	if p.max < p.base {
		p.max = p.base
	}
	return p
}

// retryable reports errors worth another try of the same request.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return apiclient.IsUnreachable(err) || apiclient.StatusCode(err) == http.StatusTooManyRequests
}

// do runs f, retrying per the policy.
func (p retryPolicy) do(ctx context.Context, f func() error) error {
	delay := p.base
	for attempt := 0; ; attempt++ {
		err := f()
		if !retryable(err) || attempt >= p.maxRetries || ctx.Err() != nil {
			return err
		}
		if !sleep(ctx, delay) {
			return err
		}
		delay = min(delay*2, p.max)
	}
}

// Tag is a secret tag as templates see it.
type Tag struct {
	ID    string
	Name  string
	Slug  string
	Color string
}

// Secret is one secret as templates see it; the field names are those of
// Infisical's agent (its models.SingleEnvironmentVariable), so existing
// templates keep working.
type Secret struct {
	Key                   string
	WorkspaceId           string //nolint:revive // Infisical's template field name
	Value                 string
	Type                  string
	ID                    string
	SecretPath            string
	Tags                  []Tag
	Comment               string
	Etag                  string
	SkipMultilineEncoding bool
}

func toSecret(s apiclient.Secret, etag, path string) Secret {
	out := Secret{
		Key: s.SecretKey, WorkspaceId: s.Workspace, Value: s.SecretValue, Type: s.Type,
		ID: s.Identifier(), SecretPath: s.SecretPath, Comment: s.SecretComment, Etag: etag,
		SkipMultilineEncoding: s.SkipMultilineEncoding, Tags: make([]Tag, 0, len(s.Tags)),
	}
	if out.SecretPath == "" {
		out.SecretPath = path
	}
	for _, t := range s.Tags {
		out.Tags = append(out.Tags, Tag{ID: t.ID, Name: t.Name, Slug: t.Slug, Color: t.Color})
	}
	return out
}

// ListQuery selects the secrets of listSecrets.
type ListQuery struct {
	ProjectID   string
	Environment string
	SecretPath  string
	Recursive   bool
	Expand      bool
}

// fetched is the answer of a conditional read: notModified means the
// server confirmed the ETag and secrets is empty.
type fetched struct {
	etag        string
	notModified bool
	secrets     []Secret
}

// api is the part of the Infisical API the agent uses, with the retry
// policy applied to every call.
type api struct {
	c     *apiclient.Client // without a token
	retry retryPolicy
}

// listSecrets is GET /api/v4/secrets with imports merged the way
// Infisical's CLI merges them (an imported key never hides a local one).
func (a *api) listSecrets(ctx context.Context, token string, q ListQuery, ifNoneMatch string) (*fetched, error) {
	var l *apiclient.SecretList
	err := a.retry.do(ctx, func() (err error) {
		l, err = a.c.WithToken(token).ListSecrets(ctx, apiclient.ListSecretsOptions{
			ProjectID: q.ProjectID, Environment: q.Environment, SecretPath: q.SecretPath,
			IncludeImports: true, Recursive: q.Recursive, ExpandSecretReferences: q.Expand, ETag: ifNoneMatch,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if l.NotModified {
		return &fetched{etag: l.ETag, notModified: true}, nil
	}
	merged := l.Merged()
	out := &fetched{etag: l.ETag, secrets: make([]Secret, 0, len(merged))}
	for _, s := range merged {
		out.secrets = append(out.secrets, toSecret(s, l.ETag, q.SecretPath))
	}
	return out, nil
}

// getSecret is GET /api/v4/secrets/{name} (shared, imports and expansion
// on, as Infisical's agent asks).
func (a *api) getSecret(ctx context.Context, token string, g [4]string, ifNoneMatch string) (*fetched, error) {
	var r *apiclient.SecretResult
	err := a.retry.do(ctx, func() (err error) {
		r, err = a.c.WithToken(token).GetSecret(ctx, apiclient.GetSecretOptions{
			ProjectID: g[0], Environment: g[1], SecretPath: g[2], Name: g[3],
			Type: "shared", IncludeImports: true, ExpandSecretReferences: true, ETag: ifNoneMatch,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if r.NotModified {
		return &fetched{etag: r.ETag, notModified: true}, nil
	}
	return &fetched{etag: r.ETag, secrets: []Secret{toSecret(r.Secret, r.ETag, g[2])}}, nil
}

// projectID resolves a project slug (GET /api/v1/projects/slug/{slug}).
func (a *api) projectID(ctx context.Context, token, slug string) (string, error) {
	var p *apiclient.Project
	err := a.retry.do(ctx, func() (err error) {
		p, err = a.c.WithToken(token).ProjectBySlug(ctx, slug)
		return err
	})
	if err != nil {
		return "", err
	}
	if p.Identifier() == "" {
		return "", errors.New("get project " + slug + ": the server returned no project id")
	}
	return p.Identifier(), nil
}

func (a *api) login(ctx context.Context, opts apiclient.CredentialOptions) (*apiclient.Token, error) {
	var t *apiclient.Token
	err := a.retry.do(ctx, func() (err error) {
		t, err = a.c.MachineLogin(ctx, opts)
		return err
	})
	return t, err
}

func (a *api) renew(ctx context.Context, token string) (*apiclient.Token, error) {
	var t *apiclient.Token
	err := a.retry.do(ctx, func() (err error) {
		t, err = a.c.RenewToken(ctx, token)
		return err
	})
	return t, err
}

func (a *api) revoke(ctx context.Context, token string) error {
	return a.retry.do(ctx, func() error { return a.c.RevokeToken(ctx, token) })
}
