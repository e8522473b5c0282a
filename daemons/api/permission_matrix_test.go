package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/infisical-go/engine/daemons/api"
	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms/kmstest"
)

// The permission matrix calls every route of the server's route table as
// every kind of actor and checks the exact status against what the actor's
// credential kind and roles allow:
//
//	anonymous                                   → 401 (public routes: their status)
//	a credential kind the route does not accept → 403
//	admin identity / user of another org        → 404 / 403 on this organization's resources
//	org member, project role no-access|viewer|member|admin (identities)
//	org member, project role no-access|viewer|member (users)
//	org no-access, not a member of the project (identity)
//	org admin, not a member of the project      → project admin everywhere (identity and user)
//	read-only service token of the fixture project (dev:/**)
//
// Each route of the table (this file and permission_matrix_routes_test.go)
// declares the credential kinds it accepts (from the spec; checked against
// the route table), what it needs (project or organization permissions) and
// how to build a valid request; the expected status of each actor is
// generated from the built-in role definitions. A route without an entry
// fails the test: new routes must be added to the matrix.

type mKind int

const (
	kAnon mKind = iota
	kOtherOrg
	kInOrg
	kService // legacy service token of the fixture project: read, dev:/**
)

type mActor struct {
	name     string
	kind     mKind
	user     bool // a user session (else a machine identity); kInOrg and kOtherOrg
	token    string
	id       string
	orgID    string
	email    string // users: to open fresh sessions
	password string
	orgRole  string
	projRole string // role in the fixture project ("" none)
}

type needKind int

const (
	nProject   needKind = iota // permissions in the fixture project; other org: 404
	nOrg                       // permissions in the fixture organization; other org: 403/404
	nOwnOrg                    // permissions in the caller's own organization (route acts on it)
	nOrgMember                 // any member of the fixture organization; other org: 403/404
	nAny                       // any caller whose credential kind the route accepts
	nPublic                    // no credentials: every caller gets need.status
)

type perm struct{ subject, action string }

type need struct {
	kind  needKind
	perms []perm
	anyOf bool // one of perms suffices
	// orOrg (nProject): these organization permissions grant the route too.
	orOrg []perm
	// status (nPublic): what every caller gets, whatever it sends.
	status int
	// other, when set, is what a caller of another organization gets
	// (instead of 404 or 403).
	other int
}

func proj(p ...perm) need   { return need{kind: nProject, perms: p} }
func org(p ...perm) need    { return need{kind: nOrg, perms: p} }
func ownOrg(p ...perm) need { return need{kind: nOwnOrg, perms: p} }
func anyCaller() need       { return need{kind: nAny} }
func pub(status int) need   { return need{kind: nPublic, status: status} }

type mreq struct {
	path  string
	query url.Values
	body  any
}

type mcase struct {
	need need
	// kinds are the credential kinds the route accepts, from the spec: "U"
	// user, "I" machine identity, "S" service token; "" for a public route.
	kinds string
	prep  func(fx *mfx) mreq
	// endsSession: the call ends the caller's session(s) (logout, selecting
	// an organization, revoking all sessions). User actors send a fresh
	// session instead of theirs and open a new one afterwards.
	endsSession bool
	// done runs after every actor called the route (clean-up of resources
	// that would otherwise pile up).
	done func(fx *mfx)
}

// mfx holds the shared fixture.
type mfx struct {
	t      *testing.T
	ts     *testServer
	ctx    context.Context
	admin  string // org admin token (bootstrap identity) used for setup
	orgID  string
	pid    string
	pslug  string
	actors []*mActor
	n      int
	vars   map[string]string
	// awsKey is a key of the local AWS KMS that external KMSs use.
	awsKey string
	// streamURL is a local HTTPS endpoint that accepts audit-log streams.
	streamURL string
}

var paramRE = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

// path fills a route pattern from the shared variables, overridden by kv
// (name, value, ...).
func (fx *mfx) path(pattern string, kv ...string) string {
	over := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		over[kv[i]] = kv[i+1]
	}
	return paramRE.ReplaceAllStringFunc(pattern, func(m string) string {
		name := m[1 : len(m)-1]
		if v, ok := over[name]; ok {
			return url.PathEscape(v)
		}
		if v, ok := fx.vars[name]; ok {
			return url.PathEscape(v)
		}
		return "00000000-0000-0000-0000-000000000000"
	})
}

func (fx *mfx) uniq(prefix string) string {
	fx.n++
	return fmt.Sprintf("%s-%d", prefix, fx.n)
}

func (fx *mfx) must(method, path string, body, out any) {
	fx.t.Helper()
	fx.ts.must(method, path, fx.admin, body, out)
}

type idOut struct {
	ID string `json:"id"`
}

// ---- fresh resources (created with the org admin) ------------------------------

func (fx *mfx) identity(name string) string {
	var out struct {
		Identity idOut `json:"identity"`
	}
	fx.must("POST", "/api/v1/identities", map[string]any{"name": fx.uniq(name), "organizationId": fx.orgID, "role": "no-access"}, &out)
	return out.Identity.ID
}

func (fx *mfx) memberIdentity() string {
	id := fx.identity("member")
	fx.must("POST", "/api/v2/workspace/"+fx.pid+"/identity-memberships/"+id, map[string]any{"role": "no-access"}, nil)
	return id
}

func (fx *mfx) uaIdentity() string {
	id := fx.identity("ua")
	fx.must("POST", "/api/v1/auth/universal-auth/identities/"+id, map[string]any{}, nil)
	return id
}

func (fx *mfx) clientSecret(identityID string) string {
	var out struct {
		Data idOut `json:"clientSecretData"`
	}
	fx.must("POST", "/api/v1/auth/universal-auth/identities/"+identityID+"/client-secrets", map[string]any{"description": "m"}, &out)
	return out.Data.ID
}

func (fx *mfx) taIdentity() string {
	id := fx.identity("ta")
	fx.must("POST", "/api/v1/auth/token-auth/identities/"+id, map[string]any{}, nil)
	return id
}

func (fx *mfx) taToken(identityID string) string {
	var out struct {
		Data idOut `json:"tokenData"`
	}
	fx.must("POST", "/api/v1/auth/token-auth/identities/"+identityID+"/tokens", map[string]any{"name": "m"}, &out)
	return out.Data.ID
}

func (fx *mfx) folder() (id, name string) {
	name = strings.ReplaceAll(fx.uniq("f"), "-", "_")
	var out struct {
		Folder idOut `json:"folder"`
	}
	fx.must("POST", "/api/v1/folders", map[string]any{"workspaceId": fx.pid, "environment": "dev", "name": name, "path": "/"}, &out)
	return out.Folder.ID, name
}

