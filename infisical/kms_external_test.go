package infisical_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/enginetest"
	"github.com/infisical-go/engine/kms"
	"github.com/infisical-go/engine/kms/awskms"
	"github.com/infisical-go/engine/kms/kmstest"
)

const (
	testAKID   = "AKIAEXTERNALKMS00001"
	testSecret = "external-kms-secret-key-0000000000000000"
)

func fakeAWS(t *testing.T) *kmstest.Server {
	t.Helper()
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(v, "")
	}
	// Never let the AWS SDK look for an instance role on the network.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s := kmstest.New(t, "us-east-1")
	s.AddCredentials(testAKID, testSecret)
	return s
}

func TestExternalKMSProjects(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		aws := fakeAWS(t)
		eng := enginetest.Open(t, b, func(c *infisical.Config) {
			c.ExternalKMS = infisical.ExternalKMSConfig{AWSEndpoint: aws.URL(), AWSSTSEndpoint: aws.URL(), AWSAccessKeyID: testAKID, AWSSecretAccessKey: testSecret}
		})
		org := enginetest.Org(t, eng, "Acme")
		admin := infisical.Platform(org.ID)
		x := eng.ExternalKMS()
		p, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "app"})
		if err != nil {
			t.Fatal(err)
		}
		scope := infisical.SecretScope{Project: infisical.ProjectRef{ID: p.ID}, Environment: "dev"}
		if _, err := eng.Secrets.Create(ctx, admin, infisical.CreateSecretInput{SecretScope: scope, NewSecret: infisical.NewSecret{Key: "API_KEY", Value: "v1"}}); err != nil {
			t.Fatal(err)
		}
		read := func(label string) {
			t.Helper()
			s, err := eng.Secrets.Get(ctx, admin, infisical.GetSecretInput{SecretScope: scope, Key: "API_KEY"})
			if err != nil || s.Value != "v1" {
				t.Fatalf("%s: read secret: %v", label, err)
			}
		}

		// Access key, no key id: a key tagged author=infisical is created.
		name := "  Prod-AWS "
		created, err := x.Create(ctx, admin, infisical.ExternalKMSInput{Name: &name, Provider: "aws", AWS: &infisical.AWSKMSInput{
			Region: "us-east-1", Credential: infisical.AWSKMSCredential{Type: "access-key", Data: infisical.AWSKMSCredentialData{AccessKey: testAKID, SecretKey: testSecret}}}})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if created.Name != "prod-aws" || created.Status != "ACTIVE" {
			t.Fatalf("created %+v", created)
		}
		ids := aws.KeyIDs()
		if len(ids) != 1 || aws.KeyTags(ids[0])["author"] != "infisical" {
			t.Fatalf("AWS keys %v", ids)
		}
		got, err := x.Get(ctx, admin, created.ID)
		if err != nil || got.Input == nil || got.Input.KeyID != ids[0] || got.Input.Credential.Data.SecretKey != "" || got.Input.Credential.Data.AccessKey != testAKID {
			t.Fatalf("get: %v %+v", err, got.Input)
		}

		// Assign the project: the data key is now wrapped by AWS.
		info, err := x.SetProjectKMS(ctx, admin, infisical.ProjectRef{ID: p.ID}, infisical.ProjectKMSChoice{Type: "external", KMSID: created.ID})
		if err != nil {
			t.Fatalf("assign: %v", err)
		}
		if !info.IsExternal || info.ID != created.ID || info.Name != "prod-aws" {
			t.Fatalf("info %+v", info)
		}
		if aws.Calls("Encrypt") != 1 {
			t.Fatalf("Encrypt calls %d", aws.Calls("Encrypt"))
		}
		raw, _ := eng.Store().Read().GetProject(ctx, p.ID)
		if raw.KMSKeyID == nil || *raw.KMSKeyID != created.ID || !strings.HasPrefix(string(raw.KMSEncryptedDataKey), "kt1") {
			t.Fatal("project data key is not an AWS ciphertext blob")
		}
		read("after assignment")
		if aws.Calls("Decrypt") < 1 {
			t.Fatal("secret read did not unwrap the data key with AWS")
		}
		// (PostgreSQL: the engine also hears its own NOTIFY of the switch a
		// moment later and drops the key once more; let that pass.)
		time.Sleep(300 * time.Millisecond)
		read("after the notification")
		decrypts := aws.Calls("Decrypt")
		read("cached")
		if aws.Calls("Decrypt") != decrypts {
			t.Fatal("data key not cached: AWS called on every read")
		}
		if _, err := eng.Secrets.Create(ctx, admin, infisical.CreateSecretInput{SecretScope: scope, NewSecret: infisical.NewSecret{Key: "NEW", Value: "n"}}); err != nil {
			t.Fatal(err)
		}
		cur, _ := x.GetProjectKMS(ctx, admin, infisical.ProjectRef{ID: p.ID})
		if !cur.IsExternal {
			t.Fatal("project KMS not external")
		}
		// A fresh server reads through AWS.
		// In-use KMS: cannot be deleted, nor its key changed.
		if _, err := x.Delete(ctx, admin, created.ID); infisical.KindOf(err) != infisical.KindBadRequest {
			t.Fatalf("delete in use: %v", err)
		}
		other := aws.CreateKey("other")
		if _, err := x.Update(ctx, admin, created.ID, infisical.ExternalKMSInput{AWS: &infisical.AWSKMSInput{KeyID: other}}); infisical.KindOf(err) != infisical.KindBadRequest {
			t.Fatalf("change key in use: %v", err)
		}
		// Backup while external: restoring puts the project back on the
		// organization key with the same data key.
		backup, err := x.GetProjectKMSBackup(ctx, admin, infisical.ProjectRef{ID: p.ID})
		if err != nil || !strings.HasPrefix(backup, "v1."+p.ID+".secretManager.") {
			t.Fatalf("backup: %v %q", err, backup)
		}
		tampered := backup[:len(backup)-1] + "0"
		if backup[len(backup)-1] == '0' {
			tampered = backup[:len(backup)-1] + "1"
		}
		if _, err := x.LoadProjectKMSBackup(ctx, admin, infisical.ProjectRef{ID: p.ID}, tampered); infisical.KindOf(err) != infisical.KindBadRequest {
			t.Fatalf("tampered backup: %v", err)
		}

		// Switch back to internal: re-wrapped by the organization key.
		info, err = x.SetProjectKMS(ctx, admin, infisical.ProjectRef{ID: p.ID}, infisical.ProjectKMSChoice{Type: "internal"})
		if err != nil || info.IsExternal {
			t.Fatalf("back to internal: %v %+v", err, info)
		}
		read("back to internal")
		if info, err = x.LoadProjectKMSBackup(ctx, admin, infisical.ProjectRef{ID: p.ID}, backup); err != nil || info.IsExternal {
			t.Fatalf("load backup: %v", err)
		}
		read("after backup restore")
		if _, err := x.Delete(ctx, admin, created.ID); err != nil {
			t.Fatalf("delete unused: %v", err)
		}

		// Assume role with an external id; a wrong one is refused at
		// creation with AWS's reason.
		const role = "arn:aws:iam::111122223333:role/kms"
		aws.AddRole(role, p.ID)
		keyID := aws.CreateKey("")
		rn := "role-kms"
		in := infisical.ExternalKMSInput{Name: &rn, Provider: "aws", AWS: &infisical.AWSKMSInput{Region: "us-east-1", KeyID: keyID,
			Credential: infisical.AWSKMSCredential{Type: "assume-role", Data: infisical.AWSKMSCredentialData{AssumeRoleArn: role, ExternalID: "wrong"}}}}
		if _, err := x.Create(ctx, admin, in); infisical.KindOf(err) != infisical.KindBadRequest || !strings.Contains(err.Error(), "AccessDenied") {
			t.Fatalf("wrong external id: %v", err)
		}
		in.AWS.Credential.Data.ExternalID = p.ID
		roleKMS, err := x.Create(ctx, admin, in)
		if err != nil {
			t.Fatalf("assume role: %v", err)
		}
		if _, err := x.SetProjectKMS(ctx, admin, infisical.ProjectRef{ID: p.ID}, infisical.ProjectKMSChoice{Type: "external", KMSID: roleKMS.ID}); err != nil {
			t.Fatal(err)
		}
		read("assumed role")
		if len(aws.Sessions()) == 0 || !strings.HasPrefix(aws.Sessions()[0], "infisical-kms-") {
			t.Fatalf("sessions %v", aws.Sessions())
		}
		// An unreachable or disabled key stops reads of a cold server, and
		// the error says why without leaking anything.
		aws.SetEnabled(keyID, false)
		cold := infisical.Platform(org.ID)
		eng2 := mustOpenEngineCfg(t, eng, func(c *infisical.Config) {
			c.ExternalKMS = infisical.ExternalKMSConfig{AWSEndpoint: aws.URL(), AWSSTSEndpoint: aws.URL(), AWSAccessKeyID: testAKID, AWSSecretAccessKey: testSecret}
		})
		if _, err := eng2.Secrets.Get(ctx, cold, infisical.GetSecretInput{SecretScope: scope, Key: "API_KEY"}); err == nil {
			t.Fatal("read with a disabled AWS key succeeded on a cold server")
		}
		aws.SetEnabled(keyID, true)
		if s, err := eng2.Secrets.Get(ctx, cold, infisical.GetSecretInput{SecretScope: scope, Key: "API_KEY"}); err != nil || s.Value != "v1" {
			t.Fatalf("cold server: %v", err)
		}

		// A project can start on the external KMS.
		born, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "born external", KMSKeyID: roleKMS.ID})
		if err != nil {
			t.Fatalf("create project on external KMS: %v", err)
		}
		if info, err := x.GetProjectKMS(ctx, admin, infisical.ProjectRef{ID: born.ID}); err != nil || !info.IsExternal || info.ID != roleKMS.ID {
			t.Fatalf("born project KMS: %v %+v", err, info)
		}
		bornScope := infisical.SecretScope{Project: infisical.ProjectRef{ID: born.ID}, Environment: "dev"}
		if _, err := eng.Secrets.Create(ctx, admin, infisical.CreateSecretInput{SecretScope: bornScope, NewSecret: infisical.NewSecret{Key: "A", Value: "b"}}); err != nil {
			t.Fatal(err)
		}
		if s, err := eng2.Secrets.Get(ctx, admin, infisical.GetSecretInput{SecretScope: bornScope, Key: "A"}); err != nil || s.Value != "b" {
			t.Fatalf("born project secret: %v", err)
		}
		if _, err := eng.Projects.Create(ctx, admin, infisical.CreateProjectInput{OrgID: org.ID, Name: "x", KMSKeyID: "nope"}); !infisical.IsNotFound(err) {
			t.Fatalf("unknown kmsKeyId: %v", err)
		}

		// Validation.
		bad := []struct {
			name string
			in   infisical.ExternalKMSInput
			kind infisical.Kind
		}{
			{"no region", infisical.ExternalKMSInput{Name: &rn, Provider: "aws", AWS: &infisical.AWSKMSInput{Credential: infisical.AWSKMSCredential{Type: "access-key"}}}, infisical.KindValidation},
			{"gcp", infisical.ExternalKMSInput{Name: &rn, Provider: "gcp"}, infisical.KindValidation},
			{"bad credential type", infisical.ExternalKMSInput{Name: &rn, Provider: "aws", AWS: &infisical.AWSKMSInput{Region: "us-east-1", Credential: infisical.AWSKMSCredential{Type: "token"}}}, infisical.KindValidation},
			{"duplicate name", in, infisical.KindBadRequest},
			{"bad secret", infisical.ExternalKMSInput{Name: strPtrKMS("x"), Provider: "aws", AWS: &infisical.AWSKMSInput{Region: "us-east-1", KeyID: keyID,
				Credential: infisical.AWSKMSCredential{Type: "access-key", Data: infisical.AWSKMSCredentialData{AccessKey: testAKID, SecretKey: "nope"}}}}, infisical.KindBadRequest},
		}
		for _, tc := range bad {
			if _, err := x.Create(ctx, admin, tc.in); infisical.KindOf(err) != tc.kind {
				t.Errorf("%s: %v", tc.name, err)
			} else if strings.Contains(err.Error(), testSecret) {
				t.Errorf("%s: error leaks the secret key", tc.name)
			}
		}
		list, err := x.List(ctx, admin, "")
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v %d", err, len(list))
		}
	})
}

