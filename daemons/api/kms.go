package api

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/infisical-go/engine/infisical"
)

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerCmekRoutes) }

// cmekKey is Infisical's CmekSchema (KmsKeysSchema + version +
// encryptionAlgorithm) plus keyUsage, which the Go SDK reads.
type cmekKey struct {
	ID                  string  `json:"id"`
	Description         *string `json:"description"`
	IsDisabled          bool    `json:"isDisabled"`
	IsReserved          bool    `json:"isReserved"`
	OrgID               string  `json:"orgId"`
	Name                string  `json:"name"`
	Slug                string  `json:"slug"`
	ProjectID           *string `json:"projectId"`
	KeyUsage            string  `json:"keyUsage"`
	Version             int     `json:"version"`
	EncryptionAlgorithm string  `json:"encryptionAlgorithm"`
	CreatedAt           isoTime `json:"createdAt"`
	UpdatedAt           isoTime `json:"updatedAt"`
}

func toCmekKey(k *infisical.CustomerKey) cmekKey {
	pid := k.ProjectID
	return cmekKey{ID: k.ID, Description: k.Description, IsDisabled: k.IsDisabled, OrgID: k.OrgID, Name: k.Name, Slug: k.Name,
		ProjectID: &pid, KeyUsage: k.KeyUsage, Version: k.Version, EncryptionAlgorithm: k.Algorithm,
		CreatedAt: ts(k.CreatedAt), UpdatedAt: ts(k.UpdatedAt)}
}

type cmekKeyResponse struct {
	Key cmekKey `json:"key"`
}

func (s *Server) registerCmekRoutes() {
	const tag, sigTag = "KMS", "KMS Signing"
	s.handle(http.MethodPost, "/api/v1/kms/keys", authUI, tag, "Create a customer-managed key", s.createCmek)
	s.handle(http.MethodGet, "/api/v1/kms/keys", authUI, tag, "List a project's customer-managed keys", s.listCmeks)
	s.handle(http.MethodGet, "/api/v1/kms/keys/{keyId}", authUI, tag, "Get a key by id", s.getCmek)
	s.handle(http.MethodGet, "/api/v1/kms/keys/key-name/{keyName}", authUI, tag, "Get a key by name", s.getCmekByName)
	s.handle(http.MethodPatch, "/api/v1/kms/keys/{keyId}", authUI, tag, "Update a key", s.updateCmek)
	s.handle(http.MethodDelete, "/api/v1/kms/keys/{keyId}", authUI, tag, "Delete a key", s.deleteCmek)
	s.handle(http.MethodPost, "/api/v1/kms/keys/{keyId}/rotate", authUI, tag, "Rotate a key (add a version)", s.rotateCmek)
	s.handle(http.MethodPost, "/api/v1/kms/keys/{keyId}/encrypt", authUI, tag, "Encrypt data", s.cmekEncrypt)
	s.handle(http.MethodPost, "/api/v1/kms/keys/{keyId}/decrypt", authUI, tag, "Decrypt data", s.cmekDecrypt)
	s.handle(http.MethodPost, "/api/v1/kms/keys/{keyId}/sign", authUI, sigTag, "Sign data", s.cmekSign)
	s.handle(http.MethodPost, "/api/v1/kms/keys/{keyId}/verify", authUI, sigTag, "Verify a signature", s.cmekVerify)
	s.handle(http.MethodGet, "/api/v1/kms/keys/{keyId}/public-key", authUI, sigTag, "Get the public key of a signing key", s.cmekPublicKey)
	s.handle(http.MethodGet, "/api/v1/kms/keys/{keyId}/signing-algorithms", authUI, sigTag, "List the signing algorithms of a key", s.cmekSigningAlgorithms)
}

type createCmekBody struct {
	ProjectID           string  `json:"projectId"`
	Name                string  `json:"name"`
	Description         *string `json:"description"`
	KeyUsage            string  `json:"keyUsage"`
	EncryptionAlgorithm string  `json:"encryptionAlgorithm"`
}

func (s *Server) createCmek(rq *request) (any, error) {
	var b createCmekBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	if strings.TrimSpace(b.ProjectID) == "" {
		return nil, infisical.Invalid("projectId", "projectId is required")
	}
	if strings.TrimSpace(b.Name) == "" {
		return nil, infisical.Invalid("name", "name is required")
	}
	k, err := s.eng.Cmek().Create(rq.ctx(), rq.actor, infisical.CreateCmekInput{ProjectID: b.ProjectID, Name: b.Name,
		Description: b.Description, KeyUsage: b.KeyUsage, Algorithm: b.EncryptionAlgorithm})
	if err != nil {
		return nil, err
	}
	return cmekKeyResponse{Key: toCmekKey(k)}, nil
}

