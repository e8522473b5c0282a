package infisical

import (
	"context"

	"github.com/infisical-go/engine/infisical/store"
)

// Builders of audit events shared by the services. Event types and
// metadata keys follow Infisical (docs/audit.md lists them). Metadata never
// holds a secret value, a comment, an encrypted metadata value, a client
// secret, a password or a token.

// AuditSensitiveValue replaces the value of an encrypted secret-metadata
// entry in audit events.
const AuditSensitiveValue = "<sensitive>"

// auditMetadataEntries presents stored secret metadata for an event.
func auditMetadataEntries(md []store.MetadataEntry) []map[string]any {
	if len(md) == 0 {
		return nil
	}
	out := make([]map[string]any, len(md))
	for i, m := range md {
		v := m.Value
		if m.IsEncrypted {
			v = AuditSensitiveValue
		}
		out[i] = map[string]any{"key": m.Key, "value": v, "isEncrypted": m.IsEncrypted}
	}
	return out
}

// auditSecretMetadata presents a secret's (decrypted) metadata for an
// event, masking encrypted values again.
func auditSecretMetadata(md []SecretMetadata) []map[string]any {
	if len(md) == 0 {
		return nil
	}
	out := make([]map[string]any, len(md))
	for i, m := range md {
		v := m.Value
		if m.IsEncrypted {
			v = AuditSensitiveValue
		}
		out[i] = map[string]any{"key": m.Key, "value": v, "isEncrypted": m.IsEncrypted}
	}
	return out
}

func storeTagSlugs(tags []store.Tag) []string {
	if len(tags) == 0 {
		return nil
	}
	return tagSlugs(tags)
}

// secretItem is one secret in a secret event.
func secretItem(id, key string, version int, md []map[string]any, tags []string) map[string]any {
	m := map[string]any{"secretId": id, "secretKey": key, "secretVersion": version}
	if md != nil {
		m["secretMetadata"] = md
	}
	if tags != nil {
		m["secretTags"] = tags
	}
	return m
}

// singleSecretMeta is the metadata of get/create/update/delete-secret.
func singleSecretMeta(env, path string, item map[string]any) map[string]any {
	item["environment"] = env
	item["secretPath"] = path
	return item
}

// batchSecretMeta is the metadata of create/update/delete-secrets.
func batchSecretMeta(env, path string, items []map[string]any) map[string]any {
	return map[string]any{"environment": env, "secretPath": path, "secrets": items}
}

// auditWritten records the secrets a write request changed, in its
// transaction: single requests get create-secret (update-, delete-), batch
// requests one create-secrets (update-, delete-) event listing them.
func (w *secretWriter) auditWritten(ctx context.Context, q store.Q, verb string, single bool, items []map[string]any, paths []string) error {
	if len(items) == 0 {
		return nil
	}
	ev := AuditEvent{ProjectID: w.m.project.ID, ProjectName: w.m.project.Name}
	if single {
		ev.Type = verb + "-secret"
		ev.Metadata = singleSecretMeta(w.base.env.Slug, paths[0], items[0])
	} else {
		for i := range items {
			if paths[i] != w.base.path {
				items[i]["secretPath"] = paths[i]
			}
		}
		ev.Type = verb + "-secrets"
		ev.Metadata = batchSecretMeta(w.base.env.Slug, w.base.path, items)
	}
	return w.e.audit(ctx, q, w.actor, ev)
}

// auditCreated records inserted drafts.
func (w *secretWriter) auditCreated(ctx context.Context, q store.Q, single bool, drafts []*draft) error {
	items := make([]map[string]any, 0, len(drafts))
	paths := make([]string, 0, len(drafts))
	for _, d := range drafts {
		items = append(items, secretItem(d.row.ID, d.key, d.row.Version, auditMetadataEntries(d.sealed), storeTagSlugs(d.tags)))
		paths = append(paths, d.r.path)
	}
	return w.auditWritten(ctx, q, "create", single, items, paths)
}

// auditUpdated records an update request: the changed secrets, and (batch
// upsert) the created ones.
func (w *secretWriter) auditUpdated(ctx context.Context, q store.Q, single bool, ps []*pending) error {
	var items, created []map[string]any
	var paths, cpaths []string
	for _, p := range ps {
		switch {
		case p.skipped:
		case p.create != nil:
			d := p.create
			created = append(created, secretItem(d.row.ID, d.key, d.row.Version, auditMetadataEntries(d.sealed), storeTagSlugs(d.tags)))
			cpaths = append(cpaths, p.r.path)
		case p.row != nil:
			items = append(items, secretItem(p.row.ID, p.row.Key, p.row.Version, auditMetadataEntries(p.row.Metadata), storeTagSlugs(p.final)))
			paths = append(paths, p.r.path)
		}
	}
	if err := w.auditWritten(ctx, q, "update", single, items, paths); err != nil {
		return err
	}
	return w.auditWritten(ctx, q, "create", single && len(items) == 0, created, cpaths)
}

