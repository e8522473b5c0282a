package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

// Routes of the registry's machine login methods (spec §7.6–7.11): for each
// method, login plus attach/get/update/revoke of its configuration, all
// served by the same handlers from one table.

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerAuthMethodRoutes) }

// machineMethod describes one method's routes.
type machineMethod struct {
	method  string // "aws-auth": the path segment and method id
	wrapper string // response key, e.g. "identityAwsAuth"
	tag     string // OpenAPI tag
	// settings returns an empty settings value to decode a body into.
	settings func() infisical.AuthMethodSettings
	// clear applies JSON nulls of the body that mean "remove".
	clear func(in infisical.AuthMethodSettings, nulls map[string]bool)
}

var machineMethods = []machineMethod{
	{method: infisical.AuthMethodAWS, wrapper: "identityAwsAuth", tag: "AWS Auth",
		settings: func() infisical.AuthMethodSettings { return &infisical.AWSAuthSettings{} }},
	{method: infisical.AuthMethodGCP, wrapper: "identityGcpAuth", tag: "GCP Auth",
		settings: func() infisical.AuthMethodSettings { return &infisical.GCPAuthSettings{} }},
	{method: infisical.AuthMethodAzure, wrapper: "identityAzureAuth", tag: "Azure Auth",
		settings: func() infisical.AuthMethodSettings { return &infisical.AzureAuthSettings{} }},
	{method: infisical.AuthMethodKubernetes, wrapper: "identityKubernetesAuth", tag: "Kubernetes Auth",
		settings: func() infisical.AuthMethodSettings { return &infisical.KubernetesAuthSettings{} },
		clear: func(in infisical.AuthMethodSettings, nulls map[string]bool) {
			s := in.(*infisical.KubernetesAuthSettings)
			s.ClearTokenReviewerJWT = nulls["tokenReviewerJwt"]
			if nulls["kubernetesHost"] {
				empty := ""
				s.KubernetesHost = &empty
			}
		}},
	{method: infisical.AuthMethodOIDC, wrapper: "identityOidcAuth", tag: "OIDC Auth",
		settings: func() infisical.AuthMethodSettings { return &infisical.OIDCAuthSettings{} },
		clear: func(in infisical.AuthMethodSettings, nulls map[string]bool) {
			in.(*infisical.OIDCAuthSettings).ClearClaimMetadataMapping = nulls["claimMetadataMapping"]
		}},
	{method: infisical.AuthMethodJWT, wrapper: "identityJwtAuth", tag: "JWT Auth",
		settings: func() infisical.AuthMethodSettings { return &infisical.JWTAuthSettings{} }},
	{method: infisical.AuthMethodLDAP, wrapper: "identityLdapAuth", tag: "LDAP Auth",
		settings: func() infisical.AuthMethodSettings { return &infisical.LDAPAuthSettings{} }},
}

func (s *Server) registerAuthMethodRoutes() {
	for _, mm := range machineMethods {
		base := "/api/v1/auth/" + mm.method + "/identities/{identityId}"
		s.handle(http.MethodPost, "/api/v1/auth/"+mm.method+"/login", authNone, mm.tag, "Log in with "+mm.tag, s.machineLogin(mm))
		s.handle(http.MethodPost, base, authUI, mm.tag, "Attach "+mm.tag+" to an identity", s.attachMachineMethod(mm))
		s.handle(http.MethodPatch, base, authUI, mm.tag, "Update "+mm.tag+" of an identity", s.updateMachineMethod(mm))
		s.handle(http.MethodGet, base, authUI, mm.tag, "Get "+mm.tag+" of an identity", s.getMachineMethod(mm))
		s.handle(http.MethodDelete, base, authUI, mm.tag, "Remove "+mm.tag+" from an identity", s.revokeMachineMethod(mm))
	}
	s.handle(http.MethodPost, "/api/v1/auth/ldap-auth/identities/{identityId}/clear-lockouts", authUI, "LDAP Auth",
		"Clear LDAP Auth lockouts", s.clearLDAPLockouts)
}

// machineLoginBody is the union of the login bodies of the methods.
type machineLoginBody struct {
	IdentityID           string `json:"identityId"`
	JWT                  string `json:"jwt"`
	IAMHTTPRequestMethod string `json:"iamHttpRequestMethod"`
	IAMRequestBody       string `json:"iamRequestBody"`
	IAMRequestHeaders    string `json:"iamRequestHeaders"`
	Username             string `json:"username"`
	Password             string `json:"password"`
	OrganizationSlug     string `json:"organizationSlug"`
	SubOrganizationName  string `json:"subOrganizationName"`
}

// decodeMachineLogin reads a login body as JSON or as an URL-encoded form
// (upstream accepts both).
func (rq *request) decodeMachineLogin(b *machineLoginBody) error {
	if ct, _, _ := mime.ParseMediaType(rq.r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		if err := rq.r.ParseForm(); err != nil {
			return infisical.BadRequest("Request body is not a valid form")
		}
		f := rq.r.PostForm
		*b = machineLoginBody{IdentityID: f.Get("identityId"), JWT: f.Get("jwt"), IAMHTTPRequestMethod: f.Get("iamHttpRequestMethod"),
			IAMRequestBody: f.Get("iamRequestBody"), IAMRequestHeaders: f.Get("iamRequestHeaders"), Username: f.Get("username"),
			Password: f.Get("password"), OrganizationSlug: f.Get("organizationSlug"), SubOrganizationName: f.Get("subOrganizationName")}
		return nil
	}
	return rq.decode(b)
}

