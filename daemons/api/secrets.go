package api

import (
	"math"
	"net/http"
	"strings"

	"github.com/infisical-go/engine/infisical"
)

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerSecretRoutes) }

// Two generations of the secrets API share these handlers: secretsV3 "raw"
// (workspaceId / workspaceSlug / projectSlug, include_imports, defaults
// false) and secretsV4 (projectId, includeImports, defaults true, personal
// overrides resolved server-side).
type secretsAPI int

const (
	secretsV3 secretsAPI = 3
	secretsV4 secretsAPI = 4
)

func (s *Server) registerSecretRoutes() {
	const tag = "Secrets"
	for _, v := range []secretsAPI{secretsV3, secretsV4} {
		list, one, byID, batch := "/api/v3/secrets/raw", "/api/v3/secrets/raw/{secretName}", "/api/v3/secrets/raw/id/{secretId}", "/api/v3/secrets/batch/raw"
		if v == secretsV4 {
			list, one, byID, batch = "/api/v4/secrets", "/api/v4/secrets/{secretName}", "/api/v4/secrets/id/{secretId}", "/api/v4/secrets/batch"
		}
		s.handle(http.MethodGet, list, authUIS, tag, "List secrets", s.listSecrets(v))
		s.handle(http.MethodGet, one, authUIS, tag, "Get a secret by name", s.getSecret(v))
		s.handle(http.MethodPost, one, authUIS, tag, "Create a secret", s.createSecret(v))
		s.handle(http.MethodPatch, one, authUIS, tag, "Update a secret", s.updateSecret(v))
		s.handle(http.MethodDelete, one, authUIS, tag, "Delete a secret (JSON body)", s.deleteSecret(v))
		s.handle(http.MethodGet, byID, authUI, tag, "Get a secret by id", s.getSecretByID)
		s.handle(http.MethodPost, batch, authUIS, tag, "Create many secrets (all or nothing)", s.batchCreateSecrets(v))
		s.handle(http.MethodPatch, batch, authUIS, tag, "Update many secrets", s.batchUpdateSecrets(v))
		s.handle(http.MethodDelete, batch, authUIS, tag, "Delete many secrets (JSON body, all or nothing)", s.batchDeleteSecrets(v))
	}
	s.handle(http.MethodPost, "/api/v3/secrets/tags/{secretName}", authUI, tag, "Attach tags to a secret", s.secretTags(true))
	s.handle(http.MethodDelete, "/api/v3/secrets/tags/{secretName}", authUI, tag, "Detach tags from a secret (JSON body)", s.secretTags(false))
}

// ---- response shapes ------------------------------------------------------

// secretJSON is Infisical's SecretRaw; the optional tail fields are set per
// endpoint.
// secretShape says which optional fields an endpoint emits.
type secretShape struct {
	hidden, path, meta, tags, times bool
}

var (
	shapeCreated  = secretShape{path: true, meta: true, tags: true, times: true}
	shapeFull     = secretShape{hidden: true, path: true, meta: true, tags: true, times: true}
	shapeImported = secretShape{hidden: true, meta: true}
)

// ---- request parsing ------------------------------------------------------

// missingProject is the message for a request naming no project; service
// tokens need none (their project is implied).
func (rq *request) requireProject(ref infisical.ProjectRef, msg string) error {
	if ref.ID == "" && ref.Slug == "" && rq.actor.Type != infisical.ActorService {
		return infisical.BadRequest("%s", msg)
	}
	return nil
}

// queryProject reads the project of a query: secretsV3 takes workspaceId or
// workspaceSlug (empty strings are absent; the id wins), secretsV4 projectId.
// Both generations accept the other's names, as clients mix them.
func (rq *request) queryProject(v secretsAPI, msg string) (infisical.ProjectRef, error) {
	ref := infisical.ProjectRef{ID: firstNonEmpty(rq.query("workspaceId"), rq.query("projectId"))}
	if v == secretsV4 {
		ref.ID = firstNonEmpty(rq.query("projectId"), rq.query("workspaceId"))
	}
	ref.Slug = firstNonEmpty(rq.query("workspaceSlug"), rq.query("projectSlug"))
	if ref.ID != "" {
		ref.Slug = ""
	}
	return ref, rq.requireProject(ref, msg)
}