func (fx *mfx) importInto(path string) string {
	var out struct {
		SecretImport idOut `json:"secretImport"`
	}
	fx.must("POST", "/api/v1/secret-imports", map[string]any{"workspaceId": fx.pid, "environment": "dev", "path": path,
		"import": map[string]any{"environment": "staging", "path": "/"}}, &out)
	return out.SecretImport.ID
}

func (fx *mfx) tag() (id, slug string) {
	slug = fx.uniq("tag")
	var out struct {
		Tag idOut `json:"tag"`
	}
	fx.must("POST", "/api/v1/workspace/"+fx.pid+"/tags", map[string]any{"slug": slug, "color": ""}, &out)
	return out.Tag.ID, slug
}

func (fx *mfx) env() string {
	var out struct {
		Environment idOut `json:"environment"`
	}
	s := fx.uniq("env")
	fx.must("POST", "/api/v1/workspace/"+fx.pid+"/environments", map[string]any{"name": s, "slug": s}, &out)
	return out.Environment.ID
}

func (fx *mfx) secret() string {
	key := strings.ToUpper(strings.ReplaceAll(fx.uniq("S"), "-", "_"))
	fx.must("POST", "/api/v3/secrets/raw/"+key, map[string]any{"workspaceId": fx.pid, "environment": "dev", "secretPath": "/", "secretValue": "v"}, nil)
	return key
}

func (fx *mfx) role() (id, slug string) {
	slug = fx.uniq("role")
	var out struct {
		Role idOut `json:"role"`
	}
	fx.must("POST", "/api/v2/workspace/"+fx.pid+"/roles", map[string]any{"slug": slug, "name": slug,
		"permissions": []map[string]any{{"subject": "secrets", "action": []string{"read"}}}}, &out)
	return out.Role.ID, slug
}

func (fx *mfx) orgRole() string {
	var out struct {
		Role idOut `json:"role"`
	}
	s := fx.uniq("orgrole")
	fx.must("POST", "/api/v1/organization/"+fx.orgID+"/roles", map[string]any{"slug": s, "name": s,
		"permissions": []map[string]any{{"subject": "workspace", "action": []string{"read"}}}}, &out)
	return out.Role.ID
}

func (fx *mfx) group() string {
	var out idOut
	fx.must("POST", "/api/v1/groups", map[string]any{"name": fx.uniq("Group")}, &out)
	return out.ID
}

func (fx *mfx) projectGroup() string {
	id := fx.group()
	fx.must("POST", "/api/v2/workspace/"+fx.pid+"/groups/"+id, map[string]any{"role": "no-access"}, nil)
	return id
}

// orgUser adds an accepted member user without password to the
// organization and returns its username and organization membership id.
func (fx *mfx) orgUser() (username, membershipID string) {
	fx.t.Helper()
	eng := fx.ts.eng
	now := eng.Now()
	name := fx.uniq("user")
	u := &store.User{ID: uuid.NewString(), Username: name, CreatedAt: now, UpdatedAt: now, IsAccepted: true}
	uid := u.ID
	om := &store.OrgMembership{ID: uuid.NewString(), OrgID: fx.orgID, UserID: &uid, Role: "member", Status: "accepted", IsActive: true, CreatedAt: now, UpdatedAt: now}
	if err := eng.Store().Tx(fx.ctx, func(q store.Q) error {
		if err := q.Insert(fx.ctx, u); err != nil {
			return err
		}
		return q.Insert(fx.ctx, om)
	}); err != nil {
		fx.t.Fatal(err)
	}
	return name, om.ID
}

func (fx *mfx) user() string {
	name, _ := fx.orgUser()
	return name
}

func (fx *mfx) privilege(identityID string) (id, slug string) {
	slug = fx.uniq("priv")
	var out struct {
		Privilege idOut `json:"privilege"`
	}
	fx.must("POST", "/api/v2/identity-project-additional-privilege", map[string]any{"identityId": identityID, "projectId": fx.pid, "slug": slug,
		"permissions": []map[string]any{{"subject": "secrets", "action": []string{"read"}}}, "type": map[string]any{"isTemporary": false}}, &out)
	return out.Privilege.ID, slug
}

func (fx *mfx) template() string {
	var out struct {
		T idOut `json:"projectTemplate"`
	}
	fx.must("POST", "/api/v1/project-templates", map[string]any{"name": fx.uniq("tmpl"), "type": "secret-manager"}, &out)
	return out.T.ID
}

// addUserToProject makes a user of the organization a member of a project
// with role and returns the membership id.
func (fx *mfx) addUserToProject(projectID, username, role string) string {
	fx.t.Helper()
	var out struct {
		Memberships []idOut `json:"memberships"`
	}
	fx.must("POST", "/api/v2/workspace/"+projectID+"/memberships", map[string]any{"usernames": []string{username}, "roleSlugs": []string{role}}, &out)
	if len(out.Memberships) != 1 {
		fx.t.Fatalf("add %s to project %s: %+v", username, projectID, out)
	}
	return out.Memberships[0].ID
}

// project creates a project in which every in-org actor holds its role.
func (fx *mfx) project() (id, slug string) {
	fx.t.Helper()
	var out struct {
		Project struct {
			ID   string `json:"id"`
			Slug string `json:"slug"`
		} `json:"project"`
	}
	fx.must("POST", "/api/v2/workspace", map[string]any{"projectName": fx.uniq("Project")}, &out)
	for _, a := range fx.actors {
		if a.kind != kInOrg || a.projRole == "" || a.orgRole == "admin" {
			continue
		}
		if a.user {
			fx.addUserToProject(out.Project.ID, a.email, a.projRole)
		} else {
			fx.must("POST", "/api/v2/workspace/"+out.Project.ID+"/identity-memberships/"+a.id, map[string]any{"role": a.projRole}, nil)
		}
	}
	return out.Project.ID, out.Project.Slug
}

// session opens a new organization-scoped session of a user actor.
func (fx *mfx) session(a *mActor) string {
	fx.t.Helper()
	return fx.ts.usrLogin(a.email, a.password, a.orgID)
}

// ---- the fixture ---------------------------------------------------------------

const matrixPassword = "matrix-password-1"