func (s *Server) listCmeks(rq *request) (any, error) {
	pid := rq.query("projectId")
	if pid == "" {
		return nil, infisical.Invalid("projectId", "projectId is required")
	}
	offset, err := rq.qint("offset", 0, 0, 1<<31-1)
	if err != nil {
		return nil, err
	}
	limit, err := rq.qint("limit", 100, 1, 100)
	if err != nil {
		return nil, err
	}
	if ob := rq.query("orderBy"); ob != "" && ob != "name" {
		return nil, infisical.Invalid("orderBy", "orderBy must be 'name'")
	}
	desc := false
	switch rq.query("orderDirection") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return nil, infisical.Invalid("orderDirection", "orderDirection must be 'asc' or 'desc'")
	}
	keys, total, err := s.eng.Cmek().List(rq.ctx(), rq.actor, infisical.ListCmekInput{ProjectID: pid, Offset: offset, Limit: limit,
		Desc: desc, Search: rq.query("search")})
	if err != nil {
		return nil, err
	}
	out := make([]cmekKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, toCmekKey(k))
	}
	return struct {
		Keys       []cmekKey `json:"keys"`
		TotalCount int       `json:"totalCount"`
	}{out, total}, nil
}

func (s *Server) getCmek(rq *request) (any, error) {
	k, err := s.eng.Cmek().Get(rq.ctx(), rq.actor, rq.path("keyId"))
	if err != nil {
		return nil, err
	}
	return cmekKeyResponse{Key: toCmekKey(k)}, nil
}

func (s *Server) getCmekByName(rq *request) (any, error) {
	k, err := s.eng.Cmek().GetByName(rq.ctx(), rq.actor, rq.query("projectId"), rq.path("keyName"))
	if err != nil {
		return nil, err
	}
	return cmekKeyResponse{Key: toCmekKey(k)}, nil
}

type updateCmekBody struct {
	Name        *string `json:"name"`
	IsDisabled  *bool   `json:"isDisabled"`
	Description *string `json:"description"`
}

func (s *Server) updateCmek(rq *request) (any, error) {
	var b updateCmekBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	k, err := s.eng.Cmek().Update(rq.ctx(), rq.actor, rq.path("keyId"), infisical.UpdateCmekInput{Name: b.Name, Description: b.Description, IsDisabled: b.IsDisabled})
	if err != nil {
		return nil, err
	}
	return cmekKeyResponse{Key: toCmekKey(k)}, nil
}

func (s *Server) deleteCmek(rq *request) (any, error) {
	k, err := s.eng.Cmek().Delete(rq.ctx(), rq.actor, rq.path("keyId"))
	if err != nil {
		return nil, err
	}
	return cmekKeyResponse{Key: toCmekKey(k)}, nil
}

func (s *Server) rotateCmek(rq *request) (any, error) {
	k, err := s.eng.Cmek().Rotate(rq.ctx(), rq.actor, rq.path("keyId"))
	if err != nil {
		return nil, err
	}
	return cmekKeyResponse{Key: toCmekKey(k)}, nil
}

// decodeB64Field decodes a required base64 field (standard alphabet with
// padding, as Infisical's isBase64 check) of at most max decoded bytes.
func decodeB64Field(field, v string, max int) ([]byte, error) {
	if v == "" {
		return nil, infisical.Invalid(field, "%s must be base64 encoded and not empty", field)
	}
	if base64.StdEncoding.DecodedLen(len(v)) > max+3 {
		return nil, infisical.Invalid(field, "data cannot exceed %d bytes", max)
	}
	// Go's decoder skips CR and LF even in strict mode; Infisical's
	// isBase64 check refuses them, and one text should have one meaning.
	b, err := base64.StdEncoding.Strict().DecodeString(v)
	if err != nil || strings.ContainsAny(v, "\r\n") {
		return nil, infisical.Invalid(field, "%s must be base64 encoded", field)
	}
	if len(b) > max {
		return nil, infisical.Invalid(field, "data cannot exceed %d bytes", max)
	}
	return b, nil
}

