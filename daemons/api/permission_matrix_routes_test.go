package api_test

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/infisical-go/engine/infisical"
)

// Matrix entries of the accounts, audit, KMS and machine-auth routes and of
// the public routes (see permission_matrix_test.go for the model), with the
// fixtures they need.

const (
	matrixAWSKeyID  = "AKIAMATRIX0000000001"
	matrixAWSSecret = "matrix-aws-secret-key-00000000000000000"
	// matrixLoginEmail is a user that only the login route logs in.
	matrixLoginEmail = "login@matrix.example"
)

// methodConfigs are valid attach bodies of the machine login methods that
// need no network at configuration time.
var methodConfigs = map[string]map[string]any{
	"aws-auth":        {"allowedAccountIds": "123456789012"},
	"gcp-auth":        {"type": "iam", "allowedServiceAccounts": "ci@matrix.iam.gserviceaccount.com"},
	"azure-auth":      {"tenantId": "matrix-tenant", "resource": "https://management.azure.com/"},
	"kubernetes-auth": {"kubernetesHost": "https://k8s.matrix.example:6443", "allowedNamespaces": "prod"},
	"oidc-auth":       {"oidcDiscoveryUrl": "https://issuer.matrix.example", "boundIssuer": "https://issuer.matrix.example"},
	"jwt-auth":        {"configurationType": "jwks", "jwksUrl": "https://issuer.matrix.example/jwks"},
	"ldap-auth": {"url": "ldap://ldap.matrix.example:389", "bindDN": "cn=admin,dc=matrix", "bindPass": "matrix-bind",
		"searchBase": "ou=people,dc=matrix"},
}

// methodOrder fixes the order of methodConfigs.
var methodOrder = []string{"aws-auth", "gcp-auth", "azure-auth", "kubernetes-auth", "oidc-auth", "jwt-auth", "ldap-auth"}

// ---- fixtures ----------------------------------------------------------------------

// accountFixtures creates the shared resources of the routes below.
func (fx *mfx) accountFixtures() {
	fx.t.Helper()
	if _, err := fx.ts.eng.Users.Create(fx.ctx, infisical.Platform(fx.orgID), infisical.CreateUserInput{Email: matrixLoginEmail, Password: matrixPassword}); err != nil {
		fx.t.Fatalf("create login user: %v", err)
	}
	_, orgMID := fx.orgUser()
	pu, pmid := fx.projectUser()
	var ua struct {
		UA struct {
			ClientID string `json:"clientId"`
		} `json:"identityUniversalAuth"`
	}
	fx.must("GET", "/api/v1/auth/universal-auth/identities/"+fx.vars["uaIdentity"], nil, &ua)
	var cs struct {
		ClientSecret string `json:"clientSecret"`
	}
	fx.must("POST", "/api/v1/auth/universal-auth/identities/"+fx.vars["uaIdentity"]+"/client-secrets", map[string]any{"description": "login"}, &cs)
	// Tokens of this identity live an hour of a day-long budget, so they
	// can be renewed.
	renew := fx.identity("renew")
	fx.must("POST", "/api/v1/auth/token-auth/identities/"+renew, map[string]any{"accessTokenTTL": 3600, "accessTokenMaxTTL": 86400}, nil)
	extID, extName := fx.externalKMS()
	keyID, keyName := fx.cmek("encrypt-decrypt")
	signID, _ := fx.cmek("sign-verify")
	for k, v := range map[string]string{
		"orgMembershipId": orgMID, "projectMembershipId": pmid, "projectUsername": pu,
		"uaClientId": ua.UA.ClientID, "uaClientSecret": cs.ClientSecret,
		"streamId": fx.stream(), "externalKmsId": extID, "externalKmsName": extName,
		"keyId": keyID, "keyName": keyName, "signKeyId": signID, "renewIdentity": renew,
	} {
		fx.vars[k] = v
	}
	for _, m := range methodOrder {
		fx.vars["auth:"+m] = fx.methodIdentity(m)
	}
}

// projectUser adds a new organization user to the fixture project (role
// no-access) and returns its username and project membership id.
func (fx *mfx) projectUser() (username, membershipID string) {
	username, _ = fx.orgUser()
	return username, fx.addUserToProject(fx.pid, username, "no-access")
}

