package api_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/infisical/go-sdk"

	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/kms"
)

type cmekKeyJSON struct {
	ID                  string  `json:"id"`
	Name                string  `json:"name"`
	Slug                string  `json:"slug"`
	Description         *string `json:"description"`
	IsDisabled          bool    `json:"isDisabled"`
	IsReserved          bool    `json:"isReserved"`
	OrgID               string  `json:"orgId"`
	ProjectID           string  `json:"projectId"`
	KeyUsage            string  `json:"keyUsage"`
	Version             int     `json:"version"`
	EncryptionAlgorithm string  `json:"encryptionAlgorithm"`
	CreatedAt           string  `json:"createdAt"`
	UpdatedAt           string  `json:"updatedAt"`
}

func (ts *testServer) createKey(token string, body map[string]any) cmekKeyJSON {
	ts.t.Helper()
	var out struct {
		Key cmekKeyJSON `json:"key"`
	}
	ts.must("POST", "/api/v1/kms/keys", token, body, &out)
	return out.Key
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestCmekHTTP(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		tok := boot.AdminToken
		pid := ts.createProject(tok, "kms http")
		enc := ts.createKey(tok, map[string]any{"projectId": pid, "name": "payments", "description": "card data"})
		if enc.Version != 1 || enc.EncryptionAlgorithm != "aes-256-gcm" || enc.KeyUsage != "encrypt-decrypt" || enc.IsReserved ||
			enc.ProjectID != pid || enc.OrgID != boot.OrgID || enc.Slug != "payments" || !strings.HasSuffix(enc.CreatedAt, "Z") {
			t.Fatalf("created key %+v", enc)
		}
		// The response has exactly the contract's fields.
		_, raw, _ := ts.do("GET", "/api/v1/kms/keys/"+enc.ID, tok, nil)
		var generic map[string]map[string]any
		_ = json.Unmarshal(raw, &generic)
		for _, f := range []string{"id", "description", "isDisabled", "isReserved", "orgId", "name", "createdAt", "updatedAt", "projectId", "slug", "version", "encryptionAlgorithm", "keyUsage"} {
			if _, ok := generic["key"][f]; !ok {
				t.Errorf("key object lacks %q: %s", f, raw)
			}
		}
		if len(generic["key"]) != 13 {
			t.Errorf("key object has extra fields: %s", raw)
		}

		var ct struct {
			Ciphertext string `json:"ciphertext"`
		}
		ts.must("POST", "/api/v1/kms/keys/"+enc.ID+"/encrypt", tok, map[string]any{"plaintext": b64("4111 1111 1111 1111")}, &ct)
		blob, _ := base64.StdEncoding.DecodeString(ct.Ciphertext)
		if len(blob) != 19+31 || string(blob[len(blob)-3:]) != "v01" {
			t.Fatalf("ciphertext blob %d bytes", len(blob))
		}
		var pt struct {
			Plaintext string `json:"plaintext"`
		}
		ts.must("POST", "/api/v1/kms/keys/"+enc.ID+"/decrypt", tok, map[string]any{"ciphertext": ct.Ciphertext}, &pt)
		if pt.Plaintext != b64("4111 1111 1111 1111") {
			t.Fatalf("plaintext %q", pt.Plaintext)
		}
		// Rotation through REST: old ciphertexts still decrypt.
		var rot struct {
			Key cmekKeyJSON `json:"key"`
		}
		ts.must("POST", "/api/v1/kms/keys/"+enc.ID+"/rotate", tok, nil, &rot)
		if rot.Key.Version != 2 {
			t.Fatalf("rotated version %d", rot.Key.Version)
		}
		ts.must("POST", "/api/v1/kms/keys/"+enc.ID+"/decrypt", tok, map[string]any{"ciphertext": ct.Ciphertext}, &pt)
		var ct2 struct {
			Ciphertext string `json:"ciphertext"`
		}
		ts.must("POST", "/api/v1/kms/keys/"+enc.ID+"/encrypt", tok, map[string]any{"plaintext": b64("x")}, &ct2)
		ts.must("POST", "/api/v1/kms/keys/"+enc.ID+"/decrypt", tok, map[string]any{"ciphertext": ct2.Ciphertext}, &pt)
		if pt.Plaintext != b64("x") {
			t.Fatal("v02 round trip")
		}

		sig := ts.createKey(tok, map[string]any{"projectId": pid, "name": "release-signing", "keyUsage": "sign-verify", "encryptionAlgorithm": "ecc-nist-p256"})
		other := ts.createKey(tok, map[string]any{"projectId": pid, "name": "other"})
		off := ts.createKey(tok, map[string]any{"projectId": pid, "name": "off"})
		ts.must("PATCH", "/api/v1/kms/keys/"+off.ID, tok, map[string]any{"isDisabled": true}, nil)

		tamper := func(s string, i int) string {
			b, _ := base64.StdEncoding.DecodeString(s)
			b[i] ^= 1
			return base64.StdEncoding.EncodeToString(b)
		}
		truncated := base64.StdEncoding.EncodeToString(blob[:10])
		big := base64.StdEncoding.EncodeToString(make([]byte, 4097))
		// Every error is a 4xx with Infisical's error body; none is a 500.
		cases := []struct {
			name, method, path string
			body               any
			status             int
			msg                string
		}{
			{"tampered", "POST", "/api/v1/kms/keys/" + enc.ID + "/decrypt", map[string]any{"ciphertext": tamper(ct.Ciphertext, 14)}, 400, "Invalid ciphertext"},
			{"truncated", "POST", "/api/v1/kms/keys/" + enc.ID + "/decrypt", map[string]any{"ciphertext": truncated}, 400, "Invalid ciphertext"},
			{"wrong key", "POST", "/api/v1/kms/keys/" + other.ID + "/decrypt", map[string]any{"ciphertext": ct.Ciphertext}, 400, "Invalid ciphertext"},
			{"disabled", "POST", "/api/v1/kms/keys/" + off.ID + "/encrypt", map[string]any{"plaintext": b64("x")}, 400, "Key is disabled"},
			{"wrong usage encrypt", "POST", "/api/v1/kms/keys/" + sig.ID + "/encrypt", map[string]any{"plaintext": b64("x")}, 400, "not intended for encryption"},
			{"wrong usage sign", "POST", "/api/v1/kms/keys/" + enc.ID + "/sign", map[string]any{"data": b64("x"), "signingAlgorithm": "ECDSA_SHA_256"}, 400, "not intended for signing"},
			{"wrong usage public key", "GET", "/api/v1/kms/keys/" + enc.ID + "/public-key", nil, 400, "not intended for signing"},
			{"wrong family", "POST", "/api/v1/kms/keys/" + sig.ID + "/sign", map[string]any{"data": b64("x"), "signingAlgorithm": "RSASSA_PSS_SHA_256"}, 400, "cannot be used with"},
			{"unknown algorithm", "POST", "/api/v1/kms/keys/" + sig.ID + "/sign", map[string]any{"data": b64("x"), "signingAlgorithm": "HS256"}, 422, "signingAlgorithm"},
			{"not base64", "POST", "/api/v1/kms/keys/" + enc.ID + "/encrypt", map[string]any{"plaintext": "not base64!"}, 422, "plaintext must be base64 encoded"},
			{"empty plaintext", "POST", "/api/v1/kms/keys/" + enc.ID + "/encrypt", map[string]any{"plaintext": ""}, 422, "plaintext"},
			{"too big", "POST", "/api/v1/kms/keys/" + enc.ID + "/encrypt", map[string]any{"plaintext": big}, 422, "cannot exceed 4096"},
			{"ciphertext not base64", "POST", "/api/v1/kms/keys/" + enc.ID + "/decrypt", map[string]any{"ciphertext": "%%%"}, 422, "ciphertext"},
			{"plaintext wrong type", "POST", "/api/v1/kms/keys/" + enc.ID + "/encrypt", map[string]any{"plaintext": 12}, 422, "plaintext"},
			{"bad key id", "POST", "/api/v1/kms/keys/not-a-uuid/encrypt", map[string]any{"plaintext": b64("x")}, 422, "keyId"},
			{"unknown key", "POST", "/api/v1/kms/keys/0b6c7c35-2a5c-4c52-9a4b-9f1a0c3f0000/encrypt", map[string]any{"plaintext": b64("x")}, 404, "not found"},
			{"duplicate", "POST", "/api/v1/kms/keys", map[string]any{"projectId": pid, "name": "payments"}, 400, "already exists"},
			{"bad name", "POST", "/api/v1/kms/keys", map[string]any{"projectId": pid, "name": "Bad Name!"}, 422, "name"},
			{"bad algorithm", "POST", "/api/v1/kms/keys", map[string]any{"projectId": pid, "name": "x", "encryptionAlgorithm": "des"}, 422, "encryptionAlgorithm"},
			{"no project", "POST", "/api/v1/kms/keys", map[string]any{"name": "x"}, 422, "projectId"},
			{"list limit", "GET", "/api/v1/kms/keys?projectId=" + pid + "&limit=500", nil, 422, "limit"},
			{"list direction", "GET", "/api/v1/kms/keys?projectId=" + pid + "&orderDirection=up", nil, 422, "orderDirection"},
			{"by name no project", "GET", "/api/v1/kms/keys/key-name/payments", nil, 422, "projectId"},
			{"by name unknown", "GET", "/api/v1/kms/keys/key-name/nope?projectId=" + pid, nil, 404, "not found"},
			{"digest size", "POST", "/api/v1/kms/keys/" + sig.ID + "/sign", map[string]any{"data": b64("short"), "signingAlgorithm": "ECDSA_SHA_256", "isDigest": true}, 400, "digest"},
			{"no auth", "POST", "/api/v1/kms/keys/" + enc.ID + "/encrypt", map[string]any{"plaintext": b64("x")}, 401, ""},
		}
		for _, tc := range cases {
			token := tok
			if tc.name == "no auth" {
				token = ""
			}
			code, raw, _ := ts.do(tc.method, tc.path, token, tc.body)
			if code != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, code, tc.status, raw)
				continue
			}
			var e struct {
				StatusCode int    `json:"statusCode"`
				Error      string `json:"error"`
				Message    any    `json:"message"`
			}
			if err := json.Unmarshal(raw, &e); err != nil || e.StatusCode != tc.status || e.Error == "" {
				t.Errorf("%s: error body %s", tc.name, raw)
			}
			msg, _ := json.Marshal(e.Message)
			if !strings.Contains(string(msg), tc.msg) {
				t.Errorf("%s: message %s does not mention %q", tc.name, msg, tc.msg)
			}
		}

		// List, search, pagination.
		var list struct {
			Keys       []cmekKeyJSON `json:"keys"`
			TotalCount int           `json:"totalCount"`
		}
		ts.must("GET", "/api/v1/kms/keys?projectId="+pid+"&limit=2&orderDirection=desc", tok, nil, &list)
		if list.TotalCount != 4 || len(list.Keys) != 2 || list.Keys[0].Name != "release-signing" {
			t.Fatalf("list %+v", list)
		}
		ts.must("GET", "/api/v1/kms/keys?projectId="+pid+"&search=PAY", tok, nil, &list)
		if list.TotalCount != 1 || list.Keys[0].ID != enc.ID {
			t.Fatalf("search %+v", list)
		}
		var byName struct {
			Key cmekKeyJSON `json:"key"`
		}
		ts.must("GET", "/api/v1/kms/keys/key-name/payments?projectId="+pid, tok, nil, &byName)
		if byName.Key.ID != enc.ID || byName.Key.Version != 2 {
			t.Fatalf("by name %+v", byName.Key)
		}
		// Update and delete.
		var upd struct {
			Key cmekKeyJSON `json:"key"`
		}
		ts.must("PATCH", "/api/v1/kms/keys/"+other.ID, tok, map[string]any{"name": "renamed", "description": "new"}, &upd)
		if upd.Key.Name != "renamed" || *upd.Key.Description != "new" {
			t.Fatalf("update %+v", upd.Key)
		}
		ts.must("DELETE", "/api/v1/kms/keys/"+other.ID, tok, nil, &upd)
		if code, _, _ := ts.do("GET", "/api/v1/kms/keys/"+other.ID, tok, nil); code != 404 {
			t.Fatalf("deleted key: %d", code)
		}

		// Permissions: a project viewer reads but cannot encrypt; an
		// identity of no project sees nothing.
		_, cid, csec := ts.uaIdentity(tok, boot.OrgID, "viewer", pid, "viewer", nil)
		viewer := ts.login(cid, csec)
		if code, _, _ := ts.do("GET", "/api/v1/kms/keys/"+enc.ID, viewer, nil); code != 200 {
			t.Fatalf("viewer get: %d", code)
		}
		code, raw, _ := ts.do("POST", "/api/v1/kms/keys/"+enc.ID+"/encrypt", viewer, map[string]any{"plaintext": b64("x")})
		if code != 403 || !strings.Contains(string(raw), "PermissionDenied") {
			t.Fatalf("viewer encrypt: %d %s", code, raw)
		}
	})
}

