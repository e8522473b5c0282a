package infisical_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
)

// auditClock is a settable engine clock.
type auditClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *auditClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *auditClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *auditClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// auditFix is an organization with a project and an org-admin identity
// acting from a known address with the CLI's user agent.
type auditFix struct {
	t     *testing.T
	ctx   context.Context
	eng   *infisical.Engine
	clock *auditClock
	org   *infisical.Organization
	admin infisical.Actor // platform
	proj  *infisical.Project
	actor infisical.Actor // identity
}

func newAuditFix(t *testing.T, b enginetest.Backend, mod ...func(*infisical.Config)) *auditFix {
	t.Helper()
	ctx := context.Background()
	clock := &auditClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	mod = append([]func(*infisical.Config){func(c *infisical.Config) { c.Now = clock.Now }}, mod...)
	eng := enginetest.Open(t, b, mod...)
	org := enginetest.Org(t, eng, "Acme")
	admin := infisical.Platform(org.ID)
	p, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "Backend"})
	if err != nil {
		t.Fatal(err)
	}
	_, tok := enginetest.IdentityToken(t, eng, org.ID, "admin", "", "")
	actor, err := eng.Authenticate(ctx, tok, "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	actor.UserAgent = "cli"
	return &auditFix{t: t, ctx: ctx, eng: eng, clock: clock, org: org, admin: admin, proj: p, actor: actor}
}

// list returns the organization's events (platform actor) matching q.
func (f *auditFix) list(q infisical.AuditLogQuery) []infisical.AuditLog {
	f.t.Helper()
	out, err := f.eng.Audit().List(f.ctx, f.admin, q)
	if err != nil {
		f.t.Fatalf("list audit logs: %v", err)
	}
	return out
}

func (f *auditFix) count(typ string) int {
	return len(f.list(infisical.AuditLogQuery{EventTypes: []string{typ}, Limit: infisical.MaxAuditLimit}))
}

// waitNew waits until there are more than before events of typ (read
// events are written asynchronously) and returns the newest.
func (f *auditFix) waitNew(typ string, before int) infisical.AuditLog {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := f.list(infisical.AuditLogQuery{EventTypes: []string{typ}, Limit: infisical.MaxAuditLimit})
		if len(got) > before {
			return got[0]
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no new %s event (have %d)", typ, len(got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func metaOf(t *testing.T, l infisical.AuditLog) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(l.EventMetadata, &m); err != nil {
		t.Fatalf("event metadata of %s: %v", l.EventType, err)
	}
	return m
}

