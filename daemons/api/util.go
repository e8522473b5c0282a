package api

import (
	"context"
	"time"
)

type contextT = context.Context

// isoTime formats like JavaScript's toISOString: UTC, milliseconds, "Z".
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	return appendISO(make([]byte, 0, 26), time.Time(t)), nil
}

// ts converts a time for JSON output.
func ts(t time.Time) isoTime { return isoTime(t) }

// tsp converts a nullable time (nil → null).
func tsp(t *time.Time) *isoTime {
	if t == nil {
		return nil
	}
	v := isoTime(*t)
	return &v
}