// includeImports reads the imports switch: camelCase wins over the secretsV3
// snake_case spelling; secretsV4 defaults to true, secretsV3 to false.
func (rq *request) includeImports(v secretsAPI) (bool, error) {
	def := v == secretsV4
	if rq.query("includeImports") != "" {
		return rq.qbool("includeImports", def)
	}
	return rq.qbool("include_imports", def)
}

// secretReadOptions are the query switches shared by list and get.
type secretReadOptions struct {
	hide, expand, imports bool
}

func (rq *request) secretReadOptions(v secretsAPI) (secretReadOptions, error) {
	var o secretReadOptions
	view, err := rq.qbool("viewSecretValue", true)
	if err != nil {
		return o, err
	}
	o.hide = !view
	if o.expand, err = rq.qbool("expandSecretReferences", v == secretsV4); err != nil {
		return o, err
	}
	o.imports, err = rq.includeImports(v)
	return o, err
}

func (s *Server) listSecrets(v secretsAPI) handler {
	return func(rq *request) (any, error) {
		msg := "You must provide projectSlug or workspaceId"
		if v == secretsV4 {
			msg = "You must provide workspaceId"
		}
		ref, err := rq.queryProject(v, msg)
		if err != nil {
			return nil, err
		}
		opts, err := rq.secretReadOptions(v)
		if err != nil {
			return nil, err
		}
		in := infisical.ListSecretsInput{SecretScope: infisical.SecretScope{Project: ref, Environment: rq.query("environment"), SecretPath: rq.query("secretPath")},
			HideValues: opts.hide, ExpandReferences: opts.expand, IncludeImports: opts.imports}
		if in.Recursive, err = rq.qbool("recursive", false); err != nil {
			return nil, err
		}
		if v == secretsV4 {
			override, err := rq.qbool("includePersonalOverrides", false)
			if err != nil {
				return nil, err
			}
			in.Personal = infisical.PersonalExclude
			if override {
				in.Personal = infisical.PersonalOverride
			}
		}
		for _, sl := range strings.Split(rq.query("tagSlugs"), ",") {
			if sl = strings.TrimSpace(sl); sl != "" {
				in.TagSlugs = append(in.TagSlugs, sl)
			}
		}
		if in.MetadataFilter, err = parseSecretMetadataFilter(rq.query("metadataFilter")); err != nil {
			return nil, err
		}
		list, err := s.eng.Secrets.List(rq.ctx(), rq.actor, in)
		if err != nil {
			return nil, err
		}
		out := secretListResponse{Secrets: list.Secrets}
		if in.IncludeImports {
			blocks := list.Imports
			if blocks == nil {
				blocks = []infisical.ImportedSecrets{}
			}
			out.Imports = &blocks
		}
		return out, nil
	}
}

// parseSecretMetadataFilter reads "key=k1,value=v1|key=k2,value=v2". Pairs that
// lack a key or a value are ignored; more than ten pairs is an error.
func parseSecretMetadataFilter(raw string) ([]infisical.MetadataFilter, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var out []infisical.MetadataFilter
	for _, pair := range strings.Split(raw, "|") {
		var f infisical.MetadataFilter
		var hasKey, hasValue bool
		for _, part := range strings.Split(pair, ",") {
			name, val, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			switch strings.TrimSpace(name) {
			case "key":
				f.Key, hasKey = strings.TrimSpace(val), true
			case "value":
				f.Value, hasValue = strings.TrimSpace(val), true
			}
		}
		if hasKey && hasValue && f.Key != "" {
			out = append(out, f)
		}
	}
	if len(out) > infisical.MaxMetadataFilters {
		return nil, infisical.Invalid("metadataFilter", "metadataFilter accepts at most %d key/value pairs", infisical.MaxMetadataFilters)
	}
	return out, nil
}