// matrixUser creates a user with a password in orgID (org role orgRole),
// optionally a member of projectID with projRole, and logs it in.
func (fx *mfx) matrixUser(name, orgID, orgRole, projRole string) *mActor {
	fx.t.Helper()
	email := name + "@matrix.example"
	m, err := fx.ts.eng.Users.Create(fx.ctx, infisical.Platform(orgID), infisical.CreateUserInput{Email: email, Password: matrixPassword, OrgID: orgID, OrgRole: orgRole})
	if err != nil {
		fx.t.Fatalf("create user %s: %v", email, err)
	}
	if projRole != "" && orgRole != "admin" {
		fx.addUserToProject(fx.pid, email, projRole)
	}
	a := &mActor{name: name, kind: kInOrg, user: true, id: m.UserID, orgID: orgID, email: email, password: matrixPassword, orgRole: orgRole, projRole: projRole}
	if orgID != fx.orgID {
		a.kind = kOtherOrg
	}
	a.token = fx.session(a)
	return a
}

func newMatrixFixture(t *testing.T, b enginetest.Backend) (*mfx, *api.Server) {
	t.Helper()
	// Audit-log streams post to a local HTTPS endpoint; it is closed after
	// the engine (clean-ups run last-in first-out).
	streams := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(streams.Close)
	aws := kmstest.New(t, "eu-central-1")
	aws.AddCredentials(matrixAWSKeyID, matrixAWSSecret)
	eng := enginetest.Open(t, b, usrFast, func(c *infisical.Config) {
		c.LoginRateLimitPerEmail, c.LoginRateLimitPerIP = -1, -1
		c.Audit.StreamClient = streams.Client()
		c.Audit.AllowPrivateStreamTargets = true
		c.ExternalKMS = infisical.ExternalKMSConfig{AWSEndpoint: aws.URL(), AWSSTSEndpoint: aws.URL()}
	})
	srv, err := api.New(eng, api.Config{Logger: eng.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := serveHandler(t, eng, srv)
	boot := ts.bootstrap()
	fx := &mfx{t: t, ts: ts, ctx: context.Background(), admin: boot.AdminToken, orgID: boot.OrgID, vars: map[string]string{},
		awsKey: aws.CreateKey("matrix"), streamURL: streams.URL}
	var p struct {
		Project struct {
			ID   string `json:"id"`
			Slug string `json:"slug"`
		} `json:"project"`
	}
	fx.must("POST", "/api/v2/workspace", map[string]any{"projectName": "Matrix"}, &p)
	fx.pid, fx.pslug = p.Project.ID, p.Project.Slug

	// Actors.
	fx.actors = append(fx.actors, &mActor{name: "anonymous", kind: kAnon})
	other := enginetest.Org(t, eng, "Other")
	oid, otok := enginetest.IdentityToken(t, eng, other.ID, "admin", "", "")
	fx.actors = append(fx.actors, &mActor{name: "other-org", kind: kOtherOrg, token: otok, id: oid, orgID: other.ID, orgRole: "admin"})
	fx.actors = append(fx.actors, fx.matrixUser("other-org-user", other.ID, "admin", ""))
	for _, role := range []string{"no-access", "viewer", "member", "admin"} {
		id, tok := enginetest.IdentityToken(t, eng, fx.orgID, "member", fx.pid, role)
		fx.actors = append(fx.actors, &mActor{name: "project-" + role, kind: kInOrg, token: tok, id: id, orgID: fx.orgID, orgRole: "member", projRole: role})
	}
	nid, ntok := enginetest.IdentityToken(t, eng, fx.orgID, "no-access", "", "")
	fx.actors = append(fx.actors, &mActor{name: "org-no-access", kind: kInOrg, token: ntok, id: nid, orgID: fx.orgID, orgRole: "no-access"})
	aid, atok := enginetest.IdentityToken(t, eng, fx.orgID, "admin", "", "")
	fx.actors = append(fx.actors, &mActor{name: "org-admin", kind: kInOrg, token: atok, id: aid, orgID: fx.orgID, orgRole: "admin"})
	for _, role := range []string{"no-access", "viewer", "member"} {
		fx.actors = append(fx.actors, fx.matrixUser("user-"+role, fx.orgID, "member", role))
	}
	fx.actors = append(fx.actors, fx.matrixUser("user-org-admin", fx.orgID, "admin", ""))
	stok, _, err := eng.ServiceTokens.Create(fx.ctx, infisical.Platform(fx.orgID), infisical.CreateServiceTokenInput{Name: "matrix", ProjectID: fx.pid,
		Scopes: []infisical.ServiceScope{{Environment: "dev", SecretPath: "/**"}}, Permissions: []string{"read"}})
	if err != nil {
		t.Fatalf("create service token: %v", err)
	}
	fx.actors = append(fx.actors, &mActor{name: "service-token", kind: kService, token: stok})

	// Shared resources.
	var proj struct {
		Workspace struct {
			Environments []struct {
				ID   string `json:"id"`
				Slug string `json:"slug"`
			} `json:"environments"`
		} `json:"workspace"`
	}
	fx.must("GET", "/api/v1/workspace/"+fx.pid, nil, &proj)
	for _, e := range proj.Workspace.Environments {
		if e.Slug == "dev" {
			fx.vars["envId"] = e.ID
		}
	}
	fx.must("POST", "/api/v3/secrets/raw/SHARED", map[string]any{"workspaceId": fx.pid, "environment": "dev", "secretPath": "/", "secretValue": "v"}, nil)
	var sec struct {
		Secret idOut `json:"secret"`
	}
	fx.must("GET", "/api/v3/secrets/raw/SHARED?workspaceId="+fx.pid+"&environment=dev", nil, &sec)
	folderID, folderName := fx.folder()
	tagID, tagSlug := fx.tag()
	ua := fx.uaIdentity()
	ta := fx.taIdentity()
	member := fx.memberIdentity()
	var im struct {
		M idOut `json:"identityMembership"`
	}
	fx.must("GET", "/api/v2/workspace/"+fx.pid+"/identity-memberships/"+member, nil, &im)
	roleID, roleSlug := fx.role()
	privID, privSlug := fx.privilege(member)
	for k, v := range map[string]string{
		"workspaceId": fx.pid, "projectId": fx.pid, "projectSlug": fx.pslug, "organizationId": fx.orgID, "orgId": fx.orgID,
		"secretName": "SHARED", "secretId": sec.Secret.ID, "folderId": folderID, "folderIdOrName": folderID, "folderName": folderName,
		"secretImportId": fx.importInto("/" + folderName), "tagId": tagID, "tagSlug": tagSlug,
		"identityId": member, "uaIdentity": ua, "taIdentity": ta, "identityMembershipId": im.M.ID,
		"clientSecretId": fx.clientSecret(ua), "tokenId": fx.taToken(ta),
		"roleId": roleID, "roleSlug": roleSlug, "orgRoleId": fx.orgRole(),
		"groupId": fx.projectGroup(), "username": fx.user(), "privilegeId": privID, "privilegeSlug": privSlug,
		"templateId": fx.template(),
	} {
		fx.vars[k] = v
	}
	fx.accountFixtures()
	return fx, srv
}

// ---- the table ------------------------------------------------------------------

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// mtable is the route table: "METHOD pattern" → case.
type mtable map[string]mcase

// add registers a route that accepts users and machine identities (U, I:
// most routes of the spec).
func (c mtable) add(method, pattern string, n need, prep func(fx *mfx, pattern string) mreq) {
	c.addK("UI", method, pattern, n, prep)
}

// addK registers a route that accepts the credential kinds kinds.
func (c mtable) addK(kinds, method, pattern string, n need, prep func(fx *mfx, pattern string) mreq) {
	c[method+" "+pattern] = mcase{need: n, kinds: kinds, prep: func(fx *mfx) mreq { return prep(fx, pattern) }}
}

// set changes the case of a registered route.
func (c mtable) set(method, pattern string, f func(mc *mcase)) {
	mc := c[method+" "+pattern]
	f(&mc)
	c[method+" "+pattern] = mc
}

func plain(fx *mfx, p string) mreq { return mreq{path: fx.path(p)} }

// withQ fills the pattern and sends the query kv; a value "$name" is the
// shared variable name.
func withQ(kv ...string) func(fx *mfx, p string) mreq {
	return func(fx *mfx, p string) mreq {
		vals := q(kv...)
		for k, v := range vals {
			if strings.HasPrefix(v[0], "$") {
				vals.Set(k, fx.vars[v[0][1:]])
			}
		}
		return mreq{path: fx.path(p), query: vals}
	}
}

const (
	read, create, edit, del = "read", "create", "edit", "delete"
)

// matrixCases returns the route table.
func matrixCases() mtable {
	c := mtable{}
	add := c.add
	// addS registers a route that service tokens may call too (U, I, S).
	addS := func(method, pattern string, n need, prep func(fx *mfx, pattern string) mreq) {
		c.addK("UIS", method, pattern, n, prep)
	}

	// Projects.
	add("POST", "/api/v2/workspace", ownOrg(perm{"workspace", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"projectName": fx.uniq("Made")}}
	})
	add("GET", "/api/v1/workspace", anyCaller(), plain)
	add("GET", "/api/v2/organizations/{organizationId}/workspaces", need{kind: nOrgMember}, plain)
	for _, base := range []string{"/api/v1/workspace/{workspaceId}", "/api/v1/projects/{workspaceId}"} {
		addS("GET", base, proj(perm{"secrets", read}), plain)
		add("PATCH", base, proj(perm{"settings", edit}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p), body: map[string]any{"name": "Matrix"}}
		})
		add("DELETE", base, proj(perm{"workspace", del}), func(fx *mfx, p string) mreq {
			id, _ := fx.project()
			return mreq{path: fx.path(p, "workspaceId", id)}
		})
	}
	for _, p := range []string{"/api/v1/projects/slug/{slug}", "/api/v2/workspace/{slug}"} {
		add("GET", p, proj(perm{"secrets", read}), func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "slug", fx.pslug)} })
	}
	add("PATCH", "/api/v2/workspace/{slug}", proj(perm{"settings", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "slug", fx.pslug), body: map[string]any{"name": "Matrix"}}
	})
	add("DELETE", "/api/v2/workspace/{slug}", proj(perm{"workspace", del}), func(fx *mfx, p string) mreq {
		_, slug := fx.project()
		return mreq{path: fx.path(p, "slug", slug)}
	})
	add("PUT", "/api/v1/workspace/{workspaceId}/audit-logs-retention", proj(perm{"settings", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"auditLogsRetentionDays": 30}}
	})

	// Environments.
	for _, base := range []string{"/api/v1/workspace/{workspaceId}/environments", "/api/v1/projects/{workspaceId}/environments"} {
		add("POST", base, proj(perm{"environments", create}), func(fx *mfx, p string) mreq {
			s := fx.uniq("env")
			return mreq{path: fx.path(p), body: map[string]any{"name": s, "slug": s}}
		})
		add("PATCH", base+"/{envId}", proj(perm{"environments", edit}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p, "envId", fx.env()), body: map[string]any{"name": fx.uniq("renamed")}}
		})
		add("DELETE", base+"/{envId}", proj(perm{"environments", del}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p, "envId", fx.env())}
		})
		add("GET", base+"/{envId}", proj(perm{"environments", read}), plain)
	}
	add("GET", "/api/v1/projects/{workspaceId}/environments/slug/{slug}", proj(perm{"environments", read}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "slug", "dev")}
	})
	add("GET", "/api/v1/workspace/environments/{envId}", proj(perm{"environments", read}), plain)

	// Folders.
	addS("POST", "/api/v1/folders", proj(perm{"secret-folders", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"workspaceId": fx.pid, "environment": "dev", "name": strings.ReplaceAll(fx.uniq("nf"), "-", "_"), "path": "/"}}
	})
	addS("GET", "/api/v1/folders", proj(perm{"secret-folders", read}), withQ("workspaceId", "$projectId", "environment", "dev", "path", "/"))
	addS("GET", "/api/v1/folders/{folderId}", proj(perm{"secret-folders", read}), plain)
	addS("PATCH", "/api/v1/folders/batch", proj(perm{"secret-folders", edit}), func(fx *mfx, p string) mreq {
		id, _ := fx.folder()
		return mreq{path: p, body: map[string]any{"projectId": fx.pid, "folders": []map[string]any{{"id": id, "environment": "dev", "name": strings.ReplaceAll(fx.uniq("bf"), "-", "_"), "path": "/"}}}}
	})
	addS("PATCH", "/api/v1/folders/{folderId}", proj(perm{"secret-folders", edit}), func(fx *mfx, p string) mreq {
		id, _ := fx.folder()
		return mreq{path: fx.path(p, "folderId", id), body: map[string]any{"workspaceId": fx.pid, "environment": "dev", "name": strings.ReplaceAll(fx.uniq("rf"), "-", "_"), "path": "/"}}
	})
	addS("DELETE", "/api/v1/folders/{folderIdOrName}", proj(perm{"secret-folders", del}), func(fx *mfx, p string) mreq {
		id, _ := fx.folder()
		return mreq{path: fx.path(p, "folderIdOrName", id), body: map[string]any{"workspaceId": fx.pid, "environment": "dev", "path": "/"}}
	})

	// Secret imports.
	addS("POST", "/api/v1/secret-imports", proj(perm{"secret-imports", create}, perm{"secrets", read}), func(fx *mfx, p string) mreq {
		_, name := fx.folder()
		return mreq{path: p, body: map[string]any{"workspaceId": fx.pid, "environment": "dev", "path": "/" + name,
			"import": map[string]any{"environment": "staging", "path": "/"}}}
	})
	addS("GET", "/api/v1/secret-imports", proj(perm{"secret-imports", read}), withQ("workspaceId", "$projectId", "environment", "dev", "path", "/"))
	addS("GET", "/api/v1/secret-imports/{secretImportId}", proj(perm{"secret-imports", read}), plain)
	addS("PATCH", "/api/v1/secret-imports/{secretImportId}", proj(perm{"secret-imports", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"workspaceId": fx.pid, "environment": "dev", "path": "/" + fx.vars["folderName"],
			"import": map[string]any{"position": 1}}}
	})
	addS("DELETE", "/api/v1/secret-imports/{secretImportId}", proj(perm{"secret-imports", del}), func(fx *mfx, p string) mreq {
		_, name := fx.folder()
		return mreq{path: fx.path(p, "secretImportId", fx.importInto("/"+name)), body: map[string]any{"workspaceId": fx.pid, "environment": "dev", "path": "/" + name}}
	})

	// Tags.
	for _, base := range []string{"/api/v1/workspace/{projectId}/tags", "/api/v1/projects/{projectId}/tags"} {
		add("GET", base, proj(perm{"tags", read}), plain)
		add("POST", base, proj(perm{"tags", create}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p), body: map[string]any{"slug": fx.uniq("nt"), "color": ""}}
		})
		add("GET", base+"/slug/{tagSlug}", proj(perm{"tags", read}), plain)
		add("GET", base+"/{tagId}", proj(perm{"tags", read}), plain)
		add("PATCH", base+"/{tagId}", proj(perm{"tags", edit}), func(fx *mfx, p string) mreq {
			id, _ := fx.tag()
			return mreq{path: fx.path(p, "tagId", id), body: map[string]any{"slug": fx.uniq("rt")}}
		})
		add("DELETE", base+"/{tagId}", proj(perm{"tags", del}), func(fx *mfx, p string) mreq {
			id, _ := fx.tag()
			return mreq{path: fx.path(p, "tagId", id)}
		})
	}

	// Secrets, v3 raw and v4.
	for _, v := range []struct{ list, one, byID, batch string }{
		{"/api/v3/secrets/raw", "/api/v3/secrets/raw/{secretName}", "/api/v3/secrets/raw/id/{secretId}", "/api/v3/secrets/batch/raw"},
		{"/api/v4/secrets", "/api/v4/secrets/{secretName}", "/api/v4/secrets/id/{secretId}", "/api/v4/secrets/batch"},
	} {
		scope := func(fx *mfx) map[string]any {
			return map[string]any{"workspaceId": fx.pid, "projectId": fx.pid, "environment": "dev", "secretPath": "/"}
		}
		with := func(m map[string]any, kv ...any) map[string]any {
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		addS("GET", v.list, proj(perm{"secrets", "describeSecret"}), withQ("workspaceId", "$projectId", "projectId", "$projectId", "environment", "dev", "secretPath", "/"))
		addS("GET", v.one, proj(perm{"secrets", "describeSecret"}), withQ("workspaceId", "$projectId", "projectId", "$projectId", "environment", "dev", "secretPath", "/"))
		addS("POST", v.one, proj(perm{"secrets", create}), func(fx *mfx, p string) mreq {
			key := strings.ToUpper(strings.ReplaceAll(fx.uniq("N"), "-", "_"))
			return mreq{path: fx.path(p, "secretName", key), body: with(scope(fx), "secretValue", "x")}
		})
		addS("PATCH", v.one, proj(perm{"secrets", edit}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p), body: with(scope(fx), "secretValue", "y")}
		})
		addS("DELETE", v.one, proj(perm{"secrets", del}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p, "secretName", fx.secret()), body: scope(fx)}
		})
		add("GET", v.byID, proj(perm{"secrets", "describeSecret"}), plain)
		addS("POST", v.batch, proj(perm{"secrets", create}), func(fx *mfx, p string) mreq {
			key := strings.ToUpper(strings.ReplaceAll(fx.uniq("B"), "-", "_"))
			return mreq{path: p, body: with(scope(fx), "secrets", []map[string]any{{"secretKey": key, "secretValue": "x"}})}
		})
		addS("PATCH", v.batch, proj(perm{"secrets", edit}), func(fx *mfx, p string) mreq {
			return mreq{path: p, body: with(scope(fx), "secrets", []map[string]any{{"secretKey": "SHARED", "secretValue": "z"}})}
		})
		addS("DELETE", v.batch, proj(perm{"secrets", del}), func(fx *mfx, p string) mreq {
			return mreq{path: p, body: with(scope(fx), "secrets", []map[string]any{{"secretKey": fx.secret()}})}
		})
	}
	for _, m := range []string{"POST", "DELETE"} {
		add(m, "/api/v3/secrets/tags/{secretName}", proj(perm{"secrets", edit}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p), body: map[string]any{"projectSlug": fx.pslug, "environment": "dev", "secretPath": "/", "type": "shared",
				"tagSlugs": []string{fx.vars["tagSlug"]}}}
		})
	}

	// Identities (organization).
	add("POST", "/api/v1/identities", org(perm{"identity", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"name": fx.uniq("made"), "organizationId": fx.orgID, "role": "no-access"}}
	})
	add("GET", "/api/v1/identities", org(perm{"identity", read}), withQ("orgId", "$orgId"))
	add("POST", "/api/v1/identities/search", ownOrg(perm{"identity", read}), func(fx *mfx, p string) mreq { return mreq{path: p, body: map[string]any{}} })
	c.addK("I", "GET", "/api/v1/identities/details", anyCaller(), plain)
	add("GET", "/api/v1/identities/{identityId}", org(perm{"identity", read}), plain)
	add("PATCH", "/api/v1/identities/{identityId}", org(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "identityId", fx.identity("patch")), body: map[string]any{"name": fx.uniq("renamed")}}
	})
	add("DELETE", "/api/v1/identities/{identityId}", org(perm{"identity", del}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "identityId", fx.identity("del"))}
	})
	add("GET", "/api/v1/identities/{identityId}/identity-memberships", org(perm{"identity", read}), plain)
	add("GET", "/api/v2/organizations/{orgId}/identity-memberships", org(perm{"identity", read}), plain)

	// Project identity memberships.
	imBase := "/api/v2/workspace/{projectId}/identity-memberships"
	add("POST", imBase+"/{identityId}", proj(perm{"identity", create}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "identityId", fx.identity("join")), body: map[string]any{"role": "no-access"}}
	})
	add("PATCH", imBase+"/{identityId}", proj(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"roles": []map[string]any{{"role": "no-access"}}}}
	})
	add("DELETE", imBase+"/{identityId}", proj(perm{"identity", del}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "identityId", fx.memberIdentity())}
	})
	add("GET", imBase, proj(perm{"identity", read}), plain)
	add("GET", imBase+"/{identityId}", proj(perm{"identity", read}), plain)
	add("GET", "/api/v2/workspace/identity-memberships/{identityMembershipId}", proj(perm{"identity", read}), plain)

	// Universal auth and token auth (organization identity permissions).
	ua := "/api/v1/auth/universal-auth/identities/{identityId}"
	uaPath := func(fx *mfx, p string, kv ...string) string {
		return fx.path(p, append([]string{"identityId", fx.vars["uaIdentity"]}, kv...)...)
	}
	add("POST", ua, org(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "identityId", fx.identity("attach")), body: map[string]any{}}
	})
	add("PATCH", ua, org(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: uaPath(fx, p), body: map[string]any{"accessTokenNumUsesLimit": 0}}
	})
	add("GET", ua, org(perm{"identity", read}), func(fx *mfx, p string) mreq { return mreq{path: uaPath(fx, p)} })
	add("DELETE", ua, org(perm{"identity", "revoke-auth"}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "identityId", fx.uaIdentity())}
	})
	add("POST", ua+"/client-secrets", org(perm{"identity", "create-token"}), func(fx *mfx, p string) mreq {
		return mreq{path: uaPath(fx, p), body: map[string]any{"description": "m"}}
	})
	add("GET", ua+"/client-secrets", org(perm{"identity", "get-token"}), func(fx *mfx, p string) mreq { return mreq{path: uaPath(fx, p)} })
	add("GET", ua+"/client-secrets/{clientSecretId}", org(perm{"identity", "get-token"}), func(fx *mfx, p string) mreq { return mreq{path: uaPath(fx, p)} })
	add("POST", ua+"/client-secrets/{clientSecretId}/revoke", org(perm{"identity", "delete-token"}), func(fx *mfx, p string) mreq {
		return mreq{path: uaPath(fx, p, "clientSecretId", fx.clientSecret(fx.vars["uaIdentity"]))}
	})
	add("POST", ua+"/clear-lockouts", org(perm{"identity", edit}), func(fx *mfx, p string) mreq { return mreq{path: uaPath(fx, p)} })
	tk := "/api/v1/auth/token-auth/identities/{identityId}"
	tkPath := func(fx *mfx, p string, kv ...string) string {
		return fx.path(p, append([]string{"identityId", fx.vars["taIdentity"]}, kv...)...)
	}
	add("POST", tk, org(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "identityId", fx.identity("attach")), body: map[string]any{}}
	})
	add("PATCH", tk, org(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: tkPath(fx, p), body: map[string]any{"accessTokenNumUsesLimit": 0}}
	})
	add("GET", tk, org(perm{"identity", read}), func(fx *mfx, p string) mreq { return mreq{path: tkPath(fx, p)} })
	add("DELETE", tk, org(perm{"identity", "revoke-auth"}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "identityId", fx.taIdentity())}
	})
	add("POST", tk+"/tokens", org(perm{"identity", "create-token"}), func(fx *mfx, p string) mreq {
		return mreq{path: tkPath(fx, p), body: map[string]any{"name": "m"}}
	})
	add("GET", tk+"/tokens", org(perm{"identity", "get-token"}), func(fx *mfx, p string) mreq { return mreq{path: tkPath(fx, p)} })
	add("GET", tk+"/tokens/{tokenId}", org(perm{"identity", "get-token"}), func(fx *mfx, p string) mreq { return mreq{path: tkPath(fx, p)} })
	add("GET", "/api/v1/auth/token-auth/tokens/{tokenId}", org(perm{"identity", "get-token"}), plain)
	add("PATCH", "/api/v1/auth/token-auth/tokens/{tokenId}", org(perm{"identity", "create-token"}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"name": fx.uniq("tok")}}
	})
	add("POST", "/api/v1/auth/token-auth/tokens/{tokenId}/revoke", org(perm{"identity", "delete-token"}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "tokenId", fx.taToken(fx.vars["taIdentity"]))}
	})

	// Project roles: V1 slug-addressed, V2 id-addressed (two bases).
	v1Rules := []map[string]any{{"action": "read", "subject": "secrets", "conditions": map[string]any{"environment": "dev"}}}
	v2Rules := []map[string]any{{"action": []string{"read"}, "subject": "secrets"}}
	for _, r := range []struct {
		base  string
		rules []map[string]any
	}{{"/api/v1/workspace/{projectSlug}/roles", v1Rules}, {"/api/v2/workspace/{projectId}/roles", v2Rules}, {"/api/v1/projects/{projectId}/roles", v2Rules}} {
		rules := r.rules
		add("POST", r.base, proj(perm{"role", create}), func(fx *mfx, p string) mreq {
			s := fx.uniq("nr")
			return mreq{path: fx.path(p), body: map[string]any{"slug": s, "name": s, "permissions": rules}}
		})
		add("PATCH", r.base+"/{roleId}", proj(perm{"role", edit}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p), body: map[string]any{"name": fx.uniq("renamed"), "permissions": rules}}
		})
		add("DELETE", r.base+"/{roleId}", proj(perm{"role", del}), func(fx *mfx, p string) mreq {
			id, _ := fx.role()
			return mreq{path: fx.path(p, "roleId", id)}
		})
		add("GET", r.base, proj(perm{"role", read}), plain)
		add("GET", r.base+"/slug/{slug}", proj(perm{"role", read}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p, "slug", fx.vars["roleSlug"])}
		})
	}

	// Organization roles.
	ob := "/api/v1/organization/{organizationId}/roles"
	orgRules := []map[string]any{{"subject": "workspace", "action": []string{"read"}}}
	add("POST", ob, org(perm{"role", create}), func(fx *mfx, p string) mreq {
		s := fx.uniq("nor")
		return mreq{path: fx.path(p), body: map[string]any{"slug": s, "name": s, "permissions": orgRules}}
	})
	add("GET", ob, org(perm{"role", read}), plain)
	add("GET", ob+"/{roleId}", org(perm{"role", read}), func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "roleId", fx.vars["orgRoleId"])} })
	add("PATCH", ob+"/{roleId}", org(perm{"role", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "roleId", fx.vars["orgRoleId"]), body: map[string]any{"name": fx.uniq("renamed")}}
	})
	add("DELETE", ob+"/{roleId}", org(perm{"role", del}), func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "roleId", fx.orgRole())} })

	// Groups.
	gb := "/api/v1/groups"
	add("POST", gb, ownOrg(perm{"groups", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"name": fx.uniq("NG")}}
	})
	add("GET", gb, ownOrg(perm{"groups", read}), plain)
	add("GET", gb+"/{id}", org(perm{"groups", read}), func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "id", fx.vars["groupId"])} })
	add("PATCH", gb+"/{id}", org(perm{"groups", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "id", fx.vars["groupId"]), body: map[string]any{"name": fx.uniq("RG")}}
	})
	add("DELETE", gb+"/{id}", org(perm{"groups", del}), func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "id", fx.group())} })
	add("GET", gb+"/{id}/users", org(perm{"groups", read}), func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "id", fx.vars["groupId"])} })
	add("POST", gb+"/{id}/users/{username}", need{kind: nOrg, perms: []perm{{"groups", "add-members"}, {"groups", edit}}, anyOf: true}, func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "id", fx.vars["groupId"], "username", fx.user())}
	})
	add("DELETE", gb+"/{id}/users/{username}", need{kind: nOrg, perms: []perm{{"groups", "remove-members"}, {"groups", edit}}, anyOf: true}, func(fx *mfx, p string) mreq {
		name := fx.user()
		fx.must("POST", "/api/v1/groups/"+fx.vars["groupId"]+"/users/"+name, nil, nil)
		return mreq{path: fx.path(p, "id", fx.vars["groupId"], "username", name)}
	})
	pg := "/api/v2/workspace/{projectId}/groups"
	add("POST", pg+"/{groupId}", proj(perm{"groups", create}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "groupId", fx.group()), body: map[string]any{"role": "no-access"}}
	})
	add("PATCH", pg+"/{groupId}", proj(perm{"groups", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"roles": []map[string]any{{"role": "no-access"}}}}
	})
	add("DELETE", pg+"/{groupId}", proj(perm{"groups", del}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "groupId", fx.projectGroup())}
	})
	add("GET", pg, proj(perm{"groups", read}), plain)
	add("GET", pg+"/{groupId}", proj(perm{"groups", read}), plain)
	add("GET", pg+"/{groupId}/users", proj(perm{"groups", read}), plain)

	// Identity additional privileges, V1 and V2.
	pv1 := "/api/v1/additional-privilege/identity"
	v1Priv := []map[string]any{{"action": "read", "subject": "secrets"}}
	for _, kind := range []string{"permanent", "temporary"} {
		temporary := kind == "temporary"
		add("POST", pv1+"/"+kind, proj(perm{"identity", edit}), func(fx *mfx, p string) mreq {
			b := map[string]any{"identityId": fx.vars["identityId"], "projectSlug": fx.pslug, "permissions": v1Priv}
			if temporary {
				b["temporaryMode"], b["temporaryRange"], b["temporaryAccessStartTime"] = "relative", "1h", "2026-01-01T00:00:00.000Z"
			}
			return mreq{path: p, body: b}
		})
	}
	add("PATCH", pv1, proj(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"privilegeSlug": fx.vars["privilegeSlug"], "identityId": fx.vars["identityId"], "projectSlug": fx.pslug,
			"privilegeDetails": map[string]any{"permissions": v1Priv}}}
	})
	add("DELETE", pv1, proj(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		_, slug := fx.privilege(fx.vars["identityId"])
		return mreq{path: p, body: map[string]any{"privilegeSlug": slug, "identityId": fx.vars["identityId"], "projectSlug": fx.pslug}}
	})
	add("GET", pv1+"/{privilegeSlug}", proj(perm{"identity", read}), withQ("identityId", "$identityId", "projectSlug", "$projectSlug"))
	add("GET", pv1, proj(perm{"identity", read}), withQ("identityId", "$identityId", "projectSlug", "$projectSlug"))
	pv2 := "/api/v2/identity-project-additional-privilege"
	add("POST", pv2, proj(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"identityId": fx.vars["identityId"], "projectId": fx.pid, "permissions": v2Rules,
			"type": map[string]any{"isTemporary": false}}}
	})
	add("PATCH", pv2+"/{id}", proj(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "id", fx.vars["privilegeId"]), body: map[string]any{"permissions": v2Rules}}
	})
	add("DELETE", pv2+"/{id}", proj(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		id, _ := fx.privilege(fx.vars["identityId"])
		return mreq{path: fx.path(p, "id", id)}
	})
	add("GET", pv2+"/{id}", proj(perm{"identity", read}), func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "id", fx.vars["privilegeId"])} })
	add("GET", pv2+"/slug/{privilegeSlug}", proj(perm{"identity", read}), withQ("identityId", "$identityId", "projectSlug", "$projectSlug"))
	add("GET", pv2, proj(perm{"identity", read}), withQ("identityId", "$identityId", "projectId", "$projectId"))

	// Project templates (the caller's organization).
	tb := "/api/v1/project-templates"
	add("GET", tb, ownOrg(perm{"project-templates", read}), plain)
	add("POST", tb, ownOrg(perm{"project-templates", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"name": fx.uniq("nt"), "type": "secret-manager"}}
	})
	add("GET", tb+"/{templateId}", org(perm{"project-templates", read}), plain)
	add("PATCH", tb+"/{templateId}", org(perm{"project-templates", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"description": fx.uniq("d")}}
	})
	add("DELETE", tb+"/{templateId}", org(perm{"project-templates", del}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "templateId", fx.template())}
	})

	addAccountCases(c)
	addAuditCases(c)
	addKMSCases(c)
	addAuthMethodCases(c)
	addPublicCases(c)
	return c
}

