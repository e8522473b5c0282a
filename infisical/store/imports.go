package store

import "context"

// Secret-import queries (ListImportsOfFolder and ListImportsOfFolders, used
// by the secrets read path too, are in shared.go).

// GetImport loads a secret import by id.
func (q Q) GetImport(ctx context.Context, id string) (*SecretImport, error) {
	var imp SecretImport
	if err := q.GetByID(ctx, &imp, id); err != nil {
		return nil, err
	}
	return &imp, nil
}

// SetImportPosition writes the position of one import (renumbering).
func (q Q) SetImportPosition(ctx context.Context, id string, position int) error {
	_, err := q.db.NewUpdate().Model((*SecretImport)(nil)).Set("position = ?", position).Where("id = ?", id).Exec(ctx)
	return classify(err)
}

// DeleteImport removes a secret import.
func (q Q) DeleteImport(ctx context.Context, id string) error {
	_, err := q.db.NewDelete().Model((*SecretImport)(nil)).Where("id = ?", id).Exec(ctx)
	return classify(err)
}
