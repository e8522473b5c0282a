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
	if len(actor.Principal) > 0 {
		// Rules may read the login principal ({{identity.auth.*}}), which
		// belongs to one token.
		key += "|" + actor.TokenID
	}
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
// organization role (org admins administer every project of their org),
// the project roles (built-in or custom) of its own membership and, for
// users, of its groups' memberships, and its additional privileges; only
// grants active at now count. Attribute placeholders are applied. Service
// tokens get their scopes. until is the next instant at which a temporary
// grant starts or ends (zero: none), when the cached result expires.
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
	if orgRole != permission.RoleAdmin && actorType == store.ActorUser {
		groupRoles, err := q.GroupOrgRolesOfUser(ctx, p.OrgID, actor.ID)
		if err != nil {
			return nil, until, Internal("load group roles", err)
		}
		for _, r := range groupRoles {
			if r == permission.RoleAdmin {
				orgRole = r
			}
		}
	}
	if orgRole == permission.RoleAdmin {
		admin, _ := permission.BuiltinProjectRole(permission.RoleAdmin)
		return [][]permission.Rule{admin}, until, nil
	}
	// watch records the boundaries of a temporary grant.
	watch := func(start, end *time.Time) {
		for _, t := range []*time.Time{start, end} {
			if t != nil && t.After(now) && (until.IsZero() || t.Before(until)) {
				until = *t
			}
		}
	}
	members := map[string][]string{actorType: {actor.ID}}
	if actorType == store.ActorUser {
		groups, err := q.GroupIDsOfUser(ctx, p.OrgID, actor.ID)
		if err != nil {
			return nil, until, Internal("load groups", err)
		}
		if len(groups) > 0 {
			members[store.ActorGroup] = groups
		}
	}
	roles, err := q.MembershipRoles(ctx, p.ID, members)
	if err != nil {
		return nil, until, Internal("load project roles", err)
	}
	var out [][]permission.Rule
	var active []*store.MembershipRole
	for i := range roles {
		r := &roles[i]
		if r.IsTemporary {
			watch(r.TemporaryAccessStartTime, r.TemporaryAccessEndTime)
		}
		if r.Active(now) {
			active = append(active, r)
		}
	}
	roleRules, err := e.rolesRules(ctx, q, p.ID, active)
	if err != nil {
		return nil, until, err
	}
	out = append(out, roleRules...)
	privs, err := q.PrivilegesOfActor(ctx, p.ID, actorType, actor.ID)
	if err != nil {
		return nil, until, Internal("load additional privileges", err)
	}
	for i := range privs {
		pr := &privs[i]
		if pr.IsTemporary {
			watch(pr.TemporaryAccessStartTime, pr.TemporaryAccessEndTime)
		}
		if !pr.Active(now) {
			continue
		}
		rules, err := decodeRules(pr.Permissions)
		if err != nil {
			return nil, until, Internal("decode privilege permissions", err)
		}
		out = append(out, rules)
	}
	if anyPlaceholders(out) {
		ph, err := e.placeholders(ctx, q, actor, p.OrgID)
		if err != nil {
			return nil, until, err
		}
		for i := range out {
			out[i] = ph.Apply(out[i])
		}
	}
	return out, until, nil
}

func anyPlaceholders(lists [][]permission.Rule) bool {
	for _, l := range lists {
		if permission.HasPlaceholders(l) {
			return true
		}
	}
	return false
}

// placeholders returns the attributes ABAC rules may reference:
//
//	{{identity.id}}              the user or identity id
//	{{identity.username}}        the username (for identities: their name)
//	{{identity.metadata.<key>}}  the actor's metadata in the organization
//	{{identity.auth.<path>}}     what the identity's login proved, from the
//	                             token's principal, e.g.
//	                             {{identity.auth.oidc.claims.sub}},
//	                             {{identity.auth.kubernetes.namespace}},
//	                             {{identity.auth.aws.accountId}}
//
// Missing values render as the empty string, which matches nothing in a
// $glob or $eq condition.
func (e *Engine) placeholders(ctx context.Context, q store.Q, actor Actor, orgID string) (permission.Placeholders, error) {
	ph := permission.Placeholders{IdentityID: actor.ID, Metadata: map[string]string{}, Auth: actor.Principal}
	switch actor.Type {
	case ActorIdentity:
		ident, err := q.GetIdentity(ctx, actor.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return ph, Internal("load identity", err)
		}
		if ident != nil {
			ph.Username = ident.Name
		}
		md, err := q.IdentityMetadataOf(ctx, orgID, []string{actor.ID})
		if err != nil {
			return ph, Internal("load identity metadata", err)
		}
		for _, m := range md {
			ph.Metadata[m.Key] = m.Value
		}
	case ActorUser:
		u, err := q.GetUser(ctx, actor.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return ph, Internal("load user", err)
		}
		if u != nil {
			ph.Username = u.Username
		}
		md, err := q.UserMetadataOf(ctx, orgID, []string{actor.ID})
		if err != nil {
			return ph, Internal("load user metadata", err)
		}
		for _, m := range md {
			ph.Metadata[m.Key] = m.Value
		}
		ph.Auth = nil
	}
	return ph, nil
}