// ---- expectations --------------------------------------------------------------

func projectSet(a *mActor) *permission.Set {
	role := a.projRole
	if a.orgRole == "admin" {
		role = "admin"
	}
	rules, _ := permission.BuiltinProjectRole(role)
	return permission.MustCompile(rules)
}

func orgSet(a *mActor) *permission.Set {
	rules, _ := permission.BuiltinOrgRole(a.orgRole)
	return permission.MustCompile(rules)
}

func allowed(set *permission.Set, perms []perm, anyOf bool) bool {
	if anyOf {
		for _, p := range perms {
			if set.Can(p.action, p.subject, nil) {
				return true
			}
		}
		return false
	}
	for _, p := range perms {
		if !set.Can(p.action, p.subject, nil) {
			return false
		}
	}
	return true
}

// serviceSet is what a read-only service token scoped to dev:/** holds.
func serviceSet() *permission.Set {
	cond := map[string]any{"environment": "dev", "secretPath": map[string]any{"$glob": "/**"}}
	return permission.MustCompile([]permission.Rule{
		{Subject: "secrets", Action: []string{"read"}, Conditions: cond},
		{Subject: "secret-folders", Action: []string{"read"}, Conditions: cond},
		{Subject: "secret-imports", Action: []string{"read"}, Conditions: cond},
	})
}

