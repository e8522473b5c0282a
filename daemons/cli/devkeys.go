package cli

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/infisical-go/engine/authn"
	"github.com/infisical-go/engine/kms"
)

// Files written by `infisical server --dev` into the data directory.
const (
	DevRootKeyFile    = "dev-root-encryption-key" // ROOT_ENCRYPTION_KEY: base64 of 32 random bytes
	DevAuthSecretFile = "dev-auth-secret"         // AUTH_SECRET: base64 of 32 random bytes
)

func defaultSQLitePath(dataDir string) string { return filepath.Join(dataDir, "infisical.db") }

// fillDevKeys loads, or generates on first use, the development root key and
// auth secret for whichever of them the environment does not set. The files
// are reused on later --dev starts so the database stays readable.
func (c *serverConfig) fillDevKeys() error {
	if c.encryptionKey == "" && c.rootEncryptionKey == "" {
		path := filepath.Join(c.dataDir, DevRootKeyFile)
		v, created, err := loadOrCreateDevFile(path, func(v string) error {
			return kms.SoftwareConfig{RootEncryptionKey: v}.Validate()
		})
		if err != nil {
			return err
		}
		c.rootEncryptionKey = v
		c.rootKeySource = "dev file " + path
		if created {
			c.devFilesCreated = append(c.devFilesCreated, path)
		}
	}
	if c.authSecret == "" {
		path := filepath.Join(c.dataDir, DevAuthSecretFile)
		v, created, err := loadOrCreateDevFile(path, func(v string) error {
			if len(v) < authn.MinSecretLen {
				return fmt.Errorf("shorter than %d characters", authn.MinSecretLen)
			}
			return nil
		})
		if err != nil {
			return err
		}
		c.authSecret = v
		c.authSecretSource = "dev file " + path
		if created {
			c.devFilesCreated = append(c.devFilesCreated, path)
		}
	}
	return nil
}

// loadOrCreateDevFile returns the value stored at path, creating the file
// (mode 0600, directory 0700) with 32 random bytes in base64 if it does not
// exist. An existing file that does not validate is an error: replacing it
// would make the data encrypted under it unreadable.
func loadOrCreateDevFile(path string, validate func(string) error) (value string, created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("create data directory: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", false, fmt.Errorf("generate %s: %w", filepath.Base(path), err)
	}
	fresh := base64.StdEncoding.EncodeToString(raw[:])
	// O_EXCL: when two dev servers start at once, one writes and the other
	// reads what it wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		_, werr := f.WriteString(fresh + "\n")
		if serr := f.Sync(); werr == nil {
			werr = serr
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			_ = os.Remove(path)
			return "", false, fmt.Errorf("write %s: %w", path, werr)
		}
		return fresh, true, nil
	case !errors.Is(err, fs.ErrExist):
		return "", false, fmt.Errorf("create %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	value = strings.TrimSpace(string(b))
	if err := validate(value); err != nil {
		return "", false, fmt.Errorf("development key file %s is invalid (%v); remove it only if the data directory holds nothing you need", path, err)
	}
	return value, false, nil
}

// devWarning says loudly that keys come from files on disk.
func (a *App) devWarning(log *slog.Logger, c *serverConfig) {
	var files []string
	if strings.HasPrefix(c.rootKeySource, "dev file ") {
		files = append(files, strings.TrimPrefix(c.rootKeySource, "dev file "))
	}
	if strings.HasPrefix(c.authSecretSource, "dev file ") {
		files = append(files, strings.TrimPrefix(c.authSecretSource, "dev file "))
	}
	log.Warn("DEVELOPMENT MODE: keys are read from files in the data directory; do not use --dev in production",
		"key_files", strings.Join(files, ","), "generated", len(c.devFilesCreated) > 0)
	if a.logFormat == "json" || len(files) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("\n" + strings.Repeat("!", 78) + "\n")
	b.WriteString("!! DEVELOPMENT MODE -- NOT FOR PRODUCTION\n")
	for _, f := range files {
		fmt.Fprintf(&b, "!!   key material stored in %s\n", f)
	}
	b.WriteString("!! Anyone who can read these files can decrypt every secret of this server.\n")
	b.WriteString("!! In production set ENCRYPTION_KEY (openssl rand -hex 16) and AUTH_SECRET\n")
	b.WriteString("!! (openssl rand -base64 32) in the environment and run without --dev.\n")
	b.WriteString(strings.Repeat("!", 78) + "\n\n")
	fmt.Fprint(a.Stderr, b.String())
}
