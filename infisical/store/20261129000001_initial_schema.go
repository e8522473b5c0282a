package store

func init() {
	migrations.MustRegister(ddlMigration(migration0001), nil)
}