// pendingInvite invites a new email to the organization and returns the
// invitation.
func (fx *mfx) pendingInvite() infisical.Invitation {
	fx.t.Helper()
	inv, err := fx.ts.eng.Users.Invite(fx.ctx, infisical.Platform(fx.orgID), infisical.InviteInput{OrgID: fx.orgID,
		Emails: []string{fx.uniq("invitee") + "@matrix.example"}})
	if err != nil || len(inv) != 1 || inv[0].Code == "" {
		fx.t.Fatalf("invite: %v %+v", err, inv)
	}
	return inv[0]
}

// serviceToken creates a service token of the fixture project and returns
// its id.
func (fx *mfx) serviceToken() string {
	fx.t.Helper()
	_, data, err := fx.ts.eng.ServiceTokens.Create(fx.ctx, infisical.Platform(fx.orgID), infisical.CreateServiceTokenInput{Name: fx.uniq("st"),
		ProjectID: fx.pid, Scopes: []infisical.ServiceScope{{Environment: "dev", SecretPath: "/"}}, Permissions: []string{"read"}})
	if err != nil {
		fx.t.Fatalf("create service token: %v", err)
	}
	return data.ID
}

// stream registers an audit-log stream to the local HTTPS endpoint.
func (fx *mfx) stream() string {
	var out struct {
		Stream idOut `json:"auditLogStream"`
	}
	fx.must("POST", "/api/v1/audit-log-streams", map[string]any{"url": fx.streamURL + "/" + fx.uniq("s")}, &out)
	return out.Stream.ID
}

// dropStreams deletes the fixture organization's streams but the shared
// one: every stream receives every event.
func (fx *mfx) dropStreams() {
	var out struct {
		Streams []idOut `json:"auditLogStreams"`
	}
	fx.must("GET", "/api/v1/audit-log-streams", nil, &out)
	for _, s := range out.Streams {
		if s.ID != fx.vars["streamId"] {
			fx.must("DELETE", "/api/v1/audit-log-streams/"+s.ID, nil, nil)
		}
	}
}

func (fx *mfx) externalKMSBody() map[string]any {
	return map[string]any{"name": fx.uniq("ext"), "description": "matrix", "provider": map[string]any{"type": "aws", "inputs": map[string]any{
		"awsRegion": "eu-central-1", "kmsKeyId": fx.awsKey,
		"credential": map[string]any{"type": "access-key", "data": map[string]any{"accessKey": matrixAWSKeyID, "secretKey": matrixAWSSecret}}}}}
}

// externalKMS adds an external KMS (the local AWS KMS) to the organization.
func (fx *mfx) externalKMS() (id, name string) {
	var out struct {
		K struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"externalKms"`
	}
	fx.must("POST", "/api/v1/external-kms", fx.externalKMSBody(), &out)
	return out.K.ID, out.K.Name
}

// cmek creates a customer-managed key in the fixture project.
func (fx *mfx) cmek(usage string) (id, name string) {
	body := map[string]any{"projectId": fx.pid, "name": fx.uniq("key"), "keyUsage": usage}
	if usage == "sign-verify" {
		body["encryptionAlgorithm"] = "ecc-nist-p256"
	}
	var out struct {
		Key struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"key"`
	}
	fx.must("POST", "/api/v1/kms/keys", body, &out)
	return out.Key.ID, out.Key.Name
}

var matrixData = base64.StdEncoding.EncodeToString([]byte("matrix data"))

func (fx *mfx) ciphertext() string {
	var out struct {
		Ciphertext string `json:"ciphertext"`
	}
	fx.must("POST", "/api/v1/kms/keys/"+fx.vars["keyId"]+"/encrypt", map[string]any{"plaintext": matrixData}, &out)
	return out.Ciphertext
}

func (fx *mfx) signature() string {
	var out struct {
		Signature string `json:"signature"`
	}
	fx.must("POST", "/api/v1/kms/keys/"+fx.vars["signKeyId"]+"/sign", map[string]any{"data": matrixData, "signingAlgorithm": "ECDSA_SHA_256"}, &out)
	return out.Signature
}

