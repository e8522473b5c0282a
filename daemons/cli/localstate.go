package cli

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// The command line keeps its state in one directory, ~/.infisical as
// Infisical's CLI does (INFISICAL_CONFIG_DIR overrides it, for tests and
// for machines with several users of one account):
//
//	infisical-config.json   profiles, the active one, the vault type (0600)
//	machine.key             32 random bytes, the per-machine key (0600)
//	vault/<id>.json         one sealed user session per profile (0600)
//	cache/secrets/<id>.bin  sealed offline copies of fetched secrets (0600)
//
// Directories are created 0700. Sealed files use AES-256-GCM with keys
// derived (HKDF-SHA256) from the machine key, or from a passphrase for the
// file vault when one is set. docs/cli.md describes the threat model.

const (
	configDirEnv       = "INFISICAL_CONFIG_DIR"
	configFileName     = "infisical-config.json"
	machineKeyFileName = "machine.key"
	vaultDirName       = "vault"
	cacheDirName       = "cache"

	// vaultPassphraseEnv is the passphrase of the file vault, as in
	// Infisical's CLI.
	vaultPassphraseEnv = "INFISICAL_VAULT_FILE_PASSPHRASE"
)

// Vault backends (`infisical vault`).
const (
	vaultFile = "file"
	vaultAuto = "auto"
)

// localState is the CLI's state directory.
type localState struct {
	dir string
	app *App
}

// state locates the state directory; nothing is created until written.
func (a *App) state() (*localState, error) {
	if d := a.env(configDirEnv); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", configDirEnv, err)
		}
		return &localState{dir: abs, app: a}, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("locate the home directory for ~/.infisical (set %s): %w", configDirEnv, err)
	}
	return &localState{dir: filepath.Join(home, ".infisical"), app: a}, nil
}

func (s *localState) path(parts ...string) string {
	return filepath.Join(append([]string{s.dir}, parts...)...)
}

// ---- config file --------------------------------------------------------------------

// loggedInUser is one profile: an account on an instance.
type loggedInUser struct {
	Email  string `json:"email"`
	Domain string `json:"domain"`
}

// cliConfig is infisical-config.json, in the layout of Infisical's CLI.
type cliConfig struct {
	LoggedInUserEmail  string         `json:"loggedInUserEmail"`
	LoggedInUserDomain string         `json:"LoggedInUserDomain,omitempty"`
	LoggedInUsers      []loggedInUser `json:"loggedInUsers,omitempty"`
	VaultBackendType   string         `json:"vaultBackendType,omitempty"`
	// VaultBackendPassphrase is the file vault's passphrase, base64 (set by
	// `infisical vault set file --passphrase`).
	VaultBackendPassphrase string `json:"vaultBackendPassphrase,omitempty"`
}

// vaultType is the configured vault backend ("file" when unset).
func (c *cliConfig) vaultType() string {
	if c.VaultBackendType == "" {
		return vaultFile
	}
	return c.VaultBackendType
}

// profile returns the profile of email.
func (c *cliConfig) profile(email string) (loggedInUser, bool) {
	for _, u := range c.LoggedInUsers {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return loggedInUser{}, false
}

// upsertProfile records email on domain and makes it the active profile.
func (c *cliConfig) upsertProfile(email, domain string) {
	found := false
	for i, u := range c.LoggedInUsers {
		if strings.EqualFold(u.Email, email) {
			c.LoggedInUsers[i].Domain = domain
			found = true
		}
	}
	if !found {
		c.LoggedInUsers = append(c.LoggedInUsers, loggedInUser{Email: email, Domain: domain})
	}
	c.LoggedInUserEmail, c.LoggedInUserDomain = email, domain
}

func (s *localState) readConfig() (*cliConfig, error) {
	var c cliConfig
	raw, err := os.ReadFile(s.path(configFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return &c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read CLI configuration: %w", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", s.path(configFileName), err)
	}
	return &c, nil
}

func (s *localState) writeConfig(c *cliConfig) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode CLI configuration: %w", err)
	}
	return s.writeFile(s.path(configFileName), append(raw, '\n'))
}