func (s *Server) getSecret(v secretsAPI) handler {
	return func(rq *request) (any, error) {
		msg := "You must provide workspaceSlug or workspaceId"
		if v == secretsV4 {
			msg = "You must provide workspaceId"
		}
		ref, err := rq.queryProject(v, msg)
		if err != nil {
			return nil, err
		}
		opts, err := rq.secretReadOptions(v)
		if err != nil {
			return nil, err
		}
		version, err := rq.qint("version", 0, 1, math.MaxInt32)
		if err != nil {
			return nil, err
		}
		sec, err := s.eng.Secrets.Get(rq.ctx(), rq.actor, infisical.GetSecretInput{
			SecretScope: infisical.SecretScope{Project: ref, Environment: rq.query("environment"), SecretPath: rq.query("secretPath")},
			Key:         rq.path("secretName"), Type: rq.query("type"), Version: version,
			HideValues: opts.hide, ExpandReferences: opts.expand, IncludeImports: opts.imports})
		if err != nil {
			return nil, err
		}
		return secretResponse{Secret: sec, Shape: shapeFull}, nil
	}
}

func (s *Server) getSecretByID(rq *request) (any, error) {
	sec, err := s.eng.Secrets.GetByID(rq.ctx(), rq.actor, rq.path("secretId"))
	if err != nil {
		return nil, err
	}
	return secretResponse{Secret: sec, Shape: shapeFull}, nil
}

// secretScopeBody is the location part of every mutation body.
type secretScopeBody struct {
	WorkspaceID   string `json:"workspaceId"`
	ProjectID     string `json:"projectId"`
	ProjectSlug   string `json:"projectSlug"`
	WorkspaceSlug string `json:"workspaceSlug"`
	Environment   string `json:"environment"`
	SecretPath    string `json:"secretPath"`
}

// scope resolves the project of a body: secretsV3 takes workspaceId or
// projectSlug, secretsV4 projectId (workspaceId accepted too; the CLI sends both).
func (b *secretScopeBody) scope(rq *request, v secretsAPI) (infisical.SecretScope, error) {
	ref := infisical.ProjectRef{ID: firstNonEmpty(b.WorkspaceID, b.ProjectID), Slug: firstNonEmpty(b.ProjectSlug, b.WorkspaceSlug)}
	msg := "You must provide projectSlug or workspaceId"
	if v == secretsV4 {
		ref = infisical.ProjectRef{ID: firstNonEmpty(b.ProjectID, b.WorkspaceID)}
		msg = "You must provide workspaceId"
	}
	if ref.ID != "" {
		ref.Slug = ""
	}
	if err := rq.requireProject(ref, msg); err != nil {
		return infisical.SecretScope{}, err
	}
	return infisical.SecretScope{Project: ref, Environment: strings.TrimSpace(b.Environment), SecretPath: b.SecretPath}, nil
}

type secretMetadataBody struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	IsEncrypted bool   `json:"isEncrypted"`
}

func toSecretMetadata(in []secretMetadataBody) []infisical.SecretMetadata {
	if in == nil {
		return nil
	}
	out := make([]infisical.SecretMetadata, len(in))
	for i, m := range in {
		out[i] = infisical.SecretMetadata{Key: m.Key, Value: m.Value, IsEncrypted: m.IsEncrypted}
	}
	return out
}

type createSecretBody struct {
	secretScopeBody
	SecretValue              *string              `json:"secretValue"`
	SecretComment            string               `json:"secretComment"`
	Type                     string               `json:"type"`
	SkipMultilineEncoding    *bool                `json:"skipMultilineEncoding"`
	TagIDs                   []string             `json:"tagIds"`
	SecretMetadata           []secretMetadataBody `json:"secretMetadata"`
	SecretReminderRepeatDays *int                 `json:"secretReminderRepeatDays"`
	SecretReminderNote       *string              `json:"secretReminderNote"`
}