// must(f())(t) returns f's value or fails t.
func must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestAuditEventsPerAction(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newAuditFix(t, b)
		ctx, eng, a, ref := f.ctx, f.eng, f.actor, infisical.ProjectRef{ID: f.proj.ID}
		sc := infisical.SecretScope{Project: ref, Environment: "dev", SecretPath: "/"}
		tag := must(eng.Tags.Create(ctx, a, ref, infisical.CreateTagInput{Slug: "prod-db"}))(t)
		var identityID, clientID, clientSecret, tokenID, accessToken string
		secretKeys := []string{"environment", "secretPath", "secretId", "secretKey", "secretVersion"}
		steps := []struct {
			name     string
			typ      string
			keys     []string
			project  bool
			loginAct bool // the actor is the identity that logged in
			do       func() error
			check    func(m map[string]any)
		}{
			{"create secret", "create-secret", append(slices.Clone(secretKeys), "secretMetadata", "secretTags"), true, false, func() error {
				_, err := eng.Secrets.Create(ctx, a, infisical.CreateSecretInput{SecretScope: sc, NewSecret: infisical.NewSecret{Key: "DB_PASS", Value: "v",
					TagIDs: []string{tag.ID}, Metadata: []infisical.SecretMetadata{{Key: "owner", Value: "ops"}, {Key: "pin", Value: "1234", IsEncrypted: true}}}})
				return err
			}, func(m map[string]any) {
				md := m["secretMetadata"].([]any)
				if md[0].(map[string]any)["value"] != "ops" || md[1].(map[string]any)["value"] != infisical.AuditSensitiveValue {
					t.Errorf("secretMetadata %v", md)
				}
				if tags := m["secretTags"].([]any); len(tags) != 1 || tags[0] != "prod-db" {
					t.Errorf("secretTags %v", tags)
				}
				if m["secretKey"] != "DB_PASS" || m["secretVersion"] != float64(1) || m["environment"] != "dev" || m["secretPath"] != "/" {
					t.Errorf("metadata %v", m)
				}
			}},
			{"get secret", "get-secret", append(slices.Clone(secretKeys), "secretMetadata"), true, false, func() error {
				_, err := eng.Secrets.Get(ctx, a, infisical.GetSecretInput{SecretScope: sc, Key: "DB_PASS"})
				return err
			}, nil},
			{"list secrets", "get-secrets", []string{"environment", "secretPath", "numberOfSecrets"}, true, false, func() error {
				_, err := eng.Secrets.List(ctx, a, infisical.ListSecretsInput{SecretScope: sc})
				return err
			}, func(m map[string]any) {
				if m["numberOfSecrets"] != float64(1) {
					t.Errorf("numberOfSecrets %v", m["numberOfSecrets"])
				}
			}},
			{"update secret", "update-secret", secretKeys, true, false, func() error {
				v := "v2"
				_, err := eng.Secrets.Update(ctx, a, infisical.UpdateSecretInput{SecretScope: sc, SecretUpdate: infisical.SecretUpdate{Key: "DB_PASS", Value: &v}})
				return err
			}, func(m map[string]any) {
				if m["secretVersion"] != float64(2) {
					t.Errorf("secretVersion %v", m["secretVersion"])
				}
			}},
			{"batch create", "create-secrets", []string{"environment", "secretPath", "secrets"}, true, false, func() error {
				_, err := eng.Secrets.BatchCreate(ctx, a, infisical.BatchCreateInput{SecretScope: sc, Secrets: []infisical.NewSecret{{Key: "A", Value: "1"}, {Key: "B", Value: "2"}}})
				return err
			}, func(m map[string]any) {
				if items := m["secrets"].([]any); len(items) != 2 || items[0].(map[string]any)["secretKey"] != "A" {
					t.Errorf("secrets %v", items)
				}
			}},
			{"batch update", "update-secrets", []string{"environment", "secretPath", "secrets"}, true, false, func() error {
				v := "x"
				_, err := eng.Secrets.BatchUpdate(ctx, a, infisical.BatchUpdateInput{SecretScope: sc, Secrets: []infisical.SecretUpdate{{Key: "A", Value: &v}, {Key: "B", Value: &v}}})
				return err
			}, nil},
			{"batch delete", "delete-secrets", []string{"environment", "secretPath", "secrets"}, true, false, func() error {
				_, err := eng.Secrets.BatchDelete(ctx, a, infisical.BatchDeleteInput{SecretScope: sc, Secrets: []infisical.SecretRef{{Key: "A"}, {Key: "B"}}})
				return err
			}, nil},
			{"attach tag", "update-secret", append(slices.Clone(secretKeys), "secretTags"), true, false, func() error {
				_, err := eng.Secrets.DetachTags(ctx, a, infisical.SecretTagsInput{SecretScope: sc, SecretRef: infisical.SecretRef{Key: "DB_PASS"}, TagSlugs: []string{"prod-db"}})
				if err != nil {
					return err
				}
				_, err = eng.Secrets.AttachTags(ctx, a, infisical.SecretTagsInput{SecretScope: sc, SecretRef: infisical.SecretRef{Key: "DB_PASS"}, TagSlugs: []string{"prod-db"}})
				return err
			}, nil},
			{"delete secret", "delete-secret", secretKeys, true, false, func() error {
				_, err := eng.Secrets.Delete(ctx, a, infisical.DeleteSecretInput{SecretScope: sc, SecretRef: infisical.SecretRef{Key: "DB_PASS"}})
				return err
			}, nil},
			{"create folder", "create-folder", []string{"environment", "folderId", "folderName", "folderPath"}, true, false, func() error {
				_, err := eng.Folders.Create(ctx, a, ref, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Path: "/"}, Name: "api"})
				return err
			}, nil},
			{"update folder", "update-folder", []string{"environment", "folderId", "oldFolderName", "newFolderName", "folderPath"}, true, false, func() error {
				_, err := eng.Folders.Update(ctx, a, ref, "api", infisical.UpdateFolderInput{FolderScope: infisical.FolderScope{Environment: "dev", Path: "/"}, Name: "web"})
				return err
			}, func(m map[string]any) {
				if m["oldFolderName"] != "api" || m["newFolderName"] != "web" {
					t.Errorf("metadata %v", m)
				}
			}},
			{"list folders", "get-folders", []string{"environment", "folderPath", "numberOfFolders"}, true, false, func() error {
				_, err := eng.Folders.List(ctx, a, ref, infisical.FolderScope{Environment: "dev", Path: "/"})
				return err
			}, nil},
			{"create import", "create-secret-import", []string{"secretImportId", "folderId", "importFromEnvironment", "importFromSecretPath", "importToEnvironment", "importToSecretPath"}, true, false, func() error {
				_, err := eng.Imports.Create(ctx, a, ref, infisical.CreateImportInput{Environment: "dev", Path: "/web", ImportEnvironment: "prod", ImportPath: "/"})
				return err
			}, nil},
			{"list imports", "get-secret-imports", []string{"environment", "folderId", "numberOfImports"}, true, false, func() error {
				_, err := eng.Imports.List(ctx, a, ref, "dev", "/web")
				return err
			}, nil},
			{"delete folder", "delete-folder", []string{"environment", "folderId", "folderName", "folderPath"}, true, false, func() error {
				_, err := eng.Folders.Delete(ctx, a, ref, "web", infisical.FolderScope{Environment: "dev", Path: "/"})
				return err
			}, nil},
			{"create environment", "create-environment", []string{"name", "slug"}, true, false, func() error {
				_, err := eng.Environments.Create(ctx, a, ref, infisical.CreateEnvironmentInput{Name: "QA", Slug: "qa"})
				return err
			}, nil},
			{"update tag", "update-tag", []string{"tagId", "slug"}, true, false, func() error {
				s := "prod-db2"
				_, err := eng.Tags.Update(ctx, a, ref, tag.ID, infisical.UpdateTagInput{Slug: &s})
				return err
			}, nil},
			{"update project", "update-project", []string{"projectId", "auditLogsRetentionDays"}, true, false, func() error {
				d := 7
				_, err := eng.Projects.Update(ctx, a, ref, infisical.UpdateProjectInput{AuditLogsRetentionDays: &d})
				return err
			}, nil},
			{"create identity", "create-identity", []string{"identityId", "name"}, false, false, func() error {
				ident, err := eng.Identities.Create(ctx, a, infisical.CreateIdentityInput{Name: "ci", Role: "member"})
				if err == nil {
					identityID = ident.IdentityID
				}
				return err
			}, nil},
			{"add to project", "create-identity-project-membership", []string{"identityId", "roles"}, true, false, func() error {
				_, err := eng.Memberships.AddIdentity(ctx, a, f.proj.ID, identityID, []infisical.RoleAssignment{{Role: "viewer"}})
				return err
			}, nil},
			{"attach universal auth", "add-identity-universal-auth", []string{"identityId", "accessTokenTTL", "clientSecretTrustedIps"}, false, false, func() error {
				ua, err := eng.UniversalAuth.Attach(ctx, a, identityID, infisical.UniversalAuthSettings{})
				if err == nil {
					clientID = ua.ClientID
				}
				return err
			}, nil},
			{"get universal auth", "get-identity-universal-auth", []string{"identityId"}, false, false, func() error {
				_, err := eng.UniversalAuth.Get(ctx, a, identityID)
				return err
			}, nil},
			{"create client secret", "create-identity-universal-auth-client-secret", []string{"identityId", "clientSecretId"}, false, false, func() error {
				cs, err := eng.UniversalAuth.CreateClientSecret(ctx, a, identityID, infisical.CreateClientSecretInput{Description: "ci"})
				if err == nil {
					clientSecret = cs.Secret
				}
				return err
			}, nil},
			{"login", "login-identity-universal-auth", []string{"identityId", "clientSecretId", "identityAccessTokenId", "identityUniversalAuthId"}, false, true, func() error {
				res, err := eng.UniversalAuth.Login(infisical.WithClientInfo(ctx, "192.0.2.7", "ignored"), infisical.UniversalAuthLoginInput{
					ClientID: clientID, ClientSecret: clientSecret, IP: "192.0.2.7", UserAgent: "k8-operator/1.2"})
				if err == nil {
					accessToken = res.AccessToken
				}
				return err
			}, func(m map[string]any) { tokenID, _ = m["identityAccessTokenId"].(string) }},
			{"renew token", "renew-identity-access-token", []string{"identityId", "identityAccessTokenId"}, false, true, func() error {
				_, err := eng.RenewToken(infisical.WithClientInfo(ctx, "192.0.2.7", "k8-operator/1.2"), accessToken)
				return err
			}, func(m map[string]any) {
				if m["identityAccessTokenId"] != tokenID {
					t.Errorf("renewed %v, want %s", m["identityAccessTokenId"], tokenID)
				}
			}},
			{"revoke token", "revoke-identity-access-token", []string{"identityId", "identityAccessTokenId"}, false, true, func() error {
				return eng.RevokeToken(infisical.WithClientInfo(ctx, "192.0.2.7", "k8-operator/1.2"), accessToken)
			}, nil},
			{"attach token auth", "add-identity-token-auth", []string{"identityId", "accessTokenTTL"}, false, false, func() error {
				_, err := eng.TokenAuth.Attach(ctx, a, identityID, infisical.TokenSettings{})
				return err
			}, nil},
			{"create token", "create-token-identity-token-auth", []string{"identityId", "identityAccessTokenId"}, false, false, func() error {
				tok, err := eng.TokenAuth.CreateToken(ctx, a, identityID, infisical.CreateTokenInput{Name: "deploy"})
				if err == nil {
					tokenID = tok.Token.ID
				}
				return err
			}, nil},
			{"revoke token-auth token", "revoke-token-identity-token-auth", []string{"identityId", "tokenId"}, false, false, func() error {
				return eng.TokenAuth.RevokeToken(ctx, a, tokenID)
			}, nil},
			{"revoke universal auth", "revoke-identity-universal-auth", []string{"identityId"}, false, false, func() error {
				_, err := eng.UniversalAuth.Revoke(ctx, a, identityID)
				return err
			}, nil},
			{"remove from project", "delete-identity-project-membership", []string{"identityId"}, true, false, func() error {
				_, err := eng.Memberships.RemoveIdentity(ctx, a, f.proj.ID, identityID)
				return err
			}, nil},
			{"delete identity", "delete-identity", []string{"identityId"}, false, false, func() error {
				_, err := eng.Identities.Delete(ctx, a, identityID)
				return err
			}, nil},
		}
		for _, st := range steps {
			before := f.count(st.typ)
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			ev := f.waitNew(st.typ, before)
			m := metaOf(t, ev)
			for _, k := range st.keys {
				if _, ok := m[k]; !ok {
					t.Errorf("%s: %s lacks %q: %v", st.name, st.typ, k, m)
				}
			}
			if ev.OrgID == nil || *ev.OrgID != f.org.ID {
				t.Errorf("%s: orgId %v", st.name, ev.OrgID)
			}
			if st.project && (ev.ProjectID == nil || *ev.ProjectID != f.proj.ID || ev.ProjectName == nil || *ev.ProjectName != "Backend") {
				t.Errorf("%s: project %v %v", st.name, ev.ProjectID, ev.ProjectName)
			}
			var actor map[string]any
			_ = json.Unmarshal(ev.ActorMetadata, &actor)
			wantIP, wantUA := "10.1.2.3", "cli"
			wantActor := f.actor.ID
			if st.loginAct {
				wantIP, wantUA, wantActor = "192.0.2.7", "k8-operator", identityID
			}
			if ev.ActorType != "identity" || actor["identityId"] != wantActor {
				t.Errorf("%s: actor %s %v, want identity %s", st.name, ev.ActorType, actor, wantActor)
			}
			if ev.IPAddress == nil || *ev.IPAddress != wantIP || ev.UserAgentType == nil || *ev.UserAgentType != wantUA {
				t.Errorf("%s: source %v %v, want %s %s", st.name, ev.IPAddress, ev.UserAgentType, wantIP, wantUA)
			}
			if ev.ExpiresAt == nil || !ev.ExpiresAt.After(ev.CreatedAt) {
				t.Errorf("%s: expiresAt %v", st.name, ev.ExpiresAt)
			}
			if st.check != nil {
				st.check(m)
			}
		}
	})
}