// methodIdentity creates an identity with the login method configured.
func (fx *mfx) methodIdentity(method string) string {
	id := fx.identity(strings.TrimSuffix(method, "-auth"))
	fx.must("POST", "/api/v1/auth/"+method+"/identities/"+id, methodConfigs[method], nil)
	return id
}

// accessToken issues a fresh, renewable token-auth access token.
func (fx *mfx) accessToken() string {
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	fx.must("POST", "/api/v1/auth/token-auth/identities/"+fx.vars["renewIdentity"]+"/tokens", map[string]any{"name": fx.uniq("renew")}, &out)
	if out.AccessToken == "" {
		fx.t.Fatal("token auth issued no access token")
	}
	return out.AccessToken
}

// ---- users, sessions, memberships, invitations, service tokens ---------------------

func addAccountCases(c mtable) {
	// The session routes act on the caller (a user). Selecting an
	// organization exchanges the session for a new one; like a login, it is
	// refused with 401 to a user who is not a member.
	c.addK("U", "POST", "/api/v3/auth/select-organization", need{kind: nOrgMember, other: 401}, func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"organizationId": fx.orgID}}
	})
	c.set("POST", "/api/v3/auth/select-organization", func(mc *mcase) { mc.endsSession = true })
	for _, r := range []struct{ method, path string }{
		{"POST", "/api/v1/auth/checkAuth"}, {"GET", "/api/v1/user"}, {"GET", "/api/v2/users/me"},
		{"GET", "/api/v1/organization"}, {"GET", "/api/v1/organization/accessible-with-sub-orgs"},
	} {
		c.addK("U", r.method, r.path, anyCaller(), plain)
	}
	c.addK("U", "DELETE", "/api/v2/users/me/sessions", anyCaller(), plain)
	c.set("DELETE", "/api/v2/users/me/sessions", func(mc *mcase) { mc.endsSession = true })

	// Invitations to the organization.
	c.add("POST", "/api/v1/invite-org/signup", org(perm{"member", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"inviteeEmails": []string{fx.uniq("invited") + "@matrix.example"}, "organizationId": fx.orgID}}
	})
	c.add("POST", "/api/v1/invite-org/signup-resend", org(perm{"member", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"membershipId": fx.pendingInvite().MembershipID}}
	})

	// Organization memberships of users: reading also with machine
	// identities; changing them with a user session only (spec §8.2).
	om := "/api/v2/organizations/{organizationId}/memberships"
	withMID := func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "membershipId", fx.vars["orgMembershipId"])}
	}
	c.add("GET", om, org(perm{"member", read}), plain)
	c.add("GET", om+"/{membershipId}", org(perm{"member", read}), withMID)
	c.add("GET", om+"/{membershipId}/project-memberships", org(perm{"member", read}), withMID)
	c.addK("U", "PATCH", om+"/{membershipId}", org(perm{"member", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "membershipId", fx.vars["orgMembershipId"]), body: map[string]any{"role": "member", "isActive": true}}
	})
	c.addK("U", "DELETE", om+"/{membershipId}", org(perm{"member", del}), func(fx *mfx, p string) mreq {
		_, mid := fx.orgUser()
		return mreq{path: fx.path(p, "membershipId", mid)}
	})

	// Project memberships of users.
	for _, base := range []string{"/api/v1/workspace/{workspaceId}/memberships", "/api/v1/projects/{workspaceId}/memberships"} {
		withPM := func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p, "membershipId", fx.vars["projectMembershipId"])}
		}
		c.add("GET", base, proj(perm{"member", read}), plain)
		c.add("POST", base+"/details", proj(perm{"member", read}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p), body: map[string]any{"username": fx.vars["projectUsername"]}}
		})
		c.add("GET", base+"/{membershipId}", proj(perm{"member", read}), withPM)
		c.add("PATCH", base+"/{membershipId}", proj(perm{"member", edit}), func(fx *mfx, p string) mreq {
			r := withPM(fx, p)
			r.body = map[string]any{"roles": []map[string]any{{"role": "no-access", "isTemporary": false}}}
			return r
		})
		c.add("DELETE", base+"/{membershipId}", proj(perm{"member", del}), func(fx *mfx, p string) mreq {
			_, mid := fx.projectUser()
			return mreq{path: fx.path(p, "membershipId", mid)}
		})
	}
	pm := "/api/v2/workspace/{projectId}/memberships"
	c.add("POST", pm, proj(perm{"member", create}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"usernames": []string{fx.user()}, "roleSlugs": []string{"no-access"}}}
	})
	c.add("DELETE", pm, proj(perm{"member", del}), func(fx *mfx, p string) mreq {
		name, _ := fx.projectUser()
		return mreq{path: fx.path(p), body: map[string]any{"usernames": []string{name}}}
	})

	// Legacy service tokens (spec §7.12): the token reads itself; users
	// manage them.
	c.addK("S", "GET", "/api/v2/service-token", anyCaller(), plain)
	c.addK("U", "POST", "/api/v2/service-token", proj(perm{"service-tokens", create}, perm{"secrets", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"name": fx.uniq("st"), "workspaceId": fx.pid, "expiresIn": nil,
			"scopes": []map[string]any{{"environment": "dev", "secretPath": "/"}}, "permissions": []string{"read"}}}
	})
	c.addK("U", "DELETE", "/api/v2/service-token/{serviceTokenId}", proj(perm{"service-tokens", del}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "serviceTokenId", fx.serviceToken())}
	})
	c.addK("U", "GET", "/api/v1/workspace/{workspaceId}/service-token-data", proj(perm{"service-tokens", read}), plain)
}