func (s *Server) createSecret(v secretsAPI) handler {
	return func(rq *request) (any, error) {
		var b createSecretBody
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		sc, err := b.scope(rq, v)
		if err != nil {
			return nil, err
		}
		if b.SecretValue == nil {
			return nil, infisical.Invalid("secretValue", "secretValue is required")
		}
		sec, err := s.eng.Secrets.Create(rq.ctx(), rq.actor, infisical.CreateSecretInput{SecretScope: sc, Type: b.Type,
			NewSecret: infisical.NewSecret{Key: rq.path("secretName"), Value: *b.SecretValue, Comment: b.SecretComment,
				SkipMultilineEncoding: b.SkipMultilineEncoding, TagIDs: b.TagIDs, Metadata: toSecretMetadata(b.SecretMetadata),
				ReminderNote: b.SecretReminderNote, ReminderRepeatDays: b.SecretReminderRepeatDays}})
		if err != nil {
			return nil, err
		}
		return secretResponse{Secret: sec, Shape: shapeCreated}, nil
	}
}

// secretUpdateFields are the optional fields of a single or batch update.
type secretUpdateFields struct {
	SecretValue              *string               `json:"secretValue"`
	NewSecretName            *string               `json:"newSecretName"`
	SecretComment            *string               `json:"secretComment"`
	SkipMultilineEncoding    *bool                 `json:"skipMultilineEncoding"`
	TagIDs                   *[]string             `json:"tagIds"`
	SecretMetadata           *[]secretMetadataBody `json:"secretMetadata"`
	SecretReminderNote       *string               `json:"secretReminderNote"`
	SecretReminderRepeatDays *int                  `json:"secretReminderRepeatDays"`
	Type                     string                `json:"type"`
}

func (f *secretUpdateFields) update(key string) infisical.SecretUpdate {
	u := infisical.SecretUpdate{Key: key, Type: f.Type, Value: f.SecretValue, NewKey: f.NewSecretName, Comment: f.SecretComment,
		SkipMultilineEncoding: f.SkipMultilineEncoding, TagIDs: f.TagIDs, ReminderNote: f.SecretReminderNote,
		ReminderRepeatDays: f.SecretReminderRepeatDays}
	if f.SecretMetadata != nil {
		md := toSecretMetadata(*f.SecretMetadata)
		if md == nil {
			md = []infisical.SecretMetadata{}
		}
		u.Metadata = &md
	}
	return u
}

type updateSecretBody struct {
	secretScopeBody
	secretUpdateFields
}

func (s *Server) updateSecret(v secretsAPI) handler {
	return func(rq *request) (any, error) {
		var b updateSecretBody
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		sc, err := b.scope(rq, v)
		if err != nil {
			return nil, err
		}
		sec, err := s.eng.Secrets.Update(rq.ctx(), rq.actor, infisical.UpdateSecretInput{SecretScope: sc, SecretUpdate: b.update(rq.path("secretName"))})
		if err != nil {
			return nil, err
		}
		return secretResponse{Secret: sec, Shape: shapeFull}, nil
	}
}

type deleteSecretBody struct {
	secretScopeBody
	Type string `json:"type"`
}

func (s *Server) deleteSecret(v secretsAPI) handler {
	return func(rq *request) (any, error) {
		var b deleteSecretBody
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		sc, err := b.scope(rq, v)
		if err != nil {
			return nil, err
		}
		sec, err := s.eng.Secrets.Delete(rq.ctx(), rq.actor, infisical.DeleteSecretInput{SecretScope: sc,
			SecretRef: infisical.SecretRef{Key: rq.path("secretName"), Type: b.Type}})
		if err != nil {
			return nil, err
		}
		return secretResponse{Secret: sec, Shape: shapeFull}, nil
	}
}

type secretBatchCreateBody struct {
	secretScopeBody
	Secrets []struct {
		SecretKey                string               `json:"secretKey"`
		SecretValue              string               `json:"secretValue"`
		SecretComment            string               `json:"secretComment"`
		SkipMultilineEncoding    *bool                `json:"skipMultilineEncoding"`
		TagIDs                   []string             `json:"tagIds"`
		SecretMetadata           []secretMetadataBody `json:"secretMetadata"`
		SecretReminderNote       *string              `json:"secretReminderNote"`
		SecretReminderRepeatDays *int                 `json:"secretReminderRepeatDays"`
	} `json:"secrets"`
}

