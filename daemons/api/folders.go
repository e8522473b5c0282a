package api

import (
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerFolderRoutes) }

// folderRow is Infisical's folder row. parentId is the root folder's id
// for top-level folders (the root itself is never listed).
type folderRow struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Version            int      `json:"version"`
	CreatedAt          isoTime  `json:"createdAt"`
	UpdatedAt          isoTime  `json:"updatedAt"`
	EnvID              string   `json:"envId"`
	ParentID           *string  `json:"parentId"`
	IsReserved         bool     `json:"isReserved"`
	Description        *string  `json:"description"`
	LastSecretModified *isoTime `json:"lastSecretModified"`
}

func toFolderRow(f *infisical.Folder) folderRow {
	return folderRow{ID: f.ID, Name: f.Name, Version: f.Version, CreatedAt: ts(f.CreatedAt), UpdatedAt: ts(f.UpdatedAt),
		EnvID: f.EnvID, ParentID: f.ParentID, IsReserved: f.IsReserved, Description: f.Description,
		LastSecretModified: tsp(f.LastSecretModified)}
}

type folderEnv struct {
	EnvID   string `json:"envId"`
	EnvName string `json:"envName"`
	EnvSlug string `json:"envSlug"`
}

// folderDetail is the folder of GET /api/v1/folders/{id}.
type folderDetail struct {
	folderRow
	Environment folderEnv `json:"environment"`
	Path        string    `json:"path"`
	ProjectID   string    `json:"projectId"`
}

type folderResponse struct {
	Folder folderRow `json:"folder"`
}

type foldersResponse struct {
	Folders []folderRow `json:"folders"`
}

func (s *Server) registerFolderRoutes() {
	const tag = "Folders"
	s.handle(http.MethodPost, "/api/v1/folders", authUIS, tag, "Create a folder", s.createFolder)
	s.handle(http.MethodGet, "/api/v1/folders", authUIS, tag, "List the folders directly under a path", s.listFolders)
	s.handle(http.MethodGet, "/api/v1/folders/{folderId}", authUIS, tag, "Get a folder by id", s.getFolder)
	s.handle(http.MethodPatch, "/api/v1/folders/batch", authUIS, tag, "Update several folders", s.updateFolderBatch)
	s.handle(http.MethodPatch, "/api/v1/folders/{folderId}", authUIS, tag, "Rename a folder (by id, or by name under path)", s.updateFolder)
	s.handle(http.MethodDelete, "/api/v1/folders/{folderIdOrName}", authUIS, tag, "Delete a folder recursively (by id, or by name under path)", s.deleteFolder)
}

// folderBody is the common body of folder mutations. workspaceId is the
// documented project field; projectId (newer clients) is accepted too.
type folderBody struct {
	WorkspaceID string  `json:"workspaceId"`
	ProjectID   string  `json:"projectId"`
	Environment string  `json:"environment"`
	Name        string  `json:"name"`
	Path        string  `json:"path"`
	Directory   string  `json:"directory"`
	Description *string `json:"description"`
}

func (b *folderBody) project() (infisical.ProjectRef, error) {
	id := firstNonEmpty(b.WorkspaceID, b.ProjectID)
	if id == "" {
		return infisical.ProjectRef{}, infisical.Invalid("workspaceId", "workspaceId is required")
	}
	return infisical.ProjectRef{ID: id}, nil
}

func (b *folderBody) scope() infisical.FolderScope {
	return infisical.FolderScope{Environment: b.Environment, Path: b.Path, Directory: b.Directory}
}

func (s *Server) createFolder(rq *request) (any, error) {
	var b folderBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	ref, err := b.project()
	if err != nil {
		return nil, err
	}
	f, err := s.eng.Folders.Create(rq.ctx(), rq.actor, ref, infisical.CreateFolderInput{FolderScope: b.scope(), Name: b.Name, Description: b.Description})
	if err != nil {
		return nil, err
	}
	return folderResponse{Folder: toFolderRow(f)}, nil
}

func (s *Server) listFolders(rq *request) (any, error) {
	id := firstNonEmpty(rq.query("workspaceId"), rq.query("projectId"))
	if id == "" {
		return nil, infisical.Invalid("workspaceId", "workspaceId is required")
	}
	scope := infisical.FolderScope{Environment: rq.query("environment"), Path: rq.query("path"), Directory: rq.query("directory")}
	list, err := s.eng.Folders.List(rq.ctx(), rq.actor, infisical.ProjectRef{ID: id}, scope)
	if err != nil {
		return nil, err
	}
	out := foldersResponse{Folders: make([]folderRow, 0, len(list))}
	for i := range list {
		out.Folders = append(out.Folders, toFolderRow(&list[i]))
	}
	return out, nil
}

func (s *Server) getFolder(rq *request) (any, error) {
	d, err := s.eng.Folders.Get(rq.ctx(), rq.actor, rq.path("folderId"))
	if err != nil {
		return nil, err
	}
	return struct {
		Folder folderDetail `json:"folder"`
	}{folderDetail{folderRow: toFolderRow(&d.Folder), Environment: folderEnv{EnvID: d.EnvID, EnvName: d.EnvName, EnvSlug: d.EnvSlug},
		Path: d.Path, ProjectID: d.ProjectID}}, nil
}

func (s *Server) updateFolder(rq *request) (any, error) {
	var b folderBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	ref, err := b.project()
	if err != nil {
		return nil, err
	}
	f, err := s.eng.Folders.Update(rq.ctx(), rq.actor, ref, rq.path("folderId"), infisical.UpdateFolderInput{FolderScope: b.scope(), Name: b.Name, Description: b.Description})
	if err != nil {
		return nil, err
	}
	return folderResponse{Folder: toFolderRow(f)}, nil
}

func (s *Server) updateFolderBatch(rq *request) (any, error) {
	var b struct {
		ProjectSlug string `json:"projectSlug"`
		ProjectID   string `json:"projectId"`
		Folders     []struct {
			ID          string  `json:"id"`
			Environment string  `json:"environment"`
			Name        string  `json:"name"`
			Path        string  `json:"path"`
			Description *string `json:"description"`
		} `json:"folders"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	ref := infisical.ProjectRef{ID: firstNonEmpty(b.ProjectID), Slug: firstNonEmpty(b.ProjectSlug)}
	if ref.ID == "" && ref.Slug == "" {
		return nil, infisical.Invalid("projectSlug", "projectSlug is required")
	}
	items := make([]infisical.BatchFolderUpdate, 0, len(b.Folders))
	for _, f := range b.Folders {
		items = append(items, infisical.BatchFolderUpdate{ID: f.ID, Environment: f.Environment, Name: f.Name, Path: f.Path, Description: f.Description})
	}
	list, err := s.eng.Folders.UpdateBatch(rq.ctx(), rq.actor, ref, items)
	if err != nil {
		return nil, err
	}
	out := foldersResponse{Folders: make([]folderRow, 0, len(list))}
	for i := range list {
		out.Folders = append(out.Folders, toFolderRow(&list[i]))
	}
	return out, nil
}

func (s *Server) deleteFolder(rq *request) (any, error) {
	var b folderBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	ref, err := b.project()
	if err != nil {
		return nil, err
	}
	f, err := s.eng.Folders.Delete(rq.ctx(), rq.actor, ref, rq.path("folderIdOrName"), b.scope())
	if err != nil {
		return nil, err
	}
	return folderResponse{Folder: toFolderRow(f)}, nil
}
