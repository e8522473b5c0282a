package store

import "github.com/uptrace/bun"

type selectQuery = bun.SelectQuery

func bunIn(ids []string) any { return bun.In(ids) }