// login exchanges universal-auth credentials for an access token.
func (ts *testServer) login(clientID, clientSecret string) string {
	ts.t.Helper()
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	ts.must("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": clientID, "clientSecret": clientSecret}, &out)
	return out.AccessToken
}

// TestCmekOfficialGoSDK round-trips through the official Go SDK's Kms()
// calls: create, get by name, encrypt/decrypt, sign/verify, public key,
// signing algorithms, delete.
func TestCmekOfficialGoSDK(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ts := newTestServer(t, b)
		boot := ts.bootstrap()
		pid := ts.createProject(boot.AdminToken, "sdk kms")
		_, cid, csec := ts.uaIdentity(boot.AdminToken, boot.OrgID, "kms-app", pid, "member", nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		client := sdk.NewInfisicalClient(ctx, sdk.Config{SiteUrl: ts.srv.URL, SilentMode: true, AutoTokenRefresh: sdk.BoolPtr(false)})
		if _, err := client.Auth().UniversalAuthLogin(cid, csec); err != nil {
			t.Fatal(err)
		}
		k := client.Kms()
		key, err := k.Keys().Create(sdk.KmsCreateKeyOptions{ProjectId: pid, Name: "sdk-data", Description: "from the SDK",
			KeyUsage: "encrypt-decrypt", EncryptionAlgorithm: "aes-256-gcm"})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if key.Name != "sdk-data" || key.KeyUsage != "encrypt-decrypt" || key.Version != 1 || key.EncryptionAlgorithm != "aes-256-gcm" || key.ProjectId != pid {
			t.Fatalf("created %+v", key)
		}
		byName, err := k.Keys().GetByName(sdk.KmsGetKeyByNameOptions{KeyName: "sdk-data", ProjectId: pid})
		if err != nil || byName.KeyId != key.KeyId {
			t.Fatalf("get by name: %v %+v", err, byName)
		}
		ct, err := k.EncryptData(sdk.KmsEncryptDataOptions{KeyId: key.KeyId, Plaintext: "hello from the sdk"})
		if err != nil {
			t.Fatalf("encrypt: %v", err)
		}
		pt, err := k.DecryptData(sdk.KmsDecryptDataOptions{KeyId: key.KeyId, Ciphertext: ct})
		if err != nil || pt != "hello from the sdk" {
			t.Fatalf("decrypt: %v %q", err, pt)
		}
		if _, err := k.DecryptData(sdk.KmsDecryptDataOptions{KeyId: key.KeyId, Ciphertext: ct[:len(ct)-8] + "AAAAAAA="}); !isStatus(err, http.StatusBadRequest) {
			t.Fatalf("tampered through the SDK: %v", err)
		}

		for _, spec := range []string{"rsa-2048", "ecc-nist-p256", "ecc-nist-p384"} {
			sk, err := k.Keys().Create(sdk.KmsCreateKeyOptions{ProjectId: pid, Name: "sign-" + spec, KeyUsage: "sign-verify", EncryptionAlgorithm: spec})
			if err != nil {
				t.Fatalf("create %s: %v", spec, err)
			}
			algs, err := k.Signing().ListSigningAlgorithms(sdk.KmsListSigningAlgorithmsOptions{KeyId: sk.KeyId})
			if err != nil || len(algs) == 0 {
				t.Fatalf("algorithms: %v %v", err, algs)
			}
			pubB64, err := k.Signing().GetPublicKey(sdk.KmsGetPublicKeyOptions{KeyId: sk.KeyId})
			if err != nil {
				t.Fatal(err)
			}
			der, _ := base64.StdEncoding.DecodeString(pubB64)
			pub, err := x509.ParsePKIXPublicKey(der)
			if err != nil {
				t.Fatalf("public key is not DER SPKI: %v", err)
			}
			msg := "artifact sha: 1234"
			for _, alg := range algs {
				sig, err := k.Signing().SignData(sdk.KmsSignDataOptions{KeyId: sk.KeyId, Data: b64(msg), SigningAlgorithm: alg})
				if err != nil {
					t.Fatalf("%s sign: %v", alg, err)
				}
				res, err := k.Signing().VerifyData(sdk.KmsVerifyDataOptions{KeyId: sk.KeyId, Data: b64(msg), SigningAlgorithm: alg,
					Signature: base64.StdEncoding.EncodeToString(sig)})
				if err != nil || !res.SignatureValid || res.KeyId != sk.KeyId || res.SigningAlgorithm != alg {
					t.Fatalf("%s verify: %v %+v", alg, err, res)
				}
				bad, err := k.Signing().VerifyData(sdk.KmsVerifyDataOptions{KeyId: sk.KeyId, Data: b64(msg + "!"), SigningAlgorithm: alg,
					Signature: base64.StdEncoding.EncodeToString(sig)})
				if err != nil || bad.SignatureValid {
					t.Fatalf("%s verify of other data: %v %+v", alg, err, bad)
				}
				// Signatures verify with the standard library and the
				// public key alone, as a third party would.
				if alg == kms.RSASSA_PKCS1_V1_5_SHA_256 || alg == kms.RSASSA_PSS_SHA_256 || alg == kms.ECDSA_SHA_256 {
					d := sha256.Sum256([]byte(msg))
					var ok bool
					switch p := pub.(type) {
					case *rsa.PublicKey:
						if alg == kms.RSASSA_PSS_SHA_256 {
							ok = rsa.VerifyPSS(p, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: 32}) == nil
						} else {
							ok = rsa.VerifyPKCS1v15(p, crypto.SHA256, d[:], sig) == nil
						}
					case *ecdsa.PublicKey:
						ok = ecdsa.VerifyASN1(p, d[:], sig)
					}
					if !ok {
						t.Fatalf("%s: signature does not verify with crypto/x509's public key", alg)
					}
				}
			}
			// Wrong usage through the SDK is a 400.
			if _, err := k.EncryptData(sdk.KmsEncryptDataOptions{KeyId: sk.KeyId, Plaintext: "x"}); !isStatus(err, http.StatusBadRequest) {
				t.Fatalf("encrypt with signing key: %v", err)
			}
		}
		del, err := k.Keys().Delete(sdk.KmsDeleteKeyOptions{KeyId: key.KeyId})
		if err != nil || del.KeyId != key.KeyId {
			t.Fatalf("delete: %v", err)
		}
		if _, err := k.Keys().GetByName(sdk.KmsGetKeyByNameOptions{KeyName: "sdk-data", ProjectId: pid}); !isStatus(err, http.StatusNotFound) {
			t.Fatalf("get deleted: %v", err)
		}
	})
}