// kindOf is the credential kind of an authenticated actor: "U", "I" or "S".
func kindOf(a *mActor) string {
	switch {
	case a.kind == kService:
		return "S"
	case a.user:
		return "U"
	}
	return "I"
}

// routeKinds are the credential kinds the server's route table accepts.
func routeKinds(r api.RouteInfo) string {
	k := ""
	if r.User {
		k += "U"
	}
	if r.Identity {
		k += "I"
	}
	if r.Service {
		k += "S"
	}
	return k
}

// expected returns the status an actor must get.
func expected(c mcase, a *mActor) int {
	n := c.need
	if n.kind == nPublic {
		return n.status
	}
	if a.kind == kAnon {
		return 401
	}
	if !strings.Contains(c.kinds, kindOf(a)) {
		return 403
	}
	grant := func(ok bool) int {
		if ok {
			return 200
		}
		return 403
	}
	if a.kind == kService {
		switch n.kind {
		case nAny:
			return 200
		case nProject:
			return grant(allowed(serviceSet(), n.perms, n.anyOf))
		}
		return 403
	}
	if a.kind == kOtherOrg && n.other != 0 {
		return n.other
	}
	switch n.kind {
	case nAny:
		return 200
	case nProject:
		if a.kind == kOtherOrg {
			return 404
		}
		return grant(allowed(projectSet(a), n.perms, n.anyOf) || (len(n.orOrg) > 0 && allowed(orgSet(a), n.orOrg, false)))
	case nOrg, nOrgMember:
		if a.kind == kOtherOrg {
			return 403 // or 404: see statusOK
		}
		return grant(n.kind == nOrgMember || allowed(orgSet(a), n.perms, n.anyOf))
	case nOwnOrg:
		return grant(allowed(orgSet(a), n.perms, n.anyOf))
	}
	return 0
}