// TestAuditWriteIsTransactional: a change that fails records nothing, and a
// change that succeeds records exactly one event.
func TestAuditWriteIsTransactional(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newAuditFix(t, b)
		sc := infisical.SecretScope{Project: infisical.ProjectRef{ID: f.proj.ID}, Environment: "dev", SecretPath: "/"}
		if _, err := f.eng.Secrets.BatchCreate(f.ctx, f.actor, infisical.BatchCreateInput{SecretScope: sc, Secrets: []infisical.NewSecret{{Key: "A"}}}); err != nil {
			t.Fatal(err)
		}
		// B is new but A exists: the batch fails as a whole.
		_, err := f.eng.Secrets.BatchCreate(f.ctx, f.actor, infisical.BatchCreateInput{SecretScope: sc, Secrets: []infisical.NewSecret{{Key: "B"}, {Key: "A"}}})
		if err == nil {
			t.Fatal("duplicate batch accepted")
		}
		if n := f.count("create-secrets"); n != 1 {
			t.Fatalf("%d create-secrets events, want 1", n)
		}
	})
}

func TestAuditListFilters(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newAuditFix(t, b)
		ctx, eng := f.ctx, f.eng
		p2 := must(eng.Projects.Create(ctx, f.admin, infisical.CreateProjectInput{OrgID: f.org.ID, Name: "Frontend"}))(t)
		day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		create := func(at time.Time, actor infisical.Actor, p *infisical.Project, env, path, key string) {
			t.Helper()
			f.clock.Set(at)
			if path != "/" {
				_, _ = eng.Folders.Create(ctx, f.admin, infisical.ProjectRef{ID: p.ID}, infisical.CreateFolderInput{FolderScope: infisical.FolderScope{Environment: env, Path: "/"}, Name: strings.Trim(path, "/")})
			}
			must(eng.Secrets.Create(ctx, actor, infisical.CreateSecretInput{SecretScope: infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: env, SecretPath: path},
				NewSecret: infisical.NewSecret{Key: key, Value: "x"}}))(t)
		}
		create(day.Add(1*time.Hour), f.actor, f.proj, "dev", "/", "K1")
		create(day.Add(2*time.Hour), f.actor, f.proj, "prod", "/", "K2")
		create(day.Add(3*time.Hour), f.admin, p2, "dev", "/api", "K3")
		create(day.Add(4*time.Hour), f.admin, f.proj, "dev", "/api", "K4")
		f.clock.Set(day.Add(5 * time.Hour))
		keys := func(list []infisical.AuditLog) []string {
			var out []string
			for _, l := range list {
				if l.EventType == "create-secret" {
					out = append(out, metaOf(t, l)["secretKey"].(string))
				}
			}
			return out
		}
		cs := []string{"create-secret"}
		cases := []struct {
			name string
			q    infisical.AuditLogQuery
			want []string
		}{
			{"all newest first", infisical.AuditLogQuery{EventTypes: cs}, []string{"K4", "K3", "K2", "K1"}},
			{"project", infisical.AuditLogQuery{EventTypes: cs, ProjectID: p2.ID}, []string{"K3"}},
			{"environment", infisical.AuditLogQuery{EventTypes: cs, Environment: "prod"}, []string{"K2"}},
			{"actor type", infisical.AuditLogQuery{EventTypes: cs, ActorType: "identity"}, []string{"K2", "K1"}},
			{"actor", infisical.AuditLogQuery{EventTypes: cs, Actor: f.actor.ID}, []string{"K2", "K1"}},
			{"platform", infisical.AuditLogQuery{EventTypes: cs, ActorType: "platform"}, []string{"K4", "K3"}},
			{"secret path with slash", infisical.AuditLogQuery{EventTypes: cs, SecretPath: "/api/"}, []string{"K4", "K3"}},
			{"secret key", infisical.AuditLogQuery{SecretKey: "K3"}, []string{"K3"}},
			{"user agent", infisical.AuditLogQuery{EventTypes: cs, UserAgentType: "cli"}, []string{"K2", "K1"}},
			{"metadata string", infisical.AuditLogQuery{EventMetadata: []infisical.AuditMetadataMatch{{Key: "secretKey", Value: "K2"}}}, []string{"K2"}},
			{"metadata number and string", infisical.AuditLogQuery{EventMetadata: []infisical.AuditMetadataMatch{{Key: "secretVersion", Value: "1"}, {Key: "environment", Value: "dev"}}}, []string{"K4", "K3", "K1"}},
			{"metadata no match", infisical.AuditLogQuery{EventMetadata: []infisical.AuditMetadataMatch{{Key: "secretVersion", Value: "2"}}}, nil},
			{"time window", infisical.AuditLogQuery{EventTypes: cs, StartDate: ptrTime(day.Add(90 * time.Minute)), EndDate: ptrTime(day.Add(3 * time.Hour))}, []string{"K3", "K2"}},
			{"offset and limit", infisical.AuditLogQuery{EventTypes: cs, Offset: 1, Limit: 2}, []string{"K3", "K2"}},
			{"several types", infisical.AuditLogQuery{EventTypes: []string{"create-secret", "create-folder"}, Environment: "prod"}, []string{"K2"}},
		}
		for _, c := range cases {
			if got := keys(f.list(c.q)); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
		// Default window: since last midnight.
		f.clock.Set(day.Add(24*time.Hour + time.Hour))
		if got := f.list(infisical.AuditLogQuery{}); len(got) != 0 {
			t.Errorf("default window of the next day: %d events", len(got))
		}
		// Pages are stable: concatenated pages equal one big page.
		f.clock.Set(day.Add(5 * time.Hour))
		all := f.list(infisical.AuditLogQuery{Limit: 1000})
		var paged []string
		for off := 0; off < len(all); off += 3 {
			for _, l := range f.list(infisical.AuditLogQuery{Offset: off, Limit: 3}) {
				paged = append(paged, l.ID)
			}
		}
		for i := range all {
			if all[i].ID != paged[i] {
				t.Fatalf("page order differs at %d", i)
			}
			if i > 0 && all[i].CreatedAt.After(all[i-1].CreatedAt) {
				t.Fatalf("not newest first at %d", i)
			}
		}
		bad := []struct {
			field string
			q     infisical.AuditLogQuery
		}{
			{"endDate", infisical.AuditLogQuery{StartDate: ptrTime(day), EndDate: ptrTime(day.Add(-time.Second))}},
			{"endDate", infisical.AuditLogQuery{StartDate: ptrTime(day), EndDate: ptrTime(day.AddDate(0, 3, 1))}},
			{"limit", infisical.AuditLogQuery{Limit: 1001}},
			{"offset", infisical.AuditLogQuery{Offset: -1}},
			{"userAgentType", infisical.AuditLogQuery{UserAgentType: "curl"}},
			{"eventType", infisical.AuditLogQuery{EventTypes: []string{"DROP TABLE"}}},
			{"eventMetadata", infisical.AuditLogQuery{EventMetadata: []infisical.AuditMetadataMatch{{Key: `a"b`, Value: "x"}}}},
		}
		for _, c := range bad {
			_, err := eng.Audit().List(ctx, f.admin, c.q)
			if infisical.KindOf(err) != infisical.KindValidation || !strings.Contains(err.Error(), c.field) {
				t.Errorf("%s: %v, want 422 naming it", c.field, err)
			}
		}
		if _, err := infisical.ParseAuditMetadataFilter("a=1,b"); infisical.KindOf(err) != infisical.KindValidation {
			t.Errorf("malformed eventMetadata: %v", err)
		}
		if m, err := infisical.ParseAuditMetadataFilter("a=1, b = x=y"); err != nil || len(m) != 2 || m[1].Key != "b" || m[1].Value != "x=y" {
			t.Errorf("eventMetadata parse: %v %v", m, err)
		}
	})
}

