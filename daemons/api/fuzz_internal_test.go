package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical"
)

func TestNulField(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{`{"a":"x"}`, ""},
		{`{"a":"x\u0000"}`, "a"},
		{`{"":"\u0000"}`, "body"},
		{`{"a":{"b":[1,"y",{"c":"\u0000"}]}}`, "a.b[2].c"},
		{`{"a":[{"k":1},{"k":"\u0000"}]}`, "a[1].k"},
		{`{"a":1,"b":"\u0000"}`, "b"},
		{`{"x\u0000":1}`, "body"},
		{`{"o":{"x\u0000":1}}`, "o"},
		{`"\u0000"`, "body"},
		{`["a","\u0000"]`, "body[1]"},
		{`{"a":"\\u0000"}`, ""},
		{`{"a":"\u0000`, ""},
	} {
		if got, found := nulField([]byte(c.raw)); got != c.want || found != (c.want != "") {
			t.Errorf("nulField(%s) = %q, %v, want %q", c.raw, got, found, c.want)
		}
	}
}

// hasNul reports whether a decoded JSON value holds a NUL in a string or
// key.
func hasNul(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		for _, e := range x {
			if hasNul(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || hasNul(e) {
				return true
			}
		}
	}
	return false
}

// FuzzDecode feeds arbitrary bodies to request.decode, the JSON edge of
// every route. Properties: no panic; every refusal is a 4xx-kind
// *infisical.Error (400 for syntax, 422 naming a field); a body that
// decodes never carries a NUL character (which PostgreSQL cannot store);
// nulField finds a NUL exactly when the document holds one.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"name":"a","n":1,"tags":["x"],"o":{"k":true}}`, `{"name":1}`, `{"n":"1"}`,
		`{"n":1e999}`, `{"n":-1.5}`, `{"tags":"x"}`, `{"o":[]}`, `{"name":"a\u0000"}`, `{"tags":["\u0000"]}`,
		`{"o":{"\u0000":1}}`, `{"name":"\\u0000"}`, `{"a":`, "\xff", `{"name":"\ud800"}`, ` {"name":"x"} `, `{"name":"x"}{}`,
	} {
		f.Add([]byte(s))
	}
	type body struct {
		Name string          `json:"name"`
		N    int             `json:"n"`
		Tags []string        `json:"tags"`
		O    map[string]bool `json:"o"`
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, dst := range []any{new(body), new(any)} {
			rq := &request{r: httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(raw))}
			err := rq.decode(dst)
			if err != nil {
				var e *infisical.Error
				if !errors.As(err, &e) || (e.Kind != infisical.KindBadRequest && e.Kind != infisical.KindValidation) {
					t.Fatalf("decode error %T %v is not a 4xx", err, err)
				}
				continue
			}
			var generic any
			if json.Unmarshal(bytes.TrimSpace(raw), &generic) == nil && hasNul(generic) {
				t.Fatalf("decoded a body holding a NUL character: %q", raw)
			}
		}
		var generic any
		if json.Unmarshal(raw, &generic) == nil {
			if field, found := nulField(raw); found != hasNul(generic) || (found && field == "") {
				t.Fatalf("nulField(%q) = %q, %v, but the document has a NUL: %v", raw, field, found, hasNul(generic))
			}
		}
	})
}

// FuzzParseSecretMetadataFilter checks the metadataFilter query parameter
// ("key=k1,value=v1|key=k2,value=v2"). Properties: no panic; a refusal is
// a 422 naming metadataFilter; at most MaxMetadataFilters pairs, each with
// a non-empty trimmed key; pairs written in the documented form parse back
// to themselves.
func FuzzParseSecretMetadataFilter(f *testing.F) {
	for _, s := range []string{
		"key=env,value=prod", "key=env,value=prod|key=team,value=a=b", " key = k , value = v ", "key=,value=x", "key=k",
		"value=v,key=k|", "|||", "key=a,value=1|key=b,value=2|key=c,value=3|key=d,value=4|key=e,value=5|key=f,value=6|key=g,value=7|key=h,value=8|key=i,value=9|key=j,value=10|key=k,value=11",
		"key=k,value=v,key=k2", "", "key=\x00,value=\xff",
	} {
		f.Add(s, "k", "v")
	}
	f.Fuzz(func(t *testing.T, raw, k, v string) {
		out, err := parseSecretMetadataFilter(raw)
		if err != nil {
			var e *infisical.Error
			if !errors.As(err, &e) || e.Kind != infisical.KindValidation || !strings.Contains(e.Message, "metadataFilter") {
				t.Fatalf("refusal %v", err)
			}
		} else {
			if len(out) > infisical.MaxMetadataFilters {
				t.Fatalf("%d pairs accepted", len(out))
			}
			for _, m := range out {
				if m.Key == "" || m.Key != strings.TrimSpace(m.Key) || m.Value != strings.TrimSpace(m.Value) ||
					strings.ContainsAny(m.Key+m.Value, "|,") {
					t.Fatalf("pair %+v from %q", m, raw)
				}
			}
		}
		// A pair written in the documented form reads back.
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" || strings.ContainsAny(k+v, "|,") {
			return
		}
		got, err := parseSecretMetadataFilter("key=" + k + ",value=" + v)
		if err != nil || len(got) != 1 || got[0].Key != k || got[0].Value != v {
			t.Fatalf("key=%s,value=%s parsed as %+v, %v", k, v, got, err)
		}
	})
}

