package api

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
)

// encodingJSON is the reference: what the generic path would send.
func encodingJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var trickyStrings = []string{
	"", "plain", "quote\"back\\slash", "new\nline\r\ttab", "\x00\x01\x1f\x7f", "<html>&amp;",
	"emoji 🔑 ünïcödé", "\u2028\u2029", "bad utf8 \xff\xfe end", "\xc3", "${env.KEY}",
}

func randString(r *rand.Rand) string {
	if r.Intn(3) == 0 {
		return trickyStrings[r.Intn(len(trickyStrings))]
	}
	n := r.Intn(40)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Intn(256))
	}
	return string(b)
}

func randSecret(r *rand.Rand) infisical.Secret {
	str := func() *string {
		if r.Intn(2) == 0 {
			return nil
		}
		s := randString(r)
		return &s
	}
	days := r.Intn(30)
	skip := r.Intn(2) == 0
	s := infisical.Secret{ID: randString(r), ProjectID: randString(r), Environment: randString(r), SecretPath: randString(r),
		Version: r.Intn(1000), Type: "shared", Key: randString(r), Value: randString(r), Comment: randString(r),
		ValueHidden: r.Intn(2) == 0, ReminderNote: str(),
		CreatedAt: time.Unix(r.Int63n(4e9), r.Int63n(1e9)), UpdatedAt: time.Unix(r.Int63n(4e9), r.Int63n(1e9)).In(time.FixedZone("x", 3600))}
	if r.Intn(2) == 0 {
		s.ReminderRepeatDays = &days
	}
	if r.Intn(2) == 0 {
		s.SkipMultilineEncoding = &skip
	}
	if r.Intn(2) == 0 {
		s.Actor = &infisical.SecretActor{ActorID: randString(r), ActorType: randString(r), Name: randString(r), MembershipID: str(), GroupID: str()}
	}
	for i := 0; i < r.Intn(3); i++ {
		s.Metadata = append(s.Metadata, infisical.SecretMetadata{Key: randString(r), Value: randString(r), IsEncrypted: r.Intn(2) == 0})
	}
	for i := 0; i < r.Intn(3); i++ {
		s.Tags = append(s.Tags, infisical.SecretTag{ID: randString(r), Slug: randString(r), Color: str()})
	}
	return s
}

var shapes = []secretShape{shapeFull, shapeCreated, shapeImported, {}}

// TestFastJSONMatchesEncodingJSON proves the hand-written encoders produce
// exactly what encoding/json makes of the struct form (the oracle).
func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		var list []infisical.Secret
		for j := 0; j < r.Intn(4); j++ {
			list = append(list, randSecret(r))
		}
		if r.Intn(5) == 0 {
			list = nil
		}
		var got, want []byte
		switch i % 3 {
		case 0:
			lr := secretListResponse{Secrets: list}
			or := oracleListResponse{Secrets: toSecretsJSON(list, shapeFull)}
			if r.Intn(2) == 0 {
				blocks := []infisical.ImportedSecrets{}
				oblocks := []secretImportBlockJSON{}
				if r.Intn(4) > 0 {
					blk := infisical.ImportedSecrets{SecretPath: randString(r), Environment: randString(r), FolderID: randString(r), Secrets: list}
					blocks = append(blocks, blk)
					oblocks = append(oblocks, secretImportBlockJSON{SecretPath: blk.SecretPath, Environment: blk.Environment, FolderID: blk.FolderID, Secrets: toSecretsJSON(list, shapeImported)})
				}
				lr.Imports, or.Imports = &blocks, &oblocks
			}
			got, want = lr.appendJSON(nil), encodingJSON(t, or)
		case 1:
			sec := randSecret(r)
			sh := shapes[r.Intn(len(shapes))]
			got = secretResponse{Secret: &sec, Shape: sh}.appendJSON(nil)
			want = encodingJSON(t, oracleSecretResponse{Secret: toSecretJSON(&sec, sh)})
		case 2:
			sh := shapes[r.Intn(len(shapes))]
			got = secretsResponse{Secrets: list, Shape: sh}.appendJSON(nil)
			want = encodingJSON(t, oracleSecretsResponse{Secrets: toSecretsJSON(list, sh)})
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d differs:\n got %s\nwant %s", i, got, want)
		}
		// encoding/json reaches the same bytes through MarshalJSON.
		if i%3 == 0 {
			if viaJSON := encodingJSON(t, secretListResponse{Secrets: list}); !bytes.Equal(viaJSON, secretListResponse{Secrets: list}.appendJSON(nil)) {
				t.Fatalf("MarshalJSON path differs")
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := encodingJSON(t, s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func BenchmarkEncodeList50(b *testing.B) {
	r := rand.New(rand.NewSource(2))
	list := make([]infisical.Secret, 50)
	for i := range list {
		list[i] = randSecret(r)
	}
	resp := secretListResponse{Secrets: list}
	b.Run("fast", func(b *testing.B) {
		buf := make([]byte, 0, 64<<10)
		for i := 0; i < b.N; i++ {
			buf = resp.appendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			encodingJSON(b, oracleListResponse{Secrets: toSecretsJSON(list, shapeFull)})
		}
	})
}