func ptrTime(t time.Time) *time.Time { return &t }

func TestAuditListPermissions(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newAuditFix(t, b)
		ctx, eng := f.ctx, f.eng
		// An org member may read (built-in member role: audit-logs read);
		// an org no-access identity may not, except for a project where it
		// holds a role that reads audit logs.
		_, memberTok := enginetest.IdentityToken(t, eng, f.org.ID, "member", "", "")
		member := must(eng.Authenticate(ctx, memberTok, "127.0.0.1"))(t)
		if _, err := eng.Audit().List(ctx, member, infisical.AuditLogQuery{}); err != nil {
			t.Errorf("member: %v", err)
		}
		_, naTok := enginetest.IdentityToken(t, eng, f.org.ID, "no-access", f.proj.ID, "admin")
		na := must(eng.Authenticate(ctx, naTok, "127.0.0.1"))(t)
		if _, err := eng.Audit().List(ctx, na, infisical.AuditLogQuery{}); infisical.KindOf(err) != infisical.KindPermissionDenied {
			t.Errorf("no-access org-wide: %v", err)
		}
		if _, err := eng.Audit().List(ctx, na, infisical.AuditLogQuery{ProjectID: f.proj.ID}); err != nil {
			t.Errorf("no-access with project admin, project-scoped: %v", err)
		}
		if _, err := eng.Audit().ListProject(ctx, na, infisical.ProjectRef{ID: f.proj.ID}, infisical.AuditLogQuery{}); err != nil {
			t.Errorf("no-access with project admin, project route: %v", err)
		}
		other := enginetest.Org(t, eng, "Other")
		p3 := must(eng.Projects.Create(ctx, infisical.Platform(other.ID), infisical.CreateProjectInput{OrgID: other.ID, Name: "Theirs"}))(t)
		if _, err := eng.Audit().ListProject(ctx, member, infisical.ProjectRef{ID: p3.ID}, infisical.AuditLogQuery{}); infisical.KindOf(err) != infisical.KindNotFound {
			t.Errorf("other org's project: %v", err)
		}
	})
}