// ---- audit logs and streams ----------------------------------------------------------

func addAuditCases(c mtable) {
	c.add("GET", "/api/v1/organization/audit-logs", ownOrg(perm{"audit-logs", read}), plain)
	// The project's audit-logs read, or the organization's (docs/audit.md).
	c.add("GET", "/api/v1/workspace/{workspaceId}/audit-logs",
		need{kind: nProject, perms: []perm{{"audit-logs", read}}, orOrg: []perm{{"audit-logs", read}}}, plain)

	// Streams are governed by the organization's settings permission.
	sb := "/api/v1/audit-log-streams"
	withID := func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "id", fx.vars["streamId"])} }
	c.add("POST", sb, ownOrg(perm{"settings", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"url": fx.streamURL + "/" + fx.uniq("new"),
			"headers": []map[string]any{{"key": "Authorization", "value": "Bearer matrix"}}}}
	})
	c.set("POST", sb, func(mc *mcase) { mc.done = (*mfx).dropStreams })
	c.add("GET", sb, ownOrg(perm{"settings", read}), plain)
	c.add("GET", sb+"/{id}", org(perm{"settings", read}), withID)
	c.add("PATCH", sb+"/{id}", org(perm{"settings", edit}), func(fx *mfx, p string) mreq {
		r := withID(fx, p)
		r.body = map[string]any{"headers": []map[string]any{{"key": "X-Matrix", "value": fx.uniq("h")}}}
		return r
	})
	// A stream left by a refused deletion is offered to the next caller
	// (an organization has at most 10 streams).
	c.add("DELETE", sb+"/{id}", org(perm{"settings", del}), func(fx *mfx, p string) mreq {
		id := fx.vars["pendingStream"]
		if code, _, _ := fx.ts.do("GET", "/api/v1/audit-log-streams/"+id, fx.admin, nil); id == "" || code != 200 {
			id = fx.stream()
			fx.vars["pendingStream"] = id
		}
		return mreq{path: fx.path(p, "id", id)}
	})
	c.set("DELETE", sb+"/{id}", func(mc *mcase) { mc.done = (*mfx).dropStreams })
}

// ---- KMS -------------------------------------------------------------------------------

