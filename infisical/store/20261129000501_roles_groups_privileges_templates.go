package store

func init() {
	migrations.MustRegister(ddlMigration(migrationAccessControl), nil)
}

// migrationAccessControl adds custom project and organization roles, user
// groups, additional privileges and project templates.
//
// Rules are stored as JSON text in Infisical's V2 ("unpacked") form. Custom
// organization roles are referenced from membership rows by slug (the role
// column), so a slug rename updates those rows in the same transaction;
// project membership roles reference custom project roles by id.
var migrationAccessControl = []string{
	`CREATE TABLE project_roles (
		id TEXT PRIMARY KEY,
		project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		slug TEXT NOT NULL,
		description TEXT,
		permissions {{JSON}} NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (project_id, slug)
	)`,
	`CREATE INDEX project_membership_roles_custom_idx ON project_membership_roles (custom_role_id)`,
	`CREATE TABLE org_roles (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		slug TEXT NOT NULL,
		description TEXT,
		permissions {{JSON}} NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (org_id, slug)
	)`,
	`CREATE TABLE org_groups (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		slug TEXT NOT NULL,
		role TEXT NOT NULL,
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (org_id, slug)
	)`,
	`CREATE TABLE group_members (
		group_id TEXT NOT NULL REFERENCES org_groups(id) ON DELETE CASCADE,
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		created_at {{TIME}} NOT NULL,
		PRIMARY KEY (group_id, user_id)
	)`,
	`CREATE INDEX group_members_user_idx ON group_members (user_id)`,
	`CREATE TABLE additional_privileges (
		id TEXT PRIMARY KEY,
		membership_id TEXT NOT NULL REFERENCES project_memberships(id) ON DELETE CASCADE,
		project_id TEXT NOT NULL,
		actor_type TEXT NOT NULL,
		actor_id TEXT NOT NULL,
		slug TEXT NOT NULL,
		permissions {{JSON}} NOT NULL,
		is_temporary BOOLEAN NOT NULL DEFAULT FALSE,
		temporary_mode TEXT,
		temporary_range TEXT,
		temporary_access_start_time {{TIME}},
		temporary_access_end_time {{TIME}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (membership_id, slug)
	)`,
	`CREATE INDEX additional_privileges_actor_idx ON additional_privileges (project_id, actor_type, actor_id)`,
	`CREATE TABLE project_templates (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		description TEXT,
		type TEXT NOT NULL,
		roles {{JSON}} NOT NULL,
		environments {{JSON}},
		users {{JSON}},
		groups_json {{JSON}},
		identities {{JSON}},
		project_managed_identities {{JSON}},
		created_at {{TIME}} NOT NULL,
		updated_at {{TIME}} NOT NULL,
		UNIQUE (org_id, name)
	)`,
}