func TestAuditRetention(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		f := newAuditFix(t, b, func(c *infisical.Config) { c.Audit.PruneBatch = 3 })
		ctx, eng := f.ctx, f.eng
		short := must(eng.Projects.Create(ctx, f.admin, infisical.CreateProjectInput{OrgID: f.org.ID, Name: "Short"}))(t)
		days := 2
		must(eng.Projects.Update(ctx, f.admin, infisical.ProjectRef{ID: short.ID}, infisical.UpdateProjectInput{AuditLogsRetentionDays: &days}))(t)
		start := f.clock.Now()
		for i := 0; i < 7; i++ {
			for _, p := range []*infisical.Project{short, f.proj} {
				must(eng.Secrets.Create(ctx, f.admin, infisical.CreateSecretInput{SecretScope: infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: "dev"},
					NewSecret: infisical.NewSecret{Key: "K" + string(rune('A'+i)), Value: "x"}}))(t)
			}
		}
		window := infisical.AuditLogQuery{EventTypes: []string{"create-secret"}, StartDate: ptrTime(start.Add(-time.Hour)), EndDate: ptrTime(start.Add(24 * time.Hour)), Limit: 1000}
		for _, l := range f.list(window) {
			want := 90
			if *l.ProjectID == short.ID {
				want = 2
			}
			if l.ExpiresAt == nil || !l.ExpiresAt.Equal(l.CreatedAt.Add(time.Duration(want)*24*time.Hour)) {
				t.Fatalf("expiresAt %v for created %v, want +%d days", l.ExpiresAt, l.CreatedAt, want)
			}
		}
		f.clock.Advance(3 * 24 * time.Hour)
		// The 7 secret events of the short project (and possibly its
		// update-project event, which may see the new setting) expire.
		n, err := eng.Audit().PruneExpired(ctx)
		if err != nil || n < 7 || n > 8 {
			t.Fatalf("pruned %d, %v; want 7 or 8", n, err)
		}
		left := f.list(window)
		if len(left) != 7 {
			t.Fatalf("%d events left, want 7", len(left))
		}
		for _, l := range left {
			if *l.ProjectID != f.proj.ID {
				t.Fatalf("event of %s survived", *l.ProjectID)
			}
		}
		if n, _ := eng.Audit().PruneExpired(ctx); n != 0 {
			t.Fatalf("second prune deleted %d", n)
		}
		if eng.AuditPruned() != uint64(n) {
			t.Fatalf("AuditPruned %d, want %d", eng.AuditPruned(), n)
		}
	})
}

