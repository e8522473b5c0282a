package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// The offline cache keeps the last good answer of each secret listing
// (per API, project, environment, path and listing options) so that `run`,
// `export` and `secrets` keep working when the server cannot be reached.
//
// Entries are sealed with AES-256-GCM. The key is derived (HKDF-SHA256)
// from the per-machine key (~/.infisical/machine.key, 0600) with the
// caller's identity (machine identity ID, user ID or service token ID) as
// salt, and each entry's name is authenticated as associated data. So:
//   - a copied cache file is useless without the machine key;
//   - one identity cannot read what another identity cached on the same
//     machine, even with the key file;
//   - files cannot be swapped between projects, environments or paths,
//     nor altered, without detection.
// It does not protect against someone who can read the user's files and
// knows the identity (the same user, root): they can derive the key. The
// cache is used only when the server is unreachable (never after a 401 or
// 403), so a revoked token stops working as soon as the server answers.
// INFISICAL_DISABLE_OFFLINE_CACHE=true turns the cache off.

const disableOfflineEnv = "INFISICAL_DISABLE_OFFLINE_CACHE"

// offlineDisabled reports INFISICAL_DISABLE_OFFLINE_CACHE=true.
func (a *App) offlineDisabled() bool {
	v := strings.ToLower(a.env(disableOfflineEnv))
	return v == "true" || v == "1" || v == "yes"
}

// offlineCache is the cache of one identity. A broken cache never fails a
// command: saving is best effort and loading reports "no entry".
type offlineCache struct {
	app      *App
	st       *localState
	identity string
	key      []byte // nil until first use
	err      error  // why the cache is unusable, if it is
}

func (a *App) offlineCache(c *credential) *offlineCache {
	oc := &offlineCache{app: a, identity: c.identity}
	oc.st, oc.err = a.state()
	return oc
}

// cacheFile is one sealed entry on disk.
type cacheFile struct {
	SavedAt time.Time       `json:"savedAt"`
	Payload json.RawMessage `json:"payload"`
}

func (oc *offlineCache) keyFor(create bool) ([]byte, error) {
	if oc.err != nil {
		return nil, oc.err
	}
	if oc.key != nil {
		return oc.key, nil
	}
	mk, err := oc.st.machineKey(create)
	if err != nil {
		return nil, err
	}
	salt := sha256.Sum256([]byte(oc.identity))
	k, err := deriveKey(mk, salt[:], "offline cache v1")
	if err != nil {
		return nil, err
	}
	oc.key = k
	return k, nil
}

// fileFor names the file of an entry: a hash of identity and entry, so
// file names reveal neither.
func (oc *offlineCache) fileFor(entry string) string {
	sum := sha256.Sum256([]byte(oc.identity + "\x00" + entry))
	return oc.st.path(cacheDirName, "secrets", hex.EncodeToString(sum[:16])+".bin")
}

func (oc *offlineCache) aad(entry string) []byte {
	return []byte("infisical-offline-cache\x00" + oc.identity + "\x00" + entry)
}

// save stores v under entry; failures are reported at debug level only.
func (oc *offlineCache) save(entry string, v any) {
	if err := oc.trySave(entry, v); err != nil {
		oc.app.Logger().Debug("offline cache not updated", "err", err)
	}
}

func (oc *offlineCache) trySave(entry string, v any) error {
	key, err := oc.keyFor(true)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode cache entry: %w", err)
	}
	plain, err := json.Marshal(cacheFile{SavedAt: time.Now().UTC(), Payload: payload})
	if err != nil {
		return fmt.Errorf("encode cache entry: %w", err)
	}
	blob, err := seal(key, plain, oc.aad(entry))
	if err != nil {
		return err
	}
	return oc.st.writeFile(oc.fileFor(entry), blob)
}

// errNoCacheEntry means there is no usable entry.
var errNoCacheEntry = errors.New("no offline copy")

// load reads entry into v and returns when it was saved.
func (oc *offlineCache) load(entry string, v any) (time.Time, error) {
	key, err := oc.keyFor(false)
	if err != nil {
		return time.Time{}, errNoCacheEntry
	}
	blob, err := os.ReadFile(oc.fileFor(entry))
	if err != nil {
		return time.Time{}, errNoCacheEntry
	}
	plain, err := open(key, blob, oc.aad(entry))
	if err != nil {
		oc.app.Logger().Debug("offline cache entry unreadable", "err", err)
		return time.Time{}, errNoCacheEntry
	}
	var cf cacheFile
	if err := json.Unmarshal(plain, &cf); err != nil {
		return time.Time{}, errNoCacheEntry
	}
	if err := json.Unmarshal(cf.Payload, v); err != nil {
		return time.Time{}, errNoCacheEntry
	}
	return cf.SavedAt, nil
}
