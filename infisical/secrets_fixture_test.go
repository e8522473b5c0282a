package infisical_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// secretsFixture is a project with the default environments and helpers to
// build the situations the secrets tests need.
type secretsFixture struct {
	t     testing.TB
	ctx   context.Context
	eng   *infisical.Engine
	org   *infisical.Organization
	admin infisical.Actor
	proj  *infisical.Project
	ref   infisical.ProjectRef

	mu    sync.Mutex
	rules map[string][]permission.Rule // custom role id -> rules
}

func newSecretsFixture(t testing.TB, b enginetest.Backend) *secretsFixture {
	t.Helper()
	ctx := context.Background()
	eng := enginetest.Open(t, b)
	org := enginetest.Org(t, eng, "Acme")
	admin := infisical.Platform(org.ID)
	p, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "Secrets"})
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	f := &secretsFixture{t: t, ctx: ctx, eng: eng, org: org, admin: admin, proj: p, ref: infisical.ProjectRef{ID: p.ID}, rules: map[string][]permission.Rule{}}
	infisical.SetCustomRoleRulesForSecretsTest(eng, func(_ context.Context, _ string, r *store.MembershipRole) ([]permission.Rule, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.CustomRoleID == nil {
			return nil, nil
		}
		return f.rules[*r.CustomRoleID], nil
	})
	return f
}

func (f *secretsFixture) scope(env, path string) infisical.SecretScope {
	return infisical.SecretScope{Project: f.ref, Environment: env, SecretPath: path}
}

func (f *secretsFixture) envID(slug string) string {
	for _, e := range f.proj.Environments {
		if e.Slug == slug {
			return e.ID
		}
	}
	f.t.Fatalf("no environment %q", slug)
	return ""
}

// folder creates the folders of path (like mkdir -p) through the folder
// service.
func (f *secretsFixture) folder(env, path string) {
	f.t.Helper()
	parent := "/"
	for _, name := range secretPathSegments(path) {
		if _, err := f.eng.Folders.Create(f.ctx, f.admin, f.ref, infisical.CreateFolderInput{
			FolderScope: infisical.FolderScope{Environment: env, Path: parent}, Name: name}); err != nil {
			f.t.Fatalf("create folder %s in %s:%s: %v", name, env, parent, err)
		}
		if parent == "/" {
			parent = "/" + name
		} else {
			parent += "/" + name
		}
	}
}