func strPtrKMS(s string) *string { return &s }

// mustOpenEngineCfg opens a second engine on the database of eng.
func mustOpenEngineCfg(t *testing.T, eng *infisical.Engine, mod func(*infisical.Config)) *infisical.Engine {
	t.Helper()
	cfg := enginetest.Config(t, eng.Store().DSN())
	mod(&cfg)
	e2, err := infisical.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e2.Close() })
	return e2
}

// TestRootKeyProviderAWS rotates the root key from software to AWS KMS and
// back, with servers running.
func TestRootKeyProviderAWS(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, b enginetest.Backend) {
		ctx := context.Background()
		aws := fakeAWS(t)
		keyID := aws.CreateKey("infisical-root")
		awsCfg := awskms.Config{KeyID: "alias/infisical-root", Region: "us-east-1", Endpoint: aws.URL(), AccessKeyID: testAKID, SecretAccessKey: testSecret}
		dsn := enginetest.DSN(t, b)
		w := &rotationWorld{t: t, dsn: dsn}
		a := mustOpenEngine(t, dsn, nil, "")
		w.populate(a, 2)

		awsRoot, err := infisical.OpenRootKey(ctx, infisical.RootKeyConfig{Provider: "awskms", AWS: awsCfg})
		if err != nil {
			t.Fatal(err)
		}
		res, err := infisical.RotateRootKey(ctx, a.Store(), infisical.RotateRootOptions{From: software(t, enginetest.TestEncryptionKey), To: awsRoot, Grace: -1})
		if err != nil || res.ToStrategy != kms.StrategyAWSKMS {
			t.Fatalf("to AWS: %v %+v", err, res)
		}
		w.populate(a, 1)
		w.check(a, "running server after switching to AWS KMS")
		// Restart with the AWS provider (the software key alone no longer
		// opens the root key).
		if e, err := openEngine(t, dsn, nil, ""); err == nil {
			e.Close()
			t.Fatal("software provider opened an AWS-protected root key")
		} else if !strings.Contains(err.Error(), "AWS_KMS") {
			t.Fatalf("error does not name the strategy: %v", err)
		}
		b2 := mustOpenEngine(t, dsn, awsRoot, "")
		w.check(b2, "server on AWS KMS")
		// While AWS refuses, a restart fails loudly (the running server keeps serving).
		aws.SetEnabled(keyID, false)
		if _, err := infisical.OpenRootKey(ctx, infisical.RootKeyConfig{Provider: "awskms", AWS: awsCfg}); err == nil {
			t.Fatal("disabled AWS key accepted")
		}
		w.check(b2, "running server while AWS is down")
		aws.SetEnabled(keyID, true)
		// And back to software with a new key.
		if _, err := b2.RotateRootKey(ctx, software(t, rotatedKey), infisical.RotateRootOptions{Grace: -1}); err != nil {
			t.Fatal(err)
		}
		w.check(b2, "back on software")
		w.check(a, "first server after two provider switches")
		w.check(mustOpenEngine(t, dsn, nil, rotatedKey), "restart on software")
	})
}
