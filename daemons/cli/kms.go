package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/infisical-go/engine/infisical"
	"github.com/infisical-go/engine/infisical/store"
	"github.com/infisical-go/engine/kms"
	"github.com/infisical-go/engine/kms/awskms"
	"github.com/infisical-go/engine/kms/pkcs11"
)

func init() { register(newKMSCommand) }

// Root-key provider settings come from the environment only (they are key
// material or point at it):
//
//	ROOT_KEY_PROVIDER   software (default) | hsm | awskms
//	ENCRYPTION_KEY / ROOT_ENCRYPTION_KEY                       software
//	HSM_LIB_PATH, HSM_PIN, HSM_SLOT, HSM_KEY_LABEL             hsm
//	AWS_KMS_KEY_ID, AWS_KMS_REGION (or AWS_REGION), AWS_KMS_ENDPOINT,
//	AWS_KMS_ACCESS_KEY_ID, AWS_KMS_SECRET_ACCESS_KEY, AWS_KMS_SESSION_TOKEN,
//	AWS_KMS_ASSUME_ROLE_ARN, AWS_KMS_EXTERNAL_ID, AWS_KMS_STS_ENDPOINT      awskms
//
// Without AWS_KMS_ACCESS_KEY_ID the AWS SDK's default credential chain is
// used. `kms rotate-root` reads the target's settings from the same names
// prefixed with NEW_, falling back to the unprefixed ones.

// rootKeyConfigFromEnv reads the provider settings with prefix ("" or
// "NEW_"); fallback, when set, supplies unprefixed values for absent ones.
func rootKeyConfigFromEnv(app *App, prefix, provider string) (infisical.RootKeyConfig, error) {
	get := func(name string) string {
		if v := app.env(prefix + name); v != "" {
			return v
		}
		if prefix != "" {
			return app.env(name)
		}
		return ""
	}
	if provider == "" {
		provider = app.env("ROOT_KEY_PROVIDER")
	}
	p, ok := kms.NormalizeProvider(provider)
	if !ok {
		return infisical.RootKeyConfig{}, usagef("unknown root key provider %q: want software, hsm or awskms", provider)
	}
	cfg := infisical.RootKeyConfig{Provider: p}
	switch p {
	case kms.ProviderSoftware:
		cfg.Software = kms.SoftwareConfig{EncryptionKey: app.env(prefix + "ENCRYPTION_KEY"), RootEncryptionKey: app.env(prefix + "ROOT_ENCRYPTION_KEY")}
		if prefix != "" && cfg.Software.EncryptionKey == "" && cfg.Software.RootEncryptionKey == "" {
			cfg.Software = kms.SoftwareConfig{EncryptionKey: app.env("ENCRYPTION_KEY"), RootEncryptionKey: app.env("ROOT_ENCRYPTION_KEY")}
		}
	case kms.ProviderHSM:
		slot := 0
		if v := get("HSM_SLOT"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return cfg, fmt.Errorf("invalid %sHSM_SLOT %q: want a slot index (0, 1, ...)", prefix, v)
			}
			slot = n
		}
		cfg.HSM = pkcs11.Config{LibPath: get("HSM_LIB_PATH"), PIN: get("HSM_PIN"), Slot: slot, KeyLabel: get("HSM_KEY_LABEL")}
	case kms.ProviderAWSKMS:
		region := get("AWS_KMS_REGION")
		if region == "" {
			region = app.env("AWS_REGION")
		}
		cfg.AWS = awskms.Config{KeyID: get("AWS_KMS_KEY_ID"), Region: region, Endpoint: get("AWS_KMS_ENDPOINT"),
			STSEndpoint: get("AWS_KMS_STS_ENDPOINT"), AccessKeyID: get("AWS_KMS_ACCESS_KEY_ID"),
			SecretAccessKey: get("AWS_KMS_SECRET_ACCESS_KEY"), SessionToken: get("AWS_KMS_SESSION_TOKEN"),
			AssumeRoleARN: get("AWS_KMS_ASSUME_ROLE_ARN"), ExternalID: get("AWS_KMS_EXTERNAL_ID")}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%sROOT_KEY_PROVIDER=%s: %w", prefix, p, err)
	}
	return cfg, nil
}

