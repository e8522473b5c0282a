package store

import (
	"context"
	"strings"
)

// Folder queries. Folders form one tree per environment: the root folder has
// no parent; every other folder is unique by (environment, parent, name).

// GetFolder loads a folder by id.
func (q Q) GetFolder(ctx context.Context, id string) (*Folder, error) {
	var f Folder
	if err := q.GetByID(ctx, &f, id); err != nil {
		return nil, err
	}
	return &f, nil
}

// GetFolderWithEnv loads a folder by id together with its environment
// (routes addressed by folder id alone need the project).
func (q Q) GetFolderWithEnv(ctx context.Context, id string) (*Folder, *Environment, error) {
	f, err := q.GetFolder(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	var env Environment
	if err := q.GetByID(ctx, &env, f.EnvID); err != nil {
		return nil, nil, err
	}
	return f, &env, nil
}

// RootFolder returns the root folder of an environment.
func (q Q) RootFolder(ctx context.Context, envID string) (*Folder, error) {
	var f Folder
	err := q.db.NewSelect().Model(&f).Where("env_id = ? AND parent_id IS NULL", envID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &f, nil
}

// FolderChild returns the child called name of folder parentID.
func (q Q) FolderChild(ctx context.Context, envID, parentID, name string) (*Folder, error) {
	var f Folder
	err := q.db.NewSelect().Model(&f).Where("env_id = ? AND parent_id = ? AND name = ?", envID, parentID, name).Limit(1).Scan(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &f, nil
}

// ChildFolders returns the direct children of a folder by name.
func (q Q) ChildFolders(ctx context.Context, parentID string) ([]Folder, error) {
	var out []Folder
	err := q.db.NewSelect().Model(&out).Where("parent_id = ?", parentID).Order("name ASC").Scan(ctx)
	return out, classify(err)
}

// FolderAtPath walks a canonical path ("/" or "/a/b") from the root of an
// environment, one indexed lookup per segment. Writers use it inside their
// transaction so they never act on a cached tree that another server has
// already changed. ErrNotFound when any segment is missing.
func (q Q) FolderAtPath(ctx context.Context, envID, path string) (*Folder, error) {
	f, err := q.RootFolder(ctx, envID)
	if err != nil {
		return nil, err
	}
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" {
			continue
		}
		if f, err = q.FolderChild(ctx, envID, f.ID, seg); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// FolderPath returns the canonical path of a folder by walking up its
// parents.
func (q Q) FolderPath(ctx context.Context, f *Folder) (string, error) {
	var segs []string
	cur := f
	// A tree deeper than this is corrupt (a parent cycle); stop rather than
	// loop forever.
	for depth := 0; cur.ParentID != nil; depth++ {
		if depth > 10000 {
			return "", ErrNotFound
		}
		segs = append(segs, cur.Name)
		parent, err := q.GetFolder(ctx, *cur.ParentID)
		if err != nil {
			return "", err
		}
		cur = parent
	}
	if len(segs) == 0 {
		return "/", nil
	}
	var b strings.Builder
	for i := len(segs) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(segs[i])
	}
	return b.String(), nil
}

// InsertFolderIfAbsent inserts f unless its parent already has a child of
// that name; created reports which happened. Concurrent creates of one name
// therefore both succeed and agree on the same row.
func (q Q) InsertFolderIfAbsent(ctx context.Context, f *Folder) (created bool, err error) {
	res, err := q.db.NewInsert().Model(f).On("CONFLICT (env_id, parent_id, name) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, classify(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// DeleteFolder removes a folder; its sub-folders, secrets, versions and
// imports go with it through ON DELETE CASCADE.
func (q Q) DeleteFolder(ctx context.Context, id string) error {
	_, err := q.db.NewDelete().Model((*Folder)(nil)).Where("id = ?", id).Exec(ctx)
	return classify(err)
}
