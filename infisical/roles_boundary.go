package infisical

import (
	"context"
	"fmt"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// Escalation guards ("permission boundary"): nobody creates, updates or
// assigns a role, privilege, membership or identity with more power than
// they hold themselves. Every assignment path goes through the functions of
// this file:
//
//   - rulesWithin: a list of rules (custom role, privilege, template role)
//     against the caller's permissions;
//   - projectRolesWithin (memberships.go): assigned project roles, built-in
//     or custom, against the caller's project permissions (identity, user
//     and group memberships);
//   - orgRoleWithin: an organization role (identities, groups, users)
//     against the caller's organization permissions;
//   - actorWithin: the current project permissions of a member who is about
//     to be changed (a caller may not manage someone more privileged).
//
// The comparison itself is permission.Set.Covers.

// boundaryError is Infisical's refusal to let a caller hand out (or manage)
// more than it holds.
func boundaryError(format string, args ...any) *Error {
	err := newErr(KindForbidden, format, args...)
	err.Name = "PermissionBoundaryError"
	return err
}

// setCovers reports whether the caller's permissions include everything the
// allow rules grant.
func setCovers(caller *permission.Set, rules []permission.Rule) bool {
	ok, _ := caller.Covers(rules)
	return ok
}

// rulesWithin refuses rules that grant more than set allows. The platform
// actor passes. The error names the first rule that is not covered.
func (e *Engine) rulesWithin(actor Actor, set *permission.Set, rules []permission.Rule, what string) error {
	if actor.Type == ActorPlatform {
		return nil
	}
	ok, missing := set.Covers(rules)
	if ok {
		return nil
	}
	err := boundaryError("Failed to %s: the permissions grant more privileges than you have (%s on %s)",
		what, joinActions(missing.Action), missing.Subject)
	err.Details = map[string]any{"missingPermissions": []permission.Rule{missing}}
	return err
}

func joinActions(actions []string) string {
	if len(actions) == 1 {
		return actions[0]
	}
	return fmt.Sprint(actions)
}

// actorWithin refuses when the member (identity or user) currently holds
// more in the project than the caller: a caller may not change or remove
// someone more privileged than itself.
func (e *Engine) actorWithin(ctx context.Context, actor Actor, set *permission.Set, p *store.Project, memberType, memberID, what string) error {
	if actor.Type == ActorPlatform {
		return nil
	}
	member := Actor{Type: ActorIdentity, ID: memberID, OrgID: p.OrgID}
	if memberType == store.ActorUser {
		member.Type = ActorUser
	}
	theirs, err := e.permissions(ctx, member, p)
	if err != nil {
		return err
	}
	if !setCovers(set, theirs.Rules()) {
		return boundaryError("Failed to %s: the %s has more privileges than you", what, memberType)
	}
	return nil
}

// orgRoleRules validates an organization role slug (built-in or custom)
// and returns its rules.
func (e *Engine) orgRoleRules(ctx context.Context, orgID, slug string) ([]permission.Rule, error) {
	if rules, ok := permission.BuiltinOrgRole(slug); ok {
		return rules, nil
	}
	if slug == permission.RoleCustom || e.customOrgRoleRules == nil {
		return nil, NotFound("Organization role with slug '%s' not found", slug)
	}
	return e.customOrgRoleRules(ctx, orgID, slug)
}

// orgRoleWithin refuses when role (an org role slug) grants more than the
// caller's org permissions: only org admins may hand out (or manage holders
// of) the admin role, and any other role must be covered by the caller's
// own rules.
func (e *Engine) orgRoleWithin(ctx context.Context, actor Actor, orgID string, set *permission.Set, role, what string) error {
	if actor.Type == ActorPlatform {
		return nil
	}
	rules, err := e.orgRoleRules(ctx, orgID, role)
	if err != nil {
		return err
	}
	if role == permission.RoleAdmin {
		mine, err := e.orgRole(ctx, actor, orgID)
		if err != nil {
			return err
		}
		if mine != permission.RoleAdmin {
			return boundaryError("Failed to %s: only organization admins may use the admin role", what)
		}
		return nil
	}
	if !setCovers(set, rules) {
		return boundaryError("Failed to %s: the role '%s' grants more privileges than you have", what, role)
	}
	return nil
}