// b64Response is a one-field response encoded by hand: base64 text never
// needs JSON escaping, and encrypt/decrypt are hot paths.
type b64Response struct {
	field string
	data  []byte
}

func (r b64Response) appendJSON(b []byte) []byte {
	b = append(b, `{"`...)
	b = append(b, r.field...)
	b = append(b, `":"`...)
	b = base64.StdEncoding.AppendEncode(b, r.data)
	return append(b, `"}`...)
}

func (s *Server) cmekEncrypt(rq *request) (any, error) {
	var b struct {
		Plaintext string `json:"plaintext"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	pt, err := decodeB64Field("plaintext", b.Plaintext, infisical.CmekMaxData)
	if err != nil {
		return nil, err
	}
	ct, err := s.eng.Cmek().Encrypt(rq.ctx(), rq.actor, rq.path("keyId"), pt)
	if err != nil {
		return nil, err
	}
	return b64Response{field: "ciphertext", data: ct}, nil
}

func (s *Server) cmekDecrypt(rq *request) (any, error) {
	var b struct {
		Ciphertext string `json:"ciphertext"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	ct, err := decodeB64Field("ciphertext", b.Ciphertext, infisical.CmekMaxCiphertext)
	if err != nil {
		return nil, err
	}
	pt, err := s.eng.Cmek().Decrypt(rq.ctx(), rq.actor, rq.path("keyId"), ct)
	if err != nil {
		return nil, err
	}
	return b64Response{field: "plaintext", data: pt}, nil
}

type signBody struct {
	Data             string `json:"data"`
	Signature        string `json:"signature"`
	SigningAlgorithm string `json:"signingAlgorithm"`
	IsDigest         bool   `json:"isDigest"`
}

func (rq *request) signBody(needSignature bool) (*signBody, []byte, []byte, error) {
	var b signBody
	if err := rq.decode(&b); err != nil {
		return nil, nil, nil, err
	}
	if b.SigningAlgorithm == "" {
		return nil, nil, nil, infisical.Invalid("signingAlgorithm", "signingAlgorithm is required")
	}
	data, err := decodeB64Field("data", b.Data, infisical.CmekMaxData)
	if err != nil {
		return nil, nil, nil, err
	}
	var sig []byte
	if needSignature {
		if sig, err = decodeB64Field("signature", b.Signature, infisical.CmekMaxData); err != nil {
			return nil, nil, nil, err
		}
	}
	return &b, data, sig, nil
}

func (s *Server) cmekSign(rq *request) (any, error) {
	b, data, _, err := rq.signBody(false)
	if err != nil {
		return nil, err
	}
	id := rq.path("keyId")
	sig, err := s.eng.Cmek().Sign(rq.ctx(), rq.actor, id, b.SigningAlgorithm, data, b.IsDigest)
	if err != nil {
		return nil, err
	}
	return struct {
		Signature        string `json:"signature"`
		KeyID            string `json:"keyId"`
		SigningAlgorithm string `json:"signingAlgorithm"`
	}{base64.StdEncoding.EncodeToString(sig), id, b.SigningAlgorithm}, nil
}

func (s *Server) cmekVerify(rq *request) (any, error) {
	b, data, sig, err := rq.signBody(true)
	if err != nil {
		return nil, err
	}
	id := rq.path("keyId")
	ok, err := s.eng.Cmek().Verify(rq.ctx(), rq.actor, id, b.SigningAlgorithm, data, sig, b.IsDigest)
	if err != nil {
		return nil, err
	}
	return struct {
		SignatureValid   bool   `json:"signatureValid"`
		KeyID            string `json:"keyId"`
		SigningAlgorithm string `json:"signingAlgorithm"`
	}{ok, id, b.SigningAlgorithm}, nil
}

func (s *Server) cmekPublicKey(rq *request) (any, error) {
	der, err := s.eng.Cmek().PublicKey(rq.ctx(), rq.actor, rq.path("keyId"))
	if err != nil {
		return nil, err
	}
	return b64Response{field: "publicKey", data: der}, nil
}

func (s *Server) cmekSigningAlgorithms(rq *request) (any, error) {
	algs, err := s.eng.Cmek().SigningAlgorithms(rq.ctx(), rq.actor, rq.path("keyId"))
	if err != nil {
		return nil, err
	}
	return struct {
		SigningAlgorithms []string `json:"signingAlgorithms"`
	}{algs}, nil
}
