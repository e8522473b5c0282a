package infisical

import (
	"context"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// SetTestCustomRoles installs custom org and project roles (slug → rules)
// for tests of the privilege boundary; the real custom-role subsystem fills
// the same hooks.
func SetTestCustomRoles(e *Engine, org, project map[string][]permission.Rule) {
	e.customOrgRoleRules = func(_ context.Context, _ string, slug string) ([]permission.Rule, error) {
		if r, ok := org[slug]; ok {
			return r, nil
		}
		return nil, NotFound("Organization role with slug '%s' not found", slug)
	}
	e.resolveCustomRole = func(_ context.Context, _ store.Q, _ string, slug string) (string, error) {
		if _, ok := project[slug]; ok {
			return slug, nil
		}
		return "", NotFound("Role with slug '%s' not found", slug)
	}
	e.customRoleRules = func(_ context.Context, _ string, r *store.MembershipRole) ([]permission.Rule, error) {
		if r.CustomRoleID != nil {
			return project[*r.CustomRoleID], nil
		}
		return nil, nil
	}
}
