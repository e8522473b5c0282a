package infisical

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// accessCache keeps compiled permission sets per (actor, project). Entries
// are dropped by project (memberships, roles) or globally (org roles,
// identity changes), and expire by themselves when a temporary grant starts
// or ends.
type accessCache struct{ c *genCache[accessEntry] }

type accessEntry struct {
	set   *permission.Set
	until time.Time // zero = until invalidated
}

func newAccessCache(size int) *accessCache { return &accessCache{c: newGenCache[accessEntry](size)} }

func (a *accessCache) drop(projectID string) { a.c.bump(projectID) }

// ProjectRef names a project by id or by slug (within the caller's
// organization). Empty strings count as absent; the id wins.
type ProjectRef struct {
	ID   string
	Slug string
}

// project resolves ref for actor and returns the project's structure and the
// actor's compiled permissions in it. A project of another organization is
// reported as not found.
func (e *Engine) project(ctx context.Context, actor Actor, ref ProjectRef) (*projectMeta, *permission.Set, error) {
	id := strings.TrimSpace(ref.ID)
	if id == "" {
		slug := strings.TrimSpace(ref.Slug)
		if slug == "" {
			return nil, nil, BadRequest("You must provide projectSlug or workspaceId")
		}
		p, err := e.store.Read().GetProjectBySlug(ctx, actor.OrgID, slug)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, NotFound("Project with slug '%s' not found", slug)
		}
		if err != nil {
			return nil, nil, Internal("find project by slug", err)
		}
		id = p.ID
	}
	m, err := e.meta(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if actor.Type != ActorPlatform && m.project.OrgID != actor.OrgID {
		return nil, nil, NotFound("Project with ID '%s' not found", id)
	}
	if actor.Type == ActorService && actor.ProjectID != m.project.ID {
		return nil, nil, Forbidden("Service token is not authorized to access this project")
	}
	set, err := e.permissions(ctx, actor, &m.project)
	if err != nil {
		return nil, nil, err
	}
	return m, set, nil
}

// permissions returns the compiled permission set of actor in project.
func (e *Engine) permissions(ctx context.Context, actor Actor, p *store.Project) (*permission.Set, error) {
	if actor.Type == ActorPlatform {
		return e.adminSet, nil
	}
	key := string(actor.Type) + "|" + actor.ID + "|" + p.ID
	now := e.cfg.Now()
	if ent, ok := e.access.c.get(key, p.ID); ok && (ent.until.IsZero() || now.Before(ent.until)) {
		return ent.set, nil
	}
	gen, global := e.access.c.stamp(p.ID)
	rules, until, err := e.loadRules(ctx, actor, p, now)
	if err != nil {
		return nil, err
	}
	set, err := permission.Compile(rules...)
	if err != nil {
		return nil, Internal("compile permissions", err)
	}
	e.access.c.put(key, p.ID, gen, global, accessEntry{set: set, until: until})
	return set, nil
}

// loadRules gathers the rule lists that apply to actor in project: its
// organization role (org admins administer every project of their org), its
// project roles that are active now, and its service-token scopes. until is
// the next instant at which a temporary grant starts or ends.
func (e *Engine) loadRules(ctx context.Context, actor Actor, p *store.Project, now time.Time) ([][]permission.Rule, time.Time, error) {
	var until time.Time
	if actor.Type == ActorService {
		return [][]permission.Rule{serviceTokenRules(actor)}, until, nil
	}
	var actorType string
	switch actor.Type {
	case ActorUser:
		actorType = store.ActorUser
	case ActorIdentity:
		actorType = store.ActorIdentity
	default:
		return nil, until, nil
	}
	q := e.store.Read()
	orgRole, _, err := q.OrgRole(ctx, p.OrgID, actorType, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, until, nil
	}
	if err != nil {
		return nil, until, Internal("load organization role", err)
	}
	if orgRole == "admin" {
		admin, _ := permission.BuiltinProjectRole("admin")
		return [][]permission.Rule{admin}, until, nil
	}
	roles, err := q.MembershipRoles(ctx, p.ID, map[string][]string{actorType: {actor.ID}})
	if err != nil {
		return nil, until, Internal("load project roles", err)
	}
	var out [][]permission.Rule
	for i := range roles {
		r := &roles[i]
		if r.IsTemporary {
			for _, t := range []*time.Time{r.TemporaryAccessStartTime, r.TemporaryAccessEndTime} {
				if t != nil && t.After(now) && (until.IsZero() || t.Before(until)) {
					until = *t
				}
			}
		}
		if !r.Active(now) {
			continue
		}
		rules, err := e.roleRules(ctx, p.ID, r)
		if err != nil {
			return nil, until, err
		}
		out = append(out, rules)
	}
	return out, until, nil
}

// roleRules returns the rules of one assigned role. Custom roles are
// resolved through customRoleRules, which later work fills in.
func (e *Engine) roleRules(ctx context.Context, projectID string, r *store.MembershipRole) ([]permission.Rule, error) {
	if rules, ok := permission.BuiltinProjectRole(r.Role); ok {
		return rules, nil
	}
	if e.customRoleRules != nil {
		return e.customRoleRules(ctx, projectID, r)
	}
	return nil, nil
}

// serviceTokenRules turns legacy service-token scopes into rules.
func serviceTokenRules(actor Actor) []permission.Rule {
	actions := []string{permission.ActionRead}
	if actor.ServiceWrite {
		actions = append(actions, permission.ActionCreate, permission.ActionEdit, permission.ActionDelete)
	}
	var rules []permission.Rule
	for _, sc := range actor.ServiceScopes {
		cond := map[string]any{
			"environment": sc.Environment,
			"secretPath":  map[string]any{"$glob": sc.SecretPath},
		}
		rules = append(rules,
			permission.Rule{Subject: permission.SubjectSecrets, Action: actions, Conditions: cond},
			permission.Rule{Subject: permission.SubjectSecretFolders, Action: actions, Conditions: cond},
			permission.Rule{Subject: permission.SubjectSecretImports, Action: []string{permission.ActionRead}, Conditions: cond},
		)
	}
	return rules
}

// orgRole returns the organization role of a user or identity in orgID.
func (e *Engine) orgRole(ctx context.Context, actor Actor, orgID string) (string, error) {
	if actor.Type == ActorPlatform {
		return "admin", nil
	}
	typ := store.ActorIdentity
	if actor.Type == ActorUser {
		typ = store.ActorUser
	} else if actor.Type != ActorIdentity {
		return "", Forbidden("This action requires a user or machine identity")
	}
	role, _, err := e.store.Read().OrgRole(ctx, orgID, typ, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "", Forbidden("You are not a member of this organization")
	}
	if err != nil {
		return "", Internal("load organization role", err)
	}
	return role, nil
}

// orgPermissions returns the compiled org-level permissions of actor.
func (e *Engine) orgPermissions(ctx context.Context, actor Actor, orgID string) (*permission.Set, error) {
	if actor.Type != ActorPlatform && actor.OrgID != orgID {
		return nil, Forbidden("You are not allowed to access this organization")
	}
	role, err := e.orgRole(ctx, actor, orgID)
	if err != nil {
		return nil, err
	}
	rules, ok := permission.BuiltinOrgRole(role)
	if !ok && e.customOrgRoleRules != nil {
		rules, err = e.customOrgRoleRules(ctx, orgID, role)
		if err != nil {
			return nil, err
		}
	}
	set, err := permission.Compile(rules)
	if err != nil {
		return nil, Internal("compile org permissions", err)
	}
	return set, nil
}
