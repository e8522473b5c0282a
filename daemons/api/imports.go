package api

import (
	"net/http"

	"github.com/infisical-go/engine/infisical"
)

func init() { routeRegistrars = append(routeRegistrars, (*Server).registerImportRoutes) }

type importEnvRow struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// importRow is Infisical's secret-import row. Replication is not supported,
// so its status fields are always null.
type importRow struct {
	ID                   string       `json:"id"`
	Version              int          `json:"version"`
	ImportPath           string       `json:"importPath"`
	ImportEnv            importEnvRow `json:"importEnv"`
	Position             int          `json:"position"`
	CreatedAt            isoTime      `json:"createdAt"`
	UpdatedAt            isoTime      `json:"updatedAt"`
	FolderID             string       `json:"folderId"`
	IsReplication        bool         `json:"isReplication"`
	IsReplicationSuccess *bool        `json:"isReplicationSuccess"`
	ReplicationStatus    *string      `json:"replicationStatus"`
	LastReplicated       *isoTime     `json:"lastReplicated"`
	IsReserved           bool         `json:"isReserved"`
}

func toImportRow(si *infisical.SecretImport) importRow {
	return importRow{ID: si.ID, Version: si.Version, ImportPath: si.ImportPath,
		ImportEnv: importEnvRow{ID: si.ImportEnv.ID, Name: si.ImportEnv.Name, Slug: si.ImportEnv.Slug},
		Position:  si.Position, CreatedAt: ts(si.CreatedAt), UpdatedAt: ts(si.UpdatedAt), FolderID: si.FolderID,
		IsReplication: si.IsReplication, IsReserved: si.IsReserved}
}

// importDetail is the get-by-id row: newer servers (and Terraform) add the
// importing folder's location.
type importDetail struct {
	importRow
	ProjectID   string       `json:"projectId"`
	SecretPath  string       `json:"secretPath"`
	Environment importEnvRow `json:"environment"`
}

type importMessage struct {
	Message      string    `json:"message"`
	SecretImport importRow `json:"secretImport"`
}

func (s *Server) registerImportRoutes() {
	const tag = "Secret Imports"
	s.handle(http.MethodPost, "/api/v1/secret-imports", authUIS, tag, "Create a secret import", s.createImport)
	s.handle(http.MethodGet, "/api/v1/secret-imports", authUIS, tag, "List the secret imports of a folder", s.listImports)
	s.handle(http.MethodGet, "/api/v1/secret-imports/{secretImportId}", authUIS, tag, "Get a secret import", s.getImport)
	s.handle(http.MethodPatch, "/api/v1/secret-imports/{secretImportId}", authUIS, tag, "Update or reorder a secret import", s.updateImport)
	s.handle(http.MethodDelete, "/api/v1/secret-imports/{secretImportId}", authUIS, tag, "Delete a secret import", s.deleteImport)
}

// importLocationBody is the destination part shared by import mutations.
type importLocationBody struct {
	WorkspaceID string `json:"workspaceId"`
	ProjectID   string `json:"projectId"`
	Environment string `json:"environment"`
	Path        string `json:"path"`
}

func (b *importLocationBody) project() (infisical.ProjectRef, error) {
	id := firstNonEmpty(b.WorkspaceID, b.ProjectID)
	if id == "" {
		return infisical.ProjectRef{}, infisical.Invalid("workspaceId", "workspaceId is required")
	}
	return infisical.ProjectRef{ID: id}, nil
}

func (s *Server) createImport(rq *request) (any, error) {
	var b struct {
		importLocationBody
		Import *struct {
			Environment string `json:"environment"`
			Path        string `json:"path"`
		} `json:"import"`
		IsReplication bool `json:"isReplication"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	ref, err := b.project()
	if err != nil {
		return nil, err
	}
	if b.Import == nil {
		return nil, infisical.Invalid("import", "import is required")
	}
	si, err := s.eng.Imports.Create(rq.ctx(), rq.actor, ref, infisical.CreateImportInput{Environment: b.Environment, Path: b.Path,
		ImportEnvironment: b.Import.Environment, ImportPath: b.Import.Path, IsReplication: b.IsReplication})
	if err != nil {
		return nil, err
	}
	return importMessage{Message: "Successfully created secret import", SecretImport: toImportRow(si)}, nil
}

func (s *Server) listImports(rq *request) (any, error) {
	id := firstNonEmpty(rq.query("workspaceId"), rq.query("projectId"))
	if id == "" {
		return nil, infisical.Invalid("workspaceId", "workspaceId is required")
	}
	list, err := s.eng.Imports.List(rq.ctx(), rq.actor, infisical.ProjectRef{ID: id}, rq.query("environment"), rq.query("path"))
	if err != nil {
		return nil, err
	}
	out := struct {
		Message       string      `json:"message"`
		SecretImports []importRow `json:"secretImports"`
	}{Message: "Successfully fetched secret imports", SecretImports: make([]importRow, 0, len(list))}
	for _, si := range list {
		out.SecretImports = append(out.SecretImports, toImportRow(si))
	}
	return out, nil
}

func (s *Server) getImport(rq *request) (any, error) {
	si, err := s.eng.Imports.Get(rq.ctx(), rq.actor, rq.path("secretImportId"))
	if err != nil {
		return nil, err
	}
	return struct {
		SecretImport importDetail `json:"secretImport"`
	}{importDetail{importRow: toImportRow(si), ProjectID: si.ProjectID, SecretPath: si.SecretPath,
		Environment: importEnvRow{ID: si.Environment.ID, Name: si.Environment.Name, Slug: si.Environment.Slug}}}, nil
}

func (s *Server) updateImport(rq *request) (any, error) {
	var b struct {
		importLocationBody
		Import *struct {
			Environment *string `json:"environment"`
			Path        *string `json:"path"`
			Position    *int    `json:"position"`
		} `json:"import"`
	}
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	ref, err := b.project()
	if err != nil {
		return nil, err
	}
	in := infisical.UpdateImportInput{Environment: b.Environment, Path: b.Path}
	if b.Import != nil {
		in.ImportEnvironment, in.ImportPath, in.Position = b.Import.Environment, b.Import.Path, b.Import.Position
	}
	si, err := s.eng.Imports.Update(rq.ctx(), rq.actor, ref, rq.path("secretImportId"), in)
	if err != nil {
		return nil, err
	}
	return importMessage{Message: "Successfully updated secret import", SecretImport: toImportRow(si)}, nil
}

func (s *Server) deleteImport(rq *request) (any, error) {
	var b importLocationBody
	if err := rq.decode(&b); err != nil {
		return nil, err
	}
	ref, err := b.project()
	if err != nil {
		return nil, err
	}
	si, err := s.eng.Imports.Delete(rq.ctx(), rq.actor, ref, rq.path("secretImportId"), b.Environment, b.Path)
	if err != nil {
		return nil, err
	}
	return importMessage{Message: "Successfully deleted secret import", SecretImport: toImportRow(si)}, nil
}