func addKMSCases(c mtable) {
	// Customer-managed keys (project subject cmek).
	kb := "/api/v1/kms/keys"
	c.add("POST", kb, proj(perm{"cmek", create}), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"projectId": fx.pid, "name": fx.uniq("nk"), "description": "matrix"}}
	})
	c.add("GET", kb, proj(perm{"cmek", read}), withQ("projectId", "$projectId"))
	c.add("GET", kb+"/{keyId}", proj(perm{"cmek", read}), plain)
	c.add("GET", kb+"/key-name/{keyName}", proj(perm{"cmek", read}), withQ("projectId", "$projectId"))
	c.add("PATCH", kb+"/{keyId}", proj(perm{"cmek", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"description": fx.uniq("d")}}
	})
	c.add("DELETE", kb+"/{keyId}", proj(perm{"cmek", del}), func(fx *mfx, p string) mreq {
		id, _ := fx.cmek("encrypt-decrypt")
		return mreq{path: fx.path(p, "keyId", id)}
	})
	c.add("POST", kb+"/{keyId}/rotate", proj(perm{"cmek", edit}), plain)
	c.add("POST", kb+"/{keyId}/encrypt", proj(perm{"cmek", "encrypt"}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"plaintext": matrixData}}
	})
	c.add("POST", kb+"/{keyId}/decrypt", proj(perm{"cmek", "decrypt"}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p), body: map[string]any{"ciphertext": fx.ciphertext()}}
	})
	signKey := func(fx *mfx, p string) string { return fx.path(p, "keyId", fx.vars["signKeyId"]) }
	c.add("POST", kb+"/{keyId}/sign", proj(perm{"cmek", "sign"}), func(fx *mfx, p string) mreq {
		return mreq{path: signKey(fx, p), body: map[string]any{"data": matrixData, "signingAlgorithm": "ECDSA_SHA_256"}}
	})
	c.add("POST", kb+"/{keyId}/verify", proj(perm{"cmek", "verify"}), func(fx *mfx, p string) mreq {
		return mreq{path: signKey(fx, p), body: map[string]any{"data": matrixData, "signature": fx.signature(), "signingAlgorithm": "ECDSA_SHA_256"}}
	})
	c.add("GET", kb+"/{keyId}/public-key", proj(perm{"cmek", read}), func(fx *mfx, p string) mreq { return mreq{path: signKey(fx, p)} })
	c.add("GET", kb+"/{keyId}/signing-algorithms", proj(perm{"cmek", read}), func(fx *mfx, p string) mreq { return mreq{path: signKey(fx, p)} })

	// External KMSs (organization subject kms).
	eb := "/api/v1/external-kms"
	withExt := func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "id", fx.vars["externalKmsId"])} }
	c.add("POST", eb, ownOrg(perm{"kms", create}), func(fx *mfx, p string) mreq { return mreq{path: p, body: fx.externalKMSBody()} })
	c.add("GET", eb, ownOrg(perm{"kms", read}), plain)
	c.add("GET", eb+"/{id}", org(perm{"kms", read}), withExt)
	c.add("GET", eb+"/name/{name}", org(perm{"kms", read}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "name", fx.vars["externalKmsName"])}
	})
	c.add("PATCH", eb+"/{id}", org(perm{"kms", edit}), func(fx *mfx, p string) mreq {
		r := withExt(fx, p)
		r.body = map[string]any{"description": fx.uniq("d")}
		return r
	})
	c.add("DELETE", eb+"/{id}", org(perm{"kms", del}), func(fx *mfx, p string) mreq {
		id, _ := fx.externalKMS()
		return mreq{path: fx.path(p, "id", id)}
	})

	// The KMS of a project (project subject kms; reading also with settings
	// read).
	for _, base := range []string{"/api/v1/workspace/{workspaceId}/kms", "/api/v1/projects/{workspaceId}/kms"} {
		c.add("GET", base, need{kind: nProject, perms: []perm{{"settings", read}, {"kms", edit}}, anyOf: true}, plain)
		c.add("PATCH", base, proj(perm{"kms", edit}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p), body: map[string]any{"kms": map[string]any{"type": "internal"}}}
		})
		c.add("GET", base+"/backup", proj(perm{"kms", edit}), plain)
		c.add("POST", base+"/backup", proj(perm{"kms", edit}), func(fx *mfx, p string) mreq {
			var b struct {
				SecretManager string `json:"secretManager"`
			}
			fx.must("GET", "/api/v1/workspace/"+fx.pid+"/kms/backup", nil, &b)
			return mreq{path: fx.path(p), body: map[string]any{"backup": b.SecretManager}}
		})
	}
}

