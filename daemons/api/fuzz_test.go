package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/kms/kmstest"
)

// fuzzRoute is a route the body fuzzer posts to. In path, "{}" is replaced
// by the fuzzed path segment and "{pid}", "{enc}", "{sig}" by fixtures;
// query holds the query the route needs to get past its first checks, and
// the fuzzed query is merged over it.
type fuzzRoute struct {
	method, path, query string
}

var fuzzRoutes = []fuzzRoute{
	{"POST", "/api/v1/auth/universal-auth/login", ""},
	{"POST", "/api/v1/auth/token/renew", ""},
	{"POST", "/api/v2/workspace", ""},
	{"PATCH", "/api/v1/workspace/{pid}", ""},
	{"POST", "/api/v1/workspace/{pid}/environments", ""},
	{"POST", "/api/v3/secrets/raw/{}", ""},
	{"PATCH", "/api/v3/secrets/raw/{}", ""},
	{"DELETE", "/api/v3/secrets/raw/{}", ""},
	{"GET", "/api/v3/secrets/raw", "workspaceId={pid}&environment=dev"},
	{"GET", "/api/v3/secrets/raw/{}", "workspaceId={pid}&environment=dev"},
	{"POST", "/api/v3/secrets/batch/raw", ""},
	{"PATCH", "/api/v3/secrets/batch/raw", ""},
	{"POST", "/api/v4/secrets/{}", ""},
	{"GET", "/api/v4/secrets", "projectId={pid}&environment=dev"},
	{"POST", "/api/v1/folders", ""},
	{"PATCH", "/api/v1/folders/batch", ""},
	{"GET", "/api/v1/folders", "workspaceId={pid}&environment=dev"},
	{"POST", "/api/v1/secret-imports", ""},
	{"POST", "/api/v1/identities", ""},
	{"PATCH", "/api/v1/identities/{}", ""},
	{"POST", "/api/v1/kms/keys", ""},
	{"GET", "/api/v1/kms/keys", "projectId={pid}"},
	{"POST", "/api/v1/kms/keys/{enc}/encrypt", ""},
	{"POST", "/api/v1/kms/keys/{enc}/decrypt", ""},
	{"POST", "/api/v1/kms/keys/{sig}/sign", ""},
	{"POST", "/api/v1/kms/keys/{sig}/verify", ""},
	{"POST", "/api/v1/kms/keys/{}/decrypt", ""},
	{"GET", "/api/v1/organization/audit-logs", ""},
	{"POST", "/api/v1/external-kms", ""},
	{"PATCH", "/api/v1/external-kms/{}", ""},
	{"POST", "/api/v2/service-token", ""},
	{"POST", "/api/v3/auth/login", ""},
}

// fuzzTarget is one in-process server with its fixtures.
type fuzzTarget struct {
	name                string
	ts                  *testServer
	token, pid, enc, sg string
}