func secretPathSegments(p string) []string {
	var out []string
	cur := ""
	for _, c := range p {
		if c == '/' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
			continue
		}
		cur += string(c)
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// importInto makes (env, path) import (fromEnv, fromPath) through the
// import service.
func (f *secretsFixture) importInto(env, path, fromEnv, fromPath string) {
	f.t.Helper()
	if _, err := f.eng.Imports.Create(f.ctx, f.admin, f.ref, infisical.CreateImportInput{
		Environment: env, Path: path, ImportEnvironment: fromEnv, ImportPath: fromPath}); err != nil {
		f.t.Fatalf("import %s:%s into %s:%s: %v", fromEnv, fromPath, env, path, err)
	}
}

// rawImport inserts an import row directly (the import service refuses
// cycles, which the read path must survive anyway).
func (f *secretsFixture) rawImport(env, path, fromEnv, fromPath string, position int) {
	f.t.Helper()
	var folderID string
	err := f.eng.Store().DB().NewSelect().Table("secret_folders").Column("id").
		Where("env_id = ? AND parent_id IS NULL", f.envID(env)).Scan(f.ctx, &folderID)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, name := range secretPathSegments(path) {
		var id string
		if err := f.eng.Store().DB().NewSelect().Table("secret_folders").Column("id").
			Where("parent_id = ? AND name = ?", folderID, name).Scan(f.ctx, &id); err != nil {
			f.t.Fatal(err)
		}
		folderID = id
	}
	now := f.eng.Now()
	row := &store.SecretImport{ID: uuid.NewString(), FolderID: folderID, ImportEnvID: f.envID(fromEnv), ImportPath: fromPath,
		Position: position, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := f.eng.Store().Tx(f.ctx, func(q store.Q) error { return q.Insert(f.ctx, row) }); err != nil {
		f.t.Fatal(err)
	}
}

func (f *secretsFixture) tag(slug string) string {
	f.t.Helper()
	tg, err := f.eng.Tags.Create(f.ctx, f.admin, f.ref, infisical.CreateTagInput{Slug: slug, Color: "#fff"})
	if err != nil {
		f.t.Fatalf("create tag %s: %v", slug, err)
	}
	return tg.ID
}

func (f *secretsFixture) create(env, path, key, value string, tagIDs ...string) *infisical.Secret {
	f.t.Helper()
	s, err := f.eng.Secrets.Create(f.ctx, f.admin, infisical.CreateSecretInput{SecretScope: f.scope(env, path),
		NewSecret: infisical.NewSecret{Key: key, Value: value, TagIDs: tagIDs}})
	if err != nil {
		f.t.Fatalf("create %s:%s/%s: %v", env, path, key, err)
	}
	return s
}

func (f *secretsFixture) list(actor infisical.Actor, in infisical.ListSecretsInput) *infisical.SecretList {
	f.t.Helper()
	if in.Project == (infisical.ProjectRef{}) {
		in.Project = f.ref
	}
	out, err := f.eng.Secrets.List(f.ctx, actor, in)
	if err != nil {
		f.t.Fatalf("list %s:%s: %v", in.Environment, in.SecretPath, err)
	}
	return out
}

// user creates a user who is an organization member and a project member
// with role, directly in the store (user sign-up is another area's work).
func (f *secretsFixture) user(name, role string) infisical.Actor {
	f.t.Helper()
	now := f.eng.Now()
	u := &store.User{ID: uuid.NewString(), Username: name + "-" + uuid.NewString()[:6], CreatedAt: now, UpdatedAt: now, IsAccepted: true}
	uid := u.ID
	om := &store.OrgMembership{ID: uuid.NewString(), OrgID: f.org.ID, UserID: &uid, Role: "member", Status: "accepted", IsActive: true, CreatedAt: now, UpdatedAt: now}
	pm := &store.ProjectMembership{ID: uuid.NewString(), ProjectID: f.proj.ID, ActorType: store.ActorUser, ActorID: u.ID, CreatedAt: now, UpdatedAt: now}
	mr := &store.MembershipRole{ID: uuid.NewString(), MembershipID: pm.ID, Role: role, CreatedAt: now, UpdatedAt: now}
	err := f.eng.Store().Tx(f.ctx, func(q store.Q) error {
		for _, m := range []any{u, om, pm, mr} {
			if err := q.Insert(f.ctx, m); err != nil {
				return err
			}
		}
		q.Invalidate("access", f.proj.ID)
		return nil
	})
	if err != nil {
		f.t.Fatalf("create user: %v", err)
	}
	return infisical.Actor{Type: infisical.ActorUser, ID: u.ID, Name: name, Username: u.Username, OrgID: f.org.ID}
}

// identity creates an organization-member identity whose only project
// permissions are rules.
func (f *secretsFixture) identity(rules ...permission.Rule) infisical.Actor {
	f.t.Helper()
	ident, err := f.eng.Identities.Create(f.ctx, f.admin, infisical.CreateIdentityInput{Name: "restricted-" + uuid.NewString()[:6], OrgID: f.org.ID, Role: "member"})
	if err != nil {
		f.t.Fatalf("create identity: %v", err)
	}
	m, err := f.eng.Memberships.AddIdentity(f.ctx, f.admin, f.proj.ID, ident.IdentityID, []infisical.RoleAssignment{{Role: "no-access"}})
	if err != nil {
		f.t.Fatalf("add identity: %v", err)
	}
	roleID := uuid.NewString()
	f.mu.Lock()
	f.rules[roleID] = rules
	f.mu.Unlock()
	now := f.eng.Now()
	mr := &store.MembershipRole{ID: uuid.NewString(), MembershipID: m.ID, Role: "custom", CustomRoleID: &roleID, CreatedAt: now, UpdatedAt: now}
	err = f.eng.Store().Tx(f.ctx, func(q store.Q) error {
		if err := q.Insert(f.ctx, mr); err != nil {
			return err
		}
		q.Invalidate("access", f.proj.ID)
		return nil
	})
	if err != nil {
		f.t.Fatalf("add custom role: %v", err)
	}
	return infisical.Actor{Type: infisical.ActorIdentity, ID: ident.IdentityID, Name: "restricted", OrgID: f.org.ID}
}

// serviceToken returns a legacy service-token actor with scopes.
func (f *secretsFixture) serviceToken(write bool, scopes ...infisical.ServiceScope) infisical.Actor {
	return infisical.Actor{Type: infisical.ActorService, ID: uuid.NewString(), Name: "st", OrgID: f.org.ID, ProjectID: f.proj.ID,
		ServiceScopes: scopes, ServiceWrite: write}
}

// kindOf asserts err's kind.
func secErrKind(t testing.TB, err error, kind infisical.Kind, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: want error kind %d, got nil", what, kind)
	}
	if got := infisical.KindOf(err); got != kind {
		t.Fatalf("%s: want error kind %d, got %d (%v)", what, kind, got, err)
	}
}

// wantField asserts a 422 naming field.
func secErrField(t testing.TB, err error, field, what string) {
	t.Helper()
	secErrKind(t, err, infisical.KindValidation, what)
	var e *infisical.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: not an *Error: %v", what, err)
	}
	issues, _ := e.Details.([]infisical.ValidationIssue)
	if len(issues) == 0 || len(issues[0].Path) == 0 || issues[0].Path[0] != field {
		t.Fatalf("%s: want issue naming %q, got %+v", what, field, e.Details)
	}
}

func secretValues(list []infisical.Secret) map[string]string {
	out := map[string]string{}
	for _, s := range list {
		out[s.Key] = s.Value
	}
	return out
}

func secretKeys(list []infisical.Secret) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Key
	}
	return out
}