// ---- machine login methods other than universal and token auth ------------------------

func addAuthMethodCases(c mtable) {
	for _, m := range methodOrder {
		m := m
		base := "/api/v1/auth/" + m + "/identities/{identityId}"
		configured := func(fx *mfx, p string) mreq { return mreq{path: fx.path(p, "identityId", fx.vars["auth:"+m])} }
		c.add("POST", base, org(perm{"identity", edit}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p, "identityId", fx.identity("attach")), body: methodConfigs[m]}
		})
		c.add("PATCH", base, org(perm{"identity", edit}), func(fx *mfx, p string) mreq {
			r := configured(fx, p)
			r.body = map[string]any{"accessTokenNumUsesLimit": 0}
			return r
		})
		c.add("GET", base, org(perm{"identity", read}), configured)
		c.add("DELETE", base, org(perm{"identity", "revoke-auth"}), func(fx *mfx, p string) mreq {
			return mreq{path: fx.path(p, "identityId", fx.methodIdentity(m))}
		})
	}
	c.add("POST", "/api/v1/auth/ldap-auth/identities/{identityId}/clear-lockouts", org(perm{"identity", edit}), func(fx *mfx, p string) mreq {
		return mreq{path: fx.path(p, "identityId", fx.vars["auth:ldap-auth"])}
	})
}

// ---- public routes ----------------------------------------------------------------------

// addPublicCases: routes without authentication answer every caller alike,
// whatever credential it sends.
func addPublicCases(c mtable) {
	for _, p := range []string{"/api/status", "/api/docs/openapi.json", "/metrics", "/api/v1/admin/config"} {
		c.addK("", "GET", p, pub(200), plain)
	}
	// The instance is set up already.
	c.addK("", "POST", "/api/v1/admin/bootstrap", pub(400), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"email": fx.uniq("boot") + "@matrix.example", "password": "correct-horse-battery", "organization": "Again"}}
	})
	c.addK("", "POST", "/api/v3/auth/login", pub(200), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"email": matrixLoginEmail, "password": matrixPassword}}
	})
	// Logging out never fails; it ends only a user token's own session.
	c.addK("", "POST", "/api/v1/auth/logout", pub(200), plain)
	c.set("POST", "/api/v1/auth/logout", func(mc *mcase) { mc.endsSession = true })
	c.addK("", "POST", "/api/v1/auth/universal-auth/login", pub(200), func(fx *mfx, p string) mreq {
		return mreq{path: p, body: map[string]any{"clientId": fx.vars["uaClientId"], "clientSecret": fx.vars["uaClientSecret"]}}
	})
	for _, op := range []string{"renew", "revoke"} {
		c.addK("", "POST", "/api/v1/auth/token/"+op, pub(200), func(fx *mfx, p string) mreq {
			return mreq{path: p, body: map[string]any{"accessToken": fx.accessToken()}}
		})
	}
	// The other methods verify credentials against real issuers: a login
	// without them is refused before any network call.
	for _, m := range methodOrder {
		m := m
		c.addK("", "POST", "/api/v1/auth/"+m+"/login", pub(422), func(fx *mfx, p string) mreq {
			return mreq{path: p, body: map[string]any{"identityId": fx.vars["auth:"+m]}}
		})
	}
	c.addK("", "POST", "/api/v1/invite-org/verify", pub(200), func(fx *mfx, p string) mreq {
		inv := fx.pendingInvite()
		return mreq{path: p, body: map[string]any{"email": inv.Email, "organizationId": fx.orgID, "code": inv.Code}}
	})
	// The bearer of these is a signup token: no access token is one.
	for _, p := range []string{"/api/v3/signup/complete-account/invite", "/api/v3/signup/complete-account"} {
		c.addK("", "POST", p, pub(401), func(fx *mfx, p string) mreq {
			return mreq{path: p, body: map[string]any{"email": fmt.Sprintf("%s@matrix.example", fx.uniq("signup")), "password": matrixPassword}}
		})
	}
}