// auditDeleted records deleted secrets.
func (w *secretWriter) auditDeleted(ctx context.Context, q store.Q, single bool, ps []*pending) error {
	items := make([]map[string]any, 0, len(ps))
	paths := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.row == nil {
			continue
		}
		items = append(items, secretItem(p.row.ID, p.row.Key, p.row.Version, nil, nil))
		paths = append(paths, p.r.path)
	}
	return w.auditWritten(ctx, q, "delete", single, items, paths)
}

// secretRead is what a get-secret event needs of a returned secret (never
// its value), copied so the queue holds one small allocation.
type secretRead struct {
	env, path, id, key string
	version            int
	md                 []SecretMetadata
	tags               []SecretTag
}

func (r *secretRead) metadata() map[string]any {
	var tags []string
	if len(r.tags) > 0 {
		tags = make([]string, len(r.tags))
		for i := range r.tags {
			tags[i] = r.tags[i].Slug
		}
	}
	return singleSecretMeta(r.env, r.path, secretItem(r.id, r.key, r.version, auditSecretMetadata(r.md), tags))
}

// auditSecretRead queues a get-secret event for a secret returned to actor.
func (e *Engine) auditSecretRead(actor Actor, sec *Secret) {
	if sec == nil {
		return
	}
	r := &secretRead{env: sec.Environment, path: sec.SecretPath, id: sec.ID, key: sec.Key, version: sec.Version, md: sec.Metadata, tags: sec.Tags}
	e.auditRead(actor, AuditEvent{Type: "get-secret", ProjectID: sec.ProjectID, lazy: r})
}

// secretList is what a get-secrets event needs.
type secretList struct {
	env, path string
	n         int
}

func (l *secretList) metadata() map[string]any {
	return map[string]any{"environment": l.env, "secretPath": l.path, "numberOfSecrets": l.n}
}

// auditSecretList queues a get-secrets event.
func (e *Engine) auditSecretList(actor Actor, projectID, env, path string, n int) {
	l := &secretList{env: env, path: path, n: n}
	e.auditRead(actor, AuditEvent{Type: "get-secrets", ProjectID: projectID, lazy: l})
}

// ---- auth-method configuration ---------------------------------------------

type methodAuditKey struct{}

// withMethodAudit asks the auth-method transaction run under ctx
// (attachMethod, updateMethod, revokeMethod) to record the event build
// returns for the row it writes. Methods whose services do not ask record
// nothing there.
func withMethodAudit(ctx context.Context, build func(row *store.AuthMethod) AuditEvent) context.Context {
	return context.WithValue(ctx, methodAuditKey{}, build)
}

// auditMethodTx records the event requested by withMethodAudit, if any,
// inside q.
func (e *Engine) auditMethodTx(ctx context.Context, q store.Q, actor Actor, row *store.AuthMethod) error {
	build, ok := ctx.Value(methodAuditKey{}).(func(row *store.AuthMethod) AuditEvent)
	if !ok || build == nil {
		return nil
	}
	return e.audit(ctx, q, actor, build(row))
}

// tokenSettingsMeta is the token part of an auth-method event.
func tokenSettingsMeta(row *store.AuthMethod) map[string]any {
	return map[string]any{"identityId": row.IdentityID, "accessTokenTTL": row.AccessTokenTTL, "accessTokenMaxTTL": row.AccessTokenMax,
		"accessTokenNumUsesLimit": row.NumUsesLimit, "accessTokenPeriod": row.Period, "accessTokenTrustedIps": decodeTrustedIPs(row.TrustedIPs)}
}

type txAuditKey struct{}

type txAudit struct {
	actor Actor
	ev    AuditEvent
}

// withTxAudit asks a shared helper's transaction run under ctx (such as
// revokeTokenIDs) to record ev as actor.
func withTxAudit(ctx context.Context, actor Actor, ev AuditEvent) context.Context {
	return context.WithValue(ctx, txAuditKey{}, txAudit{actor: actor, ev: ev})
}

// auditFromCtx records the event requested by withTxAudit, if any, in q.
func (e *Engine) auditFromCtx(ctx context.Context, q store.Q) error {
	t, ok := ctx.Value(txAuditKey{}).(txAudit)
	if !ok {
		return nil
	}
	return e.audit(ctx, q, t.actor, t.ev)
}