// FuzzDecodeB64Field checks the base64 fields of the KMS routes
// (plaintext, ciphertext, data, signature). Properties: no panic; a
// refusal is a 422 naming the field; accepted data is at most max bytes and
// is exactly what the canonical padded encoding of the input denotes (no
// whitespace, no other alphabet, no non-zero padding bits), so one input
// has one meaning as in Infisical's isBase64 check.
func FuzzDecodeB64Field(f *testing.F) {
	for _, s := range []string{"aGVsbG8=", "aGVsbG8", "aGVsbG9=", "aGVs\nbG8=", "aGVsbG8=\r\n", " aGVsbG8=", "aGVsbG8-",
		"", "====", "YQ==", "YR==", strings.Repeat("A", 100)} {
		f.Add(s, uint8(8))
	}
	f.Fuzz(func(t *testing.T, v string, max uint8) {
		b, err := decodeB64Field("data", v, int(max))
		if err != nil {
			var e *infisical.Error
			if !errors.As(err, &e) || e.Kind != infisical.KindValidation || !strings.Contains(e.Message, "data") {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if len(b) > int(max) {
			t.Fatalf("%d bytes accepted with max %d", len(b), max)
		}
		if base64.StdEncoding.EncodeToString(b) != v {
			t.Fatalf("%q accepted as %x, whose encoding is %q", v, b, base64.StdEncoding.EncodeToString(b))
		}
	})
}

// FuzzExternalKMSInputBody checks the provider part of external KMS
// bodies ({name, description, provider: {type, inputs}}) up to the engine
// call. Properties: no panic; refusals are 422s naming a provider field;
// accepted AWS inputs survive the JSON round trip the engine seals them
// with.
func FuzzExternalKMSInputBody(f *testing.F) {
	for _, s := range []string{
		`{"name":"k","provider":{"type":"aws","inputs":{"awsRegion":"eu-central-1","kmsKeyId":"id","credential":{"type":"access-key","data":{"accessKey":"a","secretKey":"s"}}}}}`,
		`{"name":"k","provider":{"type":"aws","inputs":{"awsRegion":"us-east-1","credential":{"type":"assume-role","data":{"assumeRoleArn":"arn:aws:iam::1:role/r","externalId":"x"}}}}}`,
		`{"provider":{"type":"aws","inputs":null}}`, `{"provider":{"type":"aws"}}`, `{"provider":{"type":"gcp","inputs":{}}}`,
		`{"provider":{"type":"aws","inputs":[]}}`, `{"provider":{"type":"aws","inputs":{"awsRegion":1}}}`, `{"provider":null}`, `{}`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, create bool) {
		var b externalKMSInputBody
		if json.Unmarshal(raw, &b) != nil {
			return
		}
		in, err := b.input(create)
		if err != nil {
			var e *infisical.Error
			if !errors.As(err, &e) || e.Kind != infisical.KindValidation || !strings.Contains(e.Message, "provider") {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if create && (in.Provider != infisical.ExternalKMSProviderAWS || in.AWS == nil) {
			t.Fatalf("create accepted without AWS inputs: %+v", in)
		}
		if in.AWS != nil {
			enc, err := json.Marshal(in.AWS)
			if err != nil {
				t.Fatal(err)
			}
			var back infisical.AWSKMSInput
			if err := json.Unmarshal(enc, &back); err != nil || back != *in.AWS {
				t.Fatalf("inputs %+v do not survive sealing: %+v %v", *in.AWS, back, err)
			}
		}
	})
}