// serverRootKey opens the root-key provider of `infisical server`. It
// returns nil for the software provider, which the engine builds from
// ENCRYPTION_KEY / ROOT_ENCRYPTION_KEY itself.
func serverRootKey(ctx context.Context, app *App) (kms.RootKey, string, error) {
	p, ok := kms.NormalizeProvider(app.env("ROOT_KEY_PROVIDER"))
	if !ok {
		return nil, "", usagef("unknown ROOT_KEY_PROVIDER %q: want software, hsm or awskms", app.env("ROOT_KEY_PROVIDER"))
	}
	if p == kms.ProviderSoftware {
		return nil, "", nil
	}
	cfg, err := rootKeyConfigFromEnv(app, "", p)
	if err != nil {
		return nil, "", err
	}
	rk, err := infisical.OpenRootKey(ctx, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("root key provider %s: %w", p, err)
	}
	return rk, p, nil
}

// externalKMSFromEnv reads the instance settings for organizations'
// external KMSs.
func externalKMSFromEnv(app *App) infisical.ExternalKMSConfig {
	return infisical.ExternalKMSConfig{
		AWSEndpoint:        app.env("EXTERNAL_KMS_AWS_ENDPOINT"),
		AWSSTSEndpoint:     app.env("EXTERNAL_KMS_AWS_STS_ENDPOINT"),
		AWSAccessKeyID:     app.env("EXTERNAL_KMS_AWS_ACCESS_KEY_ID"),
		AWSSecretAccessKey: app.env("EXTERNAL_KMS_AWS_SECRET_ACCESS_KEY"),
	}
}

func newKMSCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kms",
		Short: "Key management of the server: rotate the root key, switch its provider",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newRotateRootCommand(app))
	return cmd
}

type rotateRootFlags struct {
	to      string
	grace   time.Duration
	finish  bool
	db      string
	dataDir string
}