// writeFile writes data atomically with mode 0600, creating parents 0700.
func (s *localState) writeFile(path string, data []byte) error {
	return writeFileAtomic(path, data, 0o600, 0o700)
}

// writeFileAtomic writes through a temporary file renamed over path, so a
// reader never sees a partial file.
func writeFileAtomic(path string, data []byte, mode, dirMode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ---- keys -------------------------------------------------------------------------

// machineKey returns the per-machine key, creating it (0600) on first use
// when create is set; without it a missing key is fs.ErrNotExist.
func (s *localState) machineKey(create bool) ([]byte, error) {
	p := s.path(machineKeyFileName)
	raw, err := os.ReadFile(p)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(raw)))
		if derr != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s is corrupt (want 64 hex characters); run `infisical reset`", p)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || !create {
		return nil, fmt.Errorf("read machine key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate machine key: %w", err)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", s.dir, err)
	}
	// O_EXCL: when two commands race to create it, one wins and the other
	// reads the winner's key.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return s.machineKey(false)
	}
	if err != nil {
		return nil, fmt.Errorf("create machine key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write machine key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write machine key: %w", err)
	}
	return key, nil
}

// deriveKey derives a 32-byte key for one purpose from secret; salt binds
// it further (e.g. to an identity).
func deriveKey(secret, salt []byte, purpose string) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, secret, salt, "infisical-cli "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("derive %s key: %w", purpose, err)
	}
	return k, nil
}

// seal encrypts plaintext with AES-256-GCM; aad is authenticated, not
// stored. The result is nonce‖ciphertext‖tag.
func seal(key, plaintext, aad []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plaintext, aad), nil
}

// errSealed means a sealed blob could not be opened: wrong key (another
// identity, another machine, a changed passphrase) or tampering.
var errSealed = errors.New("cannot decrypt: wrong key or corrupted data")

func open(key, blob, aad []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(blob) < aead.NonceSize()+aead.Overhead() {
		return nil, errSealed
	}
	pt, err := aead.Open(nil, blob[:aead.NonceSize()], blob[aead.NonceSize():], aad)
	if err != nil {
		return nil, errSealed
	}
	return pt, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("AES key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("AES-GCM: %w", err)
	}
	return aead, nil
}

// ---- vault (user sessions) --------------------------------------------------------

// userSession is a logged-in user, kept in the vault.
type userSession struct {
	Email string `json:"email"`
	// JTWToken is the organization-scoped user JWT (Infisical's spelling).
	JTWToken       string `json:"JTWToken"`
	RefreshToken   string `json:"RefreshToken,omitempty"`
	Domain         string `json:"domain"`
	OrganizationID string `json:"organizationId,omitempty"`
}

// vaultFileJSON is one sealed session on disk.
type vaultFileJSON struct {
	Version int    `json:"version"`
	KDF     string `json:"kdf"`            // "machine-key" or "scrypt"
	Salt    string `json:"salt,omitempty"` // base64, scrypt only
	Data    string `json:"data"`           // base64 nonce‖ciphertext‖tag
}

const (
	kdfMachineKey = "machine-key"
	kdfScrypt     = "scrypt"
)

// vaultFileFor names the session file of email (hashed: the file name
// does not reveal the address).
func (s *localState) vaultFileFor(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return s.path(vaultDirName, hex.EncodeToString(sum[:12])+".json")
}

// passphrase returns the file vault's passphrase, if any: the environment
// wins over the configuration.
func (s *localState) passphrase(c *cliConfig) (string, error) {
	if p, ok := s.app.LookupEnv(vaultPassphraseEnv); ok && p != "" {
		return p, nil
	}
	if c.VaultBackendPassphrase == "" {
		return "", nil
	}
	p, err := base64.StdEncoding.DecodeString(c.VaultBackendPassphrase)
	if err != nil {
		return "", fmt.Errorf("vaultBackendPassphrase in %s is not base64", configFileName)
	}
	return string(p), nil
}