// identityActor is the actor of an identity's own action that carries no
// authenticated actor (a login, a renewal, a revocation by token): the
// identity, from where the request came.
func identityActor(ctx context.Context, identityID, name, orgID, method, ip, userAgent string) Actor {
	if ci, ok := clientInfoOf(ctx); ok {
		if ip == "" {
			ip = ci.IP
		}
		if userAgent == "" {
			userAgent = ci.UserAgent
		}
	}
	return Actor{Type: ActorIdentity, ID: identityID, Name: name, OrgID: orgID, AuthMethod: method, IP: ip, UserAgent: userAgent}
}

// uaConfigEvent is an add/update/revoke-identity-universal-auth event.
func uaConfigEvent(typ string, row *store.AuthMethod) AuditEvent {
	m := map[string]any{"identityId": row.IdentityID}
	if typ != "revoke-identity-universal-auth" {
		m = tokenSettingsMeta(row)
		c := decodeUAConfig(row.Config)
		m["clientSecretTrustedIps"] = c.ClientSecretTrustedIPs
		m["lockoutEnabled"] = c.LockoutEnabled
		m["lockoutThreshold"] = c.LockoutThreshold
		m["lockoutDurationSeconds"] = c.LockoutDurationSeconds
		m["lockoutCounterResetSeconds"] = c.LockoutCounterResetSeconds
	}
	return AuditEvent{Type: typ, Metadata: m}
}

// tokenAuthConfigEvent is an add/update/revoke-identity-token-auth event.
func tokenAuthConfigEvent(typ string, row *store.AuthMethod) AuditEvent {
	if typ == "revoke-identity-token-auth" {
		return AuditEvent{Type: typ, Metadata: map[string]any{"identityId": row.IdentityID}}
	}
	return AuditEvent{Type: typ, Metadata: tokenSettingsMeta(row)}
}

// auditRoles presents role assignments for an event.
func auditRoles(roles []RoleAssignment) []map[string]any {
	out := make([]map[string]any, len(roles))
	for i, r := range roles {
		m := map[string]any{"role": r.Role, "isTemporary": r.IsTemporary}
		if r.IsTemporary {
			m["temporaryMode"] = r.TemporaryMode
			m["temporaryRange"] = r.TemporaryRange
			if r.TemporaryAccessStartTime != nil {
				m["temporaryAccessStartTime"] = isoMillis(*r.TemporaryAccessStartTime)
			}
		}
		out[i] = m
	}
	return out
}

// auditKeyValues presents identity metadata for an event.
func auditKeyValues(in []MetadataInput) []map[string]any {
	out := make([]map[string]any, len(in))
	for i, m := range in {
		out[i] = map[string]any{"key": m.Key, "value": m.Value}
	}
	return out
}

// envSlugOf names an environment of m by id; extra are environments the
// cached project may not know yet.
func envSlugOf(m *projectMeta, envID string, extra ...*store.Environment) string {
	for _, x := range extra {
		if x != nil && x.ID == envID {
			return x.Slug
		}
	}
	if env := m.envByID[envID]; env != nil {
		return env.Slug
	}
	return ""
}

// projectUpdateMeta lists the settings an update-project event changed.
func projectUpdateMeta(p *store.Project, in UpdateProjectInput) map[string]any {
	m := map[string]any{"projectId": p.ID}
	if in.Name != nil {
		m["name"] = p.Name
	}
	if in.Slug != nil {
		m["slug"] = p.Slug
	}
	if in.Description != nil {
		m["description"] = p.Description
	}
	if in.AutoCapitalization != nil {
		m["autoCapitalization"] = *in.AutoCapitalization
	}
	if in.HasDeleteProtection != nil {
		m["hasDeleteProtection"] = *in.HasDeleteProtection
	}
	if in.SecretSharing != nil {
		m["secretSharing"] = *in.SecretSharing
	}
	if in.ShowSnapshotsLegacy != nil {
		m["showSnapshotsLegacy"] = *in.ShowSnapshotsLegacy
	}
	if in.DefaultProduct != nil {
		m["defaultProduct"] = *in.DefaultProduct
	}
	if in.SecretDetectionIgnoreValues != nil {
		// The values themselves may be secrets: record how many.
		m["numberOfSecretDetectionIgnoreValues"] = len(*in.SecretDetectionIgnoreValues)
	}
	if in.AuditLogsRetentionDays != nil {
		m["auditLogsRetentionDays"] = *in.AuditLogsRetentionDays
	}
	return m
}

// identityUpdateMeta lists what an update-identity event changed.
func identityUpdateMeta(identityID, name string, in UpdateIdentityInput) map[string]any {
	m := map[string]any{"identityId": identityID}
	if in.Name != nil {
		m["name"] = name
	}
	if in.HasDeleteProtection != nil {
		m["hasDeleteProtection"] = *in.HasDeleteProtection
	}
	if in.Role != nil {
		m["role"] = *in.Role
	}
	if in.Metadata != nil {
		m["metadata"] = auditKeyValues(*in.Metadata)
	}
	return m
}