// FuzzAPIRequests sends arbitrary bodies, path segments and query
// parameters to representative routes of an in-process server (every
// backend, authenticated as an organization admin, so requests reach the
// engine and the database). Property: the server never answers 5xx —
// every malformed input is the caller's error, reported as a 4xx — and
// always answers a JSON body.
func FuzzAPIRequests(f *testing.F) {
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		f.Setenv(v, "")
	}
	f.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	const akid, secret = "AKIAFUZZTEST00000001", "fuzz-test-secret-key-000000000000000000"
	var targets []*fuzzTarget
	for _, b := range enginetest.Backends() {
		// External KMS calls go to a local AWS stand-in only.
		aws := kmstest.New(f, "eu-central-1")
		aws.AddCredentials(akid, secret)
		ts := newTestServer(f, b, func(c *infisical.Config) {
			c.ExternalKMS = infisical.ExternalKMSConfig{AWSEndpoint: aws.URL(), AWSSTSEndpoint: aws.URL(),
				AWSAccessKeyID: akid, AWSSecretAccessKey: secret}
		})
		boot := ts.bootstrap()
		tg := &fuzzTarget{name: string(b), ts: ts, token: boot.AdminToken}
		tg.pid = ts.createProject(tg.token, "fuzz")
		ts.must("POST", "/api/v3/secrets/raw/EXISTING", tg.token, map[string]any{"workspaceId": tg.pid, "environment": "dev", "secretValue": "v"}, nil)
		var k struct {
			Key struct {
				ID string `json:"id"`
			} `json:"key"`
		}
		ts.must("POST", "/api/v1/kms/keys", tg.token, map[string]any{"projectId": tg.pid, "name": "enc"}, &k)
		tg.enc = k.Key.ID
		ts.must("POST", "/api/v1/kms/keys", tg.token, map[string]any{"projectId": tg.pid, "name": "sig", "keyUsage": "sign-verify",
			"encryptionAlgorithm": "ecc-nist-p256"}, &k)
		tg.sg = k.Key.ID
		targets = append(targets, tg)
	}
	bodies := []string{
		``, `{}`, `[]`, `null`, `"x"`, `1e999`, `{"a":`, "\xff", `{"workspaceId":"{pid}","environment":"dev","secretValue":"x"}`,
		`{"workspaceId":"{pid}","environment":"dev","secretPath":"/a\u0000b","secretValue":"x"}`,
		`{"workspaceId":"{pid}","environment":"dev\u0000","secretValue":"x","secretComment":"c\u0000"}`,
		`{"workspaceId":"{pid}","environment":"dev","secretValue":1}`,
		`{"workspaceId":"{pid}","environment":"dev","secrets":[{"secretKey":"A","secretValue":"1"},{"secretKey":"A","secretValue":"2"}]}`,
		`{"workspaceId":"{pid}","environment":"dev","secrets":[null,{}]}`,
		`{"projectName":"p\u0000","slug":"x"}`, `{"projectName":"` + strings.Repeat("x", 300) + `"}`,
		`{"name":"env","slug":"Bad Slug"}`, `{"name":"f\u0000","workspaceId":"{pid}","environment":"dev","path":"/"}`,
		`{"workspaceId":"{pid}","environment":"dev","folders":[{"id":"x","name":"y"}]}`,
		`{"workspaceId":"{pid}","environment":"dev","import":{"environment":"prod","path":"/"}}`,
		`{"name":"id\u0000","organizationId":"x","role":"no-access"}`,
		`{"clientId":"\u0000","clientSecret":"x"}`, `{"accessToken":"a.b.c"}`,
		`{"plaintext":"aGVsbG8="}`, `{"plaintext":"aGVsbG8=\n"}`, `{"ciphertext":"AAAA"}`, `{"ciphertext":"!!!!"}`,
		`{"data":"aGVsbG8=","signingAlgorithm":"ECDSA_SHA_256"}`, `{"data":"aGVsbG8=","signingAlgorithm":"RSASSA_PSS_SHA_256","isDigest":true}`,
		`{"data":"aGVsbG8=","signature":"MEUCIQ==","signingAlgorithm":"ECDSA_SHA_256"}`,
		`{"projectId":"{pid}","name":"k\u0000","keyUsage":"sign-verify","encryptionAlgorithm":"rsa-4096"}`,
		`{"name":"x","provider":{"type":"aws","inputs":{"awsRegion":"eu-central-1","credential":{"type":"access-key","data":{"accessKey":"` + akid + `","secretKey":"` + secret + `"}}}}}`,
		`{"name":"x","provider":{"type":"aws","inputs":{"awsRegion":"evil.example/#","credential":{"type":"assume-role","data":{"assumeRoleArn":"arn:aws:iam::1:role/x"}}}}}`,
		`{"name":"x","provider":{"type":"aws","inputs":[]}}`,
		`{"workspaceId":"{pid}","scopes":[{"environment":"dev","secretPath":"/"}],"expiresIn":1e300}`,
		`{"email":"a\u0000@b","password":"x"}`,
	}
	queries := []string{"", "metadataFilter=key=a,value=b", "metadataFilter=key=%00,value=%FF", "eventMetadata=a=b,c=%00",
		"eventMetadata=a=%FF", "secretPath=/%00", "environment=%FF", "tagSlugs=%00", "recursive=maybe", "limit=-1&offset=x",
		"startDate=2020-13-45&endDate=x", "eventType=%00", "actorType=x&userAgentType=%FF", "search=%00", "version=99999999999",
		"expandSecretReferences=true&include_imports=true", "workspaceSlug=%00"}
	segments := []string{"NEW_SECRET", "EXISTING", "", "%", "a\x00b", "\xff", "../x", strings.Repeat("k", 600)}
	// Every body to every route with a body, every query to every GET
	// route, every path segment to every route with a segment.
	for i, rt := range fuzzRoutes {
		switch {
		case rt.method == "GET":
			for j, q := range queries {
				f.Add(uint8(i), ``, segments[j%len(segments)], q)
			}
		default:
			for j, b := range bodies {
				f.Add(uint8(i), b, segments[j%len(segments)], queries[j%len(queries)])
			}
		}
		if strings.Contains(rt.path, "{}") {
			for j, seg := range segments {
				f.Add(uint8(i), bodies[j%len(bodies)], seg, queries[j%len(queries)])
			}
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, body, segment, query string) {
		rt := fuzzRoutes[int(sel)%len(fuzzRoutes)]
		fq, err := url.ParseQuery(query)
		if err != nil {
			fq = url.Values{"q": {query}}
		}
		for _, tg := range targets {
			fill := func(s string) string {
				return strings.NewReplacer("{pid}", tg.pid, "{enc}", tg.enc, "{sig}", tg.sg).Replace(s)
			}
			q, _ := url.ParseQuery(fill(rt.query))
			for k, v := range fq {
				q[k] = v
			}
			u := tg.ts.srv.URL + strings.Replace(fill(rt.path), "{}", url.PathEscape(segment), 1)
			if enc := q.Encode(); enc != "" {
				u += "?" + enc
			}
			req, err := http.NewRequest(rt.method, u, strings.NewReader(fill(body)))
			if err != nil {
				t.Skip(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tg.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %s %s: %v", tg.name, rt.method, u, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%s: %s %s with body %q: status %d: %s", tg.name, rt.method, u, fill(body), resp.StatusCode, raw)
			}
			if resp.StatusCode != http.StatusNotModified && !json.Valid(raw) {
				t.Fatalf("%s: %s %s: status %d with a body that is not JSON: %q", tg.name, rt.method, u, resp.StatusCode, raw)
			}
			if bytes.Contains(raw, []byte(secret)) {
				t.Fatalf("%s: %s %s: the response carries the external KMS secret key", tg.name, rt.method, u)
			}
		}
	})
}
