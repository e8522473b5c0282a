// Package kmstest is a local stand-in for AWS KMS (and the STS AssumeRole
// call) for tests. It speaks the real wire protocols — KMS's JSON 1.1
// protocol (X-Amz-Target: TrentService.<Op>) and STS's query protocol —
// and verifies every request's AWS Signature Version 4 against the
// credentials it knows, so that aws-sdk-go-v2 clients are exercised exactly
// as against AWS. Keys live in memory.
//
// Supported: KMS CreateKey, DescribeKey, Encrypt, Decrypt, GenerateDataKey,
// EnableKey, DisableKey; STS AssumeRole.
package kmstest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Account is the fake AWS account id in ARNs.
const Account = "111122223333"

// Server is a fake KMS + STS endpoint.
type Server struct {
	Region string

	mu      sync.Mutex
	creds   map[string]credential // by access key id
	keys    map[string]*key       // by key id
	aliases map[string]string     // alias name → key id
	roles   map[string]role       // by role ARN
	calls   map[string]int        // by operation
	// Sessions lists the RoleSessionName of every AssumeRole call.
	sessions []string
	// FailNext makes the next n KMS calls fail with a 500 (retry tests).
	failNext int
	srv      *httptest.Server
}

type credential struct {
	secret  string
	token   string // session token of assumed-role credentials
	expires time.Time
}

type key struct {
	id, arn, description string
	enabled              bool
	material             []byte
	tags                 map[string]string
	created              time.Time
}

type role struct {
	externalID string
}

// New starts a server; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }, region string) *Server {
	s := &Server{Region: region, creds: map[string]credential{}, keys: map[string]*key{},
		aliases: map[string]string{}, roles: map[string]role{}, calls: map[string]int{}}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the endpoint for both KMS and STS.
func (s *Server) URL() string { return s.srv.URL }

// AddCredentials registers a static access key.
func (s *Server) AddCredentials(accessKeyID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[accessKeyID] = credential{secret: secret}
}

// AddRole registers a role that AssumeRole may assume; externalID, when
// not empty, must be presented.
func (s *Server) AddRole(arn, externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[arn] = role{externalID: externalID}
}

// CreateKey adds an enabled symmetric key and returns its id.
func (s *Server) CreateKey(alias string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.newKeyLocked("")
	if alias != "" {
		s.aliases["alias/"+strings.TrimPrefix(alias, "alias/")] = k.id
	}
	return k.id
}

// SetEnabled enables or disables a key.
func (s *Server) SetEnabled(keyID string, enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[keyID]; k != nil {
		k.enabled = enabled
	}
}

// Calls returns how many times op (e.g. "Encrypt") was called.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Sessions returns the role session names of AssumeRole calls so far.
func (s *Server) Sessions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sessions...)
}

// KeyTags returns the tags of a key.
func (s *Server) KeyTags(keyID string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[keyID]; k != nil {
		out := map[string]string{}
		for a, b := range k.tags {
			out[a] = b
		}
		return out
	}
	return nil
}

// KeyIDs lists the keys.
func (s *Server) KeyIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.keys {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// FailNext makes the next n KMS calls answer 500 InternalFailure.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

func (s *Server) newKeyLocked(desc string) *key {
	m := make([]byte, 32)
	_, _ = rand.Read(m)
	id := uuid.NewString()
	k := &key{id: id, arn: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.Region, Account, id), description: desc,
		enabled: true, material: m, tags: map[string]string{}, created: time.Now()}
	s.keys[id] = k
	return k
}

// resolveLocked finds a key by id, ARN, alias name or alias ARN.
func (s *Server) resolveLocked(ref string) *key {
	switch {
	case strings.HasPrefix(ref, "arn:aws:kms:"):
		rest := ref[strings.LastIndex(ref, ":")+1:]
		if strings.HasPrefix(rest, "key/") {
			return s.keys[strings.TrimPrefix(rest, "key/")]
		}
		if strings.HasPrefix(rest, "alias/") {
			return s.keys[s.aliases[rest]]
		}
		return nil
	case strings.HasPrefix(ref, "alias/"):
		return s.keys[s.aliases[ref]]
	}
	return s.keys[ref]
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveKMS(w, r, target, body)
		return
	}
	s.serveSTS(w, r, body)
}

// ---- KMS -------------------------------------------------------------------

type kmsError struct {
	status int
	typ    string
	msg    string
}

