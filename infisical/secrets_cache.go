package infisical

import (
	"context"
	"slices"
	"strings"

	"github.com/infisical-go/engine/infisical/store"
)

// folderContents caches the stored (still encrypted) secret rows of one
// folder — every owner's — with their resolved tags. With SQLite this
// process is the only writer, so invalidation on commit is exact and reads
// need no query at all; values stay sealed in the cache and are opened per
// request. With PostgreSQL the cache is off: another server may change a
// folder at any moment, and reads must see it at once.
type folderContents struct {
	rows []store.SecretWithTags
	tags map[string][]store.Tag // by secret id
}

type folderCache struct {
	enabled bool
	c       *genCache[*folderContents]
}

// topicFolder invalidates one folder's contents (key: folder id; "" = all).
const topicFolder = store.TopicFolderSecrets

func (fc *folderCache) drop(folderID string) {
	fc.c.bump(folderID) // "" bumps everything
}

// contents returns a folder's rows from the cache, loading them on a miss.
func (rd *secretReader) contents(ctx context.Context, folderID string) (*folderContents, error) {
	fc := rd.e.folders
	if fc2, ok := fc.c.get(folderID, folderID); ok {
		return fc2, nil
	}
	gen, global := fc.c.stamp(folderID)
	rows, err := rd.q.ListFolderSecretsAllOwners(ctx, folderID)
	if err != nil {
		return nil, Internal("list secrets", err)
	}
	lists := make([][]string, len(rows))
	for i := range rows {
		lists[i] = rows[i].TagIDs()
	}
	resolved, err := rd.tagsByIDLists(ctx, lists)
	if err != nil {
		return nil, err
	}
	out := &folderContents{rows: rows, tags: map[string][]store.Tag{}}
	for i, ts := range resolved {
		if len(ts) > 0 {
			out.tags[rows[i].ID] = ts
		}
	}
	fc.c.put(folderID, folderID, gen, global, out)
	return out, nil
}

// loadCached is load served from the folder cache: same rows, same order
// (key, type, folder id — byte order, as SQLite sorts them).
func (rd *secretReader) loadCached(ctx context.Context, folderIDs []string, owner string) ([]store.Secret, map[string][]store.Tag, error) {
	contents := make([]*folderContents, len(folderIDs))
	total := 0
	for i, id := range folderIDs {
		c, err := rd.contents(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		contents[i] = c
		total += len(c.rows)
	}
	rows := make([]store.Secret, 0, total)
	tags := map[string][]store.Tag{}
	for _, c := range contents {
		for i := range c.rows {
			r := &c.rows[i]
			if r.OwnerID != "" && r.OwnerID != owner {
				continue
			}
			rows = append(rows, r.Secret)
			if ts, ok := c.tags[r.ID]; ok {
				tags[r.ID] = ts
			}
		}
	}
	if len(folderIDs) > 1 {
		slices.SortStableFunc(rows, func(a, b store.Secret) int {
			if c := strings.Compare(a.Key, b.Key); c != 0 {
				return c
			}
			if c := strings.Compare(a.Type, b.Type); c != 0 {
				return c
			}
			return strings.Compare(a.FolderID, b.FolderID)
		})
	}
	return rows, tags, nil
}

// byKeyCached finds one secret of a folder in the cache.
func (rd *secretReader) byKeyCached(ctx context.Context, folderID, key, owner string) (*store.SecretWithTags, []store.Tag, bool, error) {
	c, err := rd.contents(ctx, folderID)
	if err != nil {
		return nil, nil, false, err
	}
	for i := range c.rows {
		r := &c.rows[i]
		if r.Key == key && r.OwnerID == owner {
			cp := *r
			return &cp, c.tags[r.ID], true, nil
		}
	}
	return nil, nil, false, nil
}