// scrypt parameters of the passphrase-protected vault: about 30 ms per
// unlock, paid only by users who set a passphrase.
const scryptN, scryptR, scryptP = 1 << 14, 8, 1

func (s *localState) vaultKey(c *cliConfig, kdf string, salt []byte, create bool) ([]byte, error) {
	if kdf == kdfScrypt {
		pass, err := s.passphrase(c)
		if err != nil {
			return nil, err
		}
		if pass == "" {
			return nil, fmt.Errorf("the session is protected by a passphrase: set %s", vaultPassphraseEnv)
		}
		k, err := scrypt.Key([]byte(pass), salt, scryptN, scryptR, scryptP, 32)
		if err != nil {
			return nil, fmt.Errorf("derive vault key: %w", err)
		}
		return k, nil
	}
	mk, err := s.machineKey(create)
	if err != nil {
		return nil, err
	}
	return deriveKey(mk, nil, "vault v1")
}

// saveSession seals sess into the vault.
func (s *localState) saveSession(c *cliConfig, sess *userSession) error {
	plain, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	vf := vaultFileJSON{Version: 1, KDF: kdfMachineKey}
	var salt []byte
	pass, err := s.passphrase(c)
	if err != nil {
		return err
	}
	if pass != "" {
		salt = make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return fmt.Errorf("generate salt: %w", err)
		}
		vf.KDF, vf.Salt = kdfScrypt, base64.StdEncoding.EncodeToString(salt)
	}
	key, err := s.vaultKey(c, vf.KDF, salt, true)
	if err != nil {
		return err
	}
	blob, err := seal(key, plain, []byte("infisical-vault:"+strings.ToLower(sess.Email)))
	if err != nil {
		return err
	}
	vf.Data = base64.StdEncoding.EncodeToString(blob)
	raw, err := json.Marshal(vf)
	if err != nil {
		return fmt.Errorf("encode vault file: %w", err)
	}
	return s.writeFile(s.vaultFileFor(sess.Email), raw)
}

// errNoSession means nobody is logged in.
var errNoSession = errors.New("you are not logged in: run `infisical login`, or pass a machine identity token with --token or INFISICAL_TOKEN")

// loadSession opens the session of email.
func (s *localState) loadSession(c *cliConfig, email string) (*userSession, error) {
	raw, err := os.ReadFile(s.vaultFileFor(email))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	var vf vaultFileJSON
	if err := json.Unmarshal(raw, &vf); err != nil {
		return nil, fmt.Errorf("parse session file: %w", err)
	}
	salt, err := base64.StdEncoding.DecodeString(vf.Salt)
	if err != nil {
		return nil, fmt.Errorf("parse session file: %w", err)
	}
	blob, err := base64.StdEncoding.DecodeString(vf.Data)
	if err != nil {
		return nil, fmt.Errorf("parse session file: %w", err)
	}
	key, err := s.vaultKey(c, vf.KDF, salt, false)
	if err != nil {
		return nil, fmt.Errorf("open session of %s: %w", email, err)
	}
	plain, err := open(key, blob, []byte("infisical-vault:"+strings.ToLower(email)))
	if err != nil {
		return nil, fmt.Errorf("open session of %s: %w (log in again with `infisical login`)", email, err)
	}
	var sess userSession
	if err := json.Unmarshal(plain, &sess); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	return &sess, nil
}

// activeSession returns the session of the active profile, or errNoSession.
func (s *localState) activeSession() (*userSession, *cliConfig, error) {
	c, err := s.readConfig()
	if err != nil {
		return nil, nil, err
	}
	if c.LoggedInUserEmail == "" {
		return nil, c, errNoSession
	}
	sess, err := s.loadSession(c, c.LoggedInUserEmail)
	if err != nil {
		return nil, c, err
	}
	if p, ok := c.profile(sess.Email); ok && p.Domain != "" {
		// `infisical user update domain` changes the profile, not the vault.
		sess.Domain = p.Domain
	}
	return sess, c, nil
}