func (s *Server) serveKMS(w http.ResponseWriter, r *http.Request, target string, body []byte) {
	op, ok := strings.CutPrefix(target, "TrentService.")
	if !ok {
		writeKMSError(w, kmsError{400, "UnknownOperationException", "unknown target " + target})
		return
	}
	if e := s.verifySigV4(r, body, "kms"); e != nil {
		writeKMSError(w, *e)
		return
	}
	s.mu.Lock()
	s.calls[op]++
	if s.failNext > 0 {
		s.failNext--
		s.mu.Unlock()
		writeKMSError(w, kmsError{500, "KMSInternalException", "injected failure"})
		return
	}
	s.mu.Unlock()
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		writeKMSError(w, kmsError{400, "SerializationException", "invalid JSON"})
		return
	}
	str := func(name string) string {
		var v string
		_ = json.Unmarshal(req[name], &v)
		return v
	}
	blob := func(name string) ([]byte, bool) {
		var v string
		if json.Unmarshal(req[name], &v) != nil {
			return nil, false
		}
		b, err := base64.StdEncoding.DecodeString(v)
		return b, err == nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out any
	var kerr *kmsError
	switch op {
	case "CreateKey":
		k := s.newKeyLocked(str("Description"))
		var tags []struct{ TagKey, TagValue string }
		_ = json.Unmarshal(req["Tags"], &tags)
		for _, t := range tags {
			k.tags[t.TagKey] = t.TagValue
		}
		out = map[string]any{"KeyMetadata": metadata(k)}
	case "DescribeKey":
		k, e := s.keyFor(str("KeyId"), false)
		if e != nil {
			kerr = e
			break
		}
		out = map[string]any{"KeyMetadata": metadata(k)}
	case "EnableKey", "DisableKey":
		k, e := s.keyFor(str("KeyId"), false)
		if e != nil {
			kerr = e
			break
		}
		k.enabled = op == "EnableKey"
		out = map[string]any{}
	case "Encrypt":
		pt, ok := blob("Plaintext")
		if !ok || len(pt) == 0 || len(pt) > 4096 {
			kerr = &kmsError{400, "ValidationException", "Plaintext must be 1 to 4096 bytes"}
			break
		}
		k, e := s.keyFor(str("KeyId"), true)
		if e != nil {
			kerr = e
			break
		}
		out = map[string]any{"CiphertextBlob": seal(k, pt), "KeyId": k.arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
	case "GenerateDataKey":
		k, e := s.keyFor(str("KeyId"), true)
		if e != nil {
			kerr = e
			break
		}
		n := 32
		if spec := str("KeySpec"); spec == "AES_128" {
			n = 16
		}
		var nb int
		if json.Unmarshal(req["NumberOfBytes"], &nb) == nil && nb > 0 {
			n = nb
		}
		pt := make([]byte, n)
		_, _ = rand.Read(pt)
		out = map[string]any{"CiphertextBlob": seal(k, pt), "Plaintext": pt, "KeyId": k.arn}
	case "Decrypt":
		b, ok := blob("CiphertextBlob")
		if !ok {
			kerr = &kmsError{400, "InvalidCiphertextException", "ciphertext is not base64"}
			break
		}
		k, pt, e := s.open(b)
		if e != nil {
			kerr = e
			break
		}
		if ref := str("KeyId"); ref != "" {
			if want := s.resolveLocked(ref); want == nil || want.id != k.id {
				kerr = &kmsError{400, "IncorrectKeyException", "the key ID in the request does not identify the key that encrypted the ciphertext"}
				break
			}
		}
		if !k.enabled {
			kerr = &kmsError{400, "DisabledException", k.arn + " is disabled."}
			break
		}
		out = map[string]any{"Plaintext": pt, "KeyId": k.arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
	default:
		kerr = &kmsError{400, "UnsupportedOperationException", op + " is not supported by kmstest"}
	}
	if kerr != nil {
		writeKMSError(w, *kerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) keyFor(ref string, mustBeEnabled bool) (*key, *kmsError) {
	if ref == "" {
		return nil, &kmsError{400, "ValidationException", "KeyId is required"}
	}
	k := s.resolveLocked(ref)
	if k == nil {
		return nil, &kmsError{400, "NotFoundException", "Key '" + ref + "' does not exist"}
	}
	if mustBeEnabled && !k.enabled {
		return nil, &kmsError{400, "DisabledException", k.arn + " is disabled."}
	}
	return k, nil
}

func metadata(k *key) map[string]any {
	state := "Enabled"
	if !k.enabled {
		state = "Disabled"
	}
	return map[string]any{"KeyId": k.id, "Arn": k.arn, "AWSAccountId": Account, "Enabled": k.enabled,
		"KeyState": state, "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT",
		"CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeyManager": "CUSTOMER", "Origin": "AWS_KMS",
		"Description": k.description, "CreationDate": float64(k.created.Unix()),
		"EncryptionAlgorithms": []string{"SYMMETRIC_DEFAULT"}}
}

// Ciphertext blobs: "kt1" ‖ key id (36) ‖ nonce (12) ‖ AES-GCM ciphertext,
// the key id being authenticated as additional data.
const blobMagic = "kt1"

func seal(k *key, pt []byte) []byte {
	gcm := gcmOf(k.material)
	out := append([]byte(blobMagic), k.id...)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	out = append(out, nonce...)
	return gcm.Seal(out, nonce, pt, []byte(k.id))
}

func (s *Server) open(b []byte) (*key, []byte, *kmsError) {
	bad := &kmsError{400, "InvalidCiphertextException", "The ciphertext is invalid."}
	if len(b) < len(blobMagic)+36+12+16 || string(b[:len(blobMagic)]) != blobMagic {
		return nil, nil, bad
	}
	id := string(b[len(blobMagic) : len(blobMagic)+36])
	k := s.keys[id]
	if k == nil {
		return nil, nil, bad
	}
	rest := b[len(blobMagic)+36:]
	pt, err := gcmOf(k.material).Open(nil, rest[:12], rest[12:], []byte(id))
	if err != nil {
		return nil, nil, bad
	}
	return k, pt, nil
}

func gcmOf(k []byte) cipher.AEAD {
	block, _ := aes.NewCipher(k)
	g, _ := cipher.NewGCM(block)
	return g
}

func writeKMSError(w http.ResponseWriter, e kmsError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.msg})
}

// ---- STS -------------------------------------------------------------------

func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") == "" {
		writeSTSError(w, 400, "InvalidAction", "missing Action")
		return
	}
	if e := s.verifySigV4(r, body, "sts"); e != nil {
		writeSTSError(w, e.status, e.typ, e.msg)
		return
	}
	if form.Get("Action") != "AssumeRole" {
		writeSTSError(w, 400, "InvalidAction", form.Get("Action")+" is not supported by kmstest")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["AssumeRole"]++
	arn := form.Get("RoleArn")
	rl, ok := s.roles[arn]
	if !ok {
		writeSTSError(w, 403, "AccessDenied", "not authorized to perform sts:AssumeRole on "+arn)
		return
	}
	if rl.externalID != "" && form.Get("ExternalId") != rl.externalID {
		writeSTSError(w, 403, "AccessDenied", "external id mismatch")
		return
	}
	s.sessions = append(s.sessions, form.Get("RoleSessionName"))
	akid := "ASIA" + strings.ToUpper(hex.EncodeToString(randBytes(8)))
	c := credential{secret: base64.RawURLEncoding.EncodeToString(randBytes(30)), token: base64.RawURLEncoding.EncodeToString(randBytes(40)),
		expires: time.Now().Add(15 * time.Minute)}
	s.creds[akid] = c
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>`+
		`<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration>`+
		`</Credentials><AssumedRoleUser><Arn>%s/%s</Arn><AssumedRoleId>AROA%s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>`+
		`<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></AssumeRoleResponse>`,
		akid, c.secret, c.token, c.expires.UTC().Format(time.RFC3339), xmlEscape(arn), xmlEscape(form.Get("RoleSessionName")),
		strings.ToUpper(hex.EncodeToString(randBytes(6))), uuid.NewString())
}

func writeSTSError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		code, xmlEscape(msg), uuid.NewString())
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// ---- SigV4 -----------------------------------------------------------------

// verifySigV4 recomputes the request's Signature Version 4 and compares it
// with the Authorization header: access key, scope (date, region, service),
// signed headers, payload hash and, for temporary credentials, the session
// token.
func (s *Server) verifySigV4(r *http.Request, body []byte, service string) *kmsError {
	denied := func(msg string) *kmsError { return &kmsError{400, "UnrecognizedClientException", msg} }
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return &kmsError{400, "MissingAuthenticationTokenException", "request is not signed with SigV4"}
	}
	fields := map[string]string{}
	for _, part := range strings.Split(auth[len(algo):], ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return denied("malformed credential scope")
	}
	akid, date, region, svc := scope[0], scope[1], scope[2], scope[3]
	if svc != service {
		return &kmsError{400, "InvalidSignatureException", "credential scope names service " + svc + ", want " + service}
	}
	if region != s.Region {
		return &kmsError{400, "InvalidSignatureException", "credential scope names region " + region + ", want " + s.Region}
	}
	s.mu.Lock()
	cred, ok := s.creds[akid]
	s.mu.Unlock()
	if !ok {
		return denied("The security token included in the request is invalid.")
	}
	if cred.token != "" {
		if r.Header.Get("X-Amz-Security-Token") != cred.token {
			return denied("The security token included in the request is invalid.")
		}
		if time.Now().After(cred.expires) {
			return &kmsError{400, "ExpiredTokenException", "The security token included in the request is expired"}
		}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if !strings.HasPrefix(amzDate, date) {
		return &kmsError{400, "InvalidSignatureException", "X-Amz-Date does not match the credential scope date"}
	}
	if ts, err := time.Parse("20060102T150405Z", amzDate); err != nil || time.Since(ts).Abs() > 15*time.Minute {
		return &kmsError{400, "InvalidSignatureException", "Signature expired or X-Amz-Date invalid"}
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	var ch strings.Builder
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = fmt.Sprint(r.ContentLength)
		default:
			v = strings.Join(r.Header.Values(h), ",")
		}
		ch.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	if !contains(signed, "host") || !contains(signed, "x-amz-date") {
		return &kmsError{400, "InvalidSignatureException", "host and x-amz-date must be signed"}
	}
	payload := sha256.Sum256(body)
	uri := r.URL.EscapedPath()
	if uri == "" {
		uri = "/"
	}
	canonical := strings.Join([]string{r.Method, uri, r.URL.Query().Encode(), ch.String(), fields["SignedHeaders"], hex.EncodeToString(payload[:])}, "\n")
	crHash := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(crHash[:])
	k := hmacSHA256([]byte("AWS4"+cred.secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, svc)
	k = hmacSHA256(k, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return &kmsError{400, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."}
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
