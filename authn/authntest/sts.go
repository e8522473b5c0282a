package authntest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// STS answers sts:GetCallerIdentity like AWS does: it recomputes the SigV4
// signature of the request with the AWS SDK's signer and the secret key of
// the access key id in the credential scope, and answers with the caller's
// identity only when the signatures match (else 403 SignatureDoesNotMatch,
// InvalidClientTokenId or a stale-request error). Every region is served by
// the one server.
type STS struct {
	Server *httptest.Server
	// RegionalEndpoint is the verifier setting that routes every region
	// here (awsiam.Config.RegionalEndpoint).
	RegionalEndpoint string
	CAPEM            string

	mu    sync.Mutex
	users map[string]STSUser
	// Calls counts requests; Verified counts accepted signatures.
	Calls    atomic.Int64
	Verified atomic.Int64
}

// STSUser is an access key and the identity STS reports for it.
type STSUser struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // required when set (temporary credentials)
	Account         string
	ARN             string
	UserID          string
}

// NewSTS starts the service.
func NewSTS(t testing.TB) *STS {
	t.Helper()
	s := &STS{users: map[string]STSUser{}}
	s.Server = tlsServer(t, http.HandlerFunc(s.serve))
	s.RegionalEndpoint = s.Server.URL + "/"
	s.CAPEM = CAPEM(s.Server)
	return s
}

// AddUser registers an access key.
func (s *STS) AddUser(u STSUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.AccessKeyID] = u
}

type stsError struct {
	status  int
	code    string
	message string
}

func (s *STS) serve(w http.ResponseWriter, r *http.Request) {
	s.Calls.Add(1)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	u, serr := s.verify(r, body)
	if serr != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(serr.status)
		_ = json.NewEncoder(w).Encode(map[string]any{"Error": map[string]string{"Type": "Sender", "Code": serr.code, "Message": serr.message}, "RequestId": "00000000-0000-0000-0000-000000000000"})
		return
	}
	s.Verified.Add(1)
	result := map[string]string{"Account": u.Account, "Arn": u.ARN, "UserId": u.UserID}
	if strings.Contains(r.Header.Get("Accept"), "json") {
		writeJSON(w, map[string]any{"GetCallerIdentityResponse": map[string]any{"GetCallerIdentityResult": result,
			"ResponseMetadata": map[string]string{"RequestId": "01234567-89ab-cdef-0123-456789abcdef"}}})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>%s</Arn><UserId>%s</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
		u.ARN, u.UserID, u.Account)
}

func (s *STS) verify(r *http.Request, body []byte) (STSUser, *stsError) {
	denied := func(code, msg string) *stsError {
		return &stsError{status: http.StatusForbidden, code: code, message: msg}
	}
	form, _ := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || form.Get("Action") != "GetCallerIdentity" {
		return STSUser{}, &stsError{status: http.StatusBadRequest, code: "InvalidAction", message: "only GetCallerIdentity is served"}
	}
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return STSUser{}, denied("MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[3] != "sts" || scope[4] != "aws4_request" {
		return STSUser{}, denied("IncompleteSignature", "Credential scope is malformed")
	}
	s.mu.Lock()
	u, known := s.users[scope[0]]
	s.mu.Unlock()
	if !known {
		return STSUser{}, denied("InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	if u.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != u.SessionToken {
		return STSUser{}, denied("InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	signedAt, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || signedAt.Format("20060102") != scope[1] {
		return STSUser{}, denied("IncompleteSignature", "X-Amz-Date is missing or does not match the credential scope")
	}
	if d := time.Since(signedAt); d > 15*time.Minute || d < -15*time.Minute {
		return STSUser{}, denied("SignatureDoesNotMatch", "Signature expired: the request was signed more than 15 minutes ago")
	}
	// Rebuild the request with exactly the headers the client signed and
	// sign it again with the secret key; the signatures must be equal.
	re, _ := http.NewRequest(r.Method, "https://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	re.Host = r.Host
	re.ContentLength = int64(len(body))
	re.Header = http.Header{}
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		switch h {
		case "host", "content-length":
		default:
			if vals := r.Header.Values(h); len(vals) > 0 {
				re.Header[http.CanonicalHeaderKey(h)] = vals
			}
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: u.AccessKeyID, SecretAccessKey: u.SecretAccessKey, SessionToken: u.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, re, hex.EncodeToString(sum[:]), "sts", scope[2], signedAt); err != nil {
		return STSUser{}, denied("SignatureDoesNotMatch", "could not compute the signature")
	}
	want := signatureOf(re.Header.Get("Authorization"))
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(fields["Signature"])) != 1 {
		return STSUser{}, denied("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
	}
	return u, nil
}

func signatureOf(auth string) string {
	_, sig, ok := strings.Cut(auth, "Signature=")
	if !ok {
		return ""
	}
	return strings.TrimSpace(sig)
}