// TestAuditRetentionConcurrent runs the janitor of two servers on one
// PostgreSQL database at once: every expired event is deleted once and
// neither fails.
func TestAuditRetentionConcurrent(t *testing.T) {
	dsn := enginetest.DSN(t, enginetest.Postgres)
	clock := &auditClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	open := func() *infisical.Engine {
		cfg := enginetest.Config(t, dsn)
		cfg.Now = clock.Now
		cfg.Audit.PruneBatch = 50
		eng, err := infisical.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		return eng
	}
	e1, e2 := open(), open()
	ctx := context.Background()
	org := enginetest.Org(t, e1, "Acme")
	admin := infisical.Platform(org.ID)
	p := must(e1.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "P"}))(t)
	var items []infisical.NewSecret
	for i := 0; i < 400; i++ {
		items = append(items, infisical.NewSecret{Key: fmt.Sprintf("K%03d", i)})
	}
	for i := 0; i < 400; i += 100 {
		// Four batch events plus one get-secrets event each: cheap volume.
		must(e1.Secrets.BatchCreate(ctx, admin, infisical.BatchCreateInput{SecretScope: infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: "dev"}, Secrets: items[i : i+100]}))(t)
		for j := 0; j < 100; j++ {
			must(e1.Secrets.List(ctx, admin, infisical.ListSecretsInput{SecretScope: infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: "dev"}}))(t)
		}
	}
	var total int
	deadline := time.Now().Add(5 * time.Second)
	for total < 404 && time.Now().Before(deadline) {
		total = len(must(e1.Audit().List(ctx, admin, infisical.AuditLogQuery{Limit: 1000}))(t))
		time.Sleep(20 * time.Millisecond)
	}
	clock.Set(clock.Now().AddDate(0, 4, 0))
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, e := range []*infisical.Engine{e1, e2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := e.Audit().PruneExpired(ctx)
			if err != nil {
				t.Errorf("prune %d: %v", i, err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] < total {
		t.Fatalf("pruned %v, want %d in all", counts, total)
	}
	var left int
	if err := e1.Store().DB().QueryRowContext(ctx, "SELECT count(*) FROM audit_logs WHERE org_id = ?", org.ID).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d events left", left)
	}
}
