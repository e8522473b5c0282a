package api

import "github.com/infisical-go/engine/infisical"

// The struct form of secret responses, encoded with encoding/json, is the
// oracle the hand-written encoders of fastjson.go are checked against.

type secretJSON struct {
	ID                       string                `json:"id"`
	LegacyID                 string                `json:"_id"`
	Workspace                string                `json:"workspace"`
	Environment              string                `json:"environment"`
	Version                  int                   `json:"version"`
	Type                     string                `json:"type"`
	SecretKey                string                `json:"secretKey"`
	SecretValue              string                `json:"secretValue"`
	SecretComment            string                `json:"secretComment"`
	SecretReminderNote       *string               `json:"secretReminderNote"`
	SecretReminderRepeatDays *int                  `json:"secretReminderRepeatDays"`
	SkipMultilineEncoding    bool                  `json:"skipMultilineEncoding"`
	CreatedAt                *isoTime              `json:"createdAt,omitempty"`
	UpdatedAt                *isoTime              `json:"updatedAt,omitempty"`
	Actor                    *secretActorJSON      `json:"actor"`
	IsRotatedSecret          bool                  `json:"isRotatedSecret"`
	RotationID               *string               `json:"rotationId"`
	SecretValueHidden        *bool                 `json:"secretValueHidden,omitempty"`
	SecretPath               *string               `json:"secretPath,omitempty"`
	SecretMetadata           *[]secretMetadataJSON `json:"secretMetadata,omitempty"`
	Tags                     *[]secretTagJSON      `json:"tags,omitempty"`
}

type secretActorJSON struct {
	ActorID      *string `json:"actorId"`
	ActorType    *string `json:"actorType"`
	Name         *string `json:"name"`
	MembershipID *string `json:"membershipId"`
	GroupID      *string `json:"groupId"`
}

type secretMetadataJSON struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	IsEncrypted bool   `json:"isEncrypted"`
}

type secretTagJSON struct {
	ID    string  `json:"id"`
	Slug  string  `json:"slug"`
	Name  string  `json:"name"`
	Color *string `json:"color"`
}

func toSecretJSON(sec *infisical.Secret, sh secretShape) secretJSON {
	out := secretJSON{ID: sec.ID, LegacyID: sec.ID, Workspace: sec.ProjectID, Environment: sec.Environment, Version: sec.Version,
		Type: sec.Type, SecretKey: sec.Key, SecretValue: sec.Value, SecretComment: sec.Comment,
		SecretReminderNote: sec.ReminderNote, SecretReminderRepeatDays: sec.ReminderRepeatDays,
		SkipMultilineEncoding: sec.SkipMultilineEncoding != nil && *sec.SkipMultilineEncoding}
	if sec.Actor != nil {
		a := *sec.Actor
		out.Actor = &secretActorJSON{ActorID: &a.ActorID, ActorType: &a.ActorType, Name: &a.Name, MembershipID: a.MembershipID, GroupID: a.GroupID}
	}
	if sh.times {
		c, u := ts(sec.CreatedAt), ts(sec.UpdatedAt)
		out.CreatedAt, out.UpdatedAt = &c, &u
	}
	if sh.hidden {
		h := sec.ValueHidden
		out.SecretValueHidden = &h
	}
	if sh.path {
		p := sec.SecretPath
		out.SecretPath = &p
	}
	if sh.meta {
		md := make([]secretMetadataJSON, len(sec.Metadata))
		for i, m := range sec.Metadata {
			md[i] = secretMetadataJSON{Key: m.Key, Value: m.Value, IsEncrypted: m.IsEncrypted}
		}
		out.SecretMetadata = &md
	}
	if sh.tags {
		tags := make([]secretTagJSON, len(sec.Tags))
		for i, t := range sec.Tags {
			tags[i] = secretTagJSON{ID: t.ID, Slug: t.Slug, Name: t.Slug, Color: t.Color}
		}
		out.Tags = &tags
	}
	return out
}

func toSecretsJSON(list []infisical.Secret, sh secretShape) []secretJSON {
	out := make([]secretJSON, len(list))
	for i := range list {
		out[i] = toSecretJSON(&list[i], sh)
	}
	return out
}

type secretImportBlockJSON struct {
	SecretPath  string       `json:"secretPath"`
	Environment string       `json:"environment"`
	FolderID    string       `json:"folderId"`
	Secrets     []secretJSON `json:"secrets"`
}

type oracleListResponse struct {
	Secrets []secretJSON             `json:"secrets"`
	Imports *[]secretImportBlockJSON `json:"imports,omitempty"`
}

type oracleSecretResponse struct {
	Secret secretJSON `json:"secret"`
}

type oracleSecretsResponse struct {
	Secrets []secretJSON `json:"secrets"`
}

var _ = infisical.Secret{}
