package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/kms/kmstest"
)

func TestExternalKMSHTTP(t *testing.T) {
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	const akid, secret = "AKIAHTTPTEST00000001", "http-test-secret-key-000000000000000000"
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		aws := kmstest.New(t, "eu-central-1")
		aws.AddCredentials(akid, secret)
		keyID := aws.CreateKey("infisical")
		ts := newTestServer(t, b, func(c *infisical.Config) {
			c.ExternalKMS = infisical.ExternalKMSConfig{AWSEndpoint: aws.URL(), AWSSTSEndpoint: aws.URL()}
		})
		boot := ts.bootstrap()
		tok := boot.AdminToken
		pid := ts.createProject(tok, "byok")
		ts.must("POST", "/api/v3/secrets/raw/TOKEN", tok, map[string]any{"workspaceId": pid, "environment": "dev", "secretValue": "s3cr3t"}, nil)

		body := map[string]any{"name": "Corp-KMS", "description": "prod key", "provider": map[string]any{"type": "aws", "inputs": map[string]any{
			"awsRegion": "eu-central-1", "kmsKeyId": keyID,
			"credential": map[string]any{"type": "access-key", "data": map[string]any{"accessKey": akid, "secretKey": secret}}}}}
		var created struct {
			ExternalKMS struct {
				ID       string `json:"id"`
				Name     string `json:"name"`
				OrgID    string `json:"orgId"`
				External struct {
					ID, Status, Provider string
				} `json:"external"`
			} `json:"externalKms"`
		}
		code, raw, _ := ts.do("POST", "/api/v1/external-kms", tok, body)
		if code != 200 || strings.Contains(string(raw), secret) {
			t.Fatalf("create: %d %s", code, raw)
		}
		_ = json.Unmarshal(raw, &created)
		k := created.ExternalKMS
		if k.Name != "corp-kms" || k.OrgID != boot.OrgID || k.External.Status != "ACTIVE" || k.External.Provider != "aws" || k.External.ID != k.ID {
			t.Fatalf("created %s", raw)
		}
		code, raw, _ = ts.do("GET", "/api/v1/external-kms/"+k.ID, tok, nil)
		if code != 200 || strings.Contains(string(raw), secret) || !strings.Contains(string(raw), `"providerInput"`) || !strings.Contains(string(raw), akid) {
			t.Fatalf("get: %d %s", code, raw)
		}
		if code, raw, _ = ts.do("GET", "/api/v1/external-kms/name/corp-kms", tok, nil); code != 200 {
			t.Fatalf("get by name: %d %s", code, raw)
		}
		var list struct {
			List []struct {
				ID          string `json:"id"`
				ExternalKms struct {
					Provider string `json:"provider"`
				} `json:"externalKms"`
			} `json:"externalKmsList"`
		}
		ts.must("GET", "/api/v1/external-kms", tok, nil, &list)
		if len(list.List) != 1 || list.List[0].ExternalKms.Provider != "aws" {
			t.Fatalf("list %+v", list)
		}

		type projKMS struct {
			Key struct {
				ID         string `json:"id"`
				Name       string `json:"name"`
				IsExternal bool   `json:"isExternal"`
			} `json:"secretManagerKmsKey"`
		}
		var pk projKMS
		ts.must("GET", "/api/v1/workspace/"+pid+"/kms", tok, nil, &pk)
		if pk.Key.IsExternal || pk.Key.ID == "" {
			t.Fatalf("initial project KMS %+v", pk)
		}
		ts.must("PATCH", "/api/v1/projects/"+pid+"/kms", tok, map[string]any{"kms": map[string]any{"type": "external", "kmsId": k.ID}}, &pk)
		if !pk.Key.IsExternal || pk.Key.ID != k.ID || pk.Key.Name != "corp-kms" {
			t.Fatalf("switched %+v", pk)
		}
		var sec struct {
			Secret struct {
				SecretValue string `json:"secretValue"`
			} `json:"secret"`
		}
		ts.must("GET", "/api/v3/secrets/raw/TOKEN?workspaceId="+pid+"&environment=dev", tok, nil, &sec)
		if sec.Secret.SecretValue != "s3cr3t" {
			t.Fatalf("secret after switch %q", sec.Secret.SecretValue)
		}
		var backup struct {
			SecretManager string `json:"secretManager"`
		}
		ts.must("GET", "/api/v1/workspace/"+pid+"/kms/backup", tok, nil, &backup)
		if !strings.HasPrefix(backup.SecretManager, "v1."+pid+".secretManager.") {
			t.Fatalf("backup %q", backup.SecretManager)
		}
		for name, tc := range map[string]struct {
			method, path string
			body         any
			status       int
		}{
			"delete in use":   {"DELETE", "/api/v1/external-kms/" + k.ID, nil, 400},
			"bad kms type":    {"PATCH", "/api/v1/workspace/" + pid + "/kms", map[string]any{"kms": map[string]any{"type": "cloud"}}, 422},
			"unknown kms":     {"PATCH", "/api/v1/workspace/" + pid + "/kms", map[string]any{"kms": map[string]any{"type": "external", "kmsId": "nope"}}, 404},
			"no kms":          {"PATCH", "/api/v1/workspace/" + pid + "/kms", map[string]any{}, 422},
			"bad backup":      {"POST", "/api/v1/workspace/" + pid + "/kms/backup", map[string]any{"backup": "v1.x"}, 422},
			"unknown ext kms": {"GET", "/api/v1/external-kms/00000000-0000-4000-8000-000000000000", nil, 404},
			"gcp":             {"POST", "/api/v1/external-kms", map[string]any{"name": "g", "provider": map[string]any{"type": "gcp", "inputs": map[string]any{}}}, 422},
			"bad credentials": {"POST", "/api/v1/external-kms", map[string]any{"name": "bad", "provider": map[string]any{"type": "aws", "inputs": map[string]any{
				"awsRegion": "eu-central-1", "kmsKeyId": keyID, "credential": map[string]any{"type": "access-key", "data": map[string]any{"accessKey": akid, "secretKey": "wrong"}}}}}, 400},
		} {
			if code, raw, _ := ts.do(tc.method, tc.path, tok, tc.body); code != tc.status {
				t.Errorf("%s: %d, want %d: %s", name, code, tc.status, raw)
			}
		}
		ts.must("POST", "/api/v1/workspace/"+pid+"/kms/backup", tok, map[string]any{"backup": backup.SecretManager}, &pk)
		if pk.Key.IsExternal {
			t.Fatal("backup restore did not return to the internal KMS")
		}
		ts.must("GET", "/api/v3/secrets/raw/TOKEN?workspaceId="+pid+"&environment=dev", tok, nil, &sec)
		if sec.Secret.SecretValue != "s3cr3t" {
			t.Fatal("secret after restore")
		}
		ts.must("DELETE", "/api/v1/external-kms/"+k.ID, tok, nil, nil)
	})
}