// statusOK compares a status with the expected one. A path naming another
// organization's resource may answer 403 or 404 (whether the resource
// exists is not secret from the organization's neighbours, but some routes
// check the organization first).
func statusOK(got, want int, c mcase, a *mActor) bool {
	if got == want {
		return true
	}
	return want == 403 && a.kind == kOtherOrg && (c.need.kind == nOrg || c.need.kind == nOrgMember) &&
		strings.Contains(c.kinds, kindOf(a)) && got == 404
}

// TestPermissionMatrix runs the matrix on both backends.
func TestPermissionMatrix(t *testing.T) {
	// External KMSs use the local AWS KMS with explicit keys only.
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		fx, srv := newMatrixFixture(t, b)
		cases := matrixCases()
		routes := api.RoutesOf(srv)
		seen := map[string]bool{}
		var grid strings.Builder
		fmt.Fprintf(&grid, "%-7s %-66s %-4s", "", "route", "auth")
		for _, a := range fx.actors {
			fmt.Fprintf(&grid, " %-9.9s", a.name)
		}
		grid.WriteString("\n")
		for _, r := range routes {
			key := r.Method + " " + r.Path
			c, ok := cases[key]
			if !ok {
				t.Errorf("%s has no entry in the permission matrix: add one (permission_matrix_routes_test.go)", key)
				continue
			}
			seen[key] = true
			if c.need.kind == nPublic {
				if !r.Public {
					t.Errorf("%s: the matrix says public, the route requires credentials (%s)", key, routeKinds(r))
				}
			} else if got := routeKinds(r); r.Public || got != c.kinds {
				t.Errorf("%s accepts credentials %q, the spec (matrix) says %q", key, got, c.kinds)
			}
			fmt.Fprintf(&grid, "%-7s %-66s %-4s", r.Method, r.Path, c.kinds)
			for _, a := range fx.actors {
				req := c.prep(fx)
				path := req.path
				if len(req.query) > 0 {
					path += "?" + req.query.Encode()
				}
				tok := a.token
				if c.endsSession && a.user {
					tok = fx.session(a)
				}
				code, raw, _ := fx.ts.do(r.Method, path, tok, req.body)
				if c.endsSession && a.user {
					a.token = fx.session(a)
				}
				want := expected(c, a)
				fmt.Fprintf(&grid, " %-9d", code)
				if !statusOK(code, want, c, a) {
					t.Errorf("%s %s as %s: status %d, want %d: %s", r.Method, path, a.name, code, want, truncate(raw, 300))
					continue
				}
				if code == 403 {
					check403(t, r.Method+" "+path+" as "+a.name, raw)
				}
			}
			if c.done != nil {
				c.done(fx)
			}
			grid.WriteString("\n")
		}
		for key := range cases {
			if !seen[key] {
				t.Errorf("the matrix has an entry for %s, which the server does not serve", key)
			}
		}
		t.Logf("permission matrix (%d routes × %d actors):\n%s", len(seen), len(fx.actors), grid.String())
	})
}

// check403 verifies the error body of a denial: a permission denial names
// the rules that applied.
func check403(t *testing.T, what string, raw []byte) {
	t.Helper()
	var body struct {
		Error   string          `json:"error"`
		Message any             `json:"message"`
		Details json.RawMessage `json:"details"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Errorf("%s: 403 body is not JSON: %s", what, raw)
		return
	}
	switch body.Error {
	case "PermissionDenied":
		if msg, _ := body.Message.(string); !strings.HasPrefix(msg, "You are not allowed to ") {
			t.Errorf("%s: PermissionDenied message %q", what, msg)
		}
		var details []map[string]any
		if err := json.Unmarshal(body.Details, &details); err != nil || details == nil {
			t.Errorf("%s: PermissionDenied without a details array: %s", what, raw)
		}
	case "ForbiddenError", "PermissionBoundaryError":
	default:
		t.Errorf("%s: 403 with error %q", what, body.Error)
	}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