func newRotateRootCommand(app *App) *cobra.Command {
	var fl rotateRootFlags
	cmd := &cobra.Command{
		Use:   "rotate-root",
		Short: "Rotate the instance root key, or move it to another provider (software, HSM, AWS KMS)",
		Long: `Generate a new instance root key, wrap it with the target provider and
re-wrap every organization key under it, in one database transaction.
Servers keep serving: they adopt the new root key when notified (PostgreSQL)
or when they next need it, through a link kept for --grace. Once all servers
run with the target settings, nothing else is needed.

The current provider comes from ROOT_KEY_PROVIDER and its settings (as for
'infisical server'); the target from --to (default: the current provider) and
the same variables prefixed with NEW_ (NEW_ENCRYPTION_KEY, NEW_HSM_KEY_LABEL,
NEW_AWS_KMS_KEY_ID, ...), each falling back to the unprefixed variable.

If the command is interrupted, run it again with the same settings: before
the commit nothing changed; after it, the re-run sees that the target already
opens the root key and only finishes.`,
		Example: `  # new root key, same ENCRYPTION_KEY
  infisical kms rotate-root
  # new ENCRYPTION_KEY
  NEW_ENCRYPTION_KEY=$(openssl rand -hex 16) infisical kms rotate-root
  # move the root key into an HSM
  HSM_LIB_PATH=/usr/lib/softhsm/libsofthsm2.so HSM_PIN=1234 HSM_SLOT=0 HSM_KEY_LABEL=infisical \
    infisical kms rotate-root --to hsm
  # from the HSM to AWS KMS
  ROOT_KEY_PROVIDER=hsm ... NEW_AWS_KMS_KEY_ID=alias/infisical AWS_KMS_REGION=eu-west-1 infisical kms rotate-root --to awskms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRotateRoot(cmd.Context(), app, cmd, fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.to, "to", "", "target provider: software, hsm or awskms (default: the current ROOT_KEY_PROVIDER)")
	f.DurationVar(&fl.grace, "grace", time.Minute, "how long running servers may follow the rotation link before it is removed (0: remove at once)")
	f.BoolVar(&fl.finish, "finish", false, "only remove a rotation link left by an interrupted run")
	f.StringVar(&fl.db, "db", "", "database: postgres://... URL or SQLite file path (env DB_CONNECTION_URI; default <data-dir>/infisical.db)")
	f.StringVar(&fl.dataDir, "data-dir", DefaultDataDir, "data directory of the SQLite database (env INFISICAL_DATA_DIR)")
	return cmd
}

func runRotateRoot(ctx context.Context, app *App, cmd *cobra.Command, fl rotateRootFlags) error {
	changed := cmd.Flags().Changed
	dataDir := pick(changed("data-dir"), fl.dataDir, app.env("INFISICAL_DATA_DIR"), DefaultDataDir)
	dsn := pick(changed("db"), fl.db, app.env("DB_CONNECTION_URI"), "")
	if dsn == "" {
		dsn = defaultSQLitePath(dataDir)
	}
	if fl.grace < 0 {
		return usagef("invalid --grace %s: must be 0 or more", fl.grace)
	}
	st, err := store.Open(ctx, store.Config{DSN: dsn})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	if fl.finish {
		cleared, err := infisical.FinishRootRotation(ctx, st)
		if err != nil {
			return err
		}
		fmt.Fprintf(app.Stdout, "rotation link removed: %v\n", cleared)
		return nil
	}

	fromCfg, err := rootKeyConfigFromEnv(app, "", "")
	if err != nil {
		return err
	}
	to := fl.to
	if to == "" {
		to = fromCfg.Provider
	}
	toCfg, err := rootKeyConfigFromEnv(app, "NEW_", to)
	if err != nil {
		return err
	}
	from, err := infisical.OpenRootKey(ctx, fromCfg)
	if err != nil {
		return fmt.Errorf("current root key provider %s: %w", fromCfg.Provider, err)
	}
	defer infisical.CloseRootKey(from)
	target, err := infisical.OpenRootKey(ctx, toCfg)
	if err != nil {
		return fmt.Errorf("target root key provider %s: %w", toCfg.Provider, err)
	}
	defer infisical.CloseRootKey(target)

	grace := fl.grace
	if grace == 0 {
		grace = time.Nanosecond // remove at once
	}
	fmt.Fprintf(app.Stderr, "rotating the root key (%s → %s); servers keep serving\n", fromCfg.Provider, toCfg.Provider)
	res, err := infisical.RotateRootKey(ctx, st, infisical.RotateRootOptions{From: from, To: target, Grace: grace, Logger: app.Logger()})
	if res != nil && res.RootKeyID != "" && !res.AlreadyRotated {
		fmt.Fprintf(app.Stdout, "root key rotated: %s → %s, %d organization key(s) re-wrapped\n", res.FromStrategy, res.ToStrategy, res.OrgKeys)
	}
	if err != nil {
		return err
	}
	if res.AlreadyRotated {
		fmt.Fprintf(app.Stdout, "the root key is already protected by %s (an earlier run completed); clean-up done\n", res.ToStrategy)
	}
	fmt.Fprintf(app.Stdout, "restart servers with ROOT_KEY_PROVIDER=%s and its settings%s\n", toCfg.Provider, newVarsHint(toCfg.Provider))
	return nil
}

func newVarsHint(provider string) string {
	switch provider {
	case kms.ProviderHSM:
		return " (HSM_LIB_PATH, HSM_PIN, HSM_SLOT, HSM_KEY_LABEL)"
	case kms.ProviderAWSKMS:
		return " (AWS_KMS_KEY_ID, AWS_KMS_REGION, credentials)"
	}
	return " (ENCRYPTION_KEY or ROOT_ENCRYPTION_KEY: the NEW_ value if you set one)"
}