func (s *Server) batchCreateSecrets(v secretsAPI) handler {
	return func(rq *request) (any, error) {
		var b secretBatchCreateBody
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		sc, err := b.scope(rq, v)
		if err != nil {
			return nil, err
		}
		in := infisical.BatchCreateInput{SecretScope: sc, Secrets: make([]infisical.NewSecret, len(b.Secrets))}
		for i, it := range b.Secrets {
			in.Secrets[i] = infisical.NewSecret{Key: it.SecretKey, Value: it.SecretValue, Comment: it.SecretComment,
				SkipMultilineEncoding: it.SkipMultilineEncoding, TagIDs: it.TagIDs, Metadata: toSecretMetadata(it.SecretMetadata),
				ReminderNote: it.SecretReminderNote, ReminderRepeatDays: it.SecretReminderRepeatDays}
		}
		out, err := s.eng.Secrets.BatchCreate(rq.ctx(), rq.actor, in)
		if err != nil {
			return nil, err
		}
		return secretsResponse{Secrets: out, Shape: shapeCreated}, nil
	}
}

type secretBatchUpdateBody struct {
	secretScopeBody
	Mode    string `json:"mode"`
	Secrets []struct {
		SecretKey  string  `json:"secretKey"`
		SecretPath *string `json:"secretPath"`
		secretUpdateFields
	} `json:"secrets"`
}

func (s *Server) batchUpdateSecrets(v secretsAPI) handler {
	return func(rq *request) (any, error) {
		var b secretBatchUpdateBody
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		sc, err := b.scope(rq, v)
		if err != nil {
			return nil, err
		}
		in := infisical.BatchUpdateInput{SecretScope: sc, Mode: b.Mode, Secrets: make([]infisical.SecretUpdate, len(b.Secrets))}
		for i := range b.Secrets {
			it := &b.Secrets[i]
			in.Secrets[i] = it.update(it.SecretKey)
			in.Secrets[i].SecretPath = it.SecretPath
		}
		out, err := s.eng.Secrets.BatchUpdate(rq.ctx(), rq.actor, in)
		if err != nil {
			return nil, err
		}
		return secretsResponse{Secrets: out, Shape: shapeFull}, nil
	}
}

type secretBatchDeleteBody struct {
	secretScopeBody
	Secrets []struct {
		SecretKey string `json:"secretKey"`
		Type      string `json:"type"`
	} `json:"secrets"`
}

func (s *Server) batchDeleteSecrets(v secretsAPI) handler {
	return func(rq *request) (any, error) {
		var b secretBatchDeleteBody
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		sc, err := b.scope(rq, v)
		if err != nil {
			return nil, err
		}
		in := infisical.BatchDeleteInput{SecretScope: sc, Secrets: make([]infisical.SecretRef, len(b.Secrets))}
		for i, it := range b.Secrets {
			in.Secrets[i] = infisical.SecretRef{Key: it.SecretKey, Type: it.Type}
		}
		out, err := s.eng.Secrets.BatchDelete(rq.ctx(), rq.actor, in)
		if err != nil {
			return nil, err
		}
		return secretsResponse{Secrets: out, Shape: shapeFull}, nil
	}
}

type secretTagsBody struct {
	secretScopeBody
	Type     string   `json:"type"`
	TagSlugs []string `json:"tagSlugs"`
}

func (s *Server) secretTags(attach bool) handler {
	return func(rq *request) (any, error) {
		var b secretTagsBody
		if err := rq.decode(&b); err != nil {
			return nil, err
		}
		sc, err := b.scope(rq, secretsV3)
		if err != nil {
			return nil, err
		}
		in := infisical.SecretTagsInput{SecretScope: sc, SecretRef: infisical.SecretRef{Key: rq.path("secretName"), Type: b.Type}, TagSlugs: b.TagSlugs}
		var sec *infisical.Secret
		if attach {
			sec, err = s.eng.Secrets.AttachTags(rq.ctx(), rq.actor, in)
		} else {
			sec, err = s.eng.Secrets.DetachTags(rq.ctx(), rq.actor, in)
		}
		if err != nil {
			return nil, err
		}
		return secretResponse{Secret: sec, Shape: shapeFull}, nil
	}
}