// rolesRules returns the rules of assigned roles: built-in ones from the
// permission package, custom ones (of this project) from the store in one
// query.
func (e *Engine) rolesRules(ctx context.Context, q store.Q, projectID string, roles []*store.MembershipRole) ([][]permission.Rule, error) {
	var out [][]permission.Rule
	var customIDs []string
	for _, r := range roles {
		if r.CustomRoleID != nil && e.customRoleRules != nil {
			// An installed hook replaces the store lookup (tests).
			rules, err := e.customRoleRules(ctx, projectID, r)
			if err != nil {
				return nil, err
			}
			out = append(out, rules)
			continue
		}
		if r.CustomRoleID != nil {
			customIDs = append(customIDs, *r.CustomRoleID)
			continue
		}
		if rules, ok := permission.BuiltinProjectRole(r.Role); ok {
			out = append(out, rules)
		}
	}
	if len(customIDs) == 0 {
		return out, nil
	}
	rows, err := q.ProjectRolesByIDs(ctx, customIDs)
	if err != nil {
		return nil, Internal("load custom roles", err)
	}
	for i := range rows {
		if rows[i].ProjectID != projectID {
			continue
		}
		rules, err := decodeRules(rows[i].Permissions)
		if err != nil {
			return nil, Internal("decode role permissions", err)
		}
		out = append(out, rules)
	}
	return out, nil
}

// roleRules returns the rules of one assigned role (built-in or custom).
func (e *Engine) roleRules(ctx context.Context, projectID string, r *store.MembershipRole) ([]permission.Rule, error) {
	lists, err := e.rolesRules(ctx, e.store.Read(), projectID, []*store.MembershipRole{r})
	if err != nil {
		return nil, err
	}
	var out []permission.Rule
	for _, l := range lists {
		out = append(out, l...)
	}
	return out, nil
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
	if typ == store.ActorUser && role != permission.RoleAdmin {
		// A user also holds the organization roles of its groups; the admin
		// role counts wherever it comes from.
		groupRoles, err := e.store.Read().GroupOrgRolesOfUser(ctx, orgID, actor.ID)
		if err != nil {
			return "", Internal("load group roles", err)
		}
		for _, r := range groupRoles {
			if r == permission.RoleAdmin {
				return permission.RoleAdmin, nil
			}
		}
	}
	return role, nil
}

// orgRoleRulesOf returns the rules of an organization role slug held by a
// member (nothing for a custom role that no longer exists).
func (e *Engine) orgRoleRulesOf(ctx context.Context, orgID, role string) ([]permission.Rule, error) {
	if rules, ok := permission.BuiltinOrgRole(role); ok {
		return rules, nil
	}
	if e.customOrgRoleRules == nil {
		return nil, nil
	}
	rules, err := e.customOrgRoleRules(ctx, orgID, role)
	if IsNotFound(err) {
		return nil, nil
	}
	return rules, err
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
	rules, err := e.orgRoleRulesOf(ctx, orgID, role)
	if err != nil {
		return nil, err
	}
	lists := [][]permission.Rule{rules}
	if actor.Type == ActorUser && role != permission.RoleAdmin {
		// The union with the organization roles of the user's groups.
		groupRoles, err := e.store.Read().GroupOrgRolesOfUser(ctx, orgID, actor.ID)
		if err != nil {
			return nil, Internal("load group roles", err)
		}
		for _, r := range groupRoles {
			gr, err := e.orgRoleRulesOf(ctx, orgID, r)
			if err != nil {
				return nil, err
			}
			lists = append(lists, gr)
		}
	}
	set, err := permission.Compile(lists...)
	if err != nil {
		return nil, Internal("compile org permissions", err)
	}
	return set, nil
}
