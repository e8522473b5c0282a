package enginetest

import (
	"context"
	"testing"

	"github.com/infisical-go/engine/infisical"
)

// IdentityToken creates a machine identity in orgID with orgRole, makes it a
// member of projectID with projectRole (skipped when projectID is ""),
// attaches token auth and returns the identity's id and a fresh access
// token. Everything goes through the engine's public API with the platform
// actor, exactly as an embedding program would.
func IdentityToken(t testing.TB, eng *infisical.Engine, orgID string, orgRole string, projectID string, projectRole string) (identityID, token string) {
	t.Helper()
	ctx := context.Background()
	admin := infisical.Platform(orgID)
	ident, err := eng.Identities.Create(ctx, admin, infisical.CreateIdentityInput{Name: "test identity " + orgRole + " " + projectRole, OrgID: orgID, Role: orgRole})
	if err != nil {
		t.Fatalf("create identity: %v", err)
	}
	if projectID != "" {
		if _, err := eng.Memberships.AddIdentity(ctx, admin, projectID, ident.IdentityID, []infisical.RoleAssignment{{Role: projectRole}}); err != nil {
			t.Fatalf("add identity to project: %v", err)
		}
	}
	if _, err := eng.TokenAuth.Attach(ctx, admin, ident.IdentityID, infisical.TokenSettings{}); err != nil {
		t.Fatalf("attach token auth: %v", err)
	}
	tok, err := eng.TokenAuth.CreateToken(ctx, admin, ident.IdentityID, infisical.CreateTokenInput{Name: "test"})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return ident.IdentityID, tok.AccessToken
}
