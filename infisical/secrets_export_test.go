package infisical

import (
	"context"

	"github.com/infisical-go/engine/infisical/permission"
	"github.com/infisical-go/engine/infisical/store"
)

// SetCustomRoleRulesForSecretsTest lets the secrets tests give custom
// project roles their rules (custom-role storage is another area's work).
// Call it right after Open, before the engine serves requests.
func SetCustomRoleRulesForSecretsTest(e *Engine, fn func(ctx context.Context, projectID string, r *store.MembershipRole) ([]permission.Rule, error)) {
	e.customRoleRules = fn
}