func (s *Server) machineLogin(mm machineMethod) handler {
	return func(rq *request) (any, error) {
		var b machineLoginBody
		if err := rq.decodeMachineLogin(&b); err != nil {
			return nil, err
		}
		res, err := s.eng.AuthMethods.Login(rq.ctx(), infisical.MachineLogin{Method: mm.method, IdentityID: b.IdentityID,
			OrganizationSlug: firstNonEmpty(b.OrganizationSlug, b.SubOrganizationName), IP: rq.clientIP(), UserAgent: rq.r.UserAgent(),
			JWT: b.JWT, IAMHTTPRequestMethod: b.IAMHTTPRequestMethod, IAMRequestBody: b.IAMRequestBody, IAMRequestHeaders: b.IAMRequestHeaders,
			Username: b.Username, Password: b.Password})
		if err != nil {
			return nil, err
		}
		return toLoginResponse(res), nil
	}
}

// decodeMachineSettings reads an attach/update body: the common token
// settings and the method's own fields, plus which fields were sent as null.
func (rq *request) decodeMachineSettings(mm machineMethod) (infisical.TokenSettings, infisical.AuthMethodSettings, error) {
	raw, err := io.ReadAll(rq.r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return infisical.TokenSettings{}, nil, maxErr
		}
		return infisical.TokenSettings{}, nil, infisical.BadRequest("Could not read request body")
	}
	again := func(dst any) error {
		rq.r.Body = io.NopCloser(bytes.NewReader(raw))
		return rq.decode(dst)
	}
	var common tokenSettingsBody
	if err := again(&common); err != nil {
		return infisical.TokenSettings{}, nil, err
	}
	in := mm.settings()
	if err := again(in); err != nil {
		return infisical.TokenSettings{}, nil, err
	}
	if mm.clear != nil {
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(bytes.TrimSpace(raw), &fields)
		nulls := map[string]bool{}
		for k, v := range fields {
			if string(bytes.TrimSpace(v)) == "null" {
				nulls[k] = true
			}
		}
		mm.clear(in, nulls)
	}
	return common.settings(), in, nil
}

// methodRowJSON renders {wrapper: row}: the common columns followed by the
// method's own (§3.10).
func methodRowJSON(mm machineMethod, d *infisical.AuthMethodDetails) (any, error) {
	common, err := json.Marshal(toAuthMethodJSON(&d.AuthMethodConfig))
	if err != nil {
		return nil, infisical.Internal("encode auth method", err)
	}
	own, err := json.Marshal(d.Fields)
	if err != nil {
		return nil, infisical.Internal("encode auth method", err)
	}
	row := common
	if len(own) > 2 {
		row = make([]byte, 0, len(common)+len(own))
		row = append(row, common[:len(common)-1]...)
		row = append(row, ',')
		row = append(row, own[1:]...)
	}
	return map[string]json.RawMessage{mm.wrapper: row}, nil
}

func (s *Server) attachMachineMethod(mm machineMethod) handler {
	return func(rq *request) (any, error) {
		common, in, err := rq.decodeMachineSettings(mm)
		if err != nil {
			return nil, err
		}
		d, err := s.eng.AuthMethods.Attach(rq.ctx(), rq.actor, rq.path("identityId"), common, in)
		if err != nil {
			return nil, err
		}
		return methodRowJSON(mm, d)
	}
}

func (s *Server) updateMachineMethod(mm machineMethod) handler {
	return func(rq *request) (any, error) {
		common, in, err := rq.decodeMachineSettings(mm)
		if err != nil {
			return nil, err
		}
		d, err := s.eng.AuthMethods.Update(rq.ctx(), rq.actor, rq.path("identityId"), common, in)
		if err != nil {
			return nil, err
		}
		return methodRowJSON(mm, d)
	}
}

func (s *Server) getMachineMethod(mm machineMethod) handler {
	return func(rq *request) (any, error) {
		d, err := s.eng.AuthMethods.Get(rq.ctx(), rq.actor, rq.path("identityId"), mm.method)
		if err != nil {
			return nil, err
		}
		return methodRowJSON(mm, d)
	}
}

func (s *Server) revokeMachineMethod(mm machineMethod) handler {
	return func(rq *request) (any, error) {
		d, err := s.eng.AuthMethods.Revoke(rq.ctx(), rq.actor, rq.path("identityId"), mm.method)
		if err != nil {
			return nil, err
		}
		return methodRowJSON(mm, d)
	}
}

func (s *Server) clearLDAPLockouts(rq *request) (any, error) {
	n, err := s.eng.AuthMethods.ClearLDAPLockouts(rq.ctx(), rq.actor, rq.path("identityId"))
	if err != nil {
		return nil, err
	}
	return map[string]int{"deleted": n}, nil
}
